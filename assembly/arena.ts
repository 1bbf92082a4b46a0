// The arena: one store laid out in linear memory, header first.
//
//   base ───────────────────────────────────────────────────────────────────
//   +0        header: settings, clock, CAS counter, results (R_*), hash and
//             slab bookkeeping                                   (H_*, 1 KiB)
//   +256      engine counters, 8 bytes each                      (stats.ts)
//   +512      host counters, 8 bytes each                        (HS_* in abi.ts)
//   +640      results of ST_VALUE, the output limit, the snapshot
//             cursor, the UDP port                               (abi.ts)
//   +704      one connection's state, CONN_WORDS words           (R_CONN_STATE)
//   +756      miss-through counters, written by the host         (abi.ts)
//   +768      more engine counters (ids 32..47)                  (stats.ts)
//   +896      H_REQS_LEFT (-R), R_CONN_BUSY; +904 more host counters (abi.ts)
//   +960      the host's command-line settings, u32 words        (HSET_* in abi.ts)
//   +1024     slab class table, CLASS_REC bytes per class        (slabs.ts)
//   +17408    page owner table: class id of each page, u32       (slabs.ts)
//   +33792    scratch: token table of the executing command      (proto/)
//   +49152    credentials file for -S / -Y, AUTH_MAX bytes       (proto/sasl.ts)
//   +65536    stats detail: per-prefix counters, 32 KiB          (detail.ts)
//   +98304    log records of the last call, 128 KiB              (log.ts)
//   +229376   input region  (H_IN_CAP bytes)
//             output region (H_OUT_CAP bytes)
//             hash region: two alternating bucket arrays         (assoc.ts)
//             slab pages, PAGE_SIZE (or -I) bytes each           (slabs.ts)
//   ────────────────────────────────────────────────────────────────────────
//
// Invariant: every piece of store state lives between base and the last
// page; module-level variables hold only the address of the store being
// executed (`S`) and transient values of one call. So a copy of the range is
// the whole cache, and one module can host several stores.
import { ld32, st32, fill, memGrowTo, memReserve, memSize, heapBase } from './mem';
import {
  STORE_MAGIC, CONTEXT_MAGIC, LAYOUT_VERSION, H_IN_PTR, H_IN_CAP, H_OUT_PTR, H_OUT_CAP, H_STORE_BYTES,
  PAGE_SIZE, LIMIT_MIN_ITEM_MAX, R_RESUME, H_AUTOMOVE, H_AUTOMOVE_WINDOW, AUTOMOVE_WINDOW_DEFAULT, H_CRAWLER_ON,
} from './abi';

// ---- header fields private to the engine ------------------------------------
export const H_MAGIC: u32 = 0;
export const H_LAYOUT: u32 = 4;
export const H_OPTS: u32 = 8;
export const H_ITEM_MAX: u32 = 12;
export const H_CHUNK_MIN: u32 = 16;
export const H_FACTOR: u32 = 20;          // growth factor x100
export const H_PAGE_SIZE: u32 = 24;
export const H_PROCESS_STARTED: u32 = 28; // unix seconds; memcached's process_started
export const H_CURRENT_TIME: u32 = 32;    // seconds since H_PROCESS_STARTED
export const H_TIME_OFFSET: u32 = 36;     // debugtime shift, seconds
export const H_OLDEST_LIVE: u32 = 40;     // flush_all horizon (rel time)
export const H_OLDEST_CAS_LO: u32 = 44;
export const H_OLDEST_CAS_HI: u32 = 48;
export const H_CAS_LO: u32 = 52;          // last CAS unique handed out
export const H_CAS_HI: u32 = 56;
// 64..103: R_* and H_* of abi.ts
export const H_RESUME_KEYS: u32 = R_RESUME; // keys of a multiget already answered (host-owned)
export const H_HASH_POWER: u32 = 108;
export const H_HASH_PTR: u32 = 112;
export const H_OLD_HASH_PTR: u32 = 116;
export const H_EXPANDING: u32 = 120;
export const H_EXPAND_BUCKET: u32 = 124;
/** 1 once the address space reserved for cache_memlimit is known to be this
 *  store's even though memory no longer ends with the store: thread contexts
 *  went after the reserved range while nothing else was there. */
