// Log records for the host: the lines memcached prints at -vv and -vvv, and
// the events its `watch` command streams (memcached's per-worker logger
// buffers, logger.c). The host formats and sends them; the engine only
// records what happened, in the log region of the arena:
//
//   LOG_REGION  +0    control words and counters             (LOG_* in abi.ts)
//               +64   number formatting scratch
//               +128  records of the current call, LOG_RECORD_HEADER bytes
//                     each plus a payload padded to 4 bytes   (LR_* in abi.ts)
//               +LOG_REGION_SIZE
//
// Invariants: (1) records are written only during mc_execute, and only when
// someone wants them (LOG_MASK, from the verbosity and the host's LOG_WATCH,
// read once per call); with nobody watching and verbosity < 2 every hook is
// one test of LOG_MASK. (2) Each call starts with no records (LOG_USED = 0);
// the host reads them after the call. (3) The executors stop a call before a
// command when less than LOG_COMMAND_ROOM is left (and a multiget before a
// key when less than LOG_KEY_ROOM is), so the host reads and calls again and
// -vv loses nothing; a record that still does not fit is dropped and
// counted (log_worker_dropped).
import { ld8, st8, ld32, st32, copy, strLen, strByte } from './mem';
import { S, hget, currentTime, H_VERBOSITY } from './arena';
import {
  LOG_REGION, LOG_REGION_SIZE, LOG_WATCH, LOG_USED, LOG_DROPPED, LOG_RECORDS, LOG_RECORD_HEADER,
  LR_IN, LR_OUT, LR_PLAIN, LR_ITEM_GET, LR_ITEM_STORE, LR_EVICTION, LR_DELETED, LR_QUIT, LR_SLAB_CLASS,
  LRF_DETAIL, LRF_WATCH, LOGW_FETCHERS, LOGW_MUTATIONS, LOGW_EVICTIONS, LOGW_DELETIONS, LOGW_CONNEVENTS,
  LG_FOUND, MAX_CLASSES, R_VALUE_TAIL, VALUE_READY, R_RESUME, R_DUMP,
} from './abi';
import { IT_KLEN, IT_KEY, IT_VLEN, IT_CLS, IT_EXPTIME, IT_TIME, IT_IFLAGS, IT_CAS_HI, IT_CAS_LO, IF_FETCHED } from './items_layout';
import { u32Format, u64Format, u64IncAt } from './u64';
import { clGet, CL_SIZE, CL_PERPAGE } from './slabs';

/** LOG_MASK bits of the engine's own beside the LOGW_* kinds. */
export const LOGV_COMMANDS: u32 = 0x100; // verbosity >= 2: commands and replies
export const LOGV_DETAIL: u32 = 0x200;   // verbosity >= 3: item lookups too
const LOGW_ENGINE: u32 = LOGW_FETCHERS | LOGW_MUTATIONS | LOGW_EVICTIONS | LOGW_DELETIONS | LOGW_CONNEVENTS;

/** Room a command needs before it starts: its line (a complete multiget
 *  line is at most 16 KiB) and what it logs up to its first key. */
export const LOG_COMMAND_ROOM: u32 = 32768;
/** Room one more multiget key needs: its lookup and "sending key". */
export const LOG_KEY_ROOM: u32 = 1024;
/** Longest command line recorded; a longer one (a multiget answered as it
 *  streams in) is recorded up to here. */
const LOG_LINE_MAX: u32 = 16384;
const SCRATCH_OFF: u32 = 64;

/** What this call records (0: nothing). Transient, per call. */
export let LOG_MASK: u32 = 0;
/** The connection speaks the text protocol (reply lines are logged). */
let TEXT: bool = false;
/** Where the command that starts the call's input begins when it was logged
 *  by an earlier call already (its value arrived, a multiget resumes, a dump
 *  continues); NONE otherwise. */
let RERUN_AT: u32 = 0;
const NONE: u32 = 0xffffffff;
let AT: u32 = 0;
let END: u32 = 0;
/** The open record and where its payload continues. */
let REC: u32 = 0;
let P: u32 = 0;

/** Start of mc_execute on input at `inPtr`: no records yet; what this call
 *  records. */
export function logBegin(text: bool, inPtr: u32): void {
  const r = S + LOG_REGION;
  st32(r + LOG_USED, 0);
  AT = r + LOG_RECORDS;
  END = r + LOG_REGION_SIZE;
  TEXT = text;
  RERUN_AT = NONE;
  logRefresh();
  if (LOG_MASK == 0) return;
  // The connection's command was cut short by an earlier call, which logged
  // its line: it runs again from the input's start.
  if ((hget(R_VALUE_TAIL) & VALUE_READY) != 0 || hget(R_RESUME) != 0 || hget(R_DUMP) != 0) RERUN_AT = inPtr;
}

