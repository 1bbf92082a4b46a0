// Slab allocator, after memcached's slabs.c: the item area is cut into pages
// (1 MiB, or -I when larger); each page belongs to one size class and is cut
// into equal chunks. Class sizes start at header + -n bytes and grow by -f;
// the last class is a whole page.
//
// Invariants:
//  1. A chunk is free (IF_FREE, on its class's doubly linked free list),
//     linked (IF_LINKED, in the hash table and its class's LRU), or in flight
//     (neither; only inside one engine call, between alloc and link).
//  2. Chunks of a page are carved lazily: CL_CARVE_PTR..CL_CARVE_END is the
//     untouched rest of the class's newest page (0..0 once it is used up), so
//     untouched memory is never read or written (and never counts in the
//     process's RSS).
//  3. PAGE_OWNERS[i] is the class of page i, 0 when unassigned: never carved,
//     or in the global page pool (H_FREE_PAGE list, H_FREE_PAGES long:
//     memcached's slab class 0).
//  4. Only chunks below a page's end (pageEnd) have meaningful headers; a
//     page that changes hands keeps stale bytes above its new carve pointer.
//
// Pages move between classes and to the pool in rebalance.ts; this file only
// keeps the books of a move (slabsReleasePage, slabsAssignPage).
//
// Callers: items.ts, rebalance.ts, crawler.ts, proto/text_admin.ts.
import { ld8, st8, ld32, st32 } from './mem';
import {
  S, hget, hset, alignUp, H_ITEM_MAX, H_CHUNK_MIN, H_FACTOR, H_PAGE_SIZE, H_PAGES_PTR, H_PAGES_LIMIT, H_PAGES_MAX,
  H_PAGES_CARVED, H_FREE_PAGE, H_FREE_PAGES, H_NCLASSES, H_CRAWL_PAGE, H_CRAWL_CHUNK, CLASS_TABLE,
  PAGE_OWNERS, currentTime,
} from './arena';
import { MAX_CLASSES } from './abi';
import { IT_PREV, IT_NEXT, IT_IFLAGS, IT_CLS, IT_REFS, IF_FREE, IF_LINKED, ITEM_HEADER } from './items_layout';

// ---- class record (CLASS_REC bytes per class, class 0 unused) ----------------
export const CLASS_REC: u32 = 256;
export const CL_SIZE: u32 = 0;
export const CL_PERPAGE: u32 = 4;
export const CL_PAGES: u32 = 8;
export const CL_FREE_HEAD: u32 = 12;
export const CL_FREE_COUNT: u32 = 16;
export const CL_LRU_HEAD: u32 = 20;    // most recently linked
export const CL_LRU_TAIL: u32 = 24;    // eviction end
export const CL_ITEMS: u32 = 28;
export const CL_CARVE_PTR: u32 = 32;
export const CL_CARVE_END: u32 = 36;
export const CL_REQUESTED: u32 = 40;   // 64-bit: bytes of linked items
export const CL_EVICTED_TIME: u32 = 48;
// 64-bit per-class counters
export const CL_EVICTED: u32 = 56;
export const CL_EVICTED_NONZERO: u32 = 64;
export const CL_OUTOFMEMORY: u32 = 72;
export const CL_RECLAIMED: u32 = 80;
export const CL_EXPIRED_UNFETCHED: u32 = 88;
export const CL_EVICTED_UNFETCHED: u32 = 96;
export const CL_EVICTED_ACTIVE: u32 = 104;
export const CL_CRAWLER_RECLAIMED: u32 = 112;
export const CL_GET_HITS: u32 = 120;
export const CL_CMD_SET: u32 = 128;
export const CL_DELETE_HITS: u32 = 136;
export const CL_INCR_HITS: u32 = 144;
export const CL_DECR_HITS: u32 = 152;
export const CL_CAS_HITS: u32 = 160;
export const CL_CAS_BADVAL: u32 = 168;
export const CL_TOUCH_HITS: u32 = 176;
export const CL_MOVES_WITHIN_LRU: u32 = 184;
export const CL_CRAWLER_CHECKED: u32 = 192;
export const CL_COUNTERS_START: u32 = 56;
export const CL_COUNTERS_END: u32 = 200;
/** Last time the class evicted, ran out of memory or gained a page: the
 *  automover leaves a class alone for a window after that (rebalance.ts). */
