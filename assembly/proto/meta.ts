// The meta commands (mg, ms, md, ma, me; mn is answered by text.ts), after
// memcached 1.6.18's proto_text.c: flags are single characters, each at most
// once, some with a token (`T30`, `Oabc`); return flags come back in request
// order; `q` hides only the nominal answer (mg: EN; ms, md, ma: HD), never
// errors. Stampede control: a miss with `N<ttl>` creates an empty item and
// answers `W` (you won, recompute it); later readers get `Z` (a win was
// already handed out) until a new value replaces the item. `R<ttl>` hands out
// a win when the remaining TTL drops below the bound, and `md ... I` marks an
// item stale (`X`) so that its next reader wins.
//
// Quirks of 1.6.18 kept on purpose: md and ma answer any flag error with
// `CLIENT_ERROR invalid or duplicate flag`; `q` does not hide md's or ma's
// NF; `ms` ignores `s`; `me` prints exp as (now - exptime).
//
// Scratch: SCRATCH+2048 the decoded key, +2560 base64 output, +3072 the
// table of flags seen.
import { ld8, st8, ld32, st32, fill } from '../mem';
import { S, SCRATCH, currentTime, hget, hset, H_OPTS } from '../arena';
import { R_SKIP, LIMIT_KEY_LEN, OPT_NO_CAS, LS_TOO_LARGE, LS_NO_MEMORY, LD_MD } from '../abi';
import { LOG_MASK, logReplyBytes, logStoreRefused } from '../log';
import { tokPtr, tokLen, tokIs } from './tokens';
import { outStr, outBytes, outByte, outCRLF, outU32, outU64, outRoom, outRewind, outI32, OUT } from './out';
import { parseU32, parseU64, parseI32, N_HI, N_LO } from '../numbers';
import { base64Decode, base64Encode } from './base64';
import { P_DONE, P_NEED, P_OUT_FULL, P_SKIP, P_VALUE, VALUE_HEAD_ROOM } from './flow';
import { valueIn, sendValue, V_PENDING, V_NO_MEMORY, VALUE_ITEM, VALUE_NEXT, VALUE_BAD_TRAILER } from './values';
import {
  storeItem, storeDelta, storeCreate, storeCreateAdd, storeDrop, storeInvalidate, storeDeleteItem, realtime, positiveTime, itemSizeOk,
  CMD_ADD, CMD_SET, CMD_REPLACE, CMD_APPEND, CMD_PREPEND, CMD_CAS, STORED, EXISTS, NOT_FOUND,
  DELTA_OK, DELTA_NON_NUMERIC, DELTA_EOM, DELTA_NOT_FOUND, DELTA_CAS_MISMATCH, DELTA_LEN, DELTA_ITEM, DELTA_REPLACED, STORED_ITEM, countSet,
} from '../store';
import { itemFree, itemGet, itemUnlink, itemData, itemHash, itemBump } from '../items';
import {
  IT_FLAGS, IT_VLEN, IT_CAS_LO, IT_CAS_HI, IT_CLS, IT_KLEN, IT_KEY, IT_EXPTIME, IT_TIME, IT_IFLAGS,
  IF_FETCHED, IF_TOKEN_SENT, IF_STALE, IF_KEY_BINARY,
} from '../items_layout';
import { cls, CL_GET_HITS, CL_TOUCH_HITS, CL_DELETE_HITS } from '../slabs';
import { u64IncAt, u64Format } from '../u64';
import {
  statInc, C_CMD_GET, C_CMD_TOUCH, C_GET_HITS, C_GET_MISSES, C_TOUCH_HITS, C_STORE_TOO_LARGE,
  C_STORE_NO_MEMORY, C_DELETE_MISSES, C_INCR_MISSES, C_DECR_MISSES, C_CMD_META,
} from '../stats';

