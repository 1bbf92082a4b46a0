// Item lifecycle, after memcached's items.c: allocation (reclaiming expired
// items, evicting from the LRU tail, or taking a page from another class
// through rebalance.ts), link/unlink into the hash table and LRU, relocation
// of a linked item to another chunk, and lookup with lazy expiry.
//
// Callers: store.ts, crawler.ts, rebalance.ts, proto/ (lookups only through
// store.ts).
import { ld8, st8, ld32, st32, copy } from './mem';
import {
  S, hget, hset, currentTime, H_OPTS, H_CAS_LO, H_CAS_HI, H_OLDEST_LIVE, H_OLDEST_CAS_LO,
  H_OLDEST_CAS_HI, H_CURR_ITEMS, H_BYTES_LO, H_PINNED, H_AUTOMOVE,
} from './arena';
import { OPT_NO_CAS, OPT_NO_EVICTIONS, LG_NOT_FOUND, LG_FOUND, LG_FLUSHED, LG_EXPIRED, HOST_SETTINGS, HSET_LRU_FLAT } from './abi';
import { LOG_MASK, logItemGet, logEviction } from './log';
import {
  IT_HASH, IT_EXPTIME, IT_TIME, IT_FLAGS, IT_VLEN, IT_CAS_LO, IT_CAS_HI, IT_KLEN, IT_CLS,
  IT_IFLAGS, IT_KEY, IT_PREV, IT_REFS, ITEM_HEADER, IF_LINKED, IF_FREE, IF_FETCHED, IF_ACTIVE,
} from './items_layout';
import {
  slabsAlloc, slabsFree, slabsClassFor, clGet, clSet, cls, CL_ITEMS, CL_REQUESTED, CL_LRU_TAIL,
  CL_EVICTED, CL_EVICTED_NONZERO, CL_EVICTED_TIME, CL_EVICTED_UNFETCHED, CL_EVICTED_ACTIVE,
  CL_RECLAIMED, CL_EXPIRED_UNFETCHED, CL_OUTOFMEMORY, CL_MOVES_WITHIN_LRU, CL_DIRTY_TIME, CL_LRUTAIL_REFLOCKED, CL_DIRECT_RECLAIMS,
} from './slabs';
import { assocFind, assocInsert, assocDelete, assocReplace } from './assoc';
import { lruLink, lruUnlink, lruBump, lruReplace } from './lru';
import { rebalanceFor, MOVE_SPARE, MOVE_OLDER, MOVE_ANY } from './rebalance';
import { hashKey } from './hash';
import { u64Add, u64Lt, u64AddAt, u64SubAt, u64IncAt, R_HI, R_LO } from './u64';
import {
  statInc, C_TOTAL_ITEMS, C_EVICTIONS, C_RECLAIMED, C_EXPIRED_UNFETCHED, C_EVICTED_UNFETCHED,
  C_EVICTED_ACTIVE, C_GET_EXPIRED, C_GET_FLUSHED,
} from './stats';

/** How far up from the tail lruPullTail looks. */
const TAIL_SEARCH: u32 = 5;
/** Allocation retries, each freeing at most one chunk (memcached: 10). */
const ALLOC_TRIES: u32 = 10;


export function itemTotal(it: u32): u32 { return ITEM_HEADER + ld8(it + IT_KLEN) + ld32(it + IT_VLEN); }
export function itemKey(it: u32): u32 { return it + IT_KEY; }
export function itemData(it: u32): u32 { return it + IT_KEY + ld8(it + IT_KLEN); }
export function itemIsLinked(it: u32): bool { return (ld8(it + IT_IFLAGS) & IF_LINKED) != 0; }
export function itemHash(key: u32, nkey: u32): u32 { return hashKey(key, nkey); }

/** Next CAS unique (memcached's get_cas_id); 0 with -C. */
export function nextCas(): void {
  if ((hget(H_OPTS) & OPT_NO_CAS) != 0) {
    u64Add(0, 0, 0, 0);
    return;
  }
  u64Add(hget(H_CAS_HI), hget(H_CAS_LO), 0, 1);
  hset(H_CAS_LO, R_LO);
  hset(H_CAS_HI, R_HI);
}