export const CL_DIRTY_TIME: u32 = 200;
/** In class 0's record (the pool's, otherwise unused): 1 + the last time a
 *  page moved to a class by the age ratio (MOVE_OLDER, rebalance.ts). */
export const CL_OLDER_MOVED: u32 = 204;
/** Tail items skipped because a reader still holds them (memcached's name). */
export const CL_LRUTAIL_REFLOCKED: u32 = 208;
/** Chunks a write freed itself from its class's tail (reclaims and evictions). */
export const CL_DIRECT_RECLAIMS: u32 = 216;
export const CL_COUNTERS2_START: u32 = 208;
export const CL_COUNTERS2_END: u32 = 224;

export function cls(c: u32): u32 { return S + CLASS_TABLE + c * CLASS_REC; }
export function clGet(c: u32, off: u32): u32 { return ld32(S + CLASS_TABLE + c * CLASS_REC + off); }
export function clSet(c: u32, off: u32, v: u32): void { st32(S + CLASS_TABLE + c * CLASS_REC + off, v); }

/** size * factor / 100 without overflowing 32 bits. */
function grow(size: u32, factorX100: u32): u32 {
  return ((size / 100) >>> 0) * factorX100 + ((((size % 100) * factorX100) / 100) >>> 0);
}

export function slabsInit(): void {
  const pageSize = hget(H_PAGE_SIZE);
  const factor = hget(H_FACTOR);
  let size: u32 = alignUp(ITEM_HEADER + hget(H_CHUNK_MIN), 8);
  let i: u32 = 1;
  // As memcached: stop where one more growth step would pass the page.
  const limit: u32 = ((pageSize / factor) >>> 0) * 100;
  while (i < MAX_CLASSES && size <= limit && size < pageSize) {
    clSet(i, CL_SIZE, size);
    clSet(i, CL_PERPAGE, (pageSize / size) >>> 0);
    let next = alignUp(grow(size, factor), 8);
    if (next <= size) next = size + 8;
    size = next;
    i++;
  }
  clSet(i, CL_SIZE, pageSize);
  clSet(i, CL_PERPAGE, 1);
  hset(H_NCLASSES, i);
}

/** Smallest class whose chunks hold `total` bytes, 0 if none. */
export function slabsClassFor(total: u32): u32 {
  const n = hget(H_NCLASSES);
  if (total > hget(H_ITEM_MAX) && total > clGet(n, CL_SIZE)) return 0;
  // Binary search: class sizes increase.
  let lo: u32 = 1;
  let hi: u32 = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (clGet(mid, CL_SIZE) >= total) hi = mid; else lo = mid + 1;
  }
  return clGet(lo, CL_SIZE) >= total ? lo : 0;
}

export function pageIndexOf(p: u32): u32 {
  return ((p - hget(H_PAGES_PTR)) / hget(H_PAGE_SIZE)) >>> 0;
}

export function pageOwner(page: u32): u32 { return ld32(S + PAGE_OWNERS + (page << 2)); }
function setPageOwner(page: u32, c: u32): void { st32(S + PAGE_OWNERS + (page << 2), c); }

/** Pages held by classes: every page handed out is in a class or the pool. */
export function pagesInUse(): u32 { return hget(H_PAGES_CARVED) - hget(H_FREE_PAGES); }

function freeListRemove(c: u32, it: u32): void {
  const prev = ld32(it + IT_PREV);
  const next = ld32(it + IT_NEXT);
  if (prev != 0) st32(prev + IT_NEXT, next); else clSet(c, CL_FREE_HEAD, next);
  if (next != 0) st32(next + IT_PREV, prev);
  clSet(c, CL_FREE_COUNT, clGet(c, CL_FREE_COUNT) - 1);
}

/** Pages in the global pool: given up by their class, ready for any other. */
export function slabsPoolPages(): u32 { return hget(H_FREE_PAGES); }