/** memcached's MFLAG_MAX_OPT_LENGTH: mg, md and ma take fewer tokens. */
const MAX_OPT_TOKENS: u32 = 20;
/** MFLAG_MAX_OPAQUE_LENGTH, counting the 'O'. */
const MAX_OPAQUE: u32 = 32;

// Error replies; the last one a flag parse set wins, as in memcached.
const E_BAD_FORMAT: u32 = 0;
const E_DECODE: u32 = 1;
const E_BAD_TOKEN: u32 = 2;
const E_M_LENGTH: u32 = 3;
const E_INITIAL: u32 = 4;
const E_DELTA: u32 = 5;
const E_INVALID: u32 = 6;
const E_DUPLICATE: u32 = 7;
const E_OPAQUE: u32 = 8;
const E_MS_MODE: u32 = 9;
const E_MA_MODE: u32 = 10;
const E_INVALID_OR_DUP: u32 = 11;
const E_TOO_LONG_MG: u32 = 12;
const E_TOO_LONG: u32 = 13;

// The parsed flags of the current command (memcached's struct _meta_flags).
let KEY: u32 = 0;
let NKEY: u32 = 0;
let KEY_BINARY: bool = false;
let HAS_ERROR: bool = false;
let ERR: u32 = 0;
let F_VALUE: bool = false;
let F_NOUPDATE: bool = false;
let F_NOREPLY: bool = false;
let F_VIVIFY: bool = false;
let F_NEW_TTL: bool = false;
let F_HAS_CAS: bool = false;
let F_STALE: bool = false;
let EXPTIME: u32 = 0;
let AUTOVIV_EXPTIME: u32 = 0;
let RECACHE_TIME: u32 = 0;
let CLIENT_FLAGS: u32 = 0;
let CAS_HI: u32 = 0;
let CAS_LO: u32 = 0;
let MODE: u32 = 0;
let INIT_HI: u32 = 0;
let INIT_LO: u32 = 0;
let DELTA_HI: u32 = 0;
let DELTA_LO: u32 = 0;

/** Where the input continues after an `ms` (its line and data). */
export let META_NEXT: u32 = 0;

function keyBuf(): u32 { return S + SCRATCH + 2048; }
function encodeBuf(): u32 { return S + SCRATCH + 2560; }
function seenTable(): u32 { return S + SCRATCH + 3072; }
function digitsBuf(): u32 { return S + SCRATCH + 512; }
function digitsScratch(): u32 { return S + SCRATCH + 768; }

/** An error line, logged at -vv as memcached's out_errstring logs it. */
function errorLine(s: string): void {
  const at = OUT;
  outStr(s);
  outCRLF();
  if (LOG_MASK != 0) logReplyBytes(at, OUT - 2 - at, false);
}

function outError(e: u32): void {
  const at = OUT;
  if (e == E_BAD_FORMAT) outStr('CLIENT_ERROR bad command line format');
  else if (e == E_DECODE) outStr('CLIENT_ERROR error decoding key');
  else if (e == E_BAD_TOKEN) outStr('CLIENT_ERROR bad token in command line format');
  else if (e == E_M_LENGTH) outStr('CLIENT_ERROR incorrect length for M token');
  else if (e == E_INITIAL) outStr('CLIENT_ERROR invalid numeric initial value');
  else if (e == E_DELTA) outStr('CLIENT_ERROR invalid numeric delta value');
  else if (e == E_INVALID) outStr('CLIENT_ERROR invalid flag');
  else if (e == E_DUPLICATE) outStr('CLIENT_ERROR duplicate flag');
  else if (e == E_OPAQUE) outStr('CLIENT_ERROR opaque token too long');
  else if (e == E_MS_MODE) outStr('CLIENT_ERROR invalid mode for ms M token');
  else if (e == E_MA_MODE) outStr('CLIENT_ERROR invalid mode for ma M token');
  else if (e == E_INVALID_OR_DUP) outStr('CLIENT_ERROR invalid or duplicate flag');
  else if (e == E_TOO_LONG_MG) outStr('CLIENT_ERROR options flags are too long');
  else outStr('CLIENT_ERROR options flags too long');
  outCRLF();
  if (LOG_MASK != 0) logReplyBytes(at, OUT - 2 - at, false);
}

