// The classic text protocol: finds each complete line in the input region,
// tokenizes it and runs it against store.ts, writing replies to the output
// region. One call handles every complete pipelined command of one read.
//
// Replies, errors and their order follow memcached 1.6.18's proto_text.c
// (process_command_ascii and the process_*_command functions), including its
// quirks: `noreply` silences error replies too, arity errors answer `ERROR`
// and leave the data line to be parsed as a command, a too-large value is
// swallowed, and a line with no '\n' in 2048 bytes closes the connection
// unless it is a multiget.
//
// Beyond memcached, which buffers a multiget line whole however long it is,
// a get/gets/gat/gats line longer than MGET_STREAM_AT is answered as its keys
// arrive (R_MGET holds the command while the rest of the line is awaited), so
// a 50,000-key multiget needs no line buffer. Such a line cannot be checked
// ahead for a key over 250 bytes: values before that key have been sent when
// its CLIENT_ERROR is.
//
// Flow outcomes of one command (P_*): done (advance past it), need more input
// (R_NEED), output full (call again: a multiget resumes at H_RESUME_KEYS),
// swallow the rest of the stream (R_SKIP), close, shutdown.
import { ld8, find } from '../mem';
import {
  S, hget, hset, currentTime, SCRATCH, H_OPTS, H_VERBOSITY, H_RESUME_KEYS,
  H_TIME_OFFSET, H_CURRENT_TIME,
} from '../arena';
import {
  ST_OK, ST_OUT_FULL, ST_CLOSE, ST_SHUTDOWN, ST_SNAPSHOT, ST_STATS_CONNS, ST_WATCH, ST_REFRESH_CERTS, ST_VALUE, ST_WARM_KEYS, R_NEED, R_SKIP, LIMIT_KEY_LEN,
  LIMIT_LINE, LS_TOO_LARGE, LS_NO_MEMORY, R_DUMP, OPT_SHUTDOWN, OPT_NO_FLUSH, OPT_DEBUG_TIME, OPT_AUTH_FILE, R_MGET, R_MGET_EXPTIME,
} from '../abi';
import { processAsciiAuth, connAuthenticated, AUTH_NEXT } from './sasl';
import { tokenize, tokPtr, tokLen, tokEnd, tokIs, bytesAre, nextWord, WORD_END } from './tokens';
import { outRoom, outStr, outBytes, outCRLF, outU32, outU64, OUT } from './out';
import { parseU32, parseU64, parseI32, N_HI, N_LO } from '../numbers';
import {
  storeItem, storeDelta, storeDelete, storeDrop, storeTouch, storeFlush, realtime, positiveTime, itemSizeOk,
  CMD_ADD, CMD_SET, CMD_REPLACE, CMD_APPEND, CMD_PREPEND, CMD_CAS, STORED, EXISTS, NOT_FOUND,
  DELTA_OK, DELTA_NON_NUMERIC, DELTA_EOM, DELTA_LEN, countSet,
} from '../store';
import { itemFree, itemGet, itemUnlink, itemHash } from '../items';
import { IT_FLAGS, IT_VLEN, IT_CAS_LO, IT_CAS_HI, IT_CLS, IT_KLEN, IT_KEY } from '../items_layout';
import { ld32 } from '../mem';
import { cls, CL_GET_HITS, CL_TOUCH_HITS, CL_DELETE_HITS } from '../slabs';
import { u64IncAt } from '../u64';
import {
  statInc, C_CMD_GET, C_CMD_TOUCH, C_GET_HITS, C_GET_MISSES, C_TOUCH_HITS, C_TOUCH_MISSES,
  C_STORE_TOO_LARGE, C_STORE_NO_MEMORY, C_DELETE_MISSES, C_INCR_MISSES, C_DECR_MISSES,
  C_CMD_FLUSH, } from '../stats';
import { outString, setNoreplyMaybe, noreplyReset, noreplyTake, noreplyIsSet } from './reply';
import { detailRecordGet, detailRecordSet, detailRecordDelete } from '../detail';
import { processStats, processStatsCachedump, processMemlimit, processSlabs, processLruCrawler, processLru } from './text_admin';

