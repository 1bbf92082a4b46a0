// Values that span engine calls, in both directions, for every protocol.
//
// In (memcached's conn_nread): once a storage command's line is complete its
// item is allocated, evicting as usual. If the value is all in the input it is
// copied at once; otherwise the call ends with ST_VALUE and the host copies
// the value's bytes straight into the item as they arrive, so a half-sent
// value lives inside -m, never in a host buffer. The host then runs the
// command again with R_VALUE_TAIL marked ready, and valueIn hands over the
// item it filled instead of allocating another. Re-running the line is cheap
// and keeps each executor free of saved parse state.
//
// Out: a value larger than the room left in the output region is sent in
// pieces: its item is pinned (itemPin) so that it is neither freed nor moved,
// and the rest goes out at the start of the connection's next calls. So one
// call writes at most the output limit, whatever the item size.
import { ld8, copy } from '../mem';
import { hget, hset } from '../arena';
import {
  R_VALUE_ITEM, R_VALUE_TAIL, VALUE_READY, R_VALUE_PTR, R_VALUE_LEN, R_VALUE_AT, R_VALUE_TRAILER,
  R_SEND_ITEM, R_SEND_OFF, SEND_CRLF,
} from '../abi';
import { itemAlloc, itemData, itemFree, itemPin, itemUnpin } from '../items';
import { IT_VLEN } from '../items_layout';
import { ld32 } from '../mem';
import { outRoom, outBytes, outCRLF } from './out';
import { statAdd, C_BYTES_READ } from '../stats';

/** The value is in VALUE_ITEM (in flight); the command continues at VALUE_NEXT. */
export const V_READY: u32 = 0;
/** The call must end with ST_VALUE: the host fills the item. */
export const V_PENDING: u32 = 1;
/** No memory for the item: answer as memcached and swallow the value. */
export const V_NO_MEMORY: u32 = 2;

export let VALUE_ITEM: u32 = 0;
export let VALUE_NEXT: u32 = 0;
/** The bytes after a text or meta value were not "\r\n" (bad data chunk). */
export let VALUE_BAD_TRAILER: bool = false;

/**
 * The item holding a storage command's value. `cmdStart` is the command's
 * first byte in the input, `data` where its value starts (or would), `vlen`
 * the value's length and `trailer` the bytes that must follow it (2 for the
 * CRLF of text and meta, 0 for binary). The key, flags and expiry go into
 * the item's header now, as memcached fixes them when it reads the line.
 */
export function valueIn(cmdStart: u32, data: u32, inEnd: u32, key: u32, nkey: u32, hv: u32, flags: u32, exptime: u32, vlen: u32, trailer: u32): u32 {
  const tail = hget(R_VALUE_TAIL);
  if ((tail & VALUE_READY) != 0) {
    // The host has put this command's value into the item of its ST_VALUE;
    // the value's bytes are not in this input.
    VALUE_ITEM = hget(R_VALUE_ITEM);
    hset(R_VALUE_ITEM, 0);
    hset(R_VALUE_TAIL, 0);
    VALUE_NEXT = data;
    VALUE_BAD_TRAILER = trailer != 0 && (tail & 0xffff) != 0x0a0d;
    statAdd(C_BYTES_READ, vlen + trailer);
    return V_READY;
  }
  const it = itemAlloc(key, nkey, hv, flags, exptime, vlen);
  if (it == 0) return V_NO_MEMORY;
  if (inEnd - data >= vlen + trailer) {
    copy(itemData(it), data, vlen);
    VALUE_ITEM = it;
    VALUE_NEXT = data + vlen + trailer;
    VALUE_BAD_TRAILER = trailer != 0 && (ld8(data + vlen) != 13 || ld8(data + vlen + 1) != 10);
    return V_READY;
  }
  hset(R_VALUE_ITEM, it);
  hset(R_VALUE_TAIL, 0);
  hset(R_VALUE_PTR, itemData(it));
  hset(R_VALUE_LEN, vlen);
  hset(R_VALUE_AT, data - cmdStart);
  hset(R_VALUE_TRAILER, trailer);
  return V_PENDING;
}

/**
 * End of a call: an item handed over ready but not taken (the command did
 * not reach valueIn, which a well-formed exchange never does) is freed, so
 * that no in-flight chunk outlives its call unaccounted.
 */
export function valueUnclaimed(): void {
  if ((hget(R_VALUE_TAIL) & VALUE_READY) == 0) return;
  const it = hget(R_VALUE_ITEM);
  hset(R_VALUE_ITEM, 0);
  hset(R_VALUE_TAIL, 0);
  if (it != 0) itemFree(it);
}

/**
 * Writes `n` value bytes at `p` of linked item `it`, then CRLF if `crlf`.
 * What does not fit goes out in later calls (sendContinue); returns false
 * then, and the caller must stop writing for this call. False without
 * writing anything when the item cannot be pinned (retry later).
 */
export function sendValue(it: u32, p: u32, n: u32, crlf: bool): bool {
  const room = outRoom();
  const whole = n + (crlf ? 2 : 0);
  if (whole <= room) {
    outBytes(p, n);
    if (crlf) outCRLF();
    return true;
  }
  if (!itemPin(it)) return false;
  const first = n < room ? n : room;
  outBytes(p, first);
  hset(R_SEND_ITEM, it);
  hset(R_SEND_OFF, (first | (crlf ? SEND_CRLF : 0)) >>> 0);
  return false;
}

/** Whether a value is still being sent on this connection. */
export function sendPending(): bool { return hget(R_SEND_ITEM) != 0; }

/**
 * Start of a call: continues the value being sent. True when it is done
 * (or there was none) and the call may go on to new commands.
 */
export function sendContinue(): bool {
  const it = hget(R_SEND_ITEM);
  if (it == 0) return true;
  const word = hget(R_SEND_OFF);
  const crlf = (word & SEND_CRLF) != 0;
  const off = word & ~SEND_CRLF;
  const left = ld32(it + IT_VLEN) - off;
  const room = outRoom();
  if (left + (crlf ? 2 : 0) > room) {
    const n = left < room ? left : room;
    outBytes(itemData(it) + off, n);
    hset(R_SEND_OFF, ((off + n) | (crlf ? SEND_CRLF : 0)) >>> 0);
    return false;
  }
  outBytes(itemData(it) + off, left);
  if (crlf) outCRLF();
  hset(R_SEND_ITEM, 0);
  hset(R_SEND_OFF, 0);
  itemUnpin(it);
  return true;
}

/** The connection is gone: releases its half-received and half-sent items. */
export function valuesRelease(): void {
  const inItem = hget(R_VALUE_ITEM);
  if (inItem != 0) itemFree(inItem);
  hset(R_VALUE_ITEM, 0);
  hset(R_VALUE_TAIL, 0);
  const outItem = hget(R_SEND_ITEM);
  if (outItem != 0) itemUnpin(outItem);
  hset(R_SEND_ITEM, 0);
  hset(R_SEND_OFF, 0);
}