export const H_RESERVED_HELD: u32 = 104;
export const H_HASH_REGION: u32 = 128;
export const H_HASH_REGION_SIZE: u32 = 132;
export const H_HASH_MAX_POWER: u32 = 136;
export const H_HASH_ITEMS: u32 = 140;
export const H_PAGES_PTR: u32 = 144;      // address of page 0
export const H_PAGES_LIMIT: u32 = 148;    // pages the memory limit allows
export const H_PAGES_CARVED: u32 = 152;   // pages handed out at least once
export const H_FREE_PAGE: u32 = 156;      // head of the free page list (address, 0 = none)
export const H_NCLASSES: u32 = 160;
export const H_PAGES_MAX: u32 = 164;      // pages the reserved address space holds
export const H_CRAWL_PAGE: u32 = 168;
export const H_CRAWL_CHUNK: u32 = 172;
export const H_CURR_ITEMS: u32 = 176;
export const H_BYTES_LO: u32 = 180;       // bytes of linked items (key+value+header)
export const H_BYTES_HI: u32 = 184;
export const H_STARTED: u32 = 188;        // unix seconds at mc_init (for uptime)
export const H_MAXBYTES_MB: u32 = 192;
export const H_NOW: u32 = 196;            // last unix time the host passed
/** One item eviction must not touch during the current operation (the old
 *  item of an append while it is copied), 0 = none. */
export const H_PINNED: u32 = 200;
// 204: H_AUTOMOVE of abi.ts
// 208: H_CRAWLER_ON of abi.ts
export { H_CRAWLER_ON } from './abi';
// 212: H_AUTOMOVE_WINDOW of abi.ts
// 216: H_WARMING of abi.ts
export const H_AUTH_LEN: u32 = 220;       // bytes of the credentials file at AUTH_DATA
// 224..239: R_OP_* of abi.ts (results of mc_op; R_SNAP_* of mc_dump, mc_load)
export const H_FREE_PAGES: u32 = 240;     // pages on the H_FREE_PAGE list (the global pool)
/** The largest limit cache_memlimit may set, MB: H_PAGES_MAX pages are
 *  reserved for it. */
export const H_MAXBYTES_CAP_MB: u32 = 244;
/** The dump (R_DUMP_ID) running now, 0 = none: one at a time, as memcached
 *  has one crawler, so a second one answers BUSY. */
export const H_DUMP_OWNER: u32 = 248;
export const H_DUMP_SERIAL: u32 = 252;

export const STATS_BASE: u32 = 256;
export const STATS_EXT_BASE: u32 = 768;
export const CLASS_TABLE: u32 = 1024;
export const PAGE_OWNERS: u32 = 17408;
export const MAX_PAGES: u32 = 4096;
export const SCRATCH: u32 = 33792;
export const AUTH_DATA: u32 = 49152;
export const AUTH_MAX: u32 = 16384;
/** Where the input region begins: after the log records (LOG_REGION,
 *  LOG_REGION_SIZE, log.ts). */
export const REGIONS: u32 = 229376;
/** Linear memory a 32-bit WebAssembly module can have (65535 pages). */
export const MEMORY_LIMIT: u32 = 0xffff0000;

/** memcached starts its clock this far in the past (ITEM_UPDATE_INTERVAL + 2),
 *  so that relative time 0 and 1 never mean "now". */
export const CLOCK_HEADSTART: u32 = 62;

// ---- the store being executed ------------------------------------------------
/** Base address of the store the current export call works on. */
export let S: u32 = 0;
export function arenaSelect(base: u32): void { S = base; }

export function hget(off: u32): u32 { return ld32(S + off); }
export function hset(off: u32, v: u32): void { st32(S + off, v); }

/** 2^p as u32 (p < 32). */
export function pow2(p: u32): u32 {
  const one: u32 = 1;
  return (one << p) >>> 0;
}

export function alignUp(x: u32, a: u32): u32 { return ((x + a - 1) & ~(a - 1)) >>> 0; }

