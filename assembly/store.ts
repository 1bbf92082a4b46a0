// Logical operations on the cache: the one API every protocol front end uses
// (text now; meta and binary later), after memcached's do_store_item,
// do_add_delta and friends. Nothing here parses or formats the wire.
import { ld8, st8, ld32, st32, copy } from './mem';
import {
  hget, hset, currentTime, H_PROCESS_STARTED, H_PINNED, H_OLDEST_LIVE, H_OLDEST_CAS_LO,
  H_OLDEST_CAS_HI, H_CAS_LO, H_CAS_HI, H_OPTS, H_ITEM_MAX,
} from './arena';
import {
  OPT_NO_CAS, REALTIME_MAXDELTA, LG_NOT_FOUND, LS_STORED, LS_NOT_STORED, LS_EXISTS, LS_NOT_FOUND, LD_DELETE,
} from './abi';
import { LOG_MASK, logItemGet, logItemStore, logCasMismatch, logDeleted } from './log';
import {
  itemAlloc, itemFree, itemGet, itemLink, itemReplace, itemUnlink, itemData, itemKey, itemBump,
  nextCas, itemSetCas, itemIsPinned,
} from './items';
import {
  IT_FLAGS, IT_EXPTIME, IT_VLEN, IT_CAS_LO, IT_CAS_HI, IT_CLS, IT_KLEN, IT_HASH, IT_TIME, IT_IFLAGS,
  IF_STALE, IF_TOKEN_SENT,
} from './items_layout';
import { cls, CL_CAS_HITS, CL_CAS_BADVAL, CL_INCR_HITS, CL_DECR_HITS, CL_CMD_SET } from './slabs';
import { u64Add, u64Lt, u64IncAt, u64Format, R_HI, R_LO } from './u64';
import { parseU64, N_HI, N_LO } from './numbers';
import { statInc, C_CAS_MISSES } from './stats';

// Storage commands (memcached's NREAD_*).
export const CMD_ADD: u32 = 1;
export const CMD_SET: u32 = 2;
export const CMD_REPLACE: u32 = 3;
export const CMD_APPEND: u32 = 4;
export const CMD_PREPEND: u32 = 5;
export const CMD_CAS: u32 = 6;

// Outcomes, one-to-one with reply lines (memcached's store_item_type).
export const STORED: u32 = 1;
export const NOT_STORED: u32 = 2;
export const EXISTS: u32 = 3;
export const NOT_FOUND: u32 = 4;

export const DELTA_OK: u32 = 0;
export const DELTA_NON_NUMERIC: u32 = 1;
export const DELTA_EOM: u32 = 2;
export const DELTA_NOT_FOUND: u32 = 3;
export const DELTA_CAS_MISMATCH: u32 = 4;

/** The item a STORED storeItem linked (the joined one for append/prepend). */
export let STORED_ITEM: u32 = 0;

/**
 * memcached's realtime(): 0 = never; up to 30 days = relative seconds;
 * larger = absolute unix time (at or before process start: already expired).
 * `e` is a non-negative int32 (callers map negatives first, see positiveTime).
 */
export function realtime(e: u32): u32 {
  if (e == 0) return 0;
  if (e > REALTIME_MAXDELTA) {
    const started = hget(H_PROCESS_STARTED);
    if (e <= started) return 1;
    return e - started;
  }
  return (e + currentTime()) >>> 0;
}

/** EXPTIME_TO_POSITIVE_TIME: a negative exptime means already expired. */
export function positiveTime(e: u32): u32 {
  return (e & 0x80000000) != 0 ? REALTIME_MAXDELTA + 1 : e;
}

/** memcached's item_size_ok: its own item header decides the -I limit, so
 *  that exactly the same values are accepted as by memcached. `nbytes`
 *  includes the trailing CRLF. */
export function itemSizeOk(nkey: u32, flags: u32, nbytes: u32): bool {
  // nbytes <= 2^31 (checked by the caller), so the sum fits 32 bits.
  let total: u32 = 48 + nkey + 1 + nbytes;
  if (flags != 0) total += 4;
  if ((hget(H_OPTS) & OPT_NO_CAS) == 0) total += 8;
  return total <= hget(H_ITEM_MAX);
}