import {
  P_DONE, P_NEED, P_OUT_FULL, P_SKIP, P_CLOSE, P_SHUTDOWN, P_SNAPSHOT, P_STATS_CONNS, P_WATCH, P_REFRESH_CERTS, P_VALUE, OUT_RESERVE, VALUE_HEAD_ROOM, execBegin, execEnd,
  requestDone,
} from './flow';
import { valueIn, sendValue, sendContinue, sendPending, V_PENDING, V_NO_MEMORY, VALUE_ITEM, VALUE_NEXT, VALUE_BAD_TRAILER } from './values';
import { processMetaGet, processMetaSet, processMetaDelete, processMetaArithmetic, processMetaDebug, META_NEXT } from './meta';
import { warmCallBegin, warmCallEnd, warmDue, warmCheckText } from './warm_keys';
import { processWatch } from './watch';
import {
  LOG_MASK, logHasRoom, logKeyRoom, logCommand, logMark, logRewind, logReply, logReplyBytes, logSendingKey, logQuit,
  logStoreRefused, logRefresh,
} from '../log';

/** A multiget line with no newline yet is answered key by key past this. */
const MGET_STREAM_AT: u32 = 16384;
// R_MGET values: the multiget whose keys are still arriving.
const MGET_GET: u32 = 1;
const MGET_GETS: u32 = 2;
const MGET_GAT: u32 = 3;
const MGET_GATS: u32 = 4;
/** A key was over 250 bytes: drop the rest of the line. */
const MGET_SWALLOW: u32 = 5;
const MAX_VERBOSITY: u32 = 2;
const NONE: u32 = 0xffffffff;

/** Input position just after the current command (its line, then data). */
let NEXT: u32 = 0;
let IN_END: u32 = 0;
/** Where this call's replies began (a dump refuses to follow other replies). */
let CALL_OUT_START: u32 = 0;
/** Number formatting and incr/decr digits. */
function deltaBuf(): u32 { return S + SCRATCH + 512; }
function deltaScratch(): u32 { return S + SCRATCH + 768; }

/** The MGET_* command an unterminated line starts with, or 0: memcached
 *  keeps reading such a line only for get and gets; gat and gats are
 *  multigets too. MGET_P is where their keys (or gat's exptime) start. */
let MGET_P: u32 = 0;
function multigetStart(p: u32, end: u32): u32 {
  let q = p;
  while (q < end && ld8(q) == 32) q++;
  if (q - p > 100) return 0;
  let mode: u32 = 0;
  if (end - q >= 4 && bytesAre(q, 4, 'get ')) { mode = MGET_GET; q += 4; }
  else if (end - q >= 5 && bytesAre(q, 5, 'gets ')) { mode = MGET_GETS; q += 5; }
  else if (end - q >= 4 && bytesAre(q, 4, 'gat ')) { mode = MGET_GAT; q += 4; }
  else if (end - q >= 5 && bytesAre(q, 5, 'gats ')) { mode = MGET_GATS; q += 5; }
  MGET_P = q;
  return mode;
}

/**
 * Runs every complete command in [inPtr, inPtr+len); replies go to the
 * output region. Sets R_CONSUMED, R_OUT_LEN, R_NEED, R_SKIP; returns ST_*.
 */
