// One memory measurement in a fresh process (started by memory.bench.ts with
// --expose-gc): `memory-child.js <wasm|map|lru-cache> <valueBytes> <items>`.
// Stores the items, collects garbage, and prints one JSON line with the
// growth of RSS (and, for the JS contenders, of heapUsed + external).
import { readFileSync } from 'node:fs';
import { loadWasmEngine } from '../src/engine/wasm.js';
import { Store } from '../src/engine/store.js';
import { ST_OK } from '../assembly/abi.js';
import { mapBaseline, lruBaseline } from './baseline.js';
import { fillBatches } from './workload.js';

const NOW = 1_700_000_000;
/** Enough arena for 1,000,000 items of 1000-byte values; only pages in use are resident. */
const ARENA_MB = 2048;

function rssBytes(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

function settle(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

function wasm(valueBytes: number, items: number): Record<string, number> {
  const store = Store.create(loadWasmEngine(), { memoryMB: ARENA_MB, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 }, NOW);
  const run = (b: Buffer) => {
    store.input().set(b);
    const st = store.execute(b.length, NOW);
    if (st !== ST_OK || store.consumed !== b.length) throw new Error(`execute returned ${st}, consumed ${store.consumed} of ${b.length}`);
  };
  settle();
  const rss0 = rssBytes();
  for (const b of fillBatches(0, items, valueBytes, 1000, true)) run(b);
  settle();
  const rss1 = rssBytes();
  run(Buffer.from('stats\r\nstats slabs\r\n', 'latin1'));
  const stats = new Map<string, number>();
  for (const m of Buffer.from(store.output()).toString('latin1').matchAll(/^STAT (\S+) (\d+)\r$/gm)) stats.set(m[1], Number(m[2]));
  const stat = (k: string) => stats.get(k) ?? NaN;
  return {
    rss_growth: rss1 - rss0,
    curr_items: stat('curr_items'),
    evictions: stat('evictions'),
    bytes: stat('bytes'),
    total_malloced: stat('total_malloced'),
    hash_bytes: stat('hash_bytes'),
    io_bytes: store.inputCapacity + store.outputCapacity,
  };
}

function baseline(kind: 'map' | 'lru-cache', valueBytes: number, items: number): Record<string, number> {
  const b = kind === 'map' ? mapBaseline() : lruBaseline(items);
  settle();
  const rss0 = rssBytes();
  const m0 = process.memoryUsage();
  for (const batch of fillBatches(0, items, valueBytes, 1000, true)) b.execute(batch);
  settle();
  const rss1 = rssBytes();
  const m1 = process.memoryUsage();
  return {
    rss_growth: rss1 - rss0,
    heap_external_growth: m1.heapUsed + m1.external - (m0.heapUsed + m0.external),
    curr_items: b.kv.size,
  };
}

function main(): void {
  const [mode, valueArg, itemsArg] = process.argv.slice(2);
  const valueBytes = Number(valueArg);
  const items = Number(itemsArg);
  if (!globalThis.gc) throw new Error('run with --expose-gc');
  let result: Record<string, number>;
  if (mode === 'wasm') result = wasm(valueBytes, items);
  else if (mode === 'map' || mode === 'lru-cache') result = baseline(mode, valueBytes, items);
  else throw new Error(`unknown contender ${mode}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main();
