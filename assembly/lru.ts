// Per-class LRU lists, doubly linked through IT_PREV/IT_NEXT; the head is the
// most recently linked item, the tail the next to evict.
//
// Bumping is lazy, as memcached's segmented LRU: a hit does not move the item
// (that would touch two random neighbours on every get); it only sets
// IF_FETCHED, and a second hit sets IF_ACTIVE. When the tail is pulled for
// eviction an active item gets a second chance: its bit is cleared and it
// moves to the head (lruPullTail in items.ts). So an item is moved at most
// once per pass of the tail, and hot items survive eviction.
//
// Callers: items.ts.
import { ld32, st32 } from './mem';
import { IT_PREV, IT_NEXT } from './items_layout';
import { clGet, clSet, CL_LRU_HEAD, CL_LRU_TAIL } from './slabs';

export function lruLink(c: u32, it: u32): void {
  const head = clGet(c, CL_LRU_HEAD);
  st32(it + IT_PREV, 0);
  st32(it + IT_NEXT, head);
  if (head != 0) st32(head + IT_PREV, it); else clSet(c, CL_LRU_TAIL, it);
  clSet(c, CL_LRU_HEAD, it);
}

export function lruUnlink(c: u32, it: u32): void {
  const prev = ld32(it + IT_PREV);
  const next = ld32(it + IT_NEXT);
  if (prev != 0) st32(prev + IT_NEXT, next); else clSet(c, CL_LRU_HEAD, next);
  if (next != 0) st32(next + IT_PREV, prev); else clSet(c, CL_LRU_TAIL, prev);
}

export function lruBump(c: u32, it: u32): void {
  if (clGet(c, CL_LRU_HEAD) == it) return;
  lruUnlink(c, it);
  lruLink(c, it);
}

/** `to` (a copy of linked `it`, same class) takes `it`'s place in the list. */
export function lruReplace(c: u32, it: u32, to: u32): void {
  const prev = ld32(it + IT_PREV);
  const next = ld32(it + IT_NEXT);
  st32(to + IT_PREV, prev);
  st32(to + IT_NEXT, next);
  if (prev != 0) st32(prev + IT_NEXT, to); else clSet(c, CL_LRU_HEAD, to);
  if (next != 0) st32(next + IT_PREV, to); else clSet(c, CL_LRU_TAIL, to);
}