export function textExecute(inPtr: u32, len: u32, outPtr: u32, outCap: u32): u32 {
  IN_END = inPtr + len;
  CALL_OUT_START = outPtr;
  execBegin(outPtr, outCap);
  if (!sendContinue()) {
    execEnd(inPtr, inPtr, outPtr);
    return ST_OUT_FULL;
  }
  warmCallBegin(inPtr);
  let pos = inPtr;
  let status = ST_OK;
  while (pos < IN_END) {
    if (outRoom() < OUT_RESERVE || !logHasRoom()) {
      status = ST_OUT_FULL;
      break;
    }
    if (hget(R_MGET) != 0) {
      // The rest of a long multiget's keys.
      const r = multigetStream(pos);
      pos = NEXT;
      if (r == P_DONE) {
        if (requestDone()) break;
        continue;
      }
      if (r == P_OUT_FULL) status = ST_OUT_FULL;
      break;
    }
    const nl = find(pos, IN_END, 10);
    if (nl == IN_END) {
      const n = IN_END - pos;
      if (n > LIMIT_LINE && multigetStart(pos, IN_END) == 0) {
        // No newline in the first 2 KiB and not a multiget: junk, hang up
        // (CVE-2010-1152).
        status = ST_CLOSE;
        pos = IN_END;
      } else if (n > MGET_STREAM_AT && (hget(H_OPTS) & OPT_AUTH_FILE) == 0) {
        const mark = logMark();
        if (LOG_MASK != 0) logCommand(pos, IN_END);
        const r = multigetBegin(pos);
        // Not started (its exptime is incomplete): logged when it starts.
        if (NEXT == pos) logRewind(mark);
        pos = NEXT;
        if (r == P_DONE) {
          if (requestDone()) break;
          continue;
        }
        if (r == P_OUT_FULL) status = ST_OUT_FULL;
      }
      break;
    }
    let lineEnd = nl;
    if (nl - pos > 1 && ld8(nl - 1) == 13) lineEnd = nl - 1;
    // memcached works on C strings: a NUL ends the command.
    lineEnd = find(pos, lineEnd, 0);
    NEXT = nl + 1;
    noreplyReset();
    const mark = logMark();
    if (LOG_MASK != 0) logCommand(pos, lineEnd);
    let r: u32 = P_DONE;
    if ((hget(H_OPTS) & OPT_AUTH_FILE) != 0 && !connAuthenticated()) {
      r = processAsciiAuth(pos, lineEnd, NEXT, IN_END);
      NEXT = AUTH_NEXT;
    } else {
      // While warming, the host may need this line's keys (and those of the
      // lines after it) first (warm_keys.ts).
      if (warmDue(pos) && warmCheckText(pos, IN_END)) {
        logRewind(mark); // it runs, and is logged, on the next call
        status = ST_WARM_KEYS;
        break;
      }
      r = processCommand(pos, lineEnd);
    }
    if (r == P_DONE) {
      pos = NEXT;
      // A value is being sent in pieces: nothing else may be written.
      if (sendPending()) {
        status = ST_OUT_FULL;
        break;
      }
      if (requestDone()) break;
      continue;
    }
    // A command that did not start runs again from its line, logged then.
    if ((r == P_OUT_FULL || r == P_NEED) && hget(H_RESUME_KEYS) == 0 && hget(R_DUMP) == 0) logRewind(mark);
    if (r == P_OUT_FULL) status = ST_OUT_FULL;
    else if (r == P_VALUE) status = ST_VALUE;
    else if (r == P_SKIP) pos = IN_END;
    else if (r == P_CLOSE) { status = ST_CLOSE; pos = NEXT; }
    else if (r == P_SHUTDOWN) { status = ST_SHUTDOWN; pos = NEXT; }
    else if (r == P_SNAPSHOT) { status = ST_SNAPSHOT; pos = NEXT; }
    else if (r == P_STATS_CONNS) { status = ST_STATS_CONNS; pos = NEXT; }
    else if (r == P_WATCH) { status = ST_WATCH; pos = NEXT; }
    else if (r == P_REFRESH_CERTS) { status = ST_REFRESH_CERTS; pos = NEXT; }
    break; // P_NEED: wait for the rest of this command
  }
  warmCallEnd(pos);
  execEnd(inPtr, pos, outPtr);
  return status;
}

