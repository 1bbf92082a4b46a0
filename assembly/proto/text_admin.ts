// Administrative text commands: stats (general, settings, items, slabs,
// sizes, cachedump, reset, detail), cache_memlimit, slabs, lru, lru_crawler.
// Field names and order follow memcached 1.6.18; fields that describe
// machinery wasmcached does not have (threads' logging, extstore) are left
// out or report that machinery as idle.
import { ld8, ld32, fill, memSize, memGrowTo } from '../mem';
import {
  S, hget, hset, currentTime, H_OPTS, H_PROCESS_STARTED, H_STARTED, H_NOW, H_ITEM_MAX, H_CHUNK_MIN,
  H_FACTOR, H_PAGE_SIZE, H_MAXBYTES_MB, H_HASH_POWER, H_EXPANDING, H_CURR_ITEMS, H_BYTES_LO, H_BYTES_HI,
  H_NCLASSES, H_PAGES_LIMIT, H_PAGES_MAX, H_PAGES_PTR, H_PAGES_CARVED, H_OLDEST_LIVE, H_AUTOMOVE,
  H_AUTOMOVE_WINDOW, H_CRAWLER_ON, H_VERBOSITY, H_MAXBYTES_CAP_MB, H_RESERVED_HELD,
} from '../arena';
import {
  HS_BASE, HS_PID, HS_CURR_CONNECTIONS, HS_TOTAL_CONNECTIONS, HS_REJECTED_CONNECTIONS,
  HS_CONNECTION_STRUCTURES, HS_MAX_CONNECTIONS, HS_RUSAGE_USER_US, HS_RUSAGE_SYSTEM_US, HS_IDLE_KICKS,
  HS_TCP_PORT, HS_IDLE_TIMEOUT, HS_THREADS, HS_LISTEN_DISABLED, HS_CONN_YIELDS, HS_UNIX_SOCKET,
  hostStatOffset, HS_RESPONSE_OBJ_COUNT, HS_RESPONSE_OBJ_BYTES, HS_READ_BUF_COUNT, HS_READ_BUF_BYTES, HS_WARM_STATE, HS_WARM_COPIED, HS_WARM_SKIPPED, HS_WARM_ERRORS, HS_WARM_ELAPSED,
  HS_METRICS_PORT, HS_SSL_HANDSHAKE_ERRORS, HS_SSL_CERT_LOADED, HOST_TLS_TEXT, HOST_TLS_TEXT_MAX, HOST_STRINGS, HOST_STRING_SLOT, HSTR_INTER, HSTR_DOMAIN_SOCKET, HSTR_MEMORY_FILE, HSTR_NAPI_IDS, WARM_IDLE, WARM_COPYING, WARM_DONE, H_WARM_MISS_THROUGH, H_WARM_MISS_HITS, H_WARM_MISS_TIMEOUTS,
  OPT_NO_CAS, OPT_NO_EVICTIONS, OPT_SHUTDOWN, OPT_NO_FLUSH, OPT_NO_DUMP, OPT_SASL, H_STORE_BYTES, MAX_CLASSES, DUMP_META, DUMP_MG,
  LOG_REGION, LOG_REGION_SIZE, LOG_RECORDS, LOG_DROPPED, LOG_WRITTEN, LOG_SKIPPED, LOG_SENT, LOG_WATCHERS,
  LOG_WATCHER_QUEUE,
  HOST_SETTINGS, HSET_PROTOCOL, HSET_REQS_PER_EVENT, HSET_TCP_BACKLOG, HSET_PREFIX_DELIMITER, HSET_HASHPOWER_INIT,
  HSET_NO_LRU_MAINTAINER, HSET_LRU_FLAT, BIND_ASCII, BIND_BINARY, HSET_WARM_FROM, HSET_WARM_FROM_BYTES, HSET_UNIX_MASK, OPT_AUTH_FILE,
} from '../abi';
import { detailDump, detailClear, detailSetEnabled, detailEnabled, detailDelimiter } from '../detail';
import { processDump, processCachedump, dumpRunning, parseClasses, classWanted } from './dump';
import { crawlClassesNow } from '../crawler';
import { H_UDP_PORT } from '../abi';
import { P_DONE } from './flow';
import { tokPtr, tokLen, tokEnd, tokIs } from './tokens';
import { outStr, outCRLF, outU32, outU64, outMicros, outBytes, outByte, outRoom } from './out';
import { outString, setNoreplyMaybe } from './reply';
import { parseU32, parseI32, N_LO } from '../numbers';
import { u64Add, R_HI, R_LO } from '../u64';
import {
  statLo, statHi, statsReset, statInc, C_AUTH_CMDS, C_AUTH_ERRORS, C_CMD_GET, C_CMD_FLUSH, C_CMD_TOUCH, C_CMD_META, C_GET_HITS,
  C_GET_MISSES, C_GET_EXPIRED, C_GET_FLUSHED, C_DELETE_MISSES, C_INCR_MISSES, C_DECR_MISSES,
  C_CAS_MISSES, C_TOUCH_HITS, C_TOUCH_MISSES, C_STORE_TOO_LARGE, C_STORE_NO_MEMORY, C_BYTES_READ,
  C_BYTES_WRITTEN, C_TOTAL_ITEMS, C_EVICTIONS, C_RECLAIMED, C_EXPIRED_UNFETCHED, C_EVICTED_UNFETCHED,
  C_EVICTED_ACTIVE, C_CRAWLER_RECLAIMED, C_CRAWLER_STARTS, C_SLABS_MOVED, C_REASSIGN_RESCUES, C_REASSIGN_EVICTIONS_NOMEM,
} from '../stats';
import {
  clGet, cls, slabsPoolPages, slabsPagesReleased, CL_SIZE, CL_PERPAGE, CL_PAGES, CL_FREE_COUNT,
  CL_LRU_HEAD, CL_LRU_TAIL, CL_ITEMS, CL_CARVE_PTR, CL_CARVE_END, CL_REQUESTED, CL_EVICTED_TIME,
  CL_EVICTED, CL_EVICTED_NONZERO, CL_OUTOFMEMORY, CL_RECLAIMED, CL_EXPIRED_UNFETCHED,
  CL_EVICTED_UNFETCHED, CL_EVICTED_ACTIVE, CL_CRAWLER_RECLAIMED, CL_GET_HITS, CL_CMD_SET,
  CL_DELETE_HITS, CL_INCR_HITS, CL_DECR_HITS, CL_CAS_HITS, CL_CAS_BADVAL, CL_TOUCH_HITS,
  CL_MOVES_WITHIN_LRU, CL_CRAWLER_CHECKED, CL_COUNTERS_START, CL_COUNTERS_END, CL_COUNTERS2_START, CL_COUNTERS2_END, CL_LRUTAIL_REFLOCKED, CL_DIRECT_RECLAIMS,
} from '../slabs';
import {
  slabsReassign, REASSIGN_OK, REASSIGN_BADCLASS, REASSIGN_NOSPARE, REASSIGN_SAME,
} from '../rebalance';
import { IT_TIME, IT_NEXT, IT_KLEN, IT_KEY, IT_VLEN, IT_EXPTIME } from '../items_layout';