/**
 * memcached's _meta_flag_preparse over tokens [start, ntok-1): records every
 * flag, decodes a base64 key. False on an error (ERR says which); a bad token
 * does not stop the scan, an unknown or repeated flag does.
 */
function preparse(start: u32, ntok: u32): bool {
  KEY = tokPtr(1);
  NKEY = tokLen(1);
  KEY_BINARY = false;
  HAS_ERROR = false;
  ERR = E_BAD_FORMAT;
  F_VALUE = false; F_NOUPDATE = false; F_NOREPLY = false; F_VIVIFY = false;
  F_NEW_TTL = false; F_HAS_CAS = false; F_STALE = false;
  EXPTIME = 0; AUTOVIV_EXPTIME = 0; RECACHE_TIME = 0; CLIENT_FLAGS = 0;
  CAS_HI = 0; CAS_LO = 0; MODE = 0; INIT_HI = 0; INIT_LO = 0; DELTA_HI = 0; DELTA_LO = 1;
  const seen = seenTable();
  fill(seen, 0, 128);
  for (let i = start; i < ntok - 1; i++) {
    const p = tokPtr(i);
    const end = p + tokLen(i);
    const o: u32 = ld8(p);
    if (o >= 127 || ld8(seen + o) != 0) {
      ERR = E_DUPLICATE;
      return false;
    }
    st8(seen + o, 1);
    if (o == 98) { // b
      const n = base64Decode(tokPtr(1), tokLen(1), keyBuf());
      if (n == 0) { ERR = E_DECODE; HAS_ERROR = true; }
      KEY = keyBuf();
      NKEY = n;
      KEY_BINARY = true;
    } else if (o == 78) { // N
      F_VIVIFY = true;
      if (!parseI32(p + 1, end)) { ERR = E_BAD_TOKEN; HAS_ERROR = true; }
      else AUTOVIV_EXPTIME = realtime(positiveTime(N_LO));
    } else if (o == 84) { // T
      if (!parseI32(p + 1, end)) { ERR = E_BAD_TOKEN; HAS_ERROR = true; }
      else { EXPTIME = realtime(positiveTime(N_LO)); F_NEW_TTL = true; }
    } else if (o == 82) { // R
      if (!parseI32(p + 1, end)) { ERR = E_BAD_TOKEN; HAS_ERROR = true; }
      else RECACHE_TIME = realtime(positiveTime(N_LO));
    } else if (o == 118) { // v
      F_VALUE = true;
    } else if (o == 117) { // u
      F_NOUPDATE = true;
    } else if (o == 113) { // q
      F_NOREPLY = true;
    } else if (o == 70) { // F
      if (!parseU32(p + 1, end)) HAS_ERROR = true;
      else CLIENT_FLAGS = N_LO;
    } else if (o == 67) { // C
      if (!parseU64(p + 1, end)) { ERR = E_BAD_TOKEN; HAS_ERROR = true; }
      else { CAS_HI = N_HI; CAS_LO = N_LO; F_HAS_CAS = true; }
    } else if (o == 77) { // M
      if (end - p != 2) { ERR = E_M_LENGTH; HAS_ERROR = true; }
      else MODE = ld8(p + 1);
    } else if (o == 74) { // J
      if (!parseU64(p + 1, end)) { ERR = E_INITIAL; HAS_ERROR = true; }
      else { INIT_HI = N_HI; INIT_LO = N_LO; }
    } else if (o == 68) { // D
      if (!parseU64(p + 1, end)) { ERR = E_DELTA; HAS_ERROR = true; }
      else { DELTA_HI = N_HI; DELTA_LO = N_LO; }
    } else if (o == 73) { // I
      F_STALE = true;
    } else if (o == 108 || o == 79 || o == 80 || o == 76 || o == 107 || o == 115 || o == 116 ||
               o == 99 || o == 102 || o == 104) {
      // l O P L k s t c f h: no effect on how the item is loaded
    } else {
      ERR = E_INVALID;
      return false;
    }
  }
  return !HAS_ERROR;
}