export function itemSetCas(it: u32, hi: u32, lo: u32): void {
  st32(it + IT_CAS_LO, lo);
  st32(it + IT_CAS_HI, hi);
}

/** Flushed by flush_all (memcached's item_is_flushed). */
export function itemIsFlushed(it: u32): bool {
  const oldest = hget(H_OLDEST_LIVE);
  if (oldest == 0 || oldest > currentTime()) return false;
  if (ld32(it + IT_TIME) <= oldest) return true;
  const ocHi = hget(H_OLDEST_CAS_HI);
  const ocLo = hget(H_OLDEST_CAS_LO);
  const cHi = ld32(it + IT_CAS_HI);
  const cLo = ld32(it + IT_CAS_LO);
  if ((ocHi | ocLo) != 0 && (cHi | cLo) != 0 && u64Lt(cHi, cLo, ocHi, ocLo)) return true;
  return false;
}

export function itemIsExpired(it: u32): bool {
  const e = ld32(it + IT_EXPTIME);
  return e != 0 && e <= currentTime();
}

/** Links an in-flight item: hash table, LRU, new CAS, counters. */
export function itemLink(it: u32): void {
  const c: u32 = ld8(it + IT_CLS);
  st8(it + IT_IFLAGS, (ld8(it + IT_IFLAGS) | IF_LINKED) & ~(IF_FETCHED | IF_ACTIVE));
  st32(it + IT_TIME, currentTime());
  nextCas();
  itemSetCas(it, R_HI, R_LO);
  assocInsert(it, ld32(it + IT_HASH));
  lruLink(c, it);
  const total = itemTotal(it);
  hset(H_CURR_ITEMS, hget(H_CURR_ITEMS) + 1);
  u64AddAt(S + H_BYTES_LO, total);
  statInc(C_TOTAL_ITEMS);
  clSet(c, CL_ITEMS, clGet(c, CL_ITEMS) + 1);
  u64AddAt(cls(c) + CL_REQUESTED, total);
}

/** Unlinks a linked item; the chunk stays in flight (caller frees it). */
export function itemUnlinkKeep(it: u32): void {
  const c: u32 = ld8(it + IT_CLS);
  st8(it + IT_IFLAGS, ld8(it + IT_IFLAGS) & ~IF_LINKED);
  assocDelete(it, ld32(it + IT_HASH));
  lruUnlink(c, it);
  const total = itemTotal(it);
  hset(H_CURR_ITEMS, hget(H_CURR_ITEMS) - 1);
  u64SubAt(S + H_BYTES_LO, total);
  clSet(c, CL_ITEMS, clGet(c, CL_ITEMS) - 1);
  u64SubAt(cls(c) + CL_REQUESTED, total);
}

/** Unlinks a linked item and frees its chunk, or leaves the chunk to the
 *  last itemUnpin while a connection is still sending its value. */
export function itemUnlink(it: u32): void {
  itemUnlinkKeep(it);
  if (ld8(it + IT_REFS) == 0) slabsFree(it);
}

/**
 * Pins an item while its value is sent over more than one call (memcached's
 * refcount): it is not evicted, its chunk is not freed even if it is
 * unlinked, and its page does not move, until the matching itemUnpin.
 * False when the count is saturated; the caller then waits.
 */
export function itemPin(it: u32): bool {
  const refs: u32 = ld8(it + IT_REFS);
  if (refs == 255) return false;
  st8(it + IT_REFS, refs + 1);
  return true;
}

export function itemUnpin(it: u32): void {
  const refs: u32 = ld8(it + IT_REFS) - 1;
  st8(it + IT_REFS, refs);
  if (refs == 0 && (ld8(it + IT_IFLAGS) & (IF_LINKED | IF_FREE)) == 0) slabsFree(it);
}

export function itemIsPinned(it: u32): bool { return ld8(it + IT_REFS) != 0; }

/**
 * Moves linked `it` into in-flight chunk `to` of the same class (a slab page
 * move's rescue): same key, value, CAS, flags, times and LRU position; `it`
 * is left in flight. Counters do not change.
 */