/** Re-reads what is wanted (`verbosity` changes it within a call). */
export function logRefresh(): void {
  let m = ld32(S + LOG_REGION + LOG_WATCH) & LOGW_ENGINE;
  const v = hget(H_VERBOSITY);
  if (v >= 2) m |= LOGV_COMMANDS;
  if (v >= 3) m |= LOGV_DETAIL;
  LOG_MASK = m;
}

/** End of mc_execute: tells the host how many record bytes there are. */
export function logEnd(): void {
  const first = S + LOG_REGION + LOG_RECORDS;
  if (AT > first) st32(S + LOG_REGION + LOG_USED, AT - first);
  AT = first;
  LOG_MASK = 0;
}

/** Whether the command at `p` was logged by an earlier call. */
export function logIsRerun(p: u32): bool { return p == RERUN_AT; }

/** Where the next record goes: logRewind(logMark()) forgets the records of
 *  a command that will run again. */
export function logMark(): u32 { return AT; }
export function logRewind(mark: u32): void { if (mark <= AT) AT = mark; }

/** Before a command: false when its records might not fit (end the call). */
export function logHasRoom(): bool { return LOG_MASK == 0 || END - AT >= LOG_COMMAND_ROOM; }
/** Before a multiget key: false when its records might not fit. */
export function logKeyRoom(): bool { return LOG_MASK == 0 || END - AT >= LOG_KEY_ROOM; }

// ---- writing a record -----------------------------------------------------------

/** Opens a record with at most `max` payload bytes; false (counted as
 *  dropped) when it does not fit. */
export function logOpen(kind: u32, a: u32, b: u32, c: u32, max: u32): bool {
  if (END - AT < LOG_RECORD_HEADER + max + 3) {
    u64IncAt(S + LOG_REGION + LOG_DROPPED);
    return false;
  }
  st8(AT, kind);
  st8(AT + 1, a);
  st8(AT + 2, b);
  st8(AT + 3, c);
  st32(AT + 8, 0);
  st32(AT + 12, 0);
  st32(AT + 16, 0);
  REC = AT;
  P = AT + LOG_RECORD_HEADER;
  return true;
}

/** Sets word i (0..2) of the open record. */
export function logWord(i: u32, v: u32): void { st32(REC + 8 + (i << 2), v); }
export function logPutBytes(p: u32, n: u32): void { copy(P, p, n); P += n; }
export function logPutByte(c: u32): void { st8(P, c); P++; }
export function logPutStr(s: string): void {
  const n = strLen(s);
  for (let i: u32 = 0; i < n; i++) st8(P + i, strByte(s, i));
  P += n;
}
export function logPutU32(v: u32): void { P = u32Format(v, P, S + LOG_REGION + SCRATCH_OFF); }
export function logPutU64(hi: u32, lo: u32): void { P = u64Format(hi, lo, P, S + LOG_REGION + SCRATCH_OFF); }
/** A signed 32-bit value (C's %d). */
export function logPutI32(v: u32): void {
  if ((v & 0x80000000) != 0) { logPutByte(45); logPutU32((0 - v) >>> 0); } else logPutU32(v);
}

export function logClose(): void {
  st32(REC + 4, P - (REC + LOG_RECORD_HEADER));
  AT = (P + 3) & ~3;
  REC = 0;
}

// ---- -vv: commands and replies ------------------------------------------------

/** "<fd <line>": a text command line at [p, end), unless a re-run. */
export function logCommand(p: u32, end: u32): void {
  if ((LOG_MASK & LOGV_COMMANDS) == 0 || p == RERUN_AT) return;
  let n = end - p;
  if (n > LOG_LINE_MAX) n = LOG_LINE_MAX;
  if (!logOpen(LR_IN, 0, 0, 0, n)) return;
  logPutBytes(p, n);
  logClose();
}

/** ">fd <s>" for a text reply line (memcached's out_string); `noreply`
 *  when the line was not sent ("NOREPLY <s>"). */
export function logReply(s: string, noreply: bool): void {
  if ((LOG_MASK & LOGV_COMMANDS) == 0 || !TEXT) return;
  if (!logOpen(LR_OUT, noreply ? 1 : 0, 0, 0, strLen(s))) return;
  logPutStr(s);
  logClose();
}

/** ">fd <bytes>" for a reply line written to the output at [p, p+n). */
export function logReplyBytes(p: u32, n: u32, noreply: bool): void {
  if ((LOG_MASK & LOGV_COMMANDS) == 0 || !TEXT) return;
  if (!logOpen(LR_OUT, noreply ? 1 : 0, 0, 0, n)) return;
  logPutBytes(p, n);
  logClose();
}

/** ">fd sending key <key>": a get's hit. */
export function logSendingKey(it: u32): void {
  if ((LOG_MASK & LOGV_COMMANDS) == 0) return;
  const nkey: u32 = ld8(it + IT_KLEN);
  if (!logOpen(LR_OUT, 0, 0, 0, 12 + nkey)) return;
  logPutStr('sending key ');
  logPutBytes(it + IT_KEY, nkey);
  logClose();
}

/** memcached's do_store_item at -vv: a cas whose unique (hi, lo) did not
 *  match item `old`'s. */