/** ` O<opaque>` as given; false if it is too long. */
function outOpaque(i: u32): bool {
  if (tokLen(i) > MAX_OPAQUE) return false;
  outByte(32);
  outBytes(tokPtr(i), tokLen(i));
  return true;
}

/** ` k<key>`, base64 and ` b` for a binary key (memcached's META_KEY). */
function outKey(key: u32, nkey: u32, binary: bool): void {
  outStr(' k');
  if (binary) {
    const n = base64Encode(key, nkey, encodeBuf());
    outBytes(encodeBuf(), n);
    outStr(' b');
  } else {
    outBytes(key, nkey);
  }
}

/** ` t<seconds left>`, -1 for no expiry. */
function outTtl(it: u32): void {
  outExptime(ld32(it + IT_EXPTIME));
}

function outExptime(e: u32): void {
  outStr(' t');
  if (e == 0) outStr('-1');
  else outU32((e - currentTime()) >>> 0);
}

function outCas(it: u32): void {
  outStr(' c');
  outU64(ld32(it + IT_CAS_HI), ld32(it + IT_CAS_LO));
}

/** The common prefix of mg, md and ma: arity, key length, token count. */
function commonChecks(ntok: u32, errTooLong: u32): bool {
  if (tokLen(1) > LIMIT_KEY_LEN) {
    outError(E_BAD_FORMAT);
    return false;
  }
  if (ntok > MAX_OPT_TOKENS) {
    outError(errTooLong);
    return false;
  }
  return true;
}

/**
 * The key a tokenized `mg` or `md` line acts on, checked as processMetaGet
 * and processMetaDelete check it but writing nothing: false when the command
 * answers an error instead. The key is then at metaKey(), metaKeyLen() bytes
 * (decoded, for `b`). For warming's look ahead (warm_keys.ts).
 */
export function metaKeyOf(ntok: u32): bool {
  if (ntok < 3 || tokLen(1) > LIMIT_KEY_LEN || ntok > MAX_OPT_TOKENS) return false;
  return preparse(2, ntok);
}
export function metaKey(): u32 { return KEY; }
export function metaKeyLen(): u32 { return NKEY; }

// ---- mg ----------------------------------------------------------------------

