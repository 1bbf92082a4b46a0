// The -o options (memcached's "extended" options): `-o a,b=1` and repeated
// -o. Every -o option of memcached 1.6.18 is in this table, with memcached's
// checks of its value, plus wasmcached's own (debug_time, snapshot_interval,
// warm_rate). Most tune machinery wasmcached has in another form (threads,
// segmented LRU, extstore, TLS); those are accepted and change nothing, which
// their -h line says.
import type { Settings } from './settings.js';
import { SettingsError, quote, parseInteger, parseDecimal, MAX_ITEM_SIZE } from './settings-values.js';

interface ExtendedSpec {
  name: string;
  /** name of the value in -h, or undefined for a switch (which takes none) */
  arg?: string;
  /** the value may be left out (slab_automove) */
  optional?: boolean;
  /** Left out of -h, which lists what is served: memcached's test harness
   *  reads -h to decide what to test (ext_path: extstore, no_drop_privileges:
   *  seccomp), and wasmcached has neither. extendedUsage() names the group. */
  hidden?: boolean;
  help: string;
  /** applies the option; `flag` is `-o <name>`, for messages */
  apply?(s: Settings, value: string | null, flag: string): void;
}

const U32_MAX = 4294967295;
const I32_MAX = 2147483647;
/** Where the options that change nothing here say so at -vv. */
const NO_EFFECT = 2;

/** An accepted option with no effect: says so at -vv. */
function noEffect(why: string): (s: Settings, v: string | null, f: string) => void {
  return (s, _v, f) => { s.notes.push({ verbosity: NO_EFFECT, text: `${f}: no effect: ${why}` }); };
}

/** A number memcached reads with safe_strtoul. */
function unsigned(v: string, flag: string, name: string): number {
  if (!/^\d+$/.test(v) || Number(v) > U32_MAX) throw new SettingsError(`${flag} ${quote(v)}: could not parse argument to ${name}`);
  return Number(v);
}

const SEGMENTED_LRU = 'the LRU is one list per class with a second chance for active items, not hot/warm/cold segments';
const NO_EXTSTORE = 'wasmcached has no external storage (extstore); items are kept in memory only';

/** -Z and its -o ssl_* options, as memcached 1.6.18 keeps them. */
export interface SslSettings {
  chainCert: string | null;
  key: string | null;
  /** memcached's SSL_FILETYPE_*: 1 PEM, 2 DER (ASN1) */
  keyFormat: number;
  /** 0 none, 1 request a client certificate, 2 require one, 3 require once */
  verifyMode: number;
  ciphers: string | null;
  caCert: string | null;
  /** kilobytes */
  wbufSize: number;
  sessionCache: boolean;
  kernelTls: boolean;
  /** 0 TLSv1, 1 TLSv1.1, 2 TLSv1.2 (default), 3 TLSv1.3 */
  minVersion: number;
  /** Session-ticket keys (48 bytes) made once at start and handed to every
   *  thread with the settings; absent: the TLS server makes its own. */
  ticketKeys?: Uint8Array;
}

export function defaultSslSettings(): SslSettings {
  return {
    chainCert: null, key: null, keyFormat: 1, verifyMode: 0, ciphers: null, caCert: null,
    wbufSize: 16, sessionCache: false, kernelTls: false, minVersion: 2,
  };
}
const NO_WATCH = 'each watcher holds at most 256 KiB of lines (see Logging in the README)';

