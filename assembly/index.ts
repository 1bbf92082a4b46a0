// The engine's whole ABI: these exports and nothing else. Arguments and
// results are 32-bit integers; bytes move through each store's input and
// output regions, and results are read from its header (assembly/abi.ts).
import { arenaCreate, arenaSelect, clockSet, hget, H_IN_PTR, H_IN_CAP, H_OUT_PTR, H_OUT_CAP } from './arena';
import { ST_OK } from './abi';
import { slabsInit } from './slabs';
import { assocInit, assocTick } from './assoc';
import { crawlerStep } from './crawler';
import { textExecute } from './proto/text';

/** Chunks the expiry crawler visits per tick. */
const CRAWL_BUDGET: u32 = 65536;

/** Creates a store; returns its base address, or 0 if memory ran out. */
export function mc_init(memoryMB: u32, itemSizeMax: u32, chunkMin: u32, factorX100: u32, opts: u32, now: u32): u32 {
  if (factorX100 <= 100) factorX100 = 125;
  if (chunkMin == 0) chunkMin = 48;
  const base = arenaCreate(memoryMB, itemSizeMax, chunkMin, factorX100, opts, now);
  if (base == 0) return 0;
  slabsInit();
  assocInit();
  return base;
}

/** Runs every complete command in the input region's first `len` bytes. */
export function mc_execute(store: u32, len: u32, now: u32): u32 {
  arenaSelect(store);
  clockSet(now);
  const cap = hget(H_IN_CAP);
  return textExecute(hget(H_IN_PTR), len < cap ? len : cap, hget(H_OUT_PTR), hget(H_OUT_CAP));
}

/** Clock, a bounded step of the expiry crawler and of hash expansion. */
export function mc_tick(store: u32, now: u32): u32 {
  arenaSelect(store);
  clockSet(now);
  crawlerStep(CRAWL_BUDGET);
  assocTick();
  return ST_OK;
}