/**
 * Stores in-flight item `it` per `comm`; takes ownership (links or frees
 * it). For CMD_CAS, (casHi, casLo) is the client's unique; with `allowStale`
 * (meta `ms ... I`) a unique older than the item's still stores, marked
 * stale, keeping the old expiry and win token (memcached's CAS_ALLOW_STALE).
 */
export function storeItem(it: u32, comm: u32, casHi: u32, casLo: u32, allowStale: bool): u32 {
  const r = storeItemDo(it, comm, casHi, casLo, allowStale);
  if (r == STORED && LOG_MASK != 0) logItemStore(LS_STORED, comm, STORED_ITEM);
  return r;
}

function storeItemDo(it: u32, comm: u32, casHi: u32, casLo: u32, allowStale: bool): u32 {
  STORED_ITEM = it;
  const nkey: u32 = ld8(it + IT_KLEN);
  const old = itemGet(itemKey(it), nkey, ld32(it + IT_HASH), false);
  let stored = NOT_STORED;
  if (old != 0) {
    const oldHi = ld32(old + IT_CAS_HI);
    const oldLo = ld32(old + IT_CAS_LO);
    const casNone = (casHi | casLo) == 0;
    const casMatch = !casNone && casHi == oldHi && casLo == oldLo;
    if (comm == CMD_ADD) {
      // add only adds a nonexistent item, but it counts as a use of the old one
      itemTouchTime(old);
    } else if (comm == CMD_CAS) {
      if (casMatch) {
        u64IncAt(cls(ld8(old + IT_CLS)) + CL_CAS_HITS);
        itemReplace(old, it);
        return STORED;
      }
      // (a zero unique never counts as older, as in memcached 1.6.18)
      if (allowStale && !casNone && u64Lt(casHi, casLo, oldHi, oldLo)) {
        st32(it + IT_EXPTIME, ld32(old + IT_EXPTIME));
        st8(it + IT_IFLAGS, ld8(it + IT_IFLAGS) | IF_STALE | (ld8(old + IT_IFLAGS) & IF_TOKEN_SENT));
        u64IncAt(cls(ld8(old + IT_CLS)) + CL_CAS_HITS);
        itemReplace(old, it);
        return STORED;
      }
      u64IncAt(cls(ld8(old + IT_CLS)) + CL_CAS_BADVAL);
      if (LOG_MASK != 0) logCasMismatch(old, casHi, casLo);
      stored = EXISTS;
    } else if (comm == CMD_APPEND || comm == CMD_PREPEND) {
      if (!casNone && !casMatch) {
        stored = EXISTS;
      } else {
        const oldLen = ld32(old + IT_VLEN);
        const addLen = ld32(it + IT_VLEN);
        const flags = ld32(old + IT_FLAGS);
        if (itemSizeOk(nkey, flags, oldLen + addLen + 2)) {
          hset(H_PINNED, old);
          const joined = itemAlloc(itemKey(it), nkey, ld32(it + IT_HASH), flags, ld32(old + IT_EXPTIME), oldLen + addLen);
          hset(H_PINNED, 0);
          if (joined != 0) {
            const dst = itemData(joined);
            if (comm == CMD_APPEND) {
              copy(dst, itemData(old), oldLen);
              copy(dst + oldLen, itemData(it), addLen);
            } else {
              copy(dst, itemData(it), addLen);
              copy(dst + addLen, itemData(old), oldLen);
            }
            itemReplace(old, joined);
            itemFree(it);
            STORED_ITEM = joined;
            return STORED;
          }
        }
      }
    } else {
      // set, replace
      itemReplace(old, it);
      return STORED;
    }
  } else {
    if (comm == CMD_ADD || comm == CMD_SET) {
      itemLink(it);
      return STORED;
    }
    if (comm == CMD_CAS) {
      statInc(C_CAS_MISSES);
      stored = NOT_FOUND;
    }
  }
  if (LOG_MASK != 0) logItemStore(stored == EXISTS ? LS_EXISTS : stored == NOT_FOUND ? LS_NOT_FOUND : LS_NOT_STORED, comm, it);
  itemFree(it);
  return stored;
}

