// The binary protocol, after memcached 1.6.18's proto_bin.c. A packet is a
// 24-byte big-endian header (magic 0x80, opcode, key length, extras length,
// data type, vbucket, body length, opaque, CAS), then extras, key, value.
//
// Every length is checked before anything is read or stored: the header,
// extras and key must all be in the input before the packet is looked at,
// `keylen + extlen > bodylen` is refused (memcached's guard for
// CVE-2016-8704/8705/8706) and a value is only copied once all of it has
// arrived, into an item sized from the checked lengths. Quirks of 1.6.18 kept
// on purpose: only header, extras and key are consumed before dispatch, so
// the rest of an over-long body of a command without a value is read as the
// next packet; an unknown opcode swallows `bodylen` bytes after its key;
// a bad magic closes the connection and drops replies not yet flushed
// (only NOOP flushes within one read).
import { detailRecordGet, detailRecordSet, detailRecordDelete } from '../detail';
import { ld8, st8, ld32, copy, strLen } from '../mem';
import { S, SCRATCH, hget, hset, currentTime, H_OPTS } from '../arena';
import {
  ST_OK, ST_OUT_FULL, ST_CLOSE, ST_VALUE, ST_WARM_KEYS, R_NEED, R_SKIP, LIMIT_KEY_LEN, OPT_NO_FLUSH, OPT_SASL,
  WARMING_MISS_THROUGH, WARMING_DELETES, LS_TOO_LARGE, LS_NO_MEMORY, LD_DELETE,
} from '../abi';
import { LOG_MASK, logHasRoom, logMark, logRewind, logQuit, logStoreRefused } from '../log';
import {
  vvBinRead, vvBinWrite, vvBinError, vvBinGet, vvBinUpdate, vvBinDelete, vvBinArithmetic, vvBinStat,
} from './verbose';
import { outBegin, outRoom, outStr, outBytes, outByte, outRewind, OUT } from './out';
import { noreplyReset } from './reply';
import { tokenize } from './tokens';
import {
  P_DONE, P_NEED, P_OUT_FULL, P_SKIP, P_CLOSE, P_VALUE, OUT_RESERVE, VALUE_HEAD_ROOM, execBegin, execEnd, requestDone,
} from './flow';
import { valueIn, sendValue, sendContinue, sendPending, V_PENDING, V_NO_MEMORY, VALUE_ITEM, VALUE_NEXT } from './values';
import {
  storeItem, storeDelta, storeCreateAdd, storeDrop, storeTouch, storeFlushUntil, storeDeleteItem, realtime, itemSizeOk, STORED_ITEM,
  CMD_ADD, CMD_SET, CMD_REPLACE, CMD_APPEND, CMD_PREPEND, CMD_CAS, STORED, EXISTS, NOT_FOUND,
  DELTA_OK, DELTA_NON_NUMERIC, DELTA_EOM, DELTA_NOT_FOUND, DELTA_ITEM, DELTA_LEN, countSet,
} from '../store';
import { itemGet, itemData, itemHash } from '../items';
import { IT_FLAGS, IT_VLEN, IT_CAS_LO, IT_CAS_HI, IT_CLS, IT_KEY } from '../items_layout';
import { cls, CL_GET_HITS, CL_TOUCH_HITS, CL_DELETE_HITS } from '../slabs';
import { u64IncAt, u64Format, u64Parse, R_HI, R_LO } from '../u64';
import {
  statInc, C_CMD_GET, C_CMD_TOUCH, C_GET_HITS, C_GET_MISSES, C_TOUCH_HITS, C_TOUCH_MISSES,
  C_STORE_TOO_LARGE, C_STORE_NO_MEMORY, C_DELETE_MISSES, C_INCR_MISSES, C_DECR_MISSES, C_CMD_FLUSH,
  } from '../stats';
import { processStats } from './text_admin';
import { saslListMechs, saslAuth, connAuthenticated } from './sasl';
import {
  warmCallBegin, warmCallEnd, warmDue, warmWatches, warmRunBegin, warmRunRoom, warmRunEnd, warmLookup, warmDelete,
  warmFlush,
} from './warm_keys';

export const BIN_REQ_MAGIC: u32 = 0x80;
const BIN_RES_MAGIC: u32 = 0x81;
const HEADER: u32 = 24;