export function processMetaGet(ntok: u32): u32 {
  if (!commonChecks(ntok, E_TOO_LONG_MG)) return P_DONE;
  // Room for the header line; the value may go out in pieces (values.ts).
  if (outRoom() < VALUE_HEAD_ROOM) return P_OUT_FULL;
  if (!preparse(2, ntok)) {
    outError(ERR);
    return P_DONE;
  }
  const start = OUT;
  const hv = itemHash(KEY, NKEY);
  let it = itemGet(KEY, NKEY, hv, false);
  let created = false;
  if (it == 0 && F_VIVIFY) {
    it = storeCreate(KEY, NKEY, hv, 0, 0, 0);
    created = it != 0;
  }
  if (it == 0) {
    statInc(C_CMD_GET);
    statInc(C_GET_MISSES);
    outStr('EN');
    for (let i: u32 = 2; i < ntok - 1; i++) {
      const c: u32 = ld8(tokPtr(i));
      if (c == 79) {
        if (!outOpaque(i)) { outRewind(start); outError(E_OPAQUE); return P_DONE; }
      } else if (c == 107) {
        outKey(KEY, NKEY, KEY_BINARY);
      }
    }
    outCRLF();
    if (F_NOREPLY) outRewind(start);
    return P_DONE;
  }

  const vlen = ld32(it + IT_VLEN);
  if (F_VALUE) {
    outStr('VA ');
    outU32(vlen);
  } else {
    outStr('HD');
  }
  let won = false;
  let ttlSet = false;
  for (let i: u32 = 2; i < ntok - 1; i++) {
    const c: u32 = ld8(tokPtr(i));
    if (c == 84) { // T
      ttlSet = true;
      st32(it + IT_EXPTIME, EXPTIME);
    } else if (c == 78) { // N
      if (created) {
        st32(it + IT_EXPTIME, AUTOVIV_EXPTIME);
        won = true;
      }
    } else if (c == 82) { // R
      const e = ld32(it + IT_EXPTIME);
      if ((ld8(it + IT_IFLAGS) & IF_TOKEN_SENT) == 0 && !created && e != 0 && e < RECACHE_TIME) won = true;
    } else if (c == 115) { // s
      outStr(' s');
      outU32(vlen);
    } else if (c == 116) { // t
      outTtl(it);
    } else if (c == 99) { // c
      outCas(it);
    } else if (c == 102) { // f
      outStr(' f');
      outU32(ld32(it + IT_FLAGS));
    } else if (c == 108) { // l
      outStr(' l');
      outU32((currentTime() - ld32(it + IT_TIME)) >>> 0);
    } else if (c == 104) { // h
      outStr((ld8(it + IT_IFLAGS) & IF_FETCHED) != 0 ? ' h1' : ' h0');
    } else if (c == 79) { // O
      if (!outOpaque(i)) { outRewind(start); outError(E_OPAQUE); return P_DONE; }
    } else if (c == 107) { // k
      outKey(it + IT_KEY, ld8(it + IT_KLEN), (ld8(it + IT_IFLAGS) & IF_KEY_BINARY) != 0);
    }
  }
  const f: u32 = ld8(it + IT_IFLAGS);
  // Z before X, and never W with Z.
  if ((f & IF_TOKEN_SENT) != 0) outStr(' Z');
  if ((f & IF_STALE) != 0) {
    outStr(' X');
    if ((f & IF_TOKEN_SENT) == 0) won = true;
  }
  if (won) {
    outStr(' W');
    st8(it + IT_IFLAGS, ld8(it + IT_IFLAGS) | IF_TOKEN_SENT);
  }
  outCRLF();
  // A value larger than the room left is finished at the next calls.
  if (F_VALUE) sendValue(it, itemData(it), vlen, true);
  if (!F_NOUPDATE) itemBump(it);
  if (ttlSet) {
    statInc(C_CMD_TOUCH);
    statInc(C_TOUCH_HITS);
    u64IncAt(cls(ld8(it + IT_CLS)) + CL_TOUCH_HITS);
  } else {
    statInc(C_CMD_GET);
    statInc(C_GET_HITS);
    u64IncAt(cls(ld8(it + IT_CLS)) + CL_GET_HITS);
  }
  return P_DONE;
}

// ---- ms ----------------------------------------------------------------------

/**
 * ms <key> <datalen> <flags>*: `lineStart` is the command's first byte,
 * `next` the byte after its line, `inEnd` the end of the input. Sets
 * META_NEXT past the data when the command is done.
 */