// ---- STAT line writers -------------------------------------------------------

function statName(name: string): void {
  outStr('STAT ');
  outStr(name);
  outByte(32);
}
function sU32(name: string, v: u32): void { statName(name); outU32(v); outCRLF(); }
function sU64(name: string, hi: u32, lo: u32): void { statName(name); outU64(hi, lo); outCRLF(); }
function sStr(name: string, v: string): void { statName(name); outStr(v); outCRLF(); }
function sBool(name: string, v: bool): void { sStr(name, v ? 'yes' : 'no'); }
function sCounter(name: string, id: u32): void { sU64(name, statHi(id), statLo(id)); }
function hostAddr(id: u32): u32 { return S + hostStatOffset(id); }
function hostLo(id: u32): u32 { return ld32(hostAddr(id)); }
function hostHi(id: u32): u32 { return ld32(hostAddr(id) + 4); }
function sHost(name: string, id: u32): void { sU64(name, hostHi(id), hostLo(id)); }
/** A host string (HSTR_* id), or `fallback` when the host set none. */
function sHostStr(name: string, id: u32, fallback: string): void {
  const at = S + HOST_STRINGS + id * HOST_STRING_SLOT;
  const n = ld32(at);
  statName(name);
  if (n != 0 && n <= HOST_STRING_SLOT - 4) outBytes(at + 4, n); else outStr(fallback);
  outCRLF();
}
/** A 64-bit log counter (LOG_* of abi.ts). */
function sLog(name: string, off: u32): void { sU64(name, ld32(S + LOG_REGION + off + 4), ld32(S + LOG_REGION + off)); }
function hostSetting(id: u32): u32 { return hget(HOST_SETTINGS + (id << 2)); }

let SUM_HI: u32 = 0;
let SUM_LO: u32 = 0;

/** Sum of a 64-bit per-class counter over all classes, in SUM_HI/SUM_LO. */
function classSum(off: u32): void {
  const n = hget(H_NCLASSES);
  let hi: u32 = 0;
  let lo: u32 = 0;
  for (let c: u32 = 1; c <= n; c++) {
    u64Add(hi, lo, ld32(cls(c) + off + 4), ld32(cls(c) + off));
    hi = R_HI;
    lo = R_LO;
  }
  SUM_HI = hi;
  SUM_LO = lo;
}
function sClassSum(name: string, off: u32): void {
  classSum(off);
  sU64(name, SUM_HI, SUM_LO);
}