export function itemRelocate(it: u32, to: u32): void {
  copy(to, it, itemTotal(it));
  assocReplace(it, to, ld32(it + IT_HASH));
  lruReplace(ld8(it + IT_CLS), it, to);
  st8(it + IT_IFLAGS, 0);
}

/** Replaces linked `old` by in-flight `it` (same key). */
export function itemReplace(old: u32, it: u32): void {
  itemUnlink(old);
  itemLink(it);
}

/**
 * The live item with this key, or 0. Expired and flushed items found on the
 * way are unlinked (lazy expiry). `bump` marks a fetch for the LRU.
 */
export function itemGet(key: u32, nkey: u32, hv: u32, bump: bool): u32 {
  const it = assocFind(key, nkey, hv);
  if (it == 0) {
    if (LOG_MASK != 0) logItemGet(LG_NOT_FOUND, key, nkey, 0);
    return 0;
  }
  if (itemIsFlushed(it)) {
    itemUnlink(it);
    statInc(C_GET_FLUSHED);
    if (LOG_MASK != 0) logItemGet(LG_FLUSHED, key, nkey, 0);
    return 0;
  }
  if (itemIsExpired(it)) {
    itemUnlink(it);
    statInc(C_GET_EXPIRED);
    if (LOG_MASK != 0) logItemGet(LG_EXPIRED, key, nkey, 0);
    return 0;
  }
  if (bump) itemBump(it);
  if (LOG_MASK != 0) logItemGet(LG_FOUND, key, nkey, it);
  return it;
}

/**
 * The live item with this key, or 0, without any side effect: no lazy
 * unlink, no bump, no counter. For looking at keys before their command
 * runs (proto/warm_keys.ts).
 */
export function itemPeek(key: u32, nkey: u32, hv: u32): u32 {
  const it = assocFind(key, nkey, hv);
  if (it == 0 || itemIsFlushed(it) || itemIsExpired(it)) return 0;
  return it;
}

/** A fetch: first marks FETCHED, the next ACTIVE (second chance at the tail). */
export function itemBump(it: u32): void {
  const f: u32 = ld8(it + IT_IFLAGS);
  if ((f & IF_ACTIVE) == 0) {
    if ((f & IF_FETCHED) == 0) {
      st8(it + IT_IFLAGS, f | IF_FETCHED);
    } else {
      st8(it + IT_IFLAGS, f | IF_ACTIVE);
      st32(it + IT_TIME, currentTime());
    }
  }
}

/** Counts an eviction of `it` in its class and globally (and logs it). */
export function countEviction(c: u32, it: u32): void {
  if (LOG_MASK != 0) logEviction(it);
  const f: u32 = ld8(it + IT_IFLAGS);
  clSet(c, CL_DIRTY_TIME, currentTime());
  statInc(C_EVICTIONS);
  u64IncAt(cls(c) + CL_EVICTED);
  if (ld32(it + IT_EXPTIME) != 0) u64IncAt(cls(c) + CL_EVICTED_NONZERO);
  clSet(c, CL_EVICTED_TIME, currentTime() - ld32(it + IT_TIME));
  if ((f & IF_FETCHED) == 0) {
    statInc(C_EVICTED_UNFETCHED);
    u64IncAt(cls(c) + CL_EVICTED_UNFETCHED);
  }
  if ((f & IF_ACTIVE) != 0) {
    statInc(C_EVICTED_ACTIVE);
    u64IncAt(cls(c) + CL_EVICTED_ACTIVE);
  }
}

/** Counts a reclaimed (expired or flushed) item. */
export function countReclaim(c: u32, it: u32): void {
  statInc(C_RECLAIMED);
  u64IncAt(cls(c) + CL_RECLAIMED);
  if ((ld8(it + IT_IFLAGS) & IF_FETCHED) == 0) {
    statInc(C_EXPIRED_UNFETCHED);
    u64IncAt(cls(c) + CL_EXPIRED_UNFETCHED);
  }
}

/**
 * Frees one chunk of class c from its LRU tail: an expired or flushed item
 * if one is near the tail, else (when `evict`) the least recently used item,
 * giving active items a second chance. Returns whether a chunk was freed.
 */