function processCommand(p: u32, lineEnd: u32): u32 {
  const ntok = tokenize(p, lineEnd);
  // There are no valid commands shorter than two bytes.
  if (ntok < 2 || tokLen(0) < 2) {
    outString('ERROR');
    return P_DONE;
  }
  const c0: u32 = ld8(tokPtr(0));
  const l0 = tokLen(0);
  if (c0 == 109 && l0 == 2) { // 'm': meta commands (proto/meta.ts)
    const c1: u32 = ld8(tokPtr(0) + 1);
    if (c1 == 110) { // mn
      outString('MN');
      return P_DONE;
    }
    if (c1 == 101) return processMetaDebug(ntok);
    if (ntok < 3 || (c1 != 103 && c1 != 115 && c1 != 100 && c1 != 97)) {
      outString('ERROR');
      return P_DONE;
    }
    if (c1 == 103) return processMetaGet(ntok);
    if (c1 == 100) return processMetaDelete(ntok);
    if (c1 == 97) return processMetaArithmetic(ntok);
    const r = processMetaSet(ntok, p, NEXT, IN_END);
    NEXT = META_NEXT;
    return r;
  }
  if (c0 == 103) { // 'g'
    if (ntok < 3) { outString('ERROR'); return P_DONE; }
    if (tokIs(0, 'get')) return processGet(ntok, lineEnd, false, false);
    if (tokIs(0, 'gets')) return processGet(ntok, lineEnd, true, false);
    if (tokIs(0, 'gat')) return processGet(ntok, lineEnd, false, true);
    if (tokIs(0, 'gats')) return processGet(ntok, lineEnd, true, true);
    outString('ERROR');
    return P_DONE;
  }
  if (c0 == 115) { // 's'
    if (tokIs(0, 'set')) return arity2(ntok, 6, 7) ? processUpdate(ntok, p, CMD_SET, false) : P_DONE;
    if (tokIs(0, 'stats')) {
      if (ntok >= 3 && tokIs(1, 'cachedump')) return processStatsCachedump(ntok);
      if (ntok == 3 && tokIs(1, 'conns')) return P_STATS_CONNS;
      processStats(ntok);
      return P_DONE;
    }
    if (tokIs(0, 'shutdown')) return processShutdown(ntok);
    if (tokIs(0, 'snapshot')) return processSnapshot(ntok);
    if (tokIs(0, 'slabs')) { processSlabs(ntok); return P_DONE; }
    outString('ERROR');
    return P_DONE;
  }
  if (c0 == 97) { // 'a'
    if (tokIs(0, 'add')) return arity2(ntok, 6, 7) ? processUpdate(ntok, p, CMD_ADD, false) : P_DONE;
    if (tokIs(0, 'append')) return arity2(ntok, 6, 7) ? processUpdate(ntok, p, CMD_APPEND, false) : P_DONE;
    outString('ERROR');
    return P_DONE;
  }
  if (c0 == 99) { // 'c'
    if (tokIs(0, 'cas')) return arity2(ntok, 7, 8) ? processUpdate(ntok, p, CMD_CAS, true) : P_DONE;
    if (tokIs(0, 'cache_memlimit')) { if (arity2(ntok, 3, 4)) processMemlimit(ntok); return P_DONE; }
    outString('ERROR');
    return P_DONE;
  }
  if (c0 == 105) { // 'i'
    if (tokIs(0, 'incr')) { if (arity2(ntok, 4, 5)) processArithmetic(ntok, true); return P_DONE; }
    outString('ERROR');
    return P_DONE;
  }
  if (c0 == 100) { // 'd'
    if (tokIs(0, 'delete')) { if (arityRange(ntok, 3, 5)) processDelete(ntok); return P_DONE; }
    if (tokIs(0, 'decr')) { if (arity2(ntok, 4, 5)) processArithmetic(ntok, false); return P_DONE; }
    if (tokIs(0, 'debugtime') && (hget(H_OPTS) & OPT_DEBUG_TIME) != 0) { processDebugtime(ntok); return P_DONE; }
    outString('ERROR');
    return P_DONE;
  }
  if (c0 == 116) { // 't'
    if (tokIs(0, 'touch')) { if (arity2(ntok, 4, 5)) processTouch(ntok); return P_DONE; }
    outString('ERROR');
    return P_DONE;
  }
  if (tokIs(0, 'refresh_certs')) return P_REFRESH_CERTS;
  if (tokIs(0, 'replace')) return arity2(ntok, 6, 7) ? processUpdate(ntok, p, CMD_REPLACE, false) : P_DONE;
  if (tokIs(0, 'prepend')) return arity2(ntok, 6, 7) ? processUpdate(ntok, p, CMD_PREPEND, false) : P_DONE;
  if (tokIs(0, 'bget')) {
    // ancient alias of get that memcached still answers
    if (ntok < 3) { outString('ERROR'); return P_DONE; }
    return processGet(ntok, lineEnd, false, false);
  }
  if (tokIs(0, 'flush_all')) { if (arityRange(ntok, 2, 4)) processFlushAll(ntok); return P_DONE; }
  if (tokIs(0, 'version')) { outString('VERSION 1.6.18'); return P_DONE; }
  if (tokIs(0, 'quit')) { logQuit(); return P_CLOSE; }
  if (tokIs(0, 'lru_crawler')) return processLruCrawler(ntok, CALL_OUT_START);
  if (tokIs(0, 'watch')) return processWatch(ntok, CALL_OUT_START);
  if (tokIs(0, 'verbosity')) { if (arity2(ntok, 3, 4)) processVerbosity(ntok); return P_DONE; }
  if (tokIs(0, 'lru')) {
    if (ntok < 3) { outString('ERROR'); return P_DONE; }
    processLru(ntok);
    return P_DONE;
  }
  // A request line ending in HTTP/x: a web client (or a cross-protocol
  // attack) talking to us; hang up as memcached does.
  const last = ntok - 2;
  if (tokLen(last) >= 5 && bytesAre(tokPtr(last), 5, 'HTTP/')) return P_CLOSE;
  outString('ERROR');
  return P_DONE;
}

