// Engine counters: 64-bit, 8 bytes each at STATS_BASE, one list (the order of
// `stats` output is in proto/text_stats.ts). memcached keeps most of these per
// thread and per slab class; one engine call runs at a time, so one copy does.
import { ld32, st32, fill } from './mem';
import { S, STATS_BASE, STATS_EXT_BASE } from './arena';
import { LOG_REGION, LOG_DROPPED } from './abi';
import { u64IncAt, u64AddAt } from './u64';

export const C_CMD_GET: u32 = 0;
/** Unused slot: cmd_set is counted per class (CL_CMD_SET; store.ts countSet). */
export const C_UNUSED_1: u32 = 1;
export const C_CMD_FLUSH: u32 = 2;
export const C_CMD_TOUCH: u32 = 3;
export const C_GET_HITS: u32 = 4;
export const C_GET_MISSES: u32 = 5;
export const C_GET_EXPIRED: u32 = 6;
export const C_GET_FLUSHED: u32 = 7;
export const C_DELETE_MISSES: u32 = 8;
export const C_DELETE_HITS: u32 = 9;
export const C_INCR_MISSES: u32 = 10;
export const C_INCR_HITS: u32 = 11;
export const C_DECR_MISSES: u32 = 12;
export const C_DECR_HITS: u32 = 13;
export const C_CAS_MISSES: u32 = 14;
export const C_CAS_HITS: u32 = 15;
export const C_CAS_BADVAL: u32 = 16;
export const C_TOUCH_HITS: u32 = 17;
export const C_TOUCH_MISSES: u32 = 18;
export const C_STORE_TOO_LARGE: u32 = 19;
export const C_STORE_NO_MEMORY: u32 = 20;
export const C_BYTES_READ: u32 = 21;
export const C_BYTES_WRITTEN: u32 = 22;
export const C_TOTAL_ITEMS: u32 = 23;
export const C_EVICTIONS: u32 = 24;
export const C_RECLAIMED: u32 = 25;
export const C_EXPIRED_UNFETCHED: u32 = 26;
export const C_EVICTED_UNFETCHED: u32 = 27;
export const C_EVICTED_ACTIVE: u32 = 28;
export const C_CRAWLER_RECLAIMED: u32 = 29;
export const C_SLABS_MOVED: u32 = 30;
export const C_CMD_META: u32 = 31;
// Ids from 32 on live in the second block (STATS_EXT_BASE); ids up to 55 fit
// before the host's settings (HOST_SETTINGS in abi.ts).
export const C_AUTH_CMDS: u32 = 32;
export const C_AUTH_ERRORS: u32 = 33;
/** Live items a page move copied into another chunk of their class. */
export const C_REASSIGN_RESCUES: u32 = 34;
/** Live items a page move evicted because their class had no free chunk. */
export const C_REASSIGN_EVICTIONS_NOMEM: u32 = 35;
/** Crawler passes begun: each walk over all pages, each `lru_crawler crawl` and dump. */
export const C_CRAWLER_STARTS: u32 = 36;
export const C_COUNT: u32 = 37;
/** Slots in the first block (STATS_BASE..HS_BASE). */
const FIRST_BLOCK: u32 = 32;

function statAddr(id: u32): u32 {
  return id < FIRST_BLOCK ? S + STATS_BASE + (id << 3) : S + STATS_EXT_BASE + ((id - FIRST_BLOCK) << 3);
}

export function statInc(id: u32): void { u64IncAt(statAddr(id)); }
export function statAdd(id: u32, v: u32): void { u64AddAt(statAddr(id), v); }
export function statLo(id: u32): u32 { return ld32(statAddr(id)); }
export function statHi(id: u32): u32 { return ld32(statAddr(id) + 4); }
export function statsReset(): void {
  fill(S + STATS_BASE, 0, FIRST_BLOCK << 3);
  fill(S + STATS_EXT_BASE, 0, (C_COUNT - FIRST_BLOCK) << 3);
  // log_worker_dropped, _written, log_watcher_skipped, _sent (not log_watchers)
  fill(S + LOG_REGION + LOG_DROPPED, 0, 32);
}
export function statSet(id: u32, lo: u32, hi: u32): void {
  st32(statAddr(id), lo);
  st32(statAddr(id) + 4, hi);
}
