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
//     untouched rest of the class's newest page, so untouched memory is never
//     read or written (and never counts in the process's RSS).
//  3. PAGE_OWNERS[i] is the class of page i, 0 when unassigned.
//
// Pages move between classes (slabsMovePage) so that a workload that shifts
// from small to large values does not starve: see lru.ts, lruMakeRoom.
//
// Callers: items.ts, lru.ts, crawler.ts, proto/text_stats.ts.
import { ld8, st8, ld32, st32 } from './mem';
import {
  S, hget, hset, alignUp, H_ITEM_MAX, H_CHUNK_MIN, H_FACTOR, H_PAGE_SIZE, H_PAGES_PTR, H_PAGES_LIMIT,
  H_PAGES_CARVED, H_FREE_PAGE, H_NCLASSES, CLASS_TABLE, PAGE_OWNERS,
} from './arena';
import { MAX_CLASSES } from './abi';
import { IT_PREV, IT_NEXT, IT_IFLAGS, IT_CLS, IT_REFS, IF_FREE, ITEM_HEADER } from './items_layout';

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

export function pagesInUse(): u32 {
  const n = hget(H_NCLASSES);
  let total: u32 = 0;
  for (let c: u32 = 1; c <= n; c++) total += clGet(c, CL_PAGES);
  return total;
}

function freeListRemove(c: u32, it: u32): void {
  const prev = ld32(it + IT_PREV);
  const next = ld32(it + IT_NEXT);
  if (prev != 0) st32(prev + IT_NEXT, next); else clSet(c, CL_FREE_HEAD, next);
  if (next != 0) st32(next + IT_PREV, prev);
  clSet(c, CL_FREE_COUNT, clGet(c, CL_FREE_COUNT) - 1);
}

/** Gives class c a page: a free one, or a never-used one within the limit. */
function slabsNewPage(c: u32): bool {
  if (pagesInUse() >= hget(H_PAGES_LIMIT)) return false;
  let page = hget(H_FREE_PAGE);
  if (page != 0) {
    hset(H_FREE_PAGE, ld32(page));
  } else {
    const carved = hget(H_PAGES_CARVED);
    page = hget(H_PAGES_PTR) + carved * hget(H_PAGE_SIZE);
    hset(H_PAGES_CARVED, carved + 1);
  }
  slabsAssignPage(c, page);
  return true;
}

function slabsAssignPage(c: u32, page: u32): void {
  setPageOwner(pageIndexOf(page), c);
  clSet(c, CL_PAGES, clGet(c, CL_PAGES) + 1);
  clSet(c, CL_CARVE_PTR, page);
  clSet(c, CL_CARVE_END, page + clGet(c, CL_PERPAGE) * clGet(c, CL_SIZE));
}

/** A chunk of class c (in flight: neither free nor linked), or 0. */
export function slabsAlloc(c: u32): u32 {
  let it = clGet(c, CL_FREE_HEAD);
  if (it != 0) {
    freeListRemove(c, it);
  } else {
    let p = clGet(c, CL_CARVE_PTR);
    if (p >= clGet(c, CL_CARVE_END)) {
      if (!slabsNewPage(c)) return 0;
      p = clGet(c, CL_CARVE_PTR);
    }
    it = p;
    clSet(c, CL_CARVE_PTR, p + clGet(c, CL_SIZE));
  }
  st8(it + IT_IFLAGS, 0);
  st8(it + IT_CLS, c);
  st8(it + IT_REFS, 0);
  return it;
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
 * Whether the page holding `anyChunk` (of class src) can be moved to another
 * class: every chunk must be free or linked (the caller then evicts the linked
 * ones and calls slabsFinishMove). False when the page holds an in-flight
 * chunk (a value still arriving), `pinned`, or an item whose value is being
 * sent.
 */
export function slabsPageMovable(src: u32, anyChunk: u32, pinned: u32): bool {
  const page = pageIndexOf(anyChunk);
  const size = clGet(src, CL_SIZE);
  const end = pageEnd(page);
  for (let p = pageFirst(page); p < end; p += size) {
    const f: u32 = ld8(p + IT_IFLAGS);
    if ((f & 3) == 0 || p == pinned || ld8(p + IT_REFS) != 0) return false;
  }
  return true;
}

/** Second half of a page move, after the caller evicted the page's items. */
export function slabsFinishMove(src: u32, dst: u32, anyChunk: u32): void {
  const index = pageIndexOf(anyChunk);
  const page = pageFirst(index);
  const size = clGet(src, CL_SIZE);
  const end = pageEnd(index);
  for (let p = page; p < end; p += size) {
    if ((ld8(p + IT_IFLAGS) & IF_FREE) != 0) freeListRemove(src, p);
  }
  // The untouched rest of the page was src's carving room.
  const carvePtr = clGet(src, CL_CARVE_PTR);
  if (carvePtr >= page && carvePtr < page + hget(H_PAGE_SIZE)) {
    clSet(src, CL_CARVE_PTR, 0);
    clSet(src, CL_CARVE_END, 0);
  }
  clSet(src, CL_PAGES, clGet(src, CL_PAGES) - 1);
  slabsAssignPage(dst, page);
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
