// One logical operation per call, for hosts that embed the store as a library
// instead of speaking a protocol to it. Nothing here is cache logic: each
// operation calls store.ts / items.ts exactly as the text protocol's command
// does, and counts the same statistics, so a library cache and a server
// behave as one.
//
// The host places the key (1..250 bytes, any bytes) and then the value at the
// start of the input region; results come back in the header (R_OP_*) and the
// output region.
import { ld8, ld32, st32, copy } from './mem';
import { S, arenaSelect, hget, hset, clockSet, SCRATCH, H_CURR_ITEMS, H_BYTES_LO, H_BYTES_HI, H_MAXBYTES_MB, H_OUT_PTR } from './arena';
import {
  H_IN_PTR, H_IN_CAP, LIMIT_KEY_LEN, R_OP_VLEN, R_OP_FLAGS, R_OP_CAS_LO, R_OP_CAS_HI,
  OP_GET, OP_SET, OP_ADD, OP_REPLACE, OP_APPEND, OP_PREPEND, OP_CAS, OP_DELETE, OP_TOUCH, OP_INCR, OP_DECR,
  OP_FLUSH, OP_HAS, OP_STATS, OPR_OK, OPR_NOT_FOUND, OPR_NOT_STORED, OPR_EXISTS, OPR_TOO_LARGE, OPR_NO_MEMORY,
  OPR_NON_NUMERIC, OPR_BAD_REQUEST, OPS_ITEMS, OPS_BYTES_LO, OPS_BYTES_HI, OPS_HITS_LO, OPS_HITS_HI,
  OPS_MISSES_LO, OPS_MISSES_HI, OPS_EVICTIONS_LO, OPS_EVICTIONS_HI, OPS_LIMIT_MB,
} from './abi';
import {
  storeItem, storeDelta, storeDelete, storeTouch, storeFlush, realtime, positiveTime, itemSizeOk,
  CMD_ADD, CMD_SET, CMD_REPLACE, CMD_APPEND, CMD_PREPEND, CMD_CAS, STORED, EXISTS, NOT_FOUND, STORED_ITEM,
  DELTA_OK, DELTA_NON_NUMERIC, DELTA_EOM, DELTA_LEN, countSet,
} from './store';
import { itemAlloc, itemGet, itemData, itemHash } from './items';
import { IT_FLAGS, IT_VLEN, IT_CAS_LO, IT_CAS_HI, IT_CLS } from './items_layout';
import { cls, CL_GET_HITS, CL_TOUCH_HITS, CL_DELETE_HITS } from './slabs';
import { u64IncAt } from './u64';
import {
  statInc, statLo, statHi, C_CMD_GET, C_CMD_TOUCH, C_GET_HITS, C_GET_MISSES, C_TOUCH_HITS, C_TOUCH_MISSES,
  C_STORE_TOO_LARGE, C_STORE_NO_MEMORY, C_DELETE_MISSES, C_INCR_MISSES, C_DECR_MISSES, C_CMD_FLUSH,
  C_EVICTIONS,
} from './stats';

/** incr/decr digits and their formatting scratch (as the text protocol's). */
function deltaBuf(): u32 { return S + SCRATCH + 512; }
function deltaScratch(): u32 { return S + SCRATCH + 768; }

function setResult(vlen: u32, flags: u32, casHi: u32, casLo: u32): void {
  hset(R_OP_VLEN, vlen);
  hset(R_OP_FLAGS, flags);
  hset(R_OP_CAS_LO, casLo);
  hset(R_OP_CAS_HI, casHi);
}

/**
 * Runs operation `op` (OP_*) on `store`; returns an OPR_* code. `ttl` is a
 * memcached exptime (int32: relative seconds up to 30 days, else unix time,
 * negative = already expired). For OP_CAS (casHi, casLo) is the unique to
 * compare; for OP_INCR / OP_DECR it is the delta.
 */
export function embedOp(store: u32, op: u32, keyLen: u32, valueLen: u32, flags: u32, ttl: u32, casHi: u32, casLo: u32, now: u32): u32 {
  arenaSelect(store);
  clockSet(now);
  setResult(0, 0, 0, 0);
  if (op == OP_FLUSH) {
    statInc(C_CMD_FLUSH);
    storeFlush(0);
    return OPR_OK;
  }
  if (op == OP_STATS) {
    writeStats();
    return OPR_OK;
  }
  if (keyLen == 0 || keyLen > LIMIT_KEY_LEN || valueLen > hget(H_IN_CAP) - keyLen) return OPR_BAD_REQUEST;
  const key = hget(H_IN_PTR);
  const hv = itemHash(key, keyLen);
  if (op == OP_GET || op == OP_HAS) return opGet(key, keyLen, hv, op == OP_GET);
  if (op >= OP_SET && op <= OP_CAS) return opStore(op, key, keyLen, hv, valueLen, flags, ttl, casHi, casLo);
  if (op == OP_DELETE) {
    const c = storeDelete(key, keyLen, hv);
    if (c == 0) {
      statInc(C_DELETE_MISSES);
      return OPR_NOT_FOUND;
    }
    u64IncAt(cls(c) + CL_DELETE_HITS);
    return OPR_OK;
  }
  if (op == OP_TOUCH) {
    const it = storeTouch(key, keyLen, hv, realtime(positiveTime(ttl)));
    statInc(C_CMD_TOUCH);
    if (it == 0) {
      statInc(C_TOUCH_MISSES);
      return OPR_NOT_FOUND;
    }
    statInc(C_TOUCH_HITS);
    u64IncAt(cls(ld8(it + IT_CLS)) + CL_TOUCH_HITS);
    return OPR_OK;
  }
  if (op == OP_INCR || op == OP_DECR) return opDelta(key, keyLen, hv, op == OP_INCR, casHi, casLo);
  return OPR_BAD_REQUEST;
}