/** do_item_update: refresh the access time at most once a minute. */
function itemTouchTime(it: u32): void {
  const now = currentTime();
  if (ld32(it + IT_TIME) + 60 < now) st32(it + IT_TIME, now);
}

/** Result digits of the last storeDelta (at DELTA_BUF, DELTA_LEN bytes). */
export let DELTA_LEN: u32 = 0;
/** Whether the last storeDelta linked a new item in place of the old one
 * (the digits grew, or a reader pinned the old copy). memcached's
 * do_add_delta then hands back the old, unlinked item, so meta `ma`'s `T`
 * changes a copy nobody reads any more; `ma` follows that. */
export let DELTA_REPLACED: bool = false;
/** The item holding the result of the last DELTA_OK storeDelta. */
export let DELTA_ITEM: u32 = 0;

/**
 * incr/decr: 64-bit, incr wraps, decr stops at 0. The new value's digits are
 * written to `buf` (DELTA_LEN bytes). When they fit the old value's length the
 * item is updated in place, padded with spaces (as memcached: "100" - 1 is
 * stored as "99 "); otherwise a new item replaces it.
 */
export function storeDelta(key: u32, nkey: u32, hv: u32, incr: bool, dHi: u32, dLo: u32, buf: u32, scratch: u32, casHi: u32, casLo: u32): u32 {
  const it = itemGet(key, nkey, hv, false);
  if (it == 0) return DELTA_NOT_FOUND;
  const vlen = ld32(it + IT_VLEN);
  if (vlen == 0) return DELTA_NON_NUMERIC;
  // A nonzero unique (meta `ma ... C`) must match, as in do_add_delta.
  if ((casHi | casLo) != 0 && (ld32(it + IT_CAS_HI) != casHi || ld32(it + IT_CAS_LO) != casLo)) return DELTA_CAS_MISMATCH;
  const data = itemData(it);
  if (!parseU64(data, data + vlen)) return DELTA_NON_NUMERIC;
  let hi = N_HI;
  let lo = N_LO;
  const c: u32 = ld8(it + IT_CLS);
  if (incr) {
    u64Add(hi, lo, dHi, dLo);
    hi = R_HI;
    lo = R_LO;
    u64IncAt(cls(c) + CL_INCR_HITS);
  } else {
    if (u64Lt(hi, lo, dHi, dLo)) {
      hi = 0;
      lo = 0;
    } else {
      const borrow: u32 = dLo > lo ? 1 : 0;
      lo = (lo - dLo) >>> 0;
      hi = (hi - dHi - borrow) >>> 0;
    }
    u64IncAt(cls(c) + CL_DECR_HITS);
  }
  const len = u64Format(hi, lo, buf, scratch) - buf;
  DELTA_LEN = len;
  DELTA_REPLACED = false;
  // In place only while no connection is sending the old digits (memcached:
  // refcount == 2), else they would change under the reader.
  if (len <= vlen && !itemIsPinned(it)) {
    nextCas();
    itemSetCas(it, R_HI, R_LO);
    copy(data, buf, len);
    for (let i = len; i < vlen; i++) st8(data + i, 32);
    itemTouchTime(it);
    DELTA_ITEM = it;
    return DELTA_OK;
  }
  hset(H_PINNED, it);
  const grown = itemAlloc(key, nkey, hv, ld32(it + IT_FLAGS), ld32(it + IT_EXPTIME), len);
  hset(H_PINNED, 0);
  if (grown == 0) return DELTA_EOM;
  copy(itemData(grown), buf, len);
  itemReplace(it, grown);
  DELTA_ITEM = grown;
  DELTA_REPLACED = true;
  return DELTA_OK;
}