/** Current time in memcached's relative seconds. */
export function currentTime(): u32 { return ld32(S + H_CURRENT_TIME); }

/**
 * Advances the clock from the host's unix time. Time never runs backwards
 * (a stepped-back wall clock must not resurrect expired items).
 */
export function clockSet(nowUnix: u32): void {
  st32(S + H_NOW, nowUnix);
  const started = ld32(S + H_PROCESS_STARTED);
  let rel: u32 = nowUnix > started ? nowUnix - started : 1;
  rel = rel + ld32(S + H_TIME_OFFSET);
  if (rel > ld32(S + H_CURRENT_TIME)) st32(S + H_CURRENT_TIME, rel);
}

/**
 * Lays out a new store at the end of memory and fills its header.
 * The store's address range holds pages for `capMB` (the largest limit
 * cache_memlimit may set later) and is reserved now, so raising the limit
 * never moves memory; memory itself grows only to the pages of `memoryMB`.
 * A cap that does not fit or cannot be reserved falls back to `memoryMB`.
 * Returns the base address, or 0 when memory cannot grow that far.
 * Slab classes and the hash table are set up by their own modules.
 */
export function arenaCreate(memoryMB: u32, capMB: u32, itemMax: u32, chunkMin: u32, factorX100: u32, opts: u32, now: u32): u32 {
  if (itemMax < LIMIT_MIN_ITEM_MAX) itemMax = LIMIT_MIN_ITEM_MAX;
  const pageSize: u32 = itemMax > PAGE_SIZE ? alignUp(itemMax, 65536) : PAGE_SIZE;
  // Regions fit a whole item plus its command line, so a set never needs more
  // than one input region and a VALUE reply never more than one output region.
  const ioCap: u32 = alignUp((itemMax > 131072 ? itemMax : 131072) + 131072, 65536);
  // Sizes in 64 KiB units keep every product below 2^32 (the pure-JS build
  // must compute exactly what the WASM build does).
  if (memoryMB > 65535) memoryMB = 65535;
  if (capMB > 65535) capMB = 65535;
  if (capMB < memoryMB) capMB = memoryMB;
  let pagesLimit: u32 = ((memoryMB * 16) / (pageSize >>> 16)) >>> 0;
  if (pagesLimit < 1) pagesLimit = 1;
  if (pagesLimit > MAX_PAGES) pagesLimit = MAX_PAGES;
  let pagesMax: u32 = ((capMB * 16) / (pageSize >>> 16)) >>> 0;
  if (pagesMax > MAX_PAGES) {
    pagesMax = MAX_PAGES;
    capMB = (MAX_PAGES * (pageSize >>> 16)) >>> 4;
  }
  if (pagesMax < pagesLimit) pagesMax = pagesLimit;

  if (ioCap > 0x48000000) return 0;
  const base: u32 = alignUp(memSize() > heapBase() ? memSize() : heapBase(), 65536);
  const inPtr: u32 = base + REGIONS;
  const outPtr: u32 = inPtr + ioCap;
  const hashPtr: u32 = outPtr + ioCap;
  if (hashPtr < base) return 0;
  // First for the cap, then, if that does not fit or cannot be reserved, for
  // memoryMB alone.
  let maxPower: u32 = 0;
  let hashRegion: u32 = 0;
  let pagesPtr: u32 = 0;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      if (pagesMax == pagesLimit) return 0;
      pagesMax = pagesLimit;
      capMB = memoryMB;
    }
    // The hash table may grow to one bucket per smallest possible item, and
    // two tables coexist while it grows: reserve 1.5 x the largest table.
    const minChunk: u32 = alignUp(44 + chunkMin, 8);
    const maxItems: u32 = pagesMax * ((pageSize / minChunk) >>> 0);
    maxPower = 10;
    while (maxPower < 28 && (pow2(maxPower) * 3) >>> 1 < maxItems) maxPower++;
    hashRegion = pow2(maxPower) * 6; // 1.5 x (4 << maxPower)
    pagesPtr = alignUp(hashPtr + hashRegion, 65536);
    if (pagesPtr >= MEMORY_LIMIT || pagesPtr < base) continue;
    if (pagesMax > (((MEMORY_LIMIT - pagesPtr) / pageSize) >>> 0)) continue;
    if (memReserve(pagesPtr + pagesMax * pageSize)) break;
  }
  const end: u32 = pagesPtr + pagesLimit * pageSize;
  if (!memGrowTo(end)) return 0;
  fill(base, 0, REGIONS);

  S = base;
  hset(H_MAGIC, STORE_MAGIC);
  hset(H_LAYOUT, LAYOUT_VERSION);
  hset(H_OPTS, opts);
  hset(H_ITEM_MAX, itemMax);
  hset(H_CHUNK_MIN, chunkMin);
  hset(H_FACTOR, factorX100);
  hset(H_PAGE_SIZE, pageSize);
  hset(H_MAXBYTES_MB, memoryMB);
  hset(H_MAXBYTES_CAP_MB, capMB);
  hset(H_PROCESS_STARTED, now - CLOCK_HEADSTART);
  hset(H_CURRENT_TIME, CLOCK_HEADSTART);
  hset(H_STARTED, now);
  hset(H_NOW, now);
  hset(H_IN_PTR, inPtr);
  hset(H_IN_CAP, ioCap);
  hset(H_OUT_PTR, outPtr);
  hset(H_OUT_CAP, ioCap);
  hset(H_HASH_REGION, hashPtr);
  hset(H_HASH_REGION_SIZE, hashRegion);
  hset(H_HASH_MAX_POWER, maxPower);
  hset(H_PAGES_PTR, pagesPtr);
  hset(H_PAGES_LIMIT, pagesLimit);
  hset(H_PAGES_MAX, pagesMax);
  hset(H_AUTOMOVE, 1);
  hset(H_AUTOMOVE_WINDOW, AUTOMOVE_WINDOW_DEFAULT);
  hset(H_CRAWLER_ON, 1);
  hset(H_STORE_BYTES, end - base);
  return base;
}