/** STAT <prefix><cls>:<name> <value> */
function sClass(prefix: string, c: u32, name: string): void {
  outStr('STAT ');
  outStr(prefix);
  outU32(c);
  outByte(58);
  outStr(name);
  outByte(32);
}
function sClassU32(prefix: string, c: u32, name: string, v: u32): void { sClass(prefix, c, name); outU32(v); outCRLF(); }
function sClassC(prefix: string, c: u32, name: string, off: u32): void {
  sClass(prefix, c, name);
  outU64(ld32(cls(c) + off + 4), ld32(cls(c) + off));
  outCRLF();
}

function outEnd(): void { outStr('END'); outCRLF(); }

/** v in octal, as memcached's "%o" (umask). */
function outOctal(v: u32): void {
  let shift: u32 = 30;
  while (shift > 0 && (v >>> shift) == 0) shift -= 3;
  for (;;) {
    outByte(48 + ((v >>> shift) & 7));
    if (shift == 0) break;
    shift -= 3;
  }
}

/** x100 as a decimal with two places ("1.25"). */
function outHundredths(v: u32): void {
  outU32((v / 100) >>> 0);
  outByte(46);
  const f = v % 100;
  outByte(48 + ((f / 10) >>> 0));
  outByte(48 + (f % 10));
}

// ---- stats -----------------------------------------------------------------

export function processStats(ntok: u32): void {
  if (ntok == 2) {
    statsGeneral();
    outEnd();
    return;
  }
  if (tokIs(1, 'reset')) {
    statsReset();
    detailClear();
    const n = hget(H_NCLASSES);
    for (let c: u32 = 1; c <= n; c++) {
      fill(cls(c) + CL_COUNTERS_START, 0, CL_COUNTERS_END - CL_COUNTERS_START);
      fill(cls(c) + CL_COUNTERS2_START, 0, CL_COUNTERS2_END - CL_COUNTERS2_START);
    }
    outString('RESET');
    return;
  }
  if (tokIs(1, 'detail')) {
    if (ntok >= 4 && tokIs(2, 'on')) { detailSetEnabled(true); outString('OK'); }
    else if (ntok >= 4 && tokIs(2, 'off')) { detailSetEnabled(false); outString('OK'); }
    else if (ntok >= 4 && tokIs(2, 'dump')) detailDump();
    else outString('CLIENT_ERROR usage: stats detail on|off|dump');
    return;
  }
  if (tokIs(1, 'settings')) { statsSettings(); outEnd(); return; }
  if (tokIs(1, 'items')) { statsItems(); outEnd(); return; }
  if (tokIs(1, 'slabs')) { statsSlabs(); outEnd(); return; }
  if (tokIs(1, 'sizes')) { sStr('sizes_status', 'disabled'); outEnd(); return; }
  if (tokIs(1, 'conns')) { outEnd(); return; }
  // Text connections stream it (processStatsCachedump); a binary STAT
  // packet carries STAT lines only, so there it has no items to show.
  if (tokIs(1, 'cachedump')) { outEnd(); return; }
  outString('ERROR');
}