export function processMetaSet(ntok: u32, lineStart: u32, next: u32, inEnd: u32): u32 {
  META_NEXT = next;
  if (tokLen(1) > LIMIT_KEY_LEN || ntok == 3) {
    outError(E_BAD_FORMAT);
    return P_DONE;
  }
  if (ntok > MAX_OPT_TOKENS) {
    outError(E_TOO_LONG);
    return P_DONE;
  }
  if (!parseI32(tokPtr(2), tokPtr(2) + tokLen(2)) || (N_LO & 0x80000000) != 0 || N_LO > 0x7ffffffd) {
    outError(E_BAD_FORMAT);
    return P_DONE;
  }
  const nbytes = N_LO + 2;
  const ok = preparse(3, ntok);
  let err = ERR;
  let failed = !ok;
  let comm = CMD_SET;
  if (ok) {
    for (let i: u32 = 3; i < ntok - 1; i++) {
      if (ld8(tokPtr(i)) == 79 && tokLen(i) > MAX_OPAQUE) { err = E_OPAQUE; failed = true; }
    }
    if (MODE == 69) comm = CMD_ADD;          // E
    else if (MODE == 65) comm = CMD_APPEND;  // A
    else if (MODE == 80) comm = CMD_PREPEND; // P
    else if (MODE == 82) comm = CMD_REPLACE; // R
    else if (MODE != 0 && MODE != 83) { err = E_MS_MODE; failed = true; }
    // A unique turns set and replace into cas.
    if (F_HAS_CAS && (comm == CMD_SET || comm == CMD_REPLACE)) comm = CMD_CAS;
  }
  if (failed) {
    outError(err);
    return swallow(nbytes, inEnd);
  }
  const hv = itemHash(KEY, NKEY);
  if (!itemSizeOk(NKEY, CLIENT_FLAGS, nbytes)) {
    errorLine('SERVER_ERROR object too large for cache');
    statInc(C_STORE_TOO_LARGE);
    logStoreRefused(LS_TOO_LARGE, comm, KEY, NKEY);
    storeDrop(KEY, NKEY, hv);
    return swallow(nbytes, inEnd);
  }
  const vlen = nbytes - 2;
  const v = valueIn(lineStart, next, inEnd, KEY, NKEY, hv, CLIENT_FLAGS, EXPTIME, vlen, 2);
  if (v == V_PENDING) return P_VALUE;
  if (v == V_NO_MEMORY) {
    errorLine('SERVER_ERROR out of memory storing object');
    statInc(C_STORE_NO_MEMORY);
    logStoreRefused(LS_NO_MEMORY, comm, KEY, NKEY);
    storeDrop(KEY, NKEY, hv);
    return swallow(nbytes, inEnd);
  }
  const it = VALUE_ITEM;
  META_NEXT = VALUE_NEXT;
  countSet(it);
  if (VALUE_BAD_TRAILER) {
    itemFree(it);
    errorLine('CLIENT_ERROR bad data chunk');
    return P_DONE;
  }
  if (KEY_BINARY) st8(it + IT_IFLAGS, ld8(it + IT_IFLAGS) | IF_KEY_BINARY);
  const r = storeItem(it, comm, CAS_HI, CAS_LO, F_STALE && comm == CMD_CAS);
  const start = OUT;
  if (r == STORED) outStr('HD');
  else if (r == EXISTS) outStr('EX');
  else if (r == NOT_FOUND) outStr('NF');
  else outStr('NS');
  const stored = r == STORED ? STORED_ITEM : 0;
  for (let i: u32 = 3; i < ntok - 1; i++) {
    const c: u32 = ld8(tokPtr(i));
    if (c == 79) {
      outOpaque(i);
    } else if (c == 107) {
      outKey(KEY, NKEY, KEY_BINARY);
    } else if (c == 99) {
      // The unique of the stored item; 0 when nothing was stored.
      outStr(' c');
      if (stored != 0) outU64(ld32(stored + IT_CAS_HI), ld32(stored + IT_CAS_LO));
      else outStr('0');
    }
  }
  outCRLF();
  if (r == STORED && F_NOREPLY) outRewind(start);
  return P_DONE;
}

/** Drops n bytes after the command line: now, or later through R_SKIP. */
function swallow(n: u32, inEnd: u32): u32 {
  const avail = inEnd - META_NEXT;
  if (avail >= n) {
    META_NEXT += n;
    return P_DONE;
  }
  hset(R_SKIP, n - avail);
  return P_SKIP;
}


// ---- md ----------------------------------------------------------------------