/**
 * A thread context (CTX_* in abi.ts): a block after everything the store
 * has reserved, laid out like the store's first REGIONS bytes and followed
 * by its own input and output regions. Only the per-call words of its
 * header are used; the host swaps them in and out of the store's header
 * around each call it makes under the engine lock (src/engine/store.ts), so
 * threads sharing one store never read each other's results or regions.
 * Returns its address, or 0 when memory cannot grow that far.
 */
export function arenaContextCreate(): u32 {
  // arenaCreate checked that the reserved range ends below MEMORY_LIMIT, so
  // none of these sums wraps (in u32 arithmetic, as the JS build computes).
  const reservedEnd: u32 = hget(H_PAGES_PTR) + hget(H_PAGES_MAX) * hget(H_PAGE_SIZE);
  const ioCap = hget(H_IN_CAP);
  const have = memSize();
  const ctx: u32 = alignUp(have > reservedEnd ? have : reservedEnd, 65536);
  // Nothing after this store yet: the contexts go past its reserved range,
  // so the range stays free for cache_memlimit (text_admin.ts).
  const storeEnd = S + hget(H_STORE_BYTES);
  const held = storeEnd == have || hget(H_RESERVED_HELD) != 0;
  const size: u32 = REGIONS + 2 * ioCap;
  if (ctx < reservedEnd || ctx > MEMORY_LIMIT || size > MEMORY_LIMIT - ctx) return 0;
  if (!memGrowTo(ctx + size)) return 0;
  if (held) hset(H_RESERVED_HELD, 1);
  fill(ctx, 0, REGIONS);
  st32(ctx + H_MAGIC, CONTEXT_MAGIC);
  st32(ctx + H_IN_PTR, ctx + REGIONS);
  st32(ctx + H_IN_CAP, ioCap);
  st32(ctx + H_OUT_PTR, ctx + REGIONS + ioCap);
  st32(ctx + H_OUT_CAP, ioCap);
  return ctx;
}

// Header fields the host also reads, declared in abi.ts.
export { H_IN_PTR, H_IN_CAP, H_OUT_PTR, H_OUT_CAP, H_VERBOSITY, H_STORE_BYTES, H_AUTOMOVE, H_AUTOMOVE_WINDOW } from './abi';