function statsGeneral(): void {
  const now = currentTime();
  sHost('pid', HS_PID);
  sU32('uptime', hget(H_NOW) > hget(H_STARTED) ? hget(H_NOW) - hget(H_STARTED) : 0);
  sU32('time', hget(H_PROCESS_STARTED) + now);
  sStr('version', '1.6.18');
  // Tools print it; there is no libevent here (the host's event loop is libuv).
  sStr('libevent', 'none');
  sU32('pointer_size', 32);
  statName('rusage_user'); outMicros(hostHi(HS_RUSAGE_USER_US), hostLo(HS_RUSAGE_USER_US)); outCRLF();
  statName('rusage_system'); outMicros(hostHi(HS_RUSAGE_SYSTEM_US), hostLo(HS_RUSAGE_SYSTEM_US)); outCRLF();
  sHost('max_connections', HS_MAX_CONNECTIONS);
  sHost('curr_connections', HS_CURR_CONNECTIONS);
  sHost('total_connections', HS_TOTAL_CONNECTIONS);
  sHost('rejected_connections', HS_REJECTED_CONNECTIONS);
  sHost('connection_structures', HS_CONNECTION_STRUCTURES);
  // Reply and read buffers are the host's (src/output-pool.ts,
  // src/read-buffer.ts), not per-thread objects: reported as the host sets them.
  sU32('response_obj_oom', 0);
  sHost('response_obj_count', HS_RESPONSE_OBJ_COUNT);
  sHost('response_obj_bytes', HS_RESPONSE_OBJ_BYTES);
  sHost('read_buf_count', HS_READ_BUF_COUNT);
  sHost('read_buf_bytes', HS_READ_BUF_BYTES);
  sU32('read_buf_bytes_free', 0);
  sU32('read_buf_oom', 0);
  sU32('reserved_fds', 0);
  sCounter('cmd_get', C_CMD_GET);
  sClassSum('cmd_set', CL_CMD_SET);
  sCounter('cmd_flush', C_CMD_FLUSH);
  sCounter('cmd_touch', C_CMD_TOUCH);
  sCounter('cmd_meta', C_CMD_META);
  sCounter('get_hits', C_GET_HITS);
  sCounter('get_misses', C_GET_MISSES);
  sCounter('get_expired', C_GET_EXPIRED);
  sCounter('get_flushed', C_GET_FLUSHED);
  sCounter('delete_misses', C_DELETE_MISSES);
  sClassSum('delete_hits', CL_DELETE_HITS);
  sCounter('incr_misses', C_INCR_MISSES);
  sClassSum('incr_hits', CL_INCR_HITS);
  sCounter('decr_misses', C_DECR_MISSES);
  sClassSum('decr_hits', CL_DECR_HITS);
  sCounter('cas_misses', C_CAS_MISSES);
  sClassSum('cas_hits', CL_CAS_HITS);
  sClassSum('cas_badval', CL_CAS_BADVAL);
  sCounter('touch_hits', C_TOUCH_HITS);
  sCounter('touch_misses', C_TOUCH_MISSES);
  sCounter('store_too_large', C_STORE_TOO_LARGE);
  sCounter('store_no_memory', C_STORE_NO_MEMORY);
  sCounter('auth_cmds', C_AUTH_CMDS);
  sCounter('auth_errors', C_AUTH_ERRORS);
  if (hostLo(HS_IDLE_TIMEOUT) != 0) sHost('idle_kicks', HS_IDLE_KICKS);
  sCounter('bytes_read', C_BYTES_READ);
  sCounter('bytes_written', C_BYTES_WRITTEN);
  const mb = hget(H_MAXBYTES_MB);
  sU64('limit_maxbytes', mb >>> 12, (mb << 20) >>> 0);
  sU32('accepting_conns', 1);
  sHost('listen_disabled_num', HS_LISTEN_DISABLED);
  sU32('time_in_listen_disabled_us', 0);
  sHost('threads', HS_THREADS);
  sHost('conn_yields', HS_CONN_YIELDS);
  sU32('hash_power_level', hget(H_HASH_POWER));
  sU32('hash_bytes', 4 << hget(H_HASH_POWER));
  sU32('hash_is_expanding', hget(H_EXPANDING) != 0 ? 1 : 0);
  sCounter('slab_reassign_rescues', C_REASSIGN_RESCUES);
  sU32('slab_reassign_chunk_rescues', 0);
  sCounter('slab_reassign_evictions_nomem', C_REASSIGN_EVICTIONS_NOMEM);
  sU32('slab_reassign_inline_reclaim', 0);
  sU32('slab_reassign_busy_items', 0);
  sU32('slab_reassign_busy_deletes', 0);
  sU32('slab_reassign_running', 0);
  sCounter('slabs_moved', C_SLABS_MOVED);
  // memcached lists its crawler's and LRU maintainer's fields only while they are on.
  const maintainer = hostSetting(HSET_NO_LRU_MAINTAINER) == 0;
  if (hget(H_CRAWLER_ON) != 0) {
    sU32('lru_crawler_running', 0);
    sCounter('lru_crawler_starts', C_CRAWLER_STARTS);
  }
  if (maintainer) sU32('lru_maintainer_juggles', 0);
  // No malloc, no NAPI ids: that machinery is idle.
  sU32('malloc_fails', 0);
  sLog('log_worker_dropped', LOG_DROPPED);
  sLog('log_worker_written', LOG_WRITTEN);
  sLog('log_watcher_skipped', LOG_SKIPPED);
  sLog('log_watcher_sent', LOG_SENT);
  sU32('log_watchers', ld32(S + LOG_REGION + LOG_WATCHERS));
  const certLoaded = hostLo(HS_SSL_CERT_LOADED);
  if (certLoaded != 0) {
    sHost('ssl_handshake_errors', HS_SSL_HANDSHAKE_ERRORS);
    const time = hget(H_PROCESS_STARTED) + currentTime();
    sU32('time_since_server_cert_refresh', time > certLoaded ? time - certLoaded : 0);
  }
  sU32('unexpected_napi_ids', 0);
  sU32('round_robin_fallback', 0);
  sU64('bytes', hget(H_BYTES_HI), hget(H_BYTES_LO));
  sU32('curr_items', hget(H_CURR_ITEMS));
  sCounter('total_items', C_TOTAL_ITEMS);
  sU32('slab_global_page_pool', slabsPoolPages() - slabsPagesReleased());
  sCounter('expired_unfetched', C_EXPIRED_UNFETCHED);
  sCounter('evicted_unfetched', C_EVICTED_UNFETCHED);
  if (maintainer) sCounter('evicted_active', C_EVICTED_ACTIVE);
  sCounter('evictions', C_EVICTIONS);
  sCounter('reclaimed', C_RECLAIMED);
  sCounter('crawler_reclaimed', C_CRAWLER_RECLAIMED);
  sClassSum('crawler_items_checked', CL_CRAWLER_CHECKED);
  sClassSum('lrutail_reflocked', CL_LRUTAIL_REFLOCKED);
  if (maintainer) {
    // One LRU per class, no hot/warm/cold segments to move between.
    sU32('moves_to_cold', 0);
    sU32('moves_to_warm', 0);
    sClassSum('moves_within_lru', CL_MOVES_WITHIN_LRU);
    sClassSum('direct_reclaims', CL_DIRECT_RECLAIMS);
    sU32('lru_bumps_dropped', 0);
  }
  const warm = hostLo(HS_WARM_STATE);
  if (warm != 0) {
    sStr('warm_state', warm == WARM_IDLE ? 'idle' : warm == WARM_COPYING ? 'copying' : warm == WARM_DONE ? 'done' : 'failed');
    sHost('warm_keys_copied', HS_WARM_COPIED);
    sHost('warm_keys_skipped', HS_WARM_SKIPPED);
    sHost('warm_errors', HS_WARM_ERRORS);
    sHost('warm_elapsed', HS_WARM_ELAPSED);
    sU32('warm_miss_through', hget(H_WARM_MISS_THROUGH));
    sU32('warm_miss_hits', hget(H_WARM_MISS_HITS));
    sU32('warm_miss_timeouts', hget(H_WARM_MISS_TIMEOUTS));
  }
}