/** A failed store must not leave the old value readable: drops the key. */
export function storeDrop(key: u32, nkey: u32, hv: u32): void {
  const old = itemGet(key, nkey, hv, false);
  if (old != 0) itemUnlink(old);
}

/** delete: the class of the live item removed, 0 if there was none. */
export function storeDelete(key: u32, nkey: u32, hv: u32): u32 {
  const it = itemGet(key, nkey, hv, false);
  if (it == 0) return 0;
  return storeDeleteItem(it, LD_DELETE);
}

/** Removes linked item `it`, deleted by command `cmd` (LD_*); its class. */
export function storeDeleteItem(it: u32, cmd: u32): u32 {
  const c: u32 = ld8(it + IT_CLS);
  if (LOG_MASK != 0) logDeleted(it, cmd);
  itemUnlink(it);
  return c;
}

/**
 * Links a new item holding `vlen` bytes at `value` (may be 0 bytes) for a
 * key known to be missing: meta vivify-on-miss, binary incr's initial value.
 * Returns it, or 0 (memory).
 */
export function storeCreate(key: u32, nkey: u32, hv: u32, value: u32, vlen: u32, exptime: u32): u32 {
  const it = itemAlloc(key, nkey, hv, 0, exptime, vlen);
  if (it == 0) return 0;
  copy(itemData(it), value, vlen);
  itemLink(it);
  return it;
}

/** storeCreate where memcached stores the new item through do_store_item
 *  as an add (binary incr's initial value, `ma` creating on a miss): its
 *  logs show that add's lookup and store. */
export function storeCreateAdd(key: u32, nkey: u32, hv: u32, value: u32, vlen: u32, exptime: u32): u32 {
  const it = storeCreate(key, nkey, hv, value, vlen, exptime);
  if (it != 0 && LOG_MASK != 0) {
    logItemGet(LG_NOT_FOUND, key, nkey, 0);
    logItemStore(LS_STORED, CMD_ADD, it);
  }
  return it;
}

/**
 * Meta invalidation (`md ... I`): the item stays readable but stale, gets a
 * new unique, may get a new expiry, and the next reader wins a recompute.
 */
export function storeInvalidate(it: u32, setTtl: bool, exptime: u32): void {
  if (setTtl) st32(it + IT_EXPTIME, exptime);
  st8(it + IT_IFLAGS, (ld8(it + IT_IFLAGS) | IF_STALE) & ~IF_TOKEN_SENT);
  nextCas();
  itemSetCas(it, R_HI, R_LO);
}

/** touch / gat: the live item with its expiry changed, or 0. */
export function storeTouch(key: u32, nkey: u32, hv: u32, exptime: u32): u32 {
  const it = itemGet(key, nkey, hv, true);
  if (it != 0) st32(it + IT_EXPTIME, exptime);
  return it;
}

/**
 * flush_all [delay]: items stored before the horizon become invisible
 * (memcached's oldest_live / oldest_cas). `delay` is the parsed int32.
 */
export function storeFlush(delay: u32): void {
  storeFlushUntil((delay & 0x80000000) == 0 && delay > 0 ? realtime(delay) : currentTime());
}

/** Items stored before relative time `newOldest` become invisible. */
export function storeFlushUntil(newOldest: u32): void {
  const now = currentTime();
  if ((hget(H_OPTS) & OPT_NO_CAS) == 0) {
    const oldest = newOldest - 1;
    hset(H_OLDEST_LIVE, oldest);
    if (oldest <= now) {
      nextCas();
      hset(H_OLDEST_CAS_LO, R_LO);
      hset(H_OLDEST_CAS_HI, R_HI);
    }
  } else {
    hset(H_OLDEST_LIVE, newOldest);
  }
}

export { itemBump };

/** A set-type command brought its data into `it`: counted per class, as
 *  memcached does, before the store decides (a bad data chunk counts too).
 *  `stats` reports cmd_set as the sum over classes. */
export function countSet(it: u32): void {
  u64IncAt(cls(ld8(it + IT_CLS)) + CL_CMD_SET);
}