export function processMetaDelete(ntok: u32): u32 {
  if (!commonChecks(ntok, E_TOO_LONG)) return P_DONE;
  if (!preparse(2, ntok)) {
    outError(E_INVALID_OR_DUP);
    return P_DONE;
  }
  // The flags are answered before the item is looked at: a bad opaque
  // leaves the item alone.
  const flags = OUT + 2;
  outStr('HD');
  for (let i: u32 = 2; i < ntok - 1; i++) {
    const c: u32 = ld8(tokPtr(i));
    if (c == 79) {
      if (!outOpaque(i)) { outRewind(flags - 2); outError(E_OPAQUE); return P_DONE; }
    } else if (c == 107) {
      outKey(KEY, NKEY, KEY_BINARY);
    }
  }
  outCRLF();
  const hv = itemHash(KEY, NKEY);
  const it = itemGet(KEY, NKEY, hv, false);
  if (it == 0) {
    statInc(C_DELETE_MISSES);
    setCode(flags, 78, 70); // NF
    return P_DONE;
  }
  if (F_HAS_CAS && (ld32(it + IT_CAS_HI) != CAS_HI || ld32(it + IT_CAS_LO) != CAS_LO)) {
    statInc(C_DELETE_MISSES);
    setCode(flags, 69, 88); // EX
    return P_DONE;
  }
  if (F_STALE) {
    storeInvalidate(it, F_NEW_TTL, EXPTIME);
  } else {
    const c = storeDeleteItem(it, LD_MD);
    u64IncAt(cls(c) + CL_DELETE_HITS);
  }
  if (F_NOREPLY) outRewind(flags - 2);
  return P_DONE;
}

/** Overwrites the two-letter code written before the flags at `flags`. */
function setCode(flags: u32, a: u32, b: u32): void {
  st8(flags - 2, a);
  st8(flags - 1, b);
}

// ---- ma ----------------------------------------------------------------------

export function processMetaArithmetic(ntok: u32): u32 {
  if (!commonChecks(ntok, E_TOO_LONG)) return P_DONE;
  if (!preparse(2, ntok)) {
    outError(E_INVALID_OR_DUP);
    return P_DONE;
  }
  let incr = true;
  if (MODE == 68 || MODE == 45) incr = false;      // D, -
  else if (MODE != 0 && MODE != 73 && MODE != 43) { // I, +
    outError(E_MA_MODE);
    return P_DONE;
  }
  const hv = itemHash(KEY, NKEY);
  const start = OUT;
  const digits = digitsBuf();
  let it: u32 = 0;
  let created = false;
  let vlen: u32 = 0;
  // The TTL that `t` reports: memcached 1.6.18 reads it from the item its
  // do_add_delta returned, which after a growing incr is the old, unlinked
  // copy; `T` lands on that copy, and so is reported but not kept.
  let exptime: u32 = 0;
  let ttlKept = true;
  const r = storeDelta(KEY, NKEY, hv, incr, DELTA_HI, DELTA_LO, digits, digitsScratch(), CAS_HI, CAS_LO);
  if (r == DELTA_OK) {
    it = DELTA_ITEM;
    vlen = DELTA_LEN;
    ttlKept = !DELTA_REPLACED;
  } else if (r == DELTA_NON_NUMERIC) {
    errorLine('CLIENT_ERROR cannot increment or decrement non-numeric value');
    return P_DONE;
  } else if (r == DELTA_EOM) {
    errorLine('SERVER_ERROR out of memory');
    return P_DONE;
  } else if (r == DELTA_NOT_FOUND) {
    if (F_VIVIFY) {
      vlen = u64Format(INIT_HI, INIT_LO, digits, digitsScratch()) - digits;
      it = storeCreateAdd(KEY, NKEY, hv, digits, vlen, 0);
      if (it == 0) {
        errorLine('SERVER_ERROR Out of memory allocating new item');
        return P_DONE;
      }
      created = true;
    } else {
      statInc(incr ? C_INCR_MISSES : C_DECR_MISSES);
      outStr('NF');
    }
  } else {
    outStr('EX');
  }
  if (it != 0) {
    exptime = ld32(it + IT_EXPTIME);
    if (F_VALUE) {
      outStr('VA ');
      outU32(vlen);
    } else {
      outStr('HD');
    }
    for (let i: u32 = 2; i < ntok - 1; i++) {
      const c: u32 = ld8(tokPtr(i));
      if (c == 99) outCas(it);
      else if (c == 116) outExptime(exptime);
      else if (c == 84) { exptime = EXPTIME; if (ttlKept) st32(it + IT_EXPTIME, EXPTIME); }
      else if (c == 78) { if (created) { exptime = AUTOVIV_EXPTIME; st32(it + IT_EXPTIME, AUTOVIV_EXPTIME); } }
      else if (c == 79) { if (!outOpaque(i)) { outRewind(start); outError(E_OPAQUE); return P_DONE; } }
      else if (c == 107) outKey(KEY, NKEY, KEY_BINARY);
    }
    if (F_VALUE) {
      outCRLF();
      outBytes(digits, vlen);
    }
  } else {
    for (let i: u32 = 2; i < ntok - 1; i++) {
      const c: u32 = ld8(tokPtr(i));
      if (c == 79) { if (!outOpaque(i)) { outRewind(start); outError(E_OPAQUE); return P_DONE; } }
      else if (c == 107) outKey(KEY, NKEY, KEY_BINARY);
    }
  }
  outCRLF();
  if (r == DELTA_OK && F_NOREPLY) outRewind(start);
  return P_DONE;
}