/**
 * Pool pages that memcached would have given back by now: it frees pages
 * of its global pool while more are malloced than the limit (memory_release,
 * once cache_memlimit is lowered). Ours stay in linear memory, which never
 * shrinks; the pool hands out only what the limit allows (slabsNewPage), so
 * the rest is as good as freed, and `stats` counts it so.
 */
export function slabsPagesReleased(): u32 {
  const carved = hget(H_PAGES_CARVED);
  const limit = hget(H_PAGES_LIMIT);
  const free = hget(H_FREE_PAGES);
  const over = carved > limit ? carved - limit : 0;
  return over < free ? over : free;
}

/** Free chunks of class c: its free list plus the uncarved rest of its newest page. */
export function slabsFreeChunks(c: u32): u32 {
  const ptr = clGet(c, CL_CARVE_PTR);
  const end = clGet(c, CL_CARVE_END);
  const uncarved: u32 = end > ptr ? ((end - ptr) / clGet(c, CL_SIZE)) >>> 0 : 0;
  return clGet(c, CL_FREE_COUNT) + uncarved;
}

/** Takes a page (its index) off the global pool, which must not be empty. */
export function slabsTakePoolPage(): u32 {
  const first = hget(H_FREE_PAGE);
  hset(H_FREE_PAGE, ld32(first));
  hset(H_FREE_PAGES, hget(H_FREE_PAGES) - 1);
  return pageIndexOf(first);
}

/** Gives class c a page: one from the pool, or a never-used one, within the limit. */
function slabsNewPage(c: u32): bool {
  if (pagesInUse() >= hget(H_PAGES_LIMIT)) return false;
  if (hget(H_FREE_PAGES) != 0) {
    slabsAssignPage(c, slabsTakePoolPage());
    return true;
  }
  const carved = hget(H_PAGES_CARVED);
  if (carved >= hget(H_PAGES_MAX)) return false;
  hset(H_PAGES_CARVED, carved + 1);
  slabsAssignPage(c, carved);
  return true;
}

/** Makes page `page` (owned by nobody) class c's newest page, carved from its start. */
export function slabsAssignPage(c: u32, page: u32): void {
  // The rest of c's previous page would be lost once the carve pointer moves.
  slabsCarveRest(c);
  const first = pageFirst(page);
  setPageOwner(page, c);
  clSet(c, CL_PAGES, clGet(c, CL_PAGES) + 1);
  clSet(c, CL_CARVE_PTR, first);
  clSet(c, CL_CARVE_END, first + clGet(c, CL_PERPAGE) * clGet(c, CL_SIZE));
  clSet(c, CL_DIRTY_TIME, currentTime());
}

/** Puts the uncarved rest of class c's newest page on its free list. */
function slabsCarveRest(c: u32): void {
  const size = clGet(c, CL_SIZE);
  const end = clGet(c, CL_CARVE_END);
  for (let p = clGet(c, CL_CARVE_PTR); p < end; p += size) {
    st8(p + IT_CLS, c);
    slabsFree(p);
  }
  clSet(c, CL_CARVE_PTR, 0);
  clSet(c, CL_CARVE_END, 0);
}

/**
 * First half of a page move: takes page `page` away from class src. Its free
 * chunks leave src's free list and its uncarved rest stops being src's
 * carving room, so src can no longer hand out any chunk of it; linked items
 * stay where they are, for the caller to rescue, reclaim or evict.
 * Returns the end of the page's chunks (pageEnd before the move).
 */
export function slabsDetachPage(src: u32, page: u32): u32 {
  const first = pageFirst(page);
  const end = pageEnd(page);
  const size = clGet(src, CL_SIZE);
  for (let p = first; p < end; p += size) {
    if ((ld8(p + IT_IFLAGS) & IF_FREE) != 0) {
      freeListRemove(src, p);
      st8(p + IT_IFLAGS, 0);
    }
  }
  const carvePtr = clGet(src, CL_CARVE_PTR);
  if (carvePtr >= first && carvePtr < first + hget(H_PAGE_SIZE)) {
    clSet(src, CL_CARVE_PTR, 0);
    clSet(src, CL_CARVE_END, 0);
  }
  return end;
}

