// Slab page moves, after memcached's slab rebalancer (slabs.c) and automover
// (slab_automove.c). A page changes hands in one step: its free chunks leave
// the old class, its expired or flushed items are reclaimed, its live items
// are rescued into the old class's other free chunks while there are any and
// evicted after that, and the page goes to the class that needs it or to the
// global pool (memcached's slab class 0), where any class takes it from.
//
// memcached moves pages in a background thread, and gives a class that has no
// page yet its first one beyond -m. With a fixed arena, wasmcached moves pages
// where they are needed instead:
//  - in an allocation that found its class full (items.ts, itemAllocPull):
//    first a page another class can give up without losing a live item, then
//    the page of a clearly older class (memcached's automove age ratio), and
//    for a class with nothing of its own to evict, a page of any class;
//  - once a second (mc_tick): a class that has stopped evicting and growing
//    returns the free pages it holds beyond 2.5 pages' worth to the pool;
//  - on `slabs reassign`.
// So flushed or expired items never keep their pages from a class that needs
// them, and a write fails for lack of memory only where memcached's would.
//
// Callers: items.ts, index.ts, proto/text_admin.ts.
import { ld8, ld32 } from './mem';
import { hget, pow2, currentTime, H_NCLASSES, H_PINNED, H_PAGES_CARVED, H_AUTOMOVE, H_AUTOMOVE_WINDOW } from './arena';
import {
  clGet, pageOwner, pageFirst, pageIndexOf, slabsFreeChunks, slabsAllocOwn, slabsDetachPage,
  slabsReleasePage, slabsAssignPage, slabsPageMovable, slabsPoolPages, slabsTakePoolPage, CL_SIZE,
  CL_PERPAGE, CL_PAGES, CL_ITEMS, CL_LRU_TAIL, CL_FREE_HEAD, CL_CARVE_PTR, CL_CARVE_END, CL_DIRTY_TIME, CL_OLDER_MOVED, clSet,
} from './slabs';
import { IT_PREV, IT_TIME, IT_IFLAGS, IF_LINKED } from './items_layout';
import {
  itemIsExpired, itemIsFlushed, itemUnlink, itemUnlinkKeep, itemRelocate, countReclaim, countEviction,
} from './items';
import { statInc, C_SLABS_MOVED, C_REASSIGN_RESCUES, C_REASSIGN_EVICTIONS_NOMEM } from './stats';

const NO_PAGE: u32 = 0xffffffff;
/** A class returns pages to the pool while more than this many half pages'
 *  worth of its chunks are free (memcached's MIN_PAGES_FOR_RECLAIM, 2.5). */
const RECLAIM_HALF_PAGES: u32 = 5;
/** Pages the tick returns to the pool at most (memcached repeats such a
 *  move every millisecond; this bounds the tick's copying to a few MB). */
const POOL_MOVES_PER_TICK: u32 = 16;

// `slabs reassign` outcomes (memcached's reassign_result_type).
export const REASSIGN_OK: u32 = 0;
export const REASSIGN_BADCLASS: u32 = 1;
export const REASSIGN_NOSPARE: u32 = 2;
export const REASSIGN_SAME: u32 = 3;
export const REASSIGN_BUSY: u32 = 4;

/**
 * Moves page `page` of class src to class dst, or to the global pool when dst
 * is 0 (memcached's slab_rebalance_move and _finish). The caller checked
 * slabsPageMovable.
 */
export function slabsMovePage(src: u32, page: u32, dst: u32): void {
  const size = clGet(src, CL_SIZE);
  const end = slabsDetachPage(src, page);
  for (let p = pageFirst(page); p < end; p += size) {
    if ((ld8(p + IT_IFLAGS) & IF_LINKED) == 0) continue;
    if (itemIsExpired(p) || itemIsFlushed(p)) {
      countReclaim(src, p);
      itemUnlinkKeep(p);
      continue;
    }
    const to = slabsAllocOwn(src);
    if (to != 0) {
      itemRelocate(p, to);
      statInc(C_REASSIGN_RESCUES);
    } else {
      countEviction(src, p);
      statInc(C_REASSIGN_EVICTIONS_NOMEM);
      itemUnlinkKeep(p);
    }
  }
  slabsReleasePage(src, page, dst);
  statInc(C_SLABS_MOVED);
}

/** The page holding chunk `p` of class v if it can move now, else NO_PAGE. */
function pageIfMovable(v: u32, p: u32): u32 {
  if (p == 0) return NO_PAGE;
  const page = pageIndexOf(p);
  return slabsPageMovable(v, page, hget(H_PINNED)) ? page : NO_PAGE;
}