// In memcached's -h order, then the options -h does not list, then wasmcached's.
const EXTENDED: ExtendedSpec[] = [
  { name: 'maxconns_fast', help: 'over -c, refuse a connection at once with "ERROR Too many open connections" (always on)' },
  { name: 'no_maxconns_fast', help: 'accepted, no effect: connections over -c are always refused at once',
    apply: noEffect('connections over -c are always refused at once') },
  { name: 'hashpower', arg: 'num', help: 'initial hash table power (12-32), reported in stats settings; the table starts at 2^16 buckets and grows as items are added',
    apply(s, v, f) {
      const n = parseInteger(v!, f, -I32_MAX, I32_MAX);
      if (n < 12) throw new SettingsError(`${f} ${n}: initial hashtable multiplier of ${n} is too low`);
      if (n > 32) throw new SettingsError(`${f} ${n}: initial hashtable multiplier of ${n} is too high (choose a value based on "STAT hash_power_level" from a running instance)`);
      s.hashpowerInit = n;
    } },
  { name: 'no_hashexpand', help: 'accepted, no effect: the hash table grows incrementally, a few buckets per insert',
    apply: noEffect('the hash table still grows (incrementally, a few buckets per insert and per second)') },
  { name: 'tail_repair_time', arg: 'secs', help: 'accepted (at least 10), no effect: an item pinned by a connection is released when it closes',
    apply(s, v, f) {
      if (parseInteger(v!, f, -I32_MAX, I32_MAX) < 10) throw new SettingsError(`${f} ${v}: cannot set tail_repair_time to less than 10 seconds`);
      noEffect('items are never left locked at the LRU tail')(s, v, f);
    } },
  { name: 'hash_algorithm', arg: 'name', help: 'jenkins, murmur3 or xxh3: accepted; keys are always hashed with murmur3',
    apply(s, v, f) {
      if (v !== 'jenkins' && v !== 'murmur3' && v !== 'xxh3') throw new SettingsError(`${f} ${quote(v!)}: unknown hash_algorithm option (jenkins, murmur3, xxh3)`);
      if (v !== 'murmur3') noEffect('keys are hashed with murmur3')(s, v, f);
    } },
  { name: 'lru_crawler', help: 'run the background crawler that reclaims expired items (default)',
    apply(s) { s.lruCrawler = true; } },
  { name: 'no_lru_crawler', help: 'no background crawler: expired items are reclaimed when read or evicted (`lru_crawler enable` starts it)',
    apply(s) { s.lruCrawler = false; } },
  { name: 'lru_crawler_sleep', arg: 'usecs', help: 'accepted (0-1000000), no effect: the crawler visits a bounded number of items once a second',
    apply(s, v, f) {
      parseInteger(v!, f, 0, 1000000, 'LRU crawler sleep must be between 0 and 1 second');
      noEffect('the crawler visits a bounded number of items once a second')(s, v, f);
    } },
  { name: 'lru_crawler_tocrawl', arg: 'num', help: 'accepted, no effect: the crawler walks every class',
    apply(s, v, f) {
      if (!/^\d+$/.test(v!) || Number(v) > U32_MAX) throw new SettingsError(`${f} ${quote(v!)}: lru_crawler_tocrawl takes a numeric 32bit value`);
      noEffect('the crawler walks every class')(s, v, f);
    } },
  { name: 'read_buf_mem_limit', arg: 'mb', help: 'accepted, no effect: reads share one 64 KiB buffer, and a connection holds at most one command line',
    apply(s, v, f) { unsigned(v!, f, 'read_buf_mem_limit'); noEffect('reads share one 64 KiB buffer')(s, v, f); } },
  { name: 'lru_maintainer', help: 'LRU upkeep (second chance at the tail) is always on; `stats` lists the maintainer\'s fields (default)',
    apply(s) { s.lruMaintainer = true; } },
  { name: 'no_lru_maintainer', help: `\`stats\` leaves out the maintainer's fields, as memcached's does; ${SEGMENTED_LRU}`,
    apply(s) { s.lruMaintainer = false; } },
  { name: 'hot_lru_pct', arg: 'pct', help: `accepted (2-79), no effect: ${SEGMENTED_LRU}`,
    apply(s, v, f) { lruPct(s, v!, f); } },
  { name: 'warm_lru_pct', arg: 'pct', help: 'accepted (2-79, with hot_lru_pct at most 80), no effect',
    apply(s, v, f) { lruPct(s, v!, f); } },
  { name: 'hot_max_factor', arg: 'factor', help: 'accepted (above 0), no effect',
    apply(s, v, f) { parseDecimal(v!, f, 0, Infinity, 'hot_max_factor must be > 0'); noEffect(SEGMENTED_LRU)(s, v, f); } },
  { name: 'warm_max_factor', arg: 'factor', help: 'accepted (above 0), no effect',
    apply(s, v, f) { parseDecimal(v!, f, 0, Infinity, 'warm_max_factor must be > 0'); noEffect(SEGMENTED_LRU)(s, v, f); } },
  { name: 'temporary_ttl', arg: 'secs', help: 'accepted, no effect: items with a short TTL are evicted like the others',
    apply(s, v, f) { parseInteger(v!, f, -I32_MAX, I32_MAX); noEffect('items with a short TTL share their class\'s LRU')(s, v, f); } },
  { name: 'idle_timeout', arg: 'secs', help: 'close connections idle for this many seconds (default: 0, never)',
    apply(s, v, f) { s.idleTimeout = parseInteger(v!, f, 0, I32_MAX); } },
  { name: 'slab_chunk_max', arg: 'bytes', help: 'accepted (-I must be a multiple of it), no effect: items are never split into chunks',
    apply(s, v, f) {
      const n = parseInteger(v!, f, 1, MAX_ITEM_SIZE);
      slabChunkMax.set(s, n);
    } },
  { name: 'watcher_logbuf_size', arg: 'kb', help: `accepted, no effect: ${NO_WATCH}`,
    apply(s, v, f) { unsigned(v!, f, 'watcher_logbuf_size'); noEffect(NO_WATCH)(s, v, f); } },
  { name: 'worker_logbuf_size', arg: 'kb', help: `accepted, no effect: ${NO_WATCH}`,
    apply(s, v, f) { unsigned(v!, f, 'worker_logbuf_size'); noEffect(NO_WATCH)(s, v, f); } },
  { name: 'track_sizes', help: 'accepted, no effect: `stats sizes` reports sizes_status disabled',
    apply: noEffect('`stats sizes` is not tracked') },
  { name: 'modern', help: 'accepted: wasmcached has the behaviour of memcached 1.6' },
  { name: 'no_modern', help: 'memcached 1.4\'s defaults: flat LRU (an allocation first reclaims a dead item at its tail), no crawler, no LRU maintainer, slab_automove=0',
    apply(s) {
      s.lruFlat = true;
      s.lruCrawler = false;
      s.lruMaintainer = false;
      s.slabAutomove = 0;
    } },
  { name: 'sock_cookie_id', arg: 'id', help: 'accepted, no effect: sockets are not marked (SO_MARK)',
    apply(s, v, f) { unsigned(v!, f, 'sock_cookie_id'); noEffect('sockets are not marked')(s, v, f); } },
  // External storage.
  { name: 'ext_path', arg: 'file:size', help: `accepted, no effect: ${NO_EXTSTORE}`, hidden: true,
    apply(s, v, f) {
      if (!/^.+:\d+[MmGgTtPp]$/.test(v!)) throw new SettingsError(`${f} ${quote(v!)}: must supply size to ext_path, ie: ext_path=/f/e:64m (M|G|T|P supported)`);
      // Printed at every verbosity: this asked for more capacity than memory.
      s.notes.push({ verbosity: 0, text: `${f}: ${NO_EXTSTORE}` });
    } },
  ...['ext_page_size', 'ext_wbuf_size', 'ext_threads', 'ext_io_depth', 'ext_item_size', 'ext_item_age', 'ext_low_ttl',
    'ext_recache_rate', 'ext_compact_under', 'ext_drop_under', 'ext_max_sleep'].map((name): ExtendedSpec => ({
    name, arg: 'num', help: 'accepted, no effect (extstore)', hidden: true,
    apply(s, v, f) { unsigned(v!, f, name); noEffect(NO_EXTSTORE)(s, v, f); },
  })),
  { name: 'ext_drop_unread', help: 'accepted, no effect (extstore)', hidden: true, apply: noEffect(NO_EXTSTORE) },
  { name: 'ext_max_frag', arg: 'ratio', help: 'accepted, no effect (extstore)', hidden: true,
    apply(s, v, f) { extRatio(v!, f, 'ext_max_frag'); noEffect(NO_EXTSTORE)(s, v, f); } },
  { name: 'slab_automove_freeratio', arg: 'ratio', help: 'accepted, no effect (extstore)',
    apply(s, v, f) { extRatio(v!, f, 'slab_automove_freeratio'); noEffect(NO_EXTSTORE)(s, v, f); } },
  // TLS (-Z, src/tls.ts); checked as memcached checks them.
  { name: 'ssl_chain_cert', arg: 'file', help: 'with -Z: the server\'s certificate chain, PEM',
    apply(s, v) { s.ssl.chainCert = v; } },
  { name: 'ssl_key', arg: 'file', help: 'with -Z: the server\'s private key',
    apply(s, v) { s.ssl.key = v; } },
  { name: 'ssl_keyformat', arg: 'num', help: 'format of ssl_key: 1 PEM (default), 2 DER',
    apply(s, v, f) {
      if (!/^-?\d+$/.test(v!)) throw new SettingsError(`${f} ${quote(v!)}: could not parse argument to ssl_keyformat`);
      s.ssl.keyFormat = Number(v);
    } },
  { name: 'ssl_verify_mode', arg: '0-3', help: 'client certificates: 0 not asked (default), 1 requested (a bad one fails), 2 required, 3 required once (as 2: no renegotiation)',
    apply(s, v, f) { s.ssl.verifyMode = sslChoice(v!, f, 'ssl_verify_mode'); } },
  { name: 'ssl_ciphers', arg: 'list', help: 'OpenSSL cipher list (TLSv1.2 and below)',
    apply(s, v) { s.ssl.ciphers = v; } },
  { name: 'ssl_ca_cert', arg: 'file', help: 'PEM file of the CAs whose client certificates are accepted',
    apply(s, v) { s.ssl.caCert = v; } },
  { name: 'ssl_wbuf_size', arg: 'kb', help: 'accepted, no effect: Node.js frames TLS records itself (at most 16 KiB each)',
    apply(s, v, f) { s.ssl.wbufSize = unsigned(v!, f, 'ssl_wbuf_size'); } },
  { name: 'ssl_session_cache', help: 'keep TLS sessions on the server so that clients resume them by session id (at most 4 MiB; session tickets resume either way)',
    apply(s) { s.ssl.sessionCache = true; } },
  { name: 'ssl_kernel_tls', help: 'accepted, no effect: Node.js does not offload TLS to the kernel',
    apply(s) { s.ssl.kernelTls = true; } },
  { name: 'ssl_min_version', arg: '0-3', help: 'oldest protocol accepted: 0 TLSv1.0, 1 TLSv1.1, 2 TLSv1.2 (default), 3 TLSv1.3',
    apply(s, v, f) { s.ssl.minVersion = sslChoice(v!, f, 'ssl_min_version'); } },
  // In memcached 1.6.18 but not in its -h.
  { name: 'slab_reassign', help: 'accepted: slab pages always move between classes as memory is needed' },
  { name: 'no_slab_reassign', help: 'accepted, no effect: slab pages still move between classes as memory is needed',
    apply: noEffect('slab pages still move between classes when memory is needed') },
  { name: 'slab_automove', arg: '0-2', optional: true, help: '0: a page moves only to a class that has none to evict from; 1 (default), 2: also free pages to the pool and pages from a clearly older class',
    apply(s, v, f) { s.slabAutomove = v === null ? 1 : parseInteger(v, f, 0, 2, 'slab_automove must be between 0 and 2'); } },
  { name: 'no_slab_automove', help: 'as slab_automove=0',
    apply(s) { s.slabAutomove = 0; } },
  { name: 'slab_automove_ratio', arg: 'ratio', help: 'accepted (between 0 and 1), no effect: the ratio is 0.8',
    apply(s, v, f) { parseDecimal(v!, f, 0, 1, 'slab_automove_ratio must be > 0 and < 1'); noEffect('the automove ratio is 0.8')(s, v, f); } },
  { name: 'slab_automove_window', arg: 'secs', help: 'seconds a class must go without evicting or growing before its free pages return to the pool (default: 30)',
    apply(s, v, f) { s.slabAutomoveWindow = parseInteger(v!, f, 1, I32_MAX); } },
  { name: 'slab_sizes', arg: 'a-b-c', help: 'accepted (increasing sizes of at least 48), no effect: chunk sizes come from -n and -f',
    apply(s, v, f) {
      let last = 0;
      for (const part of v!.split('-')) {
        const n = /^\d+$/.test(part) ? Number(part) : 0;
        if (n < 48 || n > MAX_ITEM_SIZE) throw new SettingsError(`${f} ${quote(v!)}: slab size ${n} is out of valid range`);
        if (n <= last) throw new SettingsError(`${f} ${quote(v!)}: slab size ${n} cannot be lower than or equal to a previous class size`);
        last = n;
      }
      noEffect('chunk sizes come from -n and -f')(s, v, f);
    } },
  { name: 'no_chunked_items', help: 'accepted: items are never split into chunks' },
  { name: 'inline_ascii_resp', help: 'accepted, no effect' },
  { name: 'no_inline_ascii_resp', help: 'accepted, no effect' },
  { name: 'resp_obj_mem_limit', arg: 'mb', help: 'accepted, no effect (deprecated in memcached too)',
    apply(s, v, f) { unsigned(v!, f, 'resp_obj_mem_limit'); noEffect('replies are bounded per connection')(s, v, f); } },
  { name: 'drop_privileges', help: 'accepted, no effect: no system call filter is installed', hidden: true },
  { name: 'no_drop_privileges', help: 'accepted, no effect', hidden: true },
  { name: 'relaxed_privileges', help: 'accepted, no effect (memcached\'s test builds pass it)', hidden: true },
  // wasmcached's own.
  { name: 'debug_time', help: 'enable `debugtime <secs>`, which moves the cache clock forward (for tests)',
    apply(s) { s.debugTime = true; } },
  { name: 'snapshot_interval', arg: 'secs', help: 'with -e: also write a snapshot every this many seconds in the background (default: 0, off)',
    apply(s, v, f) { s.snapshotInterval = parseInteger(v!, f, 0, I32_MAX); } },
  { name: 'warm_rate', arg: 'items/s', help: 'with --warm-from: copy at most this many items per second (default: 20000)',
    apply(s, v, f) { s.warmRate = parseInteger(v!, f, 1, 10_000_000); } },
  { name: 'metrics_port', arg: 'port', help: 'serve Prometheus metrics at GET /metrics on this port (0: any free port; default: off)',
    apply(s, v, f) { s.metricsPort = parseInteger(v!, f, 0, 65535); } },
  { name: 'metrics_listen', arg: 'addr', help: 'interface of the metrics port (default: 127.0.0.1)',
    apply(s, v, f) {
      if (v === '') throw new SettingsError(`${f} needs an address (metrics_listen=<addr>)`);
      s.metricsListen = v!;
    } },
];