// Opcodes.
const OP_GET: u32 = 0x00;
const OP_SET: u32 = 0x01;
const OP_ADD: u32 = 0x02;
const OP_REPLACE: u32 = 0x03;
const OP_DELETE: u32 = 0x04;
const OP_INCREMENT: u32 = 0x05;
const OP_DECREMENT: u32 = 0x06;
const OP_QUIT: u32 = 0x07;
const OP_FLUSH: u32 = 0x08;
const OP_GETQ: u32 = 0x09;
const OP_NOOP: u32 = 0x0a;
const OP_VERSION: u32 = 0x0b;
const OP_GETK: u32 = 0x0c;
const OP_GETKQ: u32 = 0x0d;
const OP_APPEND: u32 = 0x0e;
const OP_PREPEND: u32 = 0x0f;
const OP_STAT: u32 = 0x10;
const OP_SETQ: u32 = 0x11;
const OP_ADDQ: u32 = 0x12;
const OP_REPLACEQ: u32 = 0x13;
const OP_DELETEQ: u32 = 0x14;
const OP_INCREMENTQ: u32 = 0x15;
const OP_DECREMENTQ: u32 = 0x16;
const OP_QUITQ: u32 = 0x17;
const OP_FLUSHQ: u32 = 0x18;
const OP_APPENDQ: u32 = 0x19;
const OP_PREPENDQ: u32 = 0x1a;
const OP_TOUCH: u32 = 0x1c;
const OP_GAT: u32 = 0x1d;
const OP_GATQ: u32 = 0x1e;
const OP_SASL_LIST_MECHS: u32 = 0x20;
const OP_SASL_AUTH: u32 = 0x21;
const OP_SASL_STEP: u32 = 0x22;
const OP_GATK: u32 = 0x23;
const OP_GATKQ: u32 = 0x24;

// Status codes.
export const BS_SUCCESS: u32 = 0x00;
export const BS_KEY_ENOENT: u32 = 0x01;
export const BS_KEY_EEXISTS: u32 = 0x02;
export const BS_E2BIG: u32 = 0x03;
export const BS_EINVAL: u32 = 0x04;
export const BS_NOT_STORED: u32 = 0x05;
export const BS_DELTA_BADVAL: u32 = 0x06;
export const BS_AUTH_ERROR: u32 = 0x20;
export const BS_AUTH_CONTINUE: u32 = 0x21;
export const BS_UNKNOWN_COMMAND: u32 = 0x81;
export const BS_ENOMEM: u32 = 0x82;


// The packet being executed.
let REQ: u32 = 0;
let OPCODE: u32 = 0;
let BIN_KEYLEN: u32 = 0;
let EXTLEN: u32 = 0;
let BIN_BODYLEN: u32 = 0;
let CAS_HI: u32 = 0;
let CAS_LO: u32 = 0;
/** The command after quiet opcodes are mapped to their loud twins. */
let CMD: u32 = 0;
/** A quiet opcode: success replies are not sent. */
let QUIET: bool = false;
/** Input position after the part of the packet consumed so far. */
let NEXT: u32 = 0;
let IN_END: u32 = 0;
/** CAS for the reply header (memcached's c->cas). */
let RES_CAS_HI: u32 = 0;
let RES_CAS_LO: u32 = 0;

function binKey(): u32 { return REQ + HEADER + EXTLEN; }
function ext(): u32 { return REQ + HEADER; }

function be16(p: u32): u32 { return (ld8(p) << 8) | ld8(p + 1); }
function be32(p: u32): u32 { return ((ld8(p) << 24) | (ld8(p + 1) << 16) | (ld8(p + 2) << 8) | ld8(p + 3)) >>> 0; }
function outBe16(v: u32): void { outByte((v >>> 8) & 0xff); outByte(v & 0xff); }
function outBe32(v: u32): void {
  outByte(v >>> 24); outByte((v >>> 16) & 0xff); outByte((v >>> 8) & 0xff); outByte(v & 0xff);
}

/** A response header for the current packet (memcached's add_bin_header). */
export function binHeader(status: u32, extlen: u32, keylen: u32, bodylen: u32): void {
  const at = OUT;
  binHeaderUnlogged(status, extlen, keylen, bodylen);
  if (LOG_MASK != 0) vvBinWrite(at);
}