function lruPullTail(c: u32, evict: bool): bool {
  const pinned = hget(H_PINNED);
  let it = clGet(c, CL_LRU_TAIL);
  let tries = TAIL_SEARCH;
  while (it != 0 && tries > 0) {
    tries--;
    const prev = ld32(it + IT_PREV);
    if (it == pinned || ld8(it + IT_REFS) != 0) {
      if (it != pinned) u64IncAt(cls(c) + CL_LRUTAIL_REFLOCKED);
      it = prev;
      continue;
    }
    if (itemIsExpired(it) || itemIsFlushed(it)) {
      countReclaim(c, it);
      itemUnlink(it);
      return true;
    }
    if (evict) {
      const f: u32 = ld8(it + IT_IFLAGS);
      if ((f & IF_ACTIVE) != 0 && tries > 0) {
        st8(it + IT_IFLAGS, f & ~IF_ACTIVE);
        lruBump(c, it);
        u64IncAt(cls(c) + CL_MOVES_WITHIN_LRU);
        it = clGet(c, CL_LRU_TAIL);
        continue;
      }
      countEviction(c, it);
      itemUnlink(it);
      return true;
    }
    it = prev;
  }
  return false;
}

/**
 * Allocates an in-flight item for key/value sizes and fills its header and
 * key. Returns 0 when no memory can be found (with -M, or nothing evictable).
 */
export function itemAlloc(key: u32, nkey: u32, hv: u32, flags: u32, exptime: u32, vlen: u32): u32 {
  const total = ITEM_HEADER + nkey + vlen;
  const c = slabsClassFor(total);
  if (c == 0) return 0;
  // memcached's flat LRU reuses a dead item's memory before free memory.
  if (hget(HOST_SETTINGS + (HSET_LRU_FLAT << 2)) != 0) lruPullTail(c, false);
  let it = slabsAlloc(c);
  if (it == 0) it = itemAllocPull(c);
  if (it == 0) {
    u64IncAt(cls(c) + CL_OUTOFMEMORY);
    clSet(c, CL_DIRTY_TIME, currentTime());
    return 0;
  }
  st32(it + IT_HASH, hv);
  st32(it + IT_EXPTIME, exptime);
  st32(it + IT_TIME, currentTime());
  st32(it + IT_FLAGS, flags);
  st32(it + IT_VLEN, vlen);
  itemSetCas(it, 0, 0);
  st8(it + IT_KLEN, nkey);
  copy(it + IT_KEY, key, nkey);
  return it;
}

/**
 * Makes room in full class c and allocates from it (memcached's
 * do_item_alloc_pull): each try frees at least one chunk of c or gives c a
 * page, cheapest loss first — c's own expired or flushed items near its tail,
 * a page another class can give up without losing a live item, a page of a
 * clearly older class, c's least recently used item; and when c has nothing
 * to evict (memcached would give such a class its first page beyond -m), a
 * page of any class. With -M only the lossless steps run.
 */
function itemAllocPull(c: u32): u32 {
  const evict = (hget(H_OPTS) & OPT_NO_EVICTIONS) == 0;
  const automove = hget(H_AUTOMOVE) != 0;
  for (let tries = ALLOC_TRIES; tries > 0; tries--) {
    let freed = lruPullTail(c, false);
    if (freed) u64IncAt(cls(c) + CL_DIRECT_RECLAIMS);
    if (!freed) {
      let kinds: u32 = 0;
      if (automove || clGet(c, CL_LRU_TAIL) == 0) kinds |= MOVE_SPARE;
      if (automove && evict) kinds |= MOVE_OLDER;
      if (kinds != 0) freed = rebalanceFor(c, kinds);
    }
    if (!freed && evict) {
      freed = lruPullTail(c, true);
      if (freed) u64IncAt(cls(c) + CL_DIRECT_RECLAIMS);
      else freed = rebalanceFor(c, MOVE_ANY);
    }
    if (!freed) return 0;
    const it = slabsAlloc(c);
    if (it != 0) return it;
  }
  return 0;
}

/** Frees an in-flight item that will not be linked. */
export function itemFree(it: u32): void { slabsFree(it); }
