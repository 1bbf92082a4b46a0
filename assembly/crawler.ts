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
      if ((ld8(p + IT_IFLAGS) & IF_LINKED) != 0) {
        u64IncAt(cls(c) + CL_CRAWLER_CHECKED);
        if (itemIsExpired(p) || itemIsFlushed(p)) {
          countReclaim(c, p);
          statInc(C_CRAWLER_RECLAIMED);
          u64IncAt(cls(c) + CL_CRAWLER_RECLAIMED);
          itemUnlink(p);
        }
      }
      p += size;
    }
    if (p >= end) { page++; p = 0; visitedPages++; }
  }
  hset(H_CRAWL_PAGE, page);
  hset(H_CRAWL_CHUNK, p);
}