/** WANT_TOKENS_OR: ERROR unless ntok is a or b. */
function arity2(ntok: u32, a: u32, b: u32): bool {
  if (ntok != a && ntok != b) {
    outString('ERROR');
    return false;
  }
  return true;
}

/** WANT_TOKENS: ERROR unless min <= ntok <= max. */
function arityRange(ntok: u32, min: u32, max: u32): bool {
  if (ntok < min || ntok > max) {
    outString('ERROR');
    return false;
  }
  return true;
}

/** Drops n bytes after the command line: now, or later through R_SKIP. */
function swallow(n: u32): u32 {
  const avail = IN_END - NEXT;
  if (avail >= n) {
    NEXT += n;
    return P_DONE;
  }
  hset(R_SKIP, n - avail);
  return P_SKIP;
}

// ---- set / add / replace / append / prepend / cas ----------------------------

function processUpdate(ntok: u32, lineStart: u32, comm: u32, handleCas: bool): u32 {
  setNoreplyMaybe(ntok);
  const nkey = tokLen(1);
  if (nkey > LIMIT_KEY_LEN) {
    outString('CLIENT_ERROR bad command line format');
    return P_DONE;
  }
  const key = tokPtr(1);
  if (!parseU32(tokPtr(2), tokEnd(2))) return badFormat();
  const flags = N_LO;
  if (!parseI32(tokPtr(3), tokEnd(3))) return badFormat();
  const exptime = realtime(positiveTime(N_LO));
  if (!parseI32(tokPtr(4), tokEnd(4))) return badFormat();
  const vlen = N_LO;
  let casHi: u32 = 0;
  let casLo: u32 = 0;
  if (handleCas) {
    if (!parseU64(tokPtr(5), tokEnd(5))) return badFormat();
    casHi = N_HI;
    casLo = N_LO;
  }
  if ((vlen & 0x80000000) != 0 || vlen > 0x7ffffffd) return badFormat();
  const nbytes = vlen + 2;
  const hv = itemHash(key, nkey);

  if (!itemSizeOk(nkey, flags, nbytes)) {
    detailRecordSet(key, nkey);
    outString('SERVER_ERROR object too large for cache');
    statInc(C_STORE_TOO_LARGE);
    logStoreRefused(LS_TOO_LARGE, comm, key, nkey);
    // A failed set must not leave the old value readable.
    if (comm == CMD_SET) storeDrop(key, nkey, hv);
    return swallow(nbytes);
  }
  const v = valueIn(lineStart, NEXT, IN_END, key, nkey, hv, flags, exptime, vlen, 2);
  if (v == V_PENDING) return P_VALUE;
  // Counted once: a line whose value was pending runs again when it is in.
  detailRecordSet(key, nkey);
  if (v == V_NO_MEMORY) {
    outString('SERVER_ERROR out of memory storing object');
    statInc(C_STORE_NO_MEMORY);
    logStoreRefused(LS_NO_MEMORY, comm, key, nkey);
    if (comm == CMD_SET) storeDrop(key, nkey, hv);
    return swallow(nbytes);
  }
  const it = VALUE_ITEM;
  NEXT = VALUE_NEXT;
  countSet(it);
  if (VALUE_BAD_TRAILER) {
    itemFree(it);
    outString('CLIENT_ERROR bad data chunk');
    return P_DONE;
  }
  const r = storeItem(it, comm, casHi, casLo, false);
  if (r == STORED) outString('STORED');
  else if (r == EXISTS) outString('EXISTS');
  else if (r == NOT_FOUND) outString('NOT_FOUND');
  else outString('NOT_STORED');
  return P_DONE;
}

function badFormat(): u32 {
  outString('CLIENT_ERROR bad command line format');
  return P_DONE;
}


// ---- get / gets / gat / gats ----------------------------------------------