/** -o slab_chunk_max given, for the check against -I once all flags are read. */
const slabChunkMax = new WeakMap<Settings, number>();

function lruPct(s: Settings, v: string, f: string): void {
  const name = f.slice(f.lastIndexOf(' ') + 1);
  const n = parseInteger(v, f, -I32_MAX, I32_MAX);
  if (n <= 1 || n >= 80) throw new SettingsError(`${f} ${v}: ${name} must be > 1 and < 80`);
  const pcts = lruPcts.get(s) ?? { hot: 20, warm: 40 };
  if (name === 'hot_lru_pct') pcts.hot = n; else pcts.warm = n;
  lruPcts.set(s, pcts);
  noEffect(SEGMENTED_LRU)(s, v, f);
}
const lruPcts = new WeakMap<Settings, { hot: number; warm: number }>();

function extRatio(v: string, f: string, name: string): void {
  if (!/^\d*\.?\d+$/.test(v)) throw new SettingsError(`${f} ${quote(v)}: could not parse argument to ${name}`);
}

function sslChoice(v: string, f: string, name: string): number {
  if (!/^[0-3]$/.test(v)) throw new SettingsError(`${f} ${quote(v)}: invalid ${name} (valid values are 0, 1, 2 and 3)`);
  return Number(v);
}