/** binHeader without its -vv line: STAT's packets, which memcached does not log. */
function binHeaderUnlogged(status: u32, extlen: u32, keylen: u32, bodylen: u32): void {
  outByte(BIN_RES_MAGIC);
  outByte(OPCODE);
  outBe16(keylen);
  outByte(extlen);
  outByte(0);
  outBe16(status);
  outBe32(bodylen);
  outBytes(REQ + 12, 4); // opaque, echoed as sent
  outBe32(RES_CAS_HI);
  outBe32(RES_CAS_LO);
}

/** Writes the CAS field of the response header at `head`. */
function setHeaderCas(head: u32, hi: u32, lo: u32): void {
  for (let i: u32 = 0; i < 4; i++) {
    st8(head + 16 + i, (hi >>> (24 - 8 * i)) & 0xff);
    st8(head + 20 + i, (lo >>> (24 - 8 * i)) & 0xff);
  }
}

/** An error reply with memcached's message text (write_bin_error). */
export function binError(status: u32): void {
  if (status == BS_KEY_ENOENT) errorText(status, 'Not found');
  else if (status == BS_KEY_EEXISTS) errorText(status, 'Data exists for key.');
  else if (status == BS_E2BIG) errorText(status, 'Too large.');
  else if (status == BS_EINVAL) errorText(status, 'Invalid arguments');
  else if (status == BS_NOT_STORED) errorText(status, 'Not stored.');
  else if (status == BS_DELTA_BADVAL) errorText(status, 'Non-numeric server-side value for incr or decr');
  else if (status == BS_AUTH_ERROR) errorText(status, 'Auth failure.');
  else if (status == BS_ENOMEM) errorText(status, 'Out of memory');
  else errorText(status, 'Unknown command');
}

function errorText(status: u32, s: string): void {
  if (LOG_MASK != 0) vvBinError(s);
  binHeader(status, 0, 0, strLen(s));
  outStr(s);
}

/** A success reply unless the opcode is quiet (write_bin_response). */
export function binResponse(body: u32, n: u32): void {
  if (QUIET) return;
  binHeader(BS_SUCCESS, 0, 0, n);
  if (n > 0) outBytes(body, n);
}

/**
 * Runs every complete packet in [inPtr, inPtr+len). Sets R_CONSUMED,
 * R_OUT_LEN, R_NEED, R_SKIP; returns ST_*.
 */
export function binaryExecute(inPtr: u32, len: u32, outPtr: u32, outCap: u32): u32 {
  IN_END = inPtr + len;
  execBegin(outPtr, outCap);
  if (!sendContinue()) {
    execEnd(inPtr, inPtr, outPtr);
    return ST_OUT_FULL;
  }
  warmCallBegin(inPtr);
  let flushed = OUT;
  let pos = inPtr;
  let status = ST_OK;
  while (pos < IN_END) {
    if (outRoom() < OUT_RESERVE || !logHasRoom()) {
      status = ST_OUT_FULL;
      break;
    }
    const avail = IN_END - pos;
    if (avail < HEADER) {
      hset(R_NEED, HEADER);
      break;
    }
    if (ld8(pos) != BIN_REQ_MAGIC) {
      // Not a request: hang up, losing replies memcached had not sent yet.
      outRewind(flushed);
      status = ST_CLOSE;
      pos = IN_END;
      break;
    }
    REQ = pos;
    OPCODE = ld8(pos + 1);
    BIN_KEYLEN = be16(pos + 2);
    EXTLEN = ld8(pos + 4);
    BIN_BODYLEN = be32(pos + 8);
    CAS_HI = be32(pos + 16);
    CAS_LO = be32(pos + 20);
    RES_CAS_HI = 0;
    RES_CAS_LO = 0;
    const fixed = HEADER + EXTLEN + BIN_KEYLEN;
    if (avail < fixed) {
      hset(R_NEED, fixed);
      break;
    }
    NEXT = pos + fixed;
    // While warming, the host may need this packet's key (and those of the
    // packets after it) first (warm_keys.ts). Not before authentication.
    if (warmDue(pos) && ((hget(H_OPTS) & OPT_SASL) == 0 || connAuthenticated()) && warmCheck(pos)) {
      status = ST_WARM_KEYS;
      break;
    }
    const mark = logMark();
    if (LOG_MASK != 0) vvBinRead(pos);
    const r = dispatch();
    // A packet that runs again later is logged then.
    if (r == P_OUT_FULL || r == P_NEED) logRewind(mark);
    if (r == P_DONE) {
      if (OPCODE == OP_NOOP) flushed = OUT;
      pos = NEXT;
      // A value is being sent in pieces: nothing else may be written.
      if (sendPending()) {
        status = ST_OUT_FULL;
        break;
      }
      if (requestDone()) break;
      continue;
    }
    if (r == P_OUT_FULL) status = ST_OUT_FULL;
    else if (r == P_VALUE) status = ST_VALUE;
    else if (r == P_SKIP) pos = IN_END;
    else if (r == P_CLOSE) { status = ST_CLOSE; pos = IN_END; }
    break; // P_NEED: wait for the rest of this packet
  }
  warmCallEnd(pos);
  execEnd(inPtr, pos, outPtr);
  return status;
}