function processGet(ntok: u32, lineEnd: u32, returnCas: bool, touch: bool): u32 {
  let exptime: u32 = 0;
  let first: u32 = 1;
  if (touch) {
    if (!parseI32(tokPtr(1), tokEnd(1))) {
      outString('CLIENT_ERROR invalid exptime argument');
      return P_DONE;
    }
    exptime = realtime(positiveTime(N_LO));
    first = 2;
  }
  let keys: u32 = first < ntok - 1 ? tokPtr(first) : tokPtr(ntok - 1);
  if (keys == 0) keys = lineEnd;

  // memcached fetches keys in order and answers CLIENT_ERROR, with no values,
  // at the first key over 250 bytes: look for one before writing anything.
  let bad: u32 = NONE;
  let k: u32 = 0;
  let p = nextWord(keys, lineEnd);
  while (p < lineEnd) {
    if (WORD_END - p > LIMIT_KEY_LEN) {
      bad = k;
      break;
    }
    k++;
    p = nextWord(WORD_END, lineEnd);
  }
  if (bad != NONE) {
    k = 0;
    p = nextWord(keys, lineEnd);
    while (k < bad) {
      const e = WORD_END;
      const it = fetch(p, e - p, touch, exptime);
      if (it != 0 && LOG_MASK != 0) logSendingKey(it);
      k++;
      p = nextWord(e, lineEnd);
    }
    hset(H_RESUME_KEYS, 0);
    // memcached sends nothing but the error, yet logs its END first.
    if (LOG_MASK != 0) logReply('END', false);
    outString('CLIENT_ERROR bad command line format');
    return P_DONE;
  }

  const skip = hget(H_RESUME_KEYS);
  k = 0;
  p = nextWord(keys, lineEnd);
  while (p < lineEnd) {
    const e = WORD_END;
    if (k >= skip) {
      if (outRoom() < VALUE_HEAD_ROOM || !logKeyRoom()) {
        hset(H_RESUME_KEYS, k);
        return P_OUT_FULL;
      }
      const it = fetch(p, e - p, touch, exptime);
      if (it != 0 && !emitValue(it, returnCas)) {
        // The rest of this value goes out first, at the next call.
        hset(H_RESUME_KEYS, k + 1);
        return P_OUT_FULL;
      }
    }
    k++;
    p = nextWord(e, lineEnd);
  }
  hset(H_RESUME_KEYS, 0);
  if (LOG_MASK != 0) logReply('END', false);
  outStr('END');
  outCRLF();
  return P_DONE;
}

/** One key of a get-family command: lookup (or touch), bump, counters. */
function fetch(key: u32, nkey: u32, touch: bool, exptime: u32): u32 {
  const hv = itemHash(key, nkey);
  if (touch) {
    const it = storeTouch(key, nkey, hv, exptime);
    statInc(C_CMD_TOUCH);
    if (it != 0) {
      statInc(C_TOUCH_HITS);
      u64IncAt(cls(ld8(it + IT_CLS)) + CL_TOUCH_HITS);
    } else {
      statInc(C_TOUCH_MISSES);
    }
    detailRecordGet(key, nkey, it != 0);
    return it;
  }
  const it = itemGet(key, nkey, hv, true);
  detailRecordGet(key, nkey, it != 0);
  statInc(C_CMD_GET);
  if (it != 0) {
    statInc(C_GET_HITS);
    u64IncAt(cls(ld8(it + IT_CLS)) + CL_GET_HITS);
  } else {
    statInc(C_GET_MISSES);
  }
  return it;
}

/** VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n; false when the data
 *  did not all fit (values.ts sends the rest). */
function emitValue(it: u32, returnCas: bool): bool {
  if (LOG_MASK != 0) logSendingKey(it);
  const nkey: u32 = ld8(it + IT_KLEN);
  const vlen = ld32(it + IT_VLEN);
  outStr('VALUE ');
  outBytes(it + IT_KEY, nkey);
  outStr(' ');
  outU32(ld32(it + IT_FLAGS));
  outStr(' ');
  outU32(vlen);
  if (returnCas) {
    outStr(' ');
    outU64(ld32(it + IT_CAS_HI), ld32(it + IT_CAS_LO));
  }
  outCRLF();
  return sendValue(it, it + IT_KEY + nkey, vlen, true);
}

// ---- multigets longer than MGET_STREAM_AT ------------------------------------