function statsSettings(): void {
  const opts = hget(H_OPTS);
  const mb = hget(H_MAXBYTES_MB);
  sU64('maxbytes', mb >>> 12, (mb << 20) >>> 0);
  sHost('maxconns', HS_MAX_CONNECTIONS);
  sHost('tcpport', HS_TCP_PORT);
  sU32('udpport', hget(H_UDP_PORT));
  sHostStr('inter', HSTR_INTER, 'NULL');
  sU32('verbosity', hget(H_VERBOSITY));
  sU32('oldest', hget(H_OLDEST_LIVE));
  sStr('evictions', (opts & OPT_NO_EVICTIONS) != 0 ? 'off' : 'on');
  sHostStr('domain_socket', HSTR_DOMAIN_SOCKET, 'NULL');
  statName('umask'); outOctal(hostSetting(HSET_UNIX_MASK)); outCRLF();
  sBool('shutdown_command', (opts & OPT_SHUTDOWN) != 0);
  statName('growth_factor'); outHundredths(hget(H_FACTOR)); outCRLF();
  sU32('chunk_size', hget(H_CHUNK_MIN));
  sHost('num_threads', HS_THREADS);
  sHost('num_threads_per_udp', HS_THREADS);
  // -D sets the delimiter and turns detail on, as memcached's (detail.ts).
  statName('stat_key_prefix'); outByte(detailDelimiter()); outCRLF();
  sBool('detail_enabled', detailEnabled());
  const reqs = hostSetting(HSET_REQS_PER_EVENT);
  sU32('reqs_per_event', reqs != 0 ? reqs : 20);
  sBool('cas_enabled', (opts & OPT_NO_CAS) == 0);
  const backlog = hostSetting(HSET_TCP_BACKLOG);
  sU32('tcp_backlog', backlog != 0 ? backlog : 1024);
  const bound = hostSetting(HSET_PROTOCOL);
  sStr('binding_protocol', bound == BIND_ASCII ? 'ascii' : bound == BIND_BINARY ? 'binary' : 'auto-negotiate');
  sBool('auth_enabled_sasl', (opts & OPT_SASL) != 0);
  sBool('auth_enabled_ascii', (opts & OPT_AUTH_FILE) != 0);
  sU32('item_size_max', hget(H_ITEM_MAX));
  sBool('maxconns_fast', true);
  sU32('hashpower_init', hostSetting(HSET_HASHPOWER_INIT));
  sBool('slab_reassign', true);
  sU32('slab_automove', hget(H_AUTOMOVE));
  sStr('slab_automove_ratio', '0.80');
  sU32('slab_automove_window', hget(H_AUTOMOVE_WINDOW));
  sU32('slab_chunk_max', hget(H_PAGE_SIZE));
  sBool('lru_crawler', hget(H_CRAWLER_ON) != 0);
  // The crawler walks pages every tick, not a per-class count with a sleep:
  // memcached's defaults, as the exporter reads them.
  sU32('lru_crawler_sleep', 100);
  sU32('lru_crawler_tocrawl', 0);
  sU32('tail_repair_time', 0);
  sBool('flush_enabled', (opts & OPT_NO_FLUSH) == 0);
  sBool('dump_enabled', (hget(H_OPTS) & OPT_NO_DUMP) == 0);
  sStr('hash_algorithm', 'murmur3');
  sBool('lru_maintainer_thread', false);
  sBool('lru_segmented', false);
  sHost('idle_timeout', HS_IDLE_TIMEOUT);
  sU32('watcher_logbuf_size', LOG_WATCHER_QUEUE);
  sU32('worker_logbuf_size', LOG_REGION_SIZE - LOG_RECORDS);
  sU32('read_buf_mem_limit', 0);
  sBool('track_sizes', false);
  sBool('inline_ascii_response', false);
  // ssl_* lines: the host's (they name its certificate files).
  const tlsLen = ld32(S + HOST_TLS_TEXT);
  if (tlsLen != 0 && tlsLen <= HOST_TLS_TEXT_MAX - 4) outBytes(S + HOST_TLS_TEXT + 4, tlsLen);
  else sBool('ssl_enabled', false);
  sHostStr('num_napi_ids', HSTR_NAPI_IDS, '(null)');
  sHostStr('memory_file', HSTR_MEMORY_FILE, '(null)');
  // wasmcached's Prometheus endpoint; absent when off, as memcached has none.
  if (hostLo(HS_METRICS_PORT) != 0) sHost('metrics_port', HS_METRICS_PORT);
  // --warm-from, wasmcached's too: the old node, while and after warming.
  const warmFrom = S + HOST_SETTINGS + (HSET_WARM_FROM << 2);
  if (ld8(warmFrom) != 0) {
    statName('warm_from');
    for (let i: u32 = 0; i < HSET_WARM_FROM_BYTES && ld8(warmFrom + i) != 0; i++) outByte(ld8(warmFrom + i));
    outCRLF();
  }
}