/** Answers EINVAL and hangs up (handle_binary_protocol_error). */
function protocolError(): u32 {
  binError(BS_EINVAL);
  return P_CLOSE;
}

function dispatch(): u32 {
  const keylen = BIN_KEYLEN;
  const extlen = EXTLEN;
  const bodylen = BIN_BODYLEN;
  // Lengths that do not add up: the CVE-2016-8704/8705/8706 inputs.
  if (keylen > bodylen || keylen + extlen > bodylen) {
    binError(BS_UNKNOWN_COMMAND);
    return P_CLOSE;
  }
  if ((hget(H_OPTS) & OPT_SASL) != 0 && !connAuthenticated() && OPCODE != OP_SASL_LIST_MECHS &&
      OPCODE != OP_SASL_AUTH && OPCODE != OP_SASL_STEP && OPCODE != OP_VERSION) {
    binError(BS_AUTH_ERROR);
    return P_CLOSE;
  }
  if (keylen > LIMIT_KEY_LEN) return protocolError();

  QUIET = true;
  CMD = OPCODE;
  if (OPCODE == OP_SETQ) CMD = OP_SET;
  else if (OPCODE == OP_ADDQ) CMD = OP_ADD;
  else if (OPCODE == OP_REPLACEQ) CMD = OP_REPLACE;
  else if (OPCODE == OP_DELETEQ) CMD = OP_DELETE;
  else if (OPCODE == OP_INCREMENTQ) CMD = OP_INCREMENT;
  else if (OPCODE == OP_DECREMENTQ) CMD = OP_DECREMENT;
  else if (OPCODE == OP_QUITQ) CMD = OP_QUIT;
  else if (OPCODE == OP_FLUSHQ) CMD = OP_FLUSH;
  else if (OPCODE == OP_APPENDQ) CMD = OP_APPEND;
  else if (OPCODE == OP_PREPENDQ) CMD = OP_PREPEND;
  else if (OPCODE == OP_GETQ) CMD = OP_GET;
  else if (OPCODE == OP_GETKQ) CMD = OP_GETK;
  else if (OPCODE == OP_GATQ) CMD = OP_GAT;
  else if (OPCODE == OP_GATKQ) CMD = OP_GATK;
  else QUIET = false;

  const c = CMD;
  if (c == OP_VERSION) {
    if (extlen != 0 || keylen != 0 || bodylen != 0) return protocolError();
    binHeader(BS_SUCCESS, 0, 0, 6);
    outStr('1.6.18');
    return P_DONE;
  }
  if (c == OP_FLUSH) {
    if (keylen != 0 || bodylen != extlen || (extlen != 0 && extlen != 4)) return protocolError();
    return processFlush();
  }
  if (c == OP_NOOP) {
    if (extlen != 0 || keylen != 0 || bodylen != 0) return protocolError();
    binResponse(0, 0);
    return P_DONE;
  }
  if (c == OP_SET || c == OP_ADD || c == OP_REPLACE) {
    if (extlen != 8 || keylen == 0 || bodylen < keylen + 8) return protocolError();
    return processUpdate();
  }
  if (c == OP_GET || c == OP_GETK) {
    if (extlen != 0 || bodylen != keylen || keylen == 0) return protocolError();
    return processGetOrTouch();
  }
  if (c == OP_DELETE) {
    if (keylen == 0 || extlen != 0 || bodylen != keylen) return protocolError();
    return processDelete();
  }
  if (c == OP_INCREMENT || c == OP_DECREMENT) {
    if (keylen == 0 || extlen != 20 || bodylen != keylen + extlen) return protocolError();
    return processArithmetic();
  }
  if (c == OP_APPEND || c == OP_PREPEND) {
    if (keylen == 0 || extlen != 0) return protocolError();
    return processUpdate();
  }
  if (c == OP_STAT) {
    if (extlen != 0) return protocolError();
    return processStat();
  }
  if (c == OP_QUIT) {
    if (keylen != 0 || extlen != 0 || bodylen != 0) return protocolError();
    logQuit();
    binResponse(0, 0);
    return P_CLOSE;
  }
  if (c == OP_SASL_LIST_MECHS) {
    if (extlen != 0 || keylen != 0 || bodylen != 0) return protocolError();
    if ((hget(H_OPTS) & OPT_SASL) == 0) return unknownCommand(bodylen);
    saslListMechs();
    return P_DONE;
  }
  if (c == OP_SASL_AUTH || c == OP_SASL_STEP) {
    if (extlen != 0 || keylen == 0) return protocolError();
    if ((hget(H_OPTS) & OPT_SASL) == 0) return unknownCommand(bodylen - keylen);
    const vlen = bodylen - keylen;
    // memcached reads the data into an item: what cannot be one is refused
    if (vlen > 0x7ffffffd || !itemSizeOk(keylen, 0, vlen + 2)) {
      binError(BS_ENOMEM);
      return swallow(vlen);
    }
    if (IN_END - NEXT < vlen) return needBody();
    saslAuth(c == OP_SASL_STEP, binKey(), keylen, NEXT, vlen);
    NEXT += vlen;
    return P_DONE;
  }
  if (c == OP_TOUCH || c == OP_GAT || c == OP_GATK) {
    if (extlen != 4 || keylen == 0) return protocolError();
    return processGetOrTouch();
  }
  return unknownCommand(bodylen);
}