/**
 * A page of class v that can move now (no in-flight or pinned chunk), or
 * NO_PAGE. Tried first: the page being carved, the page of the first free
 * chunk, the page of the least recently used item (few rescues, old items).
 */
function movablePage(v: u32): u32 {
  const carvePtr = clGet(v, CL_CARVE_PTR);
  let page = carvePtr < clGet(v, CL_CARVE_END) ? pageIfMovable(v, carvePtr) : NO_PAGE;
  if (page == NO_PAGE) page = pageIfMovable(v, clGet(v, CL_FREE_HEAD));
  if (page == NO_PAGE) page = pageIfMovable(v, clGet(v, CL_LRU_TAIL));
  if (page != NO_PAGE) return page;
  const carved = hget(H_PAGES_CARVED);
  const pinned = hget(H_PINNED);
  for (let i: u32 = 0; i < carved; i++) {
    if (pageOwner(i) == v && slabsPageMovable(v, i, pinned)) return i;
  }
  return NO_PAGE;
}

/** Unlinks expired or flushed items at class v's LRU tail, at most `max`. */
function reclaimTail(v: u32, max: u32): void {
  const pinned = hget(H_PINNED);
  let it = clGet(v, CL_LRU_TAIL);
  while (it != 0 && max > 0 && it != pinned && (itemIsExpired(it) || itemIsFlushed(it))) {
    const prev = ld32(it + IT_PREV);
    countReclaim(v, it);
    itemUnlink(it);
    it = prev;
    max--;
  }
}

// Classes already tried by one search, as bits (classes 1..63).
let TRIED_LO: u32 = 0;
let TRIED_HI: u32 = 0;
function tried(v: u32): bool { return (((v < 32 ? TRIED_LO : TRIED_HI) >>> (v & 31)) & 1) != 0; }
function markTried(v: u32): void {
  const bit = pow2(v & 31);
  if (v < 32) TRIED_LO = (TRIED_LO | bit) >>> 0; else TRIED_HI = (TRIED_HI | bit) >>> 0;
}

// What rebalanceFor may do to give a class a page (bits).
/** Take a page another class can spare without losing a live item: a class
 *  with no items, or whose free chunks (after reclaiming the expired or
 *  flushed items at its tail) fill a page, so that every live item of the
 *  page finds another chunk. */
export const MOVE_SPARE: u32 = 1;
/** Take the page of the least recently used item of the class whose oldest
 *  item is clearly older than the needing class's own (memcached's automove
 *  age ratio, 0.8: one LRU across classes, roughly). At most one such move a
 *  second, as memcached's automover decides at most one move per run: the
 *  page's other items can be fresh, and with a move on every full allocation
 *  concurrent writers of mixed sizes lost items they had just stored (evicted
 *  from moved pages: slab_reassign_evictions_nomem), where memcached evicts
 *  from the writing class's own tail. */
export const MOVE_OLDER: u32 = 2;
/** As MOVE_SPARE, else from the class with the oldest item whatever the
 *  ages: for a class with nothing of its own to evict. */
export const MOVE_ANY: u32 = 4;

// Result of surveyClasses.
let SPARE_CLASS: u32 = 0;
let OLDEST_CLASS: u32 = 0;
let OLDEST_AGE: u32 = 0;

/** One pass over the classes other than c not yet tried: the one with the
 *  most pages' worth to spare (SPARE_CLASS) and the one whose least recently
 *  used item is the oldest (OLDEST_CLASS, OLDEST_AGE); 0 when none. */
function surveyClasses(c: u32, reclaim: bool): void {
  const n = hget(H_NCLASSES);
  const now = currentTime();
  let spareBest: u32 = 0;
  SPARE_CLASS = 0;
  OLDEST_CLASS = 0;
  OLDEST_AGE = 0;
  for (let v: u32 = 1; v <= n; v++) {
    if (v == c || clGet(v, CL_PAGES) == 0 || tried(v)) continue;
    const perPage = clGet(v, CL_PERPAGE);
    if (reclaim) reclaimTail(v, perPage);
    const items = clGet(v, CL_ITEMS);
    const free = slabsFreeChunks(v);
    if (items == 0 || free >= perPage) {
      // Pages' worth of free chunks; an empty class can give all its pages.
      const spare: u32 = items == 0 ? clGet(v, CL_PAGES) : ((free / perPage) >>> 0);
      if (SPARE_CLASS == 0 || spare > spareBest) {
        SPARE_CLASS = v;
        spareBest = spare;
      }
    }
    const t = clGet(v, CL_LRU_TAIL);
    if (t != 0) {
      const age: u32 = now - ld32(t + IT_TIME);
      if (OLDEST_CLASS == 0 || age > OLDEST_AGE) {
        OLDEST_CLASS = v;
        OLDEST_AGE = age;
      }
    }
  }
}