/** Second half of a page move, once no chunk of the page is free or linked:
 *  the page goes to class dst, or to the global pool when dst is 0. */
export function slabsReleasePage(src: u32, page: u32, dst: u32): void {
  clSet(src, CL_PAGES, clGet(src, CL_PAGES) - 1);
  setPageOwner(page, 0);
  // The crawler's cursor must not resume inside the page at the old chunk size.
  if (hget(H_CRAWL_PAGE) == page) hset(H_CRAWL_CHUNK, 0);
  if (dst != 0) {
    slabsAssignPage(dst, page);
    return;
  }
  const first = pageFirst(page);
  st32(first, hget(H_FREE_PAGE));
  hset(H_FREE_PAGE, first);
  hset(H_FREE_PAGES, hget(H_FREE_PAGES) + 1);
}

/** A chunk of class c from its free list or its newest page's uncarved rest
 *  (never a new page), in flight, or 0. */
export function slabsAllocOwn(c: u32): u32 {
  let it = clGet(c, CL_FREE_HEAD);
  if (it != 0) {
    freeListRemove(c, it);
  } else {
    const p = clGet(c, CL_CARVE_PTR);
    const end = clGet(c, CL_CARVE_END);
    if (p >= end) return 0;
    it = p;
    const next = p + clGet(c, CL_SIZE);
    // An exhausted carve pointer can equal the start of another page of c,
    // which pageEnd would then take for unused: forget it instead.
    clSet(c, CL_CARVE_PTR, next < end ? next : 0);
    clSet(c, CL_CARVE_END, next < end ? end : 0);
  }
  st8(it + IT_IFLAGS, 0);
  st8(it + IT_CLS, c);
  st8(it + IT_REFS, 0);
  return it;
}

/** A chunk of class c (in flight: neither free nor linked), or 0. */
export function slabsAlloc(c: u32): u32 {
  const it = slabsAllocOwn(c);
  if (it != 0 || !slabsNewPage(c)) return it;
  return slabsAllocOwn(c);
}

/** Returns an unlinked chunk to its class's free list. */
export function slabsFree(it: u32): void {
  const c: u32 = ld8(it + IT_CLS);
  const head = clGet(c, CL_FREE_HEAD);
  st32(it + IT_PREV, 0);
  st32(it + IT_NEXT, head);
  if (head != 0) st32(head + IT_PREV, it);
  clSet(c, CL_FREE_HEAD, it);
  clSet(c, CL_FREE_COUNT, clGet(c, CL_FREE_COUNT) + 1);
  st8(it + IT_IFLAGS, IF_FREE);
}

/**
 * Whether page `page` of class c can change hands now: every chunk is free or
 * linked, none is `pinned`, and none is being sent to a client (IT_REFS). An
 * in-flight chunk (between alloc and link in the current call, or a value
 * still arriving) or the pinned item is referenced by its address.
 */
export function slabsPageMovable(c: u32, page: u32, pinned: u32): bool {
  const size = clGet(c, CL_SIZE);
  const end = pageEnd(page);
  for (let p = pageFirst(page); p < end; p += size) {
    if ((ld8(p + IT_IFLAGS) & (IF_FREE | IF_LINKED)) == 0 || p == pinned || ld8(p + IT_REFS) != 0) return false;
  }
  return true;
}

/** First chunk of page i; chunks follow every CL_SIZE bytes up to pageEnd. */
export function pageFirst(page: u32): u32 { return hget(H_PAGES_PTR) + page * hget(H_PAGE_SIZE); }
/** End of the chunks handed out in page i (its class's carve pointer, if
 *  the page is still being carved): walkers stop here. */
export function pageEnd(page: u32): u32 {
  const c = pageOwner(page);
  const first = pageFirst(page);
  const carvePtr = clGet(c, CL_CARVE_PTR);
  if (carvePtr >= first && carvePtr < first + hget(H_PAGE_SIZE)) return carvePtr;
  return first + clGet(c, CL_PERPAGE) * clGet(c, CL_SIZE);
}