/** Unknown command, then drop `n` more bytes (write_bin_error's swallow). */
function unknownCommand(n: u32): u32 {
  binError(BS_UNKNOWN_COMMAND);
  return swallow(n);
}

function swallow(n: u32): u32 {
  const avail = IN_END - NEXT;
  if (avail >= n) {
    NEXT += n;
    return P_DONE;
  }
  hset(R_SKIP, n - avail);
  return P_SKIP;
}

/** The whole body must be here before a value is stored. */
function needBody(): u32 {
  hset(R_NEED, HEADER + BIN_BODYLEN);
  return P_NEED;
}

// ---- get / getk / touch / gat / gatk ------------------------------------------

function processGetOrTouch(): u32 {
  const c = CMD;
  const touch = c == OP_TOUCH || c == OP_GAT || c == OP_GATK;
  const returnKey = c == OP_GETK || c == OP_GATK;
  const returnValue = c != OP_TOUCH;
  const key = binKey();
  const nkey = BIN_KEYLEN;
  // Room for the header; the value may go out in pieces (values.ts).
  if (outRoom() < VALUE_HEAD_ROOM) return P_OUT_FULL;
  if (LOG_MASK != 0) vvBinGet(touch, key, nkey);
  const hv = itemHash(key, nkey);
  const it = touch ? storeTouch(key, nkey, hv, realtime(be32(ext()))) : itemGet(key, nkey, hv, true);
  detailRecordGet(key, nkey, it != 0);
  if (it == 0) {
    if (touch) {
      statInc(C_CMD_TOUCH);
      statInc(C_TOUCH_MISSES);
    } else {
      statInc(C_CMD_GET);
      statInc(C_GET_MISSES);
    }
    if (QUIET) return P_DONE;
    if (returnKey) {
      binHeader(BS_KEY_ENOENT, 0, nkey, nkey);
      outBytes(key, nkey);
    } else {
      binError(BS_KEY_ENOENT);
    }
    return P_DONE;
  }
  if (touch) {
    statInc(C_CMD_TOUCH);
    statInc(C_TOUCH_HITS);
    u64IncAt(cls(ld8(it + IT_CLS)) + CL_TOUCH_HITS);
  } else {
    statInc(C_CMD_GET);
    statInc(C_GET_HITS);
    u64IncAt(cls(ld8(it + IT_CLS)) + CL_GET_HITS);
  }
  const vlen = returnValue ? ld32(it + IT_VLEN) : 0;
  const klen = returnKey ? nkey : 0;
  const head = OUT;
  binHeader(BS_SUCCESS, 4, klen, 4 + klen + vlen);
  // memcached sets the CAS after add_bin_header has logged the header (-vv
  // shows 0 there); the packet carries the item's.
  setHeaderCas(head, ld32(it + IT_CAS_HI), ld32(it + IT_CAS_LO));
  outBe32(ld32(it + IT_FLAGS));
  if (returnKey) outBytes(it + IT_KEY, nkey);
  // A value larger than the room left is finished at the next calls.
  if (returnValue) sendValue(it, itemData(it), vlen, false);
  return P_DONE;
}