/**
 * Gives full class c a page of another class, as `kinds` (MOVE_*) allows:
 * one that can be spared first. The page's live items are rescued into their
 * class's free chunks while there are any, the rest evicted. Returns whether
 * c got a page.
 */
export function rebalanceFor(c: u32, kinds: u32): bool {
  const n = hget(H_NCLASSES);
  const now = currentTime();
  const myTail = clGet(c, CL_LRU_TAIL);
  const myAge: u32 = myTail != 0 ? now - ld32(myTail + IT_TIME) : 0;
  const spare = (kinds & (MOVE_SPARE | MOVE_ANY)) != 0;
  if ((kinds & MOVE_OLDER) != 0 && clGet(0, CL_OLDER_MOVED) == now + 1) kinds &= ~MOVE_OLDER;
  TRIED_LO = 0;
  TRIED_HI = 0;
  // More than one round only when a chosen class has no page that can move
  // now (one holding the item being appended to, or a chunk being filled).
  for (let round: u32 = 0; round < n; round++) {
    surveyClasses(c, spare && round == 0);
    let v: u32 = 0;
    let byAge = false;
    if (spare && SPARE_CLASS != 0) {
      v = SPARE_CLASS;
    } else if (OLDEST_CLASS != 0 && (kinds & MOVE_ANY) != 0) {
      v = OLDEST_CLASS;
    } else if (OLDEST_CLASS != 0 && (kinds & MOVE_OLDER) != 0 && (myTail == 0 || myAge * 10 < OLDEST_AGE * 8)) {
      v = OLDEST_CLASS;
      byAge = true;
    }
    if (v == 0) return false;
    // A class giving up its oldest items gives the page of the oldest one.
    let page = v != SPARE_CLASS ? pageIfMovable(v, clGet(v, CL_LRU_TAIL)) : NO_PAGE;
    if (page == NO_PAGE) page = movablePage(v);
    if (page != NO_PAGE) {
      slabsMovePage(v, page, c);
      if (byAge) clSet(0, CL_OLDER_MOVED, now + 1);
      return true;
    }
    markTried(v);
  }
  return false;
}

/**
 * Once a second, as memcached's automover: each class that has not evicted,
 * run out of memory or gained a page for the automove window and holds more
 * than 2.5 pages' worth of free chunks returns pages to the global pool, its
 * live items compacted into its other pages.
 */
export function slabsAutomove(): void {
  if (hget(H_AUTOMOVE) == 0) return;
  const now = currentTime();
  const window = hget(H_AUTOMOVE_WINDOW);
  const n = hget(H_NCLASSES);
  let moves = POOL_MOVES_PER_TICK;
  for (let v: u32 = 1; v <= n && moves > 0; v++) {
    if (now - clGet(v, CL_DIRTY_TIME) < window) continue;
    while (moves > 0 && clGet(v, CL_PAGES) >= 2 && slabsFreeChunks(v) * 2 > clGet(v, CL_PERPAGE) * RECLAIM_HALF_PAGES) {
      const page = movablePage(v);
      if (page == NO_PAGE) break;
      slabsMovePage(v, page, 0);
      moves--;
    }
  }
}

/** A class id of `slabs reassign` meaning "any class with a page to spare"
 *  (-1 as int32 bits). */
export const ANY_CLASS: u32 = 0xffffffff;

/**
 * `slabs reassign <src> <dst>`: moves one page of class src (ANY_CLASS: one
 * with a page to spare, 0: the pool) to class dst (0: the pool). Done at
 * once; memcached answers OK and moves it in the background. Ids are int32
 * bits: a negative one is out of range.
 */
export function slabsReassign(src: u32, dst: u32): u32 {
  if (src == dst) return REASSIGN_SAME;
  const n = hget(H_NCLASSES);
  if (src == ANY_CLASS) {
    for (let v: u32 = 1; v <= n; v++) {
      if (v != dst && clGet(v, CL_PAGES) > 1) {
        src = v;
        break;
      }
    }
  }
  if (src > n || dst > n) return REASSIGN_BADCLASS;
  if (src == 0) {
    if (slabsPoolPages() < 2) return REASSIGN_NOSPARE;
    slabsAssignPage(dst, slabsTakePoolPage());
    return REASSIGN_OK;
  }
  if (clGet(src, CL_PAGES) < 2) return REASSIGN_NOSPARE;
  const page = movablePage(src);
  if (page == NO_PAGE) return REASSIGN_BUSY;
  slabsMovePage(src, page, dst);
  return REASSIGN_OK;
}