function statsItems(): void {
  const n = hget(H_NCLASSES);
  const now = currentTime();
  for (let c: u32 = 1; c <= n; c++) {
    const items = clGet(c, CL_ITEMS);
    if (items == 0) continue; // as memcached: only classes that hold items
    const tail = clGet(c, CL_LRU_TAIL);
    sClassU32('items:', c, 'number', items);
    sClassU32('items:', c, 'number_hot', 0);
    sClassU32('items:', c, 'number_warm', 0);
    sClassU32('items:', c, 'number_cold', items);
    sClassU32('items:', c, 'age_hot', 0);
    sClassU32('items:', c, 'age_warm', 0);
    sClassU32('items:', c, 'age', tail != 0 ? now - ld32(tail + IT_TIME) : 0);
    sClassC('items:', c, 'mem_requested', CL_REQUESTED);
    sClassC('items:', c, 'evicted', CL_EVICTED);
    sClassC('items:', c, 'evicted_nonzero', CL_EVICTED_NONZERO);
    sClassU32('items:', c, 'evicted_time', clGet(c, CL_EVICTED_TIME));
    sClassC('items:', c, 'outofmemory', CL_OUTOFMEMORY);
    sClassU32('items:', c, 'tailrepairs', 0);
    sClassC('items:', c, 'reclaimed', CL_RECLAIMED);
    sClassC('items:', c, 'expired_unfetched', CL_EXPIRED_UNFETCHED);
    sClassC('items:', c, 'evicted_unfetched', CL_EVICTED_UNFETCHED);
    sClassC('items:', c, 'evicted_active', CL_EVICTED_ACTIVE);
    sClassC('items:', c, 'crawler_reclaimed', CL_CRAWLER_RECLAIMED);
    sClassC('items:', c, 'crawler_items_checked', CL_CRAWLER_CHECKED);
    sClassC('items:', c, 'lrutail_reflocked', CL_LRUTAIL_REFLOCKED);
    sClassU32('items:', c, 'moves_to_cold', 0);
    sClassU32('items:', c, 'moves_to_warm', 0);
    sClassC('items:', c, 'moves_within_lru', CL_MOVES_WITHIN_LRU);
    sClassC('items:', c, 'direct_reclaims', CL_DIRECT_RECLAIMS);
    sClassU32('items:', c, 'hits_to_hot', 0);
    sClassU32('items:', c, 'hits_to_warm', 0);
    sClassC('items:', c, 'hits_to_cold', CL_GET_HITS);
    sClassU32('items:', c, 'hits_to_temp', 0);
  }
}