/** An unterminated multiget line at p: starts answering its keys. */
function multigetBegin(p: u32): u32 {
  const mode = multigetStart(p, IN_END);
  let q = MGET_P;
  let exptime: u32 = 0;
  if (mode == MGET_GAT || mode == MGET_GATS) {
    const t = nextWord(q, IN_END);
    if (WORD_END == IN_END) { NEXT = p; return P_NEED; }
    if (!parseI32(t, WORD_END)) {
      outString('CLIENT_ERROR invalid exptime argument');
      hset(R_MGET, MGET_SWALLOW);
      return multigetStream(WORD_END);
    }
    exptime = realtime(positiveTime(N_LO));
    q = WORD_END;
  }
  hset(R_MGET, mode);
  hset(R_MGET_EXPTIME, exptime);
  return multigetStream(q);
}

/**
 * Answers the complete keys of a long multiget from p on: up to its newline
 * (then END, P_DONE), or up to the last key that may still grow (P_NEED),
 * or until the output is full (P_OUT_FULL). NEXT is where input resumes.
 */
function multigetStream(p: u32): u32 {
  const mode = hget(R_MGET);
  const nl = find(p, IN_END, 10);
  let end = nl;
  if (nl < IN_END && nl > p && ld8(nl - 1) == 13) end = nl - 1;
  if (mode == MGET_SWALLOW) {
    if (nl == IN_END) { NEXT = IN_END; return P_NEED; }
    hset(R_MGET, 0);
    NEXT = nl + 1;
    return P_DONE;
  }
  const touch = mode == MGET_GAT || mode == MGET_GATS;
  const returnCas = mode == MGET_GETS || mode == MGET_GATS;
  const exptime = hget(R_MGET_EXPTIME);
  let k = nextWord(p, end);
  while (k < end) {
    const e = WORD_END;
    // Without the newline, the last word may be only part of a key.
    if (nl == IN_END && e == end) break;
    if (e - k > LIMIT_KEY_LEN) {
      outString('CLIENT_ERROR bad command line format');
      hset(R_MGET, MGET_SWALLOW);
      return multigetStream(e);
    }
    if (outRoom() < VALUE_HEAD_ROOM || !logKeyRoom()) { NEXT = k; return P_OUT_FULL; }
    const it = fetch(k, e - k, touch, exptime);
    if (it != 0 && !emitValue(it, returnCas)) { NEXT = e; return P_OUT_FULL; }
    k = nextWord(e, end);
  }
  if (nl == IN_END) {
    // A partial key longer than any key can only be an error: say so now
    // rather than buffer it.
    if (end - k > LIMIT_KEY_LEN) {
      outString('CLIENT_ERROR bad command line format');
      hset(R_MGET, MGET_SWALLOW);
      NEXT = IN_END;
      return P_NEED;
    }
    NEXT = k;
    return P_NEED;
  }
  hset(R_MGET, 0);
  if (LOG_MASK != 0) logReply('END', false);
  outStr('END');
  outCRLF();
  NEXT = nl + 1;
  return P_DONE;
}

// ---- incr / decr / delete / touch -------------------------------------------

function processArithmetic(ntok: u32, incr: bool): void {
  setNoreplyMaybe(ntok);
  const nkey = tokLen(1);
  if (nkey > LIMIT_KEY_LEN) {
    outString('CLIENT_ERROR bad command line format');
    return;
  }
  if (!parseU64(tokPtr(2), tokEnd(2))) {
    outString('CLIENT_ERROR invalid numeric delta argument');
    return;
  }
  const key = tokPtr(1);
  const r = storeDelta(key, nkey, itemHash(key, nkey), incr, N_HI, N_LO, deltaBuf(), deltaScratch(), 0, 0);
  if (r == DELTA_OK) {
    const silenced = noreplyTake();
    if (LOG_MASK != 0) logReplyBytes(deltaBuf(), DELTA_LEN, silenced);
    if (silenced) return;
    outBytes(deltaBuf(), DELTA_LEN);
    outCRLF();
  } else if (r == DELTA_NON_NUMERIC) {
    outString('CLIENT_ERROR cannot increment or decrement non-numeric value');
  } else if (r == DELTA_EOM) {
    outString('SERVER_ERROR out of memory');
  } else {
    statInc(incr ? C_INCR_MISSES : C_DECR_MISSES);
    outString('NOT_FOUND');
  }
}