// ---- set / add / replace / append / prepend ---------------------------------

function processUpdate(): u32 {
  const c = CMD;
  const nkey = BIN_KEYLEN;
  const key = binKey();
  const isAppend = c == OP_APPEND || c == OP_PREPEND;
  let flags: u32 = 0;
  let exptime: u32 = 0;
  if (!isAppend) {
    flags = be32(ext());
    exptime = realtime(be32(ext() + 4));
  }
  // memcached computes this as an int: a body near 2^32 gives a negative
  // length, refused as too large without swallowing anything.
  const vlen = BIN_BODYLEN - nkey - EXTLEN;
  const hv = itemHash(key, nkey);
  let comm = CMD_SET;
  if (c == OP_ADD) comm = CMD_ADD;
  else if (c == OP_REPLACE) comm = CMD_REPLACE;
  else if (c == OP_APPEND) comm = CMD_APPEND;
  else if (c == OP_PREPEND) comm = CMD_PREPEND;
  if (LOG_MASK != 0) vvBinUpdate(REQ, isAppend ? '' : c == OP_ADD ? 'ADD' : c == OP_SET ? 'SET' : 'REPLACE', key, nkey, vlen);
  if ((vlen & 0x80000000) != 0 || vlen > 0x7ffffffd || !itemSizeOk(nkey, flags, vlen + 2)) {
    detailRecordSet(key, nkey);
    binError(BS_E2BIG);
    logStoreRefused(LS_TOO_LARGE, comm, key, nkey);
    const swallowed = (vlen & 0x80000000) == 0;
    if (swallowed) statInc(C_STORE_TOO_LARGE);
    // A failed set must not leave the old value readable.
    if (c == OP_SET) storeDrop(key, nkey, hv);
    return swallowed ? swallow(vlen) : P_DONE;
  }
  const v = valueIn(REQ, NEXT, IN_END, key, nkey, hv, flags, exptime, vlen, 0);
  if (v == V_PENDING) return P_VALUE;
  // Counted once: a request whose value was pending runs again when it is in.
  detailRecordSet(key, nkey);
  if (v == V_NO_MEMORY) {
    binError(BS_ENOMEM);
    statInc(C_STORE_NO_MEMORY);
    logStoreRefused(LS_NO_MEMORY, comm, key, nkey);
    if (c == OP_SET) storeDrop(key, nkey, hv);
    return swallow(vlen);
  }
  const it = VALUE_ITEM;
  NEXT = VALUE_NEXT;
  countSet(it);
  // A unique makes set, add and replace a cas (append checks it itself).
  if (!isAppend && (CAS_HI | CAS_LO) != 0) comm = CMD_CAS;
  const r = storeItem(it, comm, CAS_HI, CAS_LO, false);
  if (r == STORED) {
    RES_CAS_HI = ld32(STORED_ITEM + IT_CAS_HI);
    RES_CAS_LO = ld32(STORED_ITEM + IT_CAS_LO);
    binResponse(0, 0);
  } else if (r == EXISTS) {
    binError(BS_KEY_EEXISTS);
  } else if (r == NOT_FOUND) {
    binError(BS_KEY_ENOENT);
  } else if (comm == CMD_ADD) {
    binError(BS_KEY_EEXISTS);
  } else if (comm == CMD_REPLACE) {
    binError(BS_KEY_ENOENT);
  } else {
    binError(BS_NOT_STORED);
  }
  return P_DONE;
}


// ---- delete ------------------------------------------------------------------

function processDelete(): u32 {
  const key = binKey();
  const nkey = BIN_KEYLEN;
  if (LOG_MASK != 0) vvBinDelete(key, nkey);
  detailRecordDelete(key, nkey);
  const it = itemGet(key, nkey, itemHash(key, nkey), false);
  if (it == 0) {
    binError(BS_KEY_ENOENT);
    statInc(C_DELETE_MISSES);
    return P_DONE;
  }
  if ((CAS_HI | CAS_LO) != 0 && (CAS_HI != ld32(it + IT_CAS_HI) || CAS_LO != ld32(it + IT_CAS_LO))) {
    binError(BS_KEY_EEXISTS);
    return P_DONE;
  }
  u64IncAt(cls(ld8(it + IT_CLS)) + CL_DELETE_HITS);
  storeDeleteItem(it, LD_DELETE);
  binResponse(0, 0);
  return P_DONE;
}