function statsSlabs(): void {
  const n = hget(H_NCLASSES);
  let active: u32 = 0;
  for (let c: u32 = 1; c <= n; c++) {
    const pages = clGet(c, CL_PAGES);
    if (pages == 0) continue;
    active++;
    const size = clGet(c, CL_SIZE);
    const perPage = clGet(c, CL_PERPAGE);
    const carvePtr = clGet(c, CL_CARVE_PTR);
    const carveEnd = clGet(c, CL_CARVE_END);
    const freeEnd: u32 = carveEnd > carvePtr ? ((carveEnd - carvePtr) / size) >>> 0 : 0;
    sClassU32('', c, 'chunk_size', size);
    sClassU32('', c, 'chunks_per_page', perPage);
    sClassU32('', c, 'total_pages', pages);
    sClassU32('', c, 'total_chunks', pages * perPage);
    const free = clGet(c, CL_FREE_COUNT) + freeEnd;
    // As memcached: every chunk not free, so values still arriving and
    // unlinked items still being sent count too.
    sClassU32('', c, 'used_chunks', pages * perPage - free);
    sClassU32('', c, 'free_chunks', free);
    sClassU32('', c, 'free_chunks_end', freeEnd);
    sClassC('', c, 'get_hits', CL_GET_HITS);
    sClassC('', c, 'cmd_set', CL_CMD_SET);
    sClassC('', c, 'delete_hits', CL_DELETE_HITS);
    sClassC('', c, 'incr_hits', CL_INCR_HITS);
    sClassC('', c, 'decr_hits', CL_DECR_HITS);
    sClassC('', c, 'cas_hits', CL_CAS_HITS);
    sClassC('', c, 'cas_badval', CL_CAS_BADVAL);
    sClassC('', c, 'touch_hits', CL_TOUCH_HITS);
  }
  sU32('active_slabs', active);
  // Every page handed out once, the pool's included, less what a lowered
  // limit released (memcached's mem_malloced).
  const pages = hget(H_PAGES_CARVED) - slabsPagesReleased();
  const ps = hget(H_PAGE_SIZE);
  sU64('total_malloced', (pages * (ps >>> 16)) >>> 16, ((pages * (ps >>> 16)) << 16) >>> 0);
}

/**
 * stats cachedump <class> <limit>: ITEM <key> [<bytes> b; <exptime> s] lines
 * and END, streamed over calls (proto/dump.ts); P_OUT_FULL while lines remain.
 */
export function processStatsCachedump(ntok: u32): u32 {
  if ((hget(H_OPTS) & OPT_NO_DUMP) != 0) { outString('CLIENT_ERROR stats cachedump not allowed'); return P_DONE; }
  if (ntok < 5) { outString('CLIENT_ERROR bad command line'); return P_DONE; }
  if (!parseU32(tokPtr(2), tokEnd(2))) { outString('CLIENT_ERROR bad command line format'); return P_DONE; }
  const c = N_LO;
  if (!parseU32(tokPtr(3), tokEnd(3))) { outString('CLIENT_ERROR bad command line format'); return P_DONE; }
  const limit = N_LO;
  if (c >= 64) { outString('CLIENT_ERROR Illegal slab id'); return P_DONE; }
  if (c == 0 || c > hget(H_NCLASSES)) { outEnd(); return P_DONE; }
  return processCachedump(c, limit);
}

// ---- cache_memlimit ------------------------------------------------------------

export function processMemlimit(ntok: u32): void {
  setNoreplyMaybe(ntok);
  if (!parseU32(tokPtr(1), tokEnd(1))) { outString('ERROR'); return; }
  const mb = N_LO;
  if (mb < 8) { outString('MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m'); return; }
  if (mb > 1000000000) { outString('MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes'); return; }
  // memcached refuses a limit it cannot adjust to; ours is the cap the host
  // gave mc_init, whose pages were reserved then, so growing never moves
  // memory and nothing goes beyond what the command line allows.
  if (mb > hget(H_MAXBYTES_CAP_MB)) { outString('MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust'); return; }
  const ps = hget(H_PAGE_SIZE);
  const wanted: u32 = ((mb * 16) / (ps >>> 16)) >>> 0;
  const pagesPtr = hget(H_PAGES_PTR);
  const storeEnd = S + hget(H_STORE_BYTES);
  if (wanted > hget(H_PAGES_MAX)) { outString('MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust'); return; }
  if (pagesPtr + wanted * ps > storeEnd) {
    // Memory grows while this store ends it (a later store may follow it),
    // or past it when thread contexts were put after its reserved range.
    if ((storeEnd != memSize() && hget(H_RESERVED_HELD) == 0) || !memGrowTo(pagesPtr + wanted * ps)) {
      outString('MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust');
      return;
    }
    hset(H_STORE_BYTES, pagesPtr + wanted * ps - S);
  }
  hset(H_PAGES_LIMIT, wanted > 0 ? wanted : 1);
  hset(H_MAXBYTES_MB, mb);
  outString('OK');
}

// ---- slabs reassign / automove ------------------------------------------------

export function processSlabs(ntok: u32): void {
  if (ntok == 5 && tokIs(1, 'reassign')) {
    if (!parseI32(tokPtr(2), tokEnd(2))) { outString('CLIENT_ERROR bad command line format'); return; }
    const src = N_LO;
    if (!parseI32(tokPtr(3), tokEnd(3))) { outString('CLIENT_ERROR bad command line format'); return; }
    const r = slabsReassign(src, N_LO);
    if (r == REASSIGN_OK) outString('OK');
    else if (r == REASSIGN_BADCLASS) outString('BADCLASS invalid src or dst class id');
    else if (r == REASSIGN_NOSPARE) outString('NOSPARE source class has no spare pages');
    else if (r == REASSIGN_SAME) outString('SAME src and dst class are identical');
    else outString('BUSY currently processing reassign request');
    return;
  }
  if (ntok >= 4 && tokIs(1, 'automove')) {
    setNoreplyMaybe(ntok);
    if (tokIs(2, 'ratio')) {
      if (ntok < 5) { outString('ERROR'); return; }
      outString('OK');
      return;
    }
    if (!parseU32(tokPtr(2), tokEnd(2))) { outString('CLIENT_ERROR bad command line format'); return; }
    if (N_LO > 2) { outString('ERROR'); return; }
    hset(H_AUTOMOVE, N_LO);
    outString('OK');
    return;
  }
  outString('ERROR');
}