function processDelete(ntok: u32): void {
  if (ntok > 3) {
    const holdIsZero = tokIs(2, '0');
    const setsNoreply = setNoreplyMaybe(ntok);
    const valid = (ntok == 4 && (holdIsZero || setsNoreply)) || (ntok == 5 && holdIsZero && setsNoreply);
    if (!valid) {
      outString('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]');
      return;
    }
  }
  const nkey = tokLen(1);
  if (nkey > LIMIT_KEY_LEN) {
    outString('CLIENT_ERROR bad command line format');
    return;
  }
  const key = tokPtr(1);
  detailRecordDelete(key, nkey);
  const c = storeDelete(key, nkey, itemHash(key, nkey));
  if (c != 0) {
    u64IncAt(cls(c) + CL_DELETE_HITS);
    outString('DELETED');
  } else {
    statInc(C_DELETE_MISSES);
    outString('NOT_FOUND');
  }
}

function processTouch(ntok: u32): void {
  setNoreplyMaybe(ntok);
  const nkey = tokLen(1);
  if (nkey > LIMIT_KEY_LEN) {
    outString('CLIENT_ERROR bad command line format');
    return;
  }
  if (!parseI32(tokPtr(2), tokEnd(2))) {
    outString('CLIENT_ERROR invalid exptime argument');
    return;
  }
  const key = tokPtr(1);
  const exptime = realtime(positiveTime(N_LO));
  const it = storeTouch(key, nkey, itemHash(key, nkey), exptime);
  statInc(C_CMD_TOUCH);
  if (it != 0) {
    statInc(C_TOUCH_HITS);
    u64IncAt(cls(ld8(it + IT_CLS)) + CL_TOUCH_HITS);
    outString('TOUCHED');
  } else {
    statInc(C_TOUCH_MISSES);
    outString('NOT_FOUND');
  }
}

// ---- flush_all / verbosity / shutdown / debugtime ----------------------------

function processFlushAll(ntok: u32): void {
  setNoreplyMaybe(ntok);
  statInc(C_CMD_FLUSH);
  if ((hget(H_OPTS) & OPT_NO_FLUSH) != 0) {
    outString('CLIENT_ERROR flush_all not allowed');
    return;
  }
  let delay: u32 = 0;
  if (ntok != (noreplyIsSet() ? 3 : 2)) {
    if (!parseI32(tokPtr(1), tokEnd(1))) {
      outString('CLIENT_ERROR invalid exptime argument');
      return;
    }
    delay = N_LO;
  }
  storeFlush(delay);
  outString('OK');
}

function processVerbosity(ntok: u32): void {
  setNoreplyMaybe(ntok);
  if (!parseU32(tokPtr(1), tokEnd(1))) {
    outString('CLIENT_ERROR bad command line format');
    return;
  }
  hset(H_VERBOSITY, N_LO > MAX_VERBOSITY ? MAX_VERBOSITY : N_LO);
  logRefresh();
  outString('OK');
}

/** `snapshot` (wasmcached's): the host writes the -e file and answers. */
function processSnapshot(ntok: u32): u32 {
  if (ntok == 2) return P_SNAPSHOT;
  outString('ERROR');
  return P_DONE;
}

function processShutdown(ntok: u32): u32 {
  if ((hget(H_OPTS) & OPT_SHUTDOWN) == 0) {
    outString('ERROR: shutdown not enabled');
    return P_DONE;
  }
  if (ntok == 2 || (ntok == 3 && tokIs(1, 'graceful'))) return P_SHUTDOWN;
  outString('CLIENT_ERROR invalid shutdown mode');
  return P_DONE;
}

/** debugtime <seconds>: moves the clock forward (memcached debug builds;
 *  here with -o debug_time), so tests of expiry need not sleep. */
function processDebugtime(ntok: u32): void {
  if (tokIs(1, 'p') || tokIs(1, 'r')) {
    outString('OK');
    return;
  }
  if (!parseI32(tokPtr(1), tokEnd(1))) {
    outString('ERROR');
    return;
  }
  const d = N_LO;
  hset(H_TIME_OFFSET, (hget(H_TIME_OFFSET) + d) >>> 0);
  hset(H_CURRENT_TIME, (hget(H_CURRENT_TIME) + d) >>> 0);
  outString('OK');
}

export { currentTime };