function opGet(key: u32, nkey: u32, hv: u32, fetch: bool): u32 {
  const it = itemGet(key, nkey, hv, fetch);
  if (fetch) {
    statInc(C_CMD_GET);
    if (it == 0) statInc(C_GET_MISSES);
    else {
      statInc(C_GET_HITS);
      u64IncAt(cls(ld8(it + IT_CLS)) + CL_GET_HITS);
    }
  }
  if (it == 0) return OPR_NOT_FOUND;
  const vlen = ld32(it + IT_VLEN);
  if (fetch) copy(hget(H_OUT_PTR), itemData(it), vlen);
  setResult(fetch ? vlen : 0, ld32(it + IT_FLAGS), ld32(it + IT_CAS_HI), ld32(it + IT_CAS_LO));
  return OPR_OK;
}

function opStore(op: u32, key: u32, nkey: u32, hv: u32, vlen: u32, flags: u32, ttl: u32, casHi: u32, casLo: u32): u32 {
  // Unlike a failed text-protocol set, a rejected value leaves the old one:
  // the library reports the error to its caller before anything changed.
  if (!itemSizeOk(nkey, flags, vlen + 2)) {
    statInc(C_STORE_TOO_LARGE);
    return OPR_TOO_LARGE;
  }
  const it = itemAlloc(key, nkey, hv, flags, realtime(positiveTime(ttl)), vlen);
  if (it == 0) {
    statInc(C_STORE_NO_MEMORY);
    return OPR_NO_MEMORY;
  }
  copy(itemData(it), key + nkey, vlen);
  countSet(it);
  let comm = CMD_SET;
  if (op == OP_ADD) comm = CMD_ADD;
  else if (op == OP_REPLACE) comm = CMD_REPLACE;
  else if (op == OP_APPEND) comm = CMD_APPEND;
  else if (op == OP_PREPEND) comm = CMD_PREPEND;
  else if (op == OP_CAS) comm = CMD_CAS;
  const r = storeItem(it, comm, op == OP_CAS ? casHi : 0, op == OP_CAS ? casLo : 0, false);
  if (r == STORED) {
    const s = STORED_ITEM;
    setResult(0, ld32(s + IT_FLAGS), ld32(s + IT_CAS_HI), ld32(s + IT_CAS_LO));
    return OPR_OK;
  }
  if (r == EXISTS) return OPR_EXISTS;
  if (r == NOT_FOUND) return OPR_NOT_FOUND;
  return OPR_NOT_STORED;
}

function opDelta(key: u32, nkey: u32, hv: u32, incr: bool, dHi: u32, dLo: u32): u32 {
  const r = storeDelta(key, nkey, hv, incr, dHi, dLo, deltaBuf(), deltaScratch(), 0, 0);
  if (r == DELTA_OK) {
    copy(hget(H_OUT_PTR), deltaBuf(), DELTA_LEN);
    hset(R_OP_VLEN, DELTA_LEN);
    return OPR_OK;
  }
  if (r == DELTA_NON_NUMERIC) return OPR_NON_NUMERIC;
  if (r == DELTA_EOM) return OPR_NO_MEMORY;
  statInc(incr ? C_INCR_MISSES : C_DECR_MISSES);
  return OPR_NOT_FOUND;
}

function writeStats(): void {
  const out = hget(H_OUT_PTR);
  st32(out + (OPS_ITEMS << 2), hget(H_CURR_ITEMS));
  st32(out + (OPS_BYTES_LO << 2), hget(H_BYTES_LO));
  st32(out + (OPS_BYTES_HI << 2), hget(H_BYTES_HI));
  st32(out + (OPS_HITS_LO << 2), statLo(C_GET_HITS));
  st32(out + (OPS_HITS_HI << 2), statHi(C_GET_HITS));
  st32(out + (OPS_MISSES_LO << 2), statLo(C_GET_MISSES));
  st32(out + (OPS_MISSES_HI << 2), statHi(C_GET_MISSES));
  st32(out + (OPS_EVICTIONS_LO << 2), statLo(C_EVICTIONS));
  st32(out + (OPS_EVICTIONS_HI << 2), statHi(C_EVICTIONS));
  st32(out + (OPS_LIMIT_MB << 2), hget(H_MAXBYTES_MB));
}