/** Applies one -o argument: a comma-separated list of options. */
export function applyExtended(s: Settings, list: string, flag: string): void {
  for (const item of list.split(',')) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? null : item.slice(eq + 1);
    const spec = EXTENDED.find((o) => o.name === name);
    const f = `${flag} ${name}`;
    if (!spec) throw new SettingsError(`unknown ${flag} option ${quote(name)} (see wasmcached -h)`);
    if (spec.arg === undefined && value !== null) throw new SettingsError(`${f} takes no value`);
    if (spec.arg !== undefined && value === null && !spec.optional) throw new SettingsError(`${f} needs a value (${name}=<${spec.arg}>)`);
    if (spec.arg !== undefined && value === '' ) throw new SettingsError(`${f} needs a value (${name}=<${spec.arg}>)`);
    spec.apply?.(s, value, f);
  }
}

/** Checks between -o options and other flags, once all are read (memcached's). */
export function checkExtended(s: Settings): void {
  const pcts = lruPcts.get(s);
  if (pcts && pcts.hot + pcts.warm > 80) throw new SettingsError('hot_lru_pct + warm_lru_pct cannot be more than 80% combined');
  const chunkMax = slabChunkMax.get(s);
  if (chunkMax !== undefined && s.itemSizeMax % chunkMax !== 0) {
    throw new SettingsError(`-I (item_size_max: ${s.itemSizeMax}) must be evenly divisible by slab_chunk_max (bytes: ${chunkMax})`);
  }
}

/** The -o part of -h. */
export function extendedUsage(): string[] {
  const lines = ['-o options (comma-separated, or several -o):'];
  for (const o of EXTENDED) {
    if (o.hidden) continue;
    const name = o.arg === undefined ? o.name : o.optional ? `${o.name}[=<${o.arg}>]` : `${o.name}=<${o.arg}>`;
    lines.push(`   - ${name.padEnd(31)} ${o.help}`);
  }
  lines.push(`   - ${'ext_<option>=<value>'.padEnd(31)} memcached's external storage (extstore) options: accepted, no effect: items are kept in memory only`);
  lines.push(`   - ${'(no_)drop / relaxed privileges'.padEnd(31)} memcached's system call filter options: accepted, no effect`);
  return lines;
}
