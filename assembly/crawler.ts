// Expiry crawler: walks the slab pages chunk by chunk (a linear scan, cheap
// on caches) and reclaims linked items that have expired or were flushed.
// The host calls it from its timer with a budget of chunks, so each tick's
// work is bounded; the cursor (page, chunk) lives in the header and wraps.
//
// memcached's crawler walks each class's LRU instead; a page walk needs no
// extra per-item links and visits every item once per pass.
import { ld8 } from './mem';
import { hget, hset, H_CRAWL_PAGE, H_CRAWL_CHUNK, H_PAGES_CARVED, H_CRAWLER_ON } from './arena';
import { IT_IFLAGS, IF_LINKED } from './items_layout';
import { pageOwner, pageFirst, pageEnd, clGet, cls, CL_SIZE, CL_CRAWLER_RECLAIMED, CL_CRAWLER_CHECKED } from './slabs';
import { itemIsExpired, itemIsFlushed, itemUnlink, countReclaim } from './items';
import { u64IncAt } from './u64';
import { statInc, C_CRAWLER_RECLAIMED, C_CRAWLER_STARTS } from './stats';

export function crawlerStep(budget: u32): void {
  if (hget(H_CRAWLER_ON) == 0) return;
  const pages = hget(H_PAGES_CARVED);
  if (pages == 0) return;
  let page = hget(H_CRAWL_PAGE);
  let p = hget(H_CRAWL_CHUNK);
  let visitedPages: u32 = 0;
  while (budget > 0 && visitedPages <= pages) {
    if (page >= pages) { page = 0; p = 0; }
    if (page == 0 && p == 0) statInc(C_CRAWLER_STARTS);
    const c = pageOwner(page);
    if (c == 0) { page++; p = 0; visitedPages++; continue; }
    const size = clGet(c, CL_SIZE);
    const first = pageFirst(page);
    const end = pageEnd(page);
    if (p < first || p >= end) p = first;
    while (p < end && budget > 0) {
      budget--;
      reclaimIfDead(c, p);
      p += size;
    }
    if (p >= end) { page++; p = 0; visitedPages++; }
  }
  hset(H_CRAWL_PAGE, page);
  hset(H_CRAWL_CHUNK, p);
}

/** One chunk of class c: a linked item that has expired or was flushed is
 *  reclaimed and counted. */
function reclaimIfDead(c: u32, p: u32): void {
  if ((ld8(p + IT_IFLAGS) & IF_LINKED) == 0) return;
  u64IncAt(cls(c) + CL_CRAWLER_CHECKED);
  if (itemIsExpired(p) || itemIsFlushed(p)) {
    countReclaim(c, p);
    statInc(C_CRAWLER_RECLAIMED);
    u64IncAt(cls(c) + CL_CRAWLER_RECLAIMED);
    itemUnlink(p);
  }
}

/**
 * `lru_crawler crawl <classes>`: walks the pages of the classes `wanted`
 * names now, reclaiming as the background pass does, at most `budget`
 * chunks; pages past that are left to the background pass, which visits
 * every page. memcached's crawler serves the request from its own thread;
 * here it is bounded work inside the call, so `stats` right after it shows
 * what was reclaimed.
 */
export function crawlClassesNow(wanted: (c: u32) => bool, budget: u32): void {
  const pages = hget(H_PAGES_CARVED);
  for (let page: u32 = 0; page < pages && budget > 0; page++) {
    const c = pageOwner(page);
    if (c == 0 || !wanted(c)) continue;
    const size = clGet(c, CL_SIZE);
    const end = pageEnd(page);
    for (let p = pageFirst(page); p < end && budget > 0; p += size) {
      budget--;
      reclaimIfDead(c, p);
    }
  }
}