// ---- incr / decr ---------------------------------------------------------------

function processArithmetic(): u32 {
  const incr = CMD == OP_INCREMENT;
  const e = ext();
  const dHi = be32(e);
  const dLo = be32(e + 4);
  const iHi = be32(e + 8);
  const iLo = be32(e + 12);
  const expiration = be32(e + 16);
  const key = binKey();
  const nkey = BIN_KEYLEN;
  if (LOG_MASK != 0) vvBinArithmetic(key, nkey, e);
  const hv = itemHash(key, nkey);
  const digits = S + SCRATCH + 512;
  const r = storeDelta(key, nkey, hv, incr, dHi, dLo, digits, S + SCRATCH + 768, CAS_HI, CAS_LO);
  if (r == DELTA_OK) {
    const it = DELTA_ITEM;
    RES_CAS_HI = ld32(it + IT_CAS_HI);
    RES_CAS_LO = ld32(it + IT_CAS_LO);
    u64Parse(digits, digits + DELTA_LEN);
    counterReply(R_HI, R_LO);
  } else if (r == DELTA_NON_NUMERIC) {
    binError(BS_DELTA_BADVAL);
  } else if (r == DELTA_EOM) {
    binError(BS_ENOMEM);
  } else if (r == DELTA_NOT_FOUND) {
    if (expiration != 0xffffffff) {
      // Create it with the initial value (not the delta applied).
      const n = u64Format(iHi, iLo, digits, S + SCRATCH + 768) - digits;
      const it = storeCreateAdd(key, nkey, hv, digits, n, realtime(expiration));
      if (it == 0) {
        binError(BS_ENOMEM);
      } else {
        RES_CAS_HI = ld32(it + IT_CAS_HI);
        RES_CAS_LO = ld32(it + IT_CAS_LO);
        counterReply(iHi, iLo);
      }
    } else {
      statInc(incr ? C_INCR_MISSES : C_DECR_MISSES);
      binError(BS_KEY_ENOENT);
    }
  } else {
    binError(BS_KEY_EEXISTS);
  }
  return P_DONE;
}

function counterReply(hi: u32, lo: u32): void {
  if (QUIET) return;
  binHeader(BS_SUCCESS, 0, 0, 8);
  outBe32(hi);
  outBe32(lo);
}

// ---- flush / stat --------------------------------------------------------------

function processFlush(): u32 {
  if ((hget(H_OPTS) & OPT_NO_FLUSH) != 0) {
    binError(BS_AUTH_ERROR);
    return P_DONE;
  }
  let exptime: u32 = 0;
  if (EXTLEN == 4) exptime = be32(ext());
  storeFlushUntil(exptime > 0 ? realtime(exptime) : currentTime());
  statInc(C_CMD_FLUSH);
  binResponse(0, 0);
  return P_DONE;
}

/**
 * STAT [group]: the text protocol's `stats [group]` lines, rewritten as one
 * packet per stat (key = name, value = value) and an empty packet at the end.
 */