export function logCasMismatch(old: u32, hi: u32, lo: u32): void {
  if ((LOG_MASK & LOGV_COMMANDS) == 0) return;
  if (!logOpen(LR_PLAIN, 0, 0, 0, 80)) return;
  logPutStr('CAS:  failure: expected ');
  logPutU64(ld32(old + IT_CAS_HI), ld32(old + IT_CAS_LO));
  logPutStr(', got ');
  logPutU64(hi, lo);
  logClose();
}

/** `quit`: the connection's close is a normal one (conn_close reason). */
export function logQuit(): void {
  if ((LOG_MASK & LOGW_CONNEVENTS) == 0) return;
  if (logOpen(LR_QUIT, 0, 0, 0, 0)) logClose();
}

// ---- item events (watch, and -vvv lookups) -----------------------------------------

/** memcached's do_item_get: every lookup, with what it found (LG_*). */
export function logItemGet(status: u32, key: u32, nkey: u32, it: u32): void {
  let c: u32 = 0;
  if ((LOG_MASK & LOGV_DETAIL) != 0) c |= LRF_DETAIL;
  if ((LOG_MASK & LOGW_FETCHERS) != 0) c |= LRF_WATCH;
  if (c == 0) return;
  const found = status == LG_FOUND;
  if (!logOpen(LR_ITEM_GET, status, found ? ld8(it + IT_CLS) : 0, c, nkey)) return;
  if (found) logWord(0, ld32(it + IT_VLEN));
  logPutBytes(key, nkey);
  logClose();
}

/** Seconds from now to an item's expiry as memcached's logger computes
 *  them (unsigned; 0 when it never expires). */
function ttlOf(it: u32): u32 {
  const e = ld32(it + IT_EXPTIME);
  return e == 0 ? 0 : (e - currentTime()) >>> 0;
}

/** do_store_item's outcome (LS_*) for item `it`: the joined item of an
 *  append, the new item otherwise. */
export function logItemStore(status: u32, comm: u32, it: u32): void {
  if ((LOG_MASK & LOGW_MUTATIONS) == 0) return;
  const nkey: u32 = ld8(it + IT_KLEN);
  if (!logOpen(LR_ITEM_STORE, status, ld8(it + IT_CLS), comm, nkey)) return;
  logWord(0, ld32(it + IT_VLEN));
  logWord(1, ttlOf(it));
  logPutBytes(it + IT_KEY, nkey);
  logClose();
}

/** A storage command refused before it had an item (LS_TOO_LARGE, LS_NO_MEMORY). */
export function logStoreRefused(status: u32, comm: u32, key: u32, nkey: u32): void {
  if ((LOG_MASK & LOGW_MUTATIONS) == 0) return;
  if (!logOpen(LR_ITEM_STORE, status, 0, comm, nkey)) return;
  logPutBytes(key, nkey);
  logClose();
}

export function logEviction(it: u32): void {
  if ((LOG_MASK & LOGW_EVICTIONS) == 0) return;
  const nkey: u32 = ld8(it + IT_KLEN);
  const fetched: u32 = (ld8(it + IT_IFLAGS) & IF_FETCHED) != 0 ? 1 : 0;
  if (!logOpen(LR_EVICTION, fetched, ld8(it + IT_CLS), 0, nkey)) return;
  const e = ld32(it + IT_EXPTIME);
  logWord(0, ld32(it + IT_VLEN));
  logWord(1, e == 0 ? 0xffffffff : (e - currentTime()) >>> 0);
  logWord(2, (currentTime() - ld32(it + IT_TIME)) >>> 0);
  logPutBytes(it + IT_KEY, nkey);
  logClose();
}

/** A delete (LD_* command) of linked item `it`, before it is unlinked. */
export function logDeleted(it: u32, cmd: u32): void {
  if ((LOG_MASK & LOGW_DELETIONS) == 0) return;
  const nkey: u32 = ld8(it + IT_KLEN);
  if (!logOpen(LR_DELETED, cmd, ld8(it + IT_CLS), 0, nkey)) return;
  logWord(0, ld32(it + IT_VLEN));
  logPutBytes(it + IT_KEY, nkey);
  logClose();
}

// ---- start ------------------------------------------------------------------------

/** mc_init: the slab class table, for the host to print at -vv as memcached
 *  does at start. */
export function logSlabClasses(count: u32): void {
  const first = S + LOG_REGION + LOG_RECORDS;
  AT = first;
  END = S + LOG_REGION + LOG_REGION_SIZE;
  for (let c: u32 = 1; c <= count && c <= MAX_CLASSES; c++) {
    if (!logOpen(LR_SLAB_CLASS, 0, 0, 0, 0)) break;
    logWord(0, c);
    logWord(1, clGet(c, CL_SIZE));
    logWord(2, clGet(c, CL_PERPAGE));
    logClose();
  }
  st32(S + LOG_REGION + LOG_USED, AT - first);
  AT = first;
}