// ---- me ----------------------------------------------------------------------

/** me <key> [b]: one line describing the item, for debugging. */
export function processMetaDebug(ntok: u32): u32 {
  if (ntok < 3 || tokLen(1) > LIMIT_KEY_LEN) {
    outError(E_BAD_FORMAT);
    return P_DONE;
  }
  let key = tokPtr(1);
  let nkey = tokLen(1);
  if (ntok >= 4 && tokIs(2, 'b')) {
    nkey = base64Decode(key, nkey, keyBuf());
    if (nkey == 0) {
      outError(E_BAD_FORMAT);
      return P_DONE;
    }
    key = keyBuf();
  }
  statInc(C_CMD_META);
  const it = itemGet(key, nkey, itemHash(key, nkey), false);
  if (it == 0) {
    errorLine('EN');
    return P_DONE;
  }
  const f: u32 = ld8(it + IT_IFLAGS);
  const ik = ld8(it + IT_KLEN);
  outStr('ME ');
  if ((f & IF_KEY_BINARY) != 0) outBytes(encodeBuf(), base64Encode(it + IT_KEY, ik, encodeBuf()));
  else outBytes(it + IT_KEY, ik);
  outStr(' exp=');
  const e = ld32(it + IT_EXPTIME);
  if (e == 0) outStr('-1');
  else outI32((currentTime() - e) >>> 0);
  outStr(' la=');
  outU32((currentTime() - ld32(it + IT_TIME)) >>> 0);
  outStr(' cas=');
  outU64(ld32(it + IT_CAS_HI), ld32(it + IT_CAS_LO));
  outStr((f & IF_FETCHED) != 0 ? ' fetch=yes' : ' fetch=no');
  outStr(' cls=');
  outU32(ld8(it + IT_CLS));
  // memcached's ITEM_ntotal, so sizes read the same as there.
  const flags = ld32(it + IT_FLAGS);
  let size: u32 = 48 + ik + 1 + ld32(it + IT_VLEN) + 2;
  if (flags != 0) size += 4;
  if ((hget(H_OPTS) & OPT_NO_CAS) == 0) size += 8;
  outStr(' size=');
  outU32(size);
  outCRLF();
  return P_DONE;
}