function processStat(): u32 {
  // Render the text reply (at most OUT_RESERVE bytes, as text.ts assumes)
  // OUT_RESERVE above the packets, then rewrite it downwards as packets: a
  // packet is 16 bytes longer than its line, and 16 x the number of lines
  // (a few thousand) stays far below the gap. A fresh call always has room.
  if (outRoom() < 2 * OUT_RESERVE) return P_OUT_FULL;
  if (LOG_MASK != 0) vvBinStat(binKey(), BIN_KEYLEN);
  const start = OUT;
  const end = start + outRoom();
  const textAt = start + OUT_RESERVE;
  const line = S + SCRATCH + 4096;
  st8(line, 115); st8(line + 1, 116); st8(line + 2, 97); st8(line + 3, 116); st8(line + 4, 115); // "stats"
  let n: u32 = 5;
  if (BIN_KEYLEN > 0) {
    st8(line + 5, 32);
    copy(line + 6, binKey(), BIN_KEYLEN);
    n = 6 + BIN_KEYLEN;
  }
  const ntok = tokenize(line, line + n);
  outBegin(textAt, end);
  noreplyReset();
  processStats(ntok);
  const textEnd = OUT;
  outBegin(start, end);
  let p = textAt;
  while (p < textEnd) {
    let e = p;
    while (e < textEnd && ld8(e) != 13) e++;
    if (e - p > 5 && ld8(p) == 83 && ld8(p + 1) == 84 && ld8(p + 2) == 65 && ld8(p + 4) == 32) { // "STAT "
      const name = p + 5;
      let sp = name;
      while (sp < e && ld8(sp) != 32) sp++;
      const nlen = sp - name;
      const vstart = sp < e ? sp + 1 : e;
      const vlen = e - vstart;
      binHeaderUnlogged(BS_SUCCESS, 0, nlen, nlen + vlen);
      outBytes(name, nlen);
      outBytes(vstart, vlen);
    } else if (e - p == 5 && ld8(p) == 69 && ld8(p + 1) == 82) { // "ERROR": no such group
      binError(BS_KEY_ENOENT);
      return P_DONE;
    }
    p = e + 2;
  }
  binHeaderUnlogged(BS_SUCCESS, 0, 0, 0);
  return P_DONE;
}

// ---- warming's look ahead (warm_keys.ts) ---------------------------------------

/**
 * While warming, before packet `pos` runs: lists the keys of it and of the
 * packets after it that read (get and gat families), delete (delete,
 * deleteq) or flush, stopping at any other packet, an incomplete one, one
 * dispatch would refuse, or the run's bounds. True when the call must end
 * with ST_WARM_KEYS (warm_keys.ts).
 */
function warmCheck(pos: u32): bool {
  warmRunBegin();
  let p = pos;
  while (IN_END - p >= HEADER && warmRunRoom(p != pos)) {
    const bodylen = be32(p + 8);
    if (bodylen > IN_END - p - HEADER) break;
    const use = warmUse(p);
    if (use == USE_OTHER) break;
    if (use != USE_NOOP && !warmWatches(use == USE_READ ? WARMING_MISS_THROUGH : WARMING_DELETES)) break;
    const key = p + HEADER + ld8(p + 4);
    const nkey = be16(p + 2);
    if (use == USE_READ) warmLookup(key, nkey);
    else if (use == USE_DELETE) warmDelete(key, nkey);
    else if (use == USE_FLUSH && (hget(H_OPTS) & OPT_NO_FLUSH) == 0) warmFlush();
    p += HEADER + bodylen;
  }
  return warmRunEnd(p);
}

const USE_OTHER: u32 = 0;
const USE_READ: u32 = 1;
const USE_DELETE: u32 = 2;
const USE_FLUSH: u32 = 3;
const USE_NOOP: u32 = 4;

/** What the packet whose header is at p does with its key (USE_*), with
 *  dispatch's length checks: USE_OTHER for anything else or a refused packet. */
function warmUse(p: u32): u32 {
  if (ld8(p) != BIN_REQ_MAGIC) return USE_OTHER;
  const op = ld8(p + 1);
  const keylen = be16(p + 2);
  const extlen = ld8(p + 4);
  const bodylen = be32(p + 8);
  if (keylen > LIMIT_KEY_LEN) return USE_OTHER;
  if (op == OP_GET || op == OP_GETQ || op == OP_GETK || op == OP_GETKQ) {
    return extlen == 0 && keylen != 0 && bodylen == keylen ? USE_READ : USE_OTHER;
  }
  if (op == OP_GAT || op == OP_GATQ || op == OP_GATK || op == OP_GATKQ) {
    return extlen == 4 && keylen != 0 && bodylen == keylen + 4 ? USE_READ : USE_OTHER;
  }
  if (op == OP_DELETE || op == OP_DELETEQ) {
    return extlen == 0 && keylen != 0 && bodylen == keylen ? USE_DELETE : USE_OTHER;
  }
  if (op == OP_FLUSH || op == OP_FLUSHQ) {
    return keylen == 0 && bodylen == extlen && (extlen == 0 || extlen == 4) ? USE_FLUSH : USE_OTHER;
  }
  if (op == OP_NOOP) return keylen == 0 && extlen == 0 && bodylen == 0 ? USE_NOOP : USE_OTHER;
  return USE_OTHER;
}