// ---- lru / lru_crawler -------------------------------------------------------------

export function processLru(ntok: u32): void {
  setNoreplyMaybe(ntok);
  if (tokIs(1, 'tune') && ntok >= 7) {
    if (!parseU32(tokPtr(2), tokEnd(2))) { outString('ERROR'); return; }
    const hot = N_LO;
    if (!parseU32(tokPtr(3), tokEnd(3))) { outString('ERROR'); return; }
    const warm = N_LO;
    if (!isPositiveDecimal(4) || !isPositiveDecimal(5)) {
      outString('ERROR hot/warm age factors must be greater than 0');
      return;
    }
    if (hot + warm > 80) { outString('ERROR hot and warm pcts must not exceed 80'); return; }
    outString('OK');
    return;
  }
  if (tokIs(1, 'mode') && ntok >= 4) {
    // flat: allocations reclaim dead items at the LRU tail first (HSET_LRU_FLAT).
    if (tokIs(2, 'flat')) hset(HOST_SETTINGS + (HSET_LRU_FLAT << 2), 1);
    else if (tokIs(2, 'segmented')) hset(HOST_SETTINGS + (HSET_LRU_FLAT << 2), 0);
    else { outString('ERROR'); return; }
    outString('OK');
    return;
  }
  if (tokIs(1, 'temp_ttl') && ntok >= 4) {
    if (!parseI32(tokPtr(2), tokEnd(2))) outString('ERROR'); else outString('OK');
    return;
  }
  outString('ERROR');
}

/** Token i is a decimal number greater than 0 ("0.5", "2"). */
function isPositiveDecimal(i: u32): bool {
  const p = tokPtr(i);
  const n = tokLen(i);
  let nonzero = false;
  let dots: u32 = 0;
  if (n == 0) return false;
  for (let k: u32 = 0; k < n; k++) {
    const ch: u32 = ld8(p + k);
    if (ch == 46) { dots++; continue; }
    if (ch < 48 || ch > 57) return false;
    if (ch != 48) nonzero = true;
  }
  return dots <= 1 && nonzero;
}

/** Chunks `lru_crawler crawl` walks inside the call (a few milliseconds);
 *  the background pass takes the rest. */
const CRAWL_NOW_CHUNKS: u32 = 262144;

/** `lru_crawler ...`; P_OUT_FULL while a dump has lines left (proto/dump.ts). */
export function processLruCrawler(ntok: u32, outStart: u32): u32 {
  if (ntok == 4 && tokIs(1, 'crawl')) {
    if (hget(H_CRAWLER_ON) == 0) { outString('CLIENT_ERROR lru crawler disabled'); return P_DONE; }
    if (dumpRunning()) { outString('BUSY currently processing crawler request'); return P_DONE; }
    // memcached's crawl takes `hash` only for dumps; its crawler answers this.
    if (tokIs(2, 'hash')) { outString('ERROR an unknown error happened'); return P_DONE; }
    if (!parseClasses(2)) { outString('BADCLASS invalid class id'); return P_DONE; }
    statInc(C_CRAWLER_STARTS);
    crawlClassesNow(classWanted, CRAWL_NOW_CHUNKS);
    outString('OK');
    return P_DONE;
  }
  if (ntok == 4 && tokIs(1, 'metadump')) return processDump(DUMP_META, outStart);
  if (ntok == 4 && tokIs(1, 'mgdump')) return processDump(DUMP_MG, outStart);
  if (ntok == 4 && tokIs(1, 'tocrawl')) {
    if (!parseU32(tokPtr(2), tokEnd(2))) { outString('CLIENT_ERROR bad command line format'); return P_DONE; }
    outString('OK');
    return P_DONE;
  }
  if (ntok == 4 && tokIs(1, 'sleep')) {
    if (!parseU32(tokPtr(2), tokEnd(2))) { outString('CLIENT_ERROR bad command line format'); return P_DONE; }
    if (N_LO > 1000000) { outString('CLIENT_ERROR sleep must be one second or less'); return P_DONE; }
    outString('OK');
    return P_DONE;
  }
  if (ntok == 3) {
    if (tokIs(1, 'enable')) { hset(H_CRAWLER_ON, 1); outString('OK'); return P_DONE; }
    if (tokIs(1, 'disable')) { hset(H_CRAWLER_ON, 0); outString('OK'); return P_DONE; }
  }
  outString('ERROR');
  return P_DONE;
}

export { MAX_CLASSES };
