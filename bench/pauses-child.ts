// One churn run in a fresh process (started by pauses.bench.ts):
// `pauses-child.js <wasm|lru-cache> <capacity> <keyspace> <sets> <seconds>`.
// Pipelined batches of 1000 sets of random keys, one batch per event-loop
// turn as a server handles one socket read, until `sets` are done or
// `seconds` have passed, after a short warm-up. Records event-loop delay and every GC pause; prints
// one JSON line.
import { monitorEventLoopDelay, PerformanceObserver, performance, constants } from 'node:perf_hooks';
import { loadWasmEngine } from '../src/engine/wasm.js';
import { Store } from '../src/engine/store.js';
import { ST_OK } from '../assembly/abi.js';
import { lruBaseline } from './baseline.js';
import { SetBatch, prng } from './workload.js';

const NOW = 1_700_000_000;
const VALUE_BYTES = 100;
const PER_READ = 1000;
/** Chunk size of an item of a 16-byte key and a 100-byte value (stats: total_malloced / curr_items). */
const CHUNK_BYTES = 192;
/** Batches run before measuring (their sets are not counted). */
const WARMUP_READS = 20;

interface Contender {
  /** One socket read's worth: execute and copy the replies out. */
  run(input: Buffer): Buffer;
  items(): number;
}

function wasm(capacity: number): Contender {
  const memoryMB = Math.ceil((capacity * CHUNK_BYTES) / 1048576);
  const store = Store.create(loadWasmEngine(), { memoryMB, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 }, NOW);
  const run = (input: Buffer) => {
    store.input().set(input);
    const st = store.execute(input.length, NOW);
    if (st !== ST_OK || store.consumed !== input.length) throw new Error(`execute returned ${st}, consumed ${store.consumed} of ${input.length}`);
    return Buffer.from(store.output());
  };
  return {
    run,
    items() {
      const m = /STAT curr_items (\d+)/.exec(run(Buffer.from('stats\r\n', 'latin1')).toString('latin1'));
      return Number(m?.[1] ?? NaN);
    },
  };
}

function lru(capacity: number): Contender {
  const b = lruBaseline(capacity);
  return { run: (input) => b.execute(input).out, items: () => b.kv.size };
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}

async function main(): Promise<void> {
  const [mode, capArg, keyspaceArg, setsArg, secondsArg] = process.argv.slice(2);
  const capacity = Number(capArg);
  const keyspace = Number(keyspaceArg);
  const sets = Number(setsArg);
  const seconds = Number(secondsArg);
  const c = mode === 'wasm' ? wasm(capacity) : mode === 'lru-cache' ? lru(capacity) : undefined;
  if (!c) throw new Error(`unknown contender ${mode}`);

  const batch = new SetBatch(VALUE_BYTES, PER_READ);
  const rnd = prng(12345);
  const churn = () => {
    for (let j = 0; j < PER_READ; j++) batch.write(j, Math.floor(rnd() * keyspace));
    c.run(batch.buf);
  };
  // Start-up is not churn: reserving the arena counts as external memory
  // (collections follow), and the first scavenges fault in new-space pages.
  // Warm up, then start from a collected heap.
  for (let i = 0; i < WARMUP_READS; i++) {
    churn();
    await new Promise((r) => setImmediate(r));
  }
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 20));
  const pauses: number[] = [];
  let majors = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      pauses.push(e.duration);
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();

  const start = performance.now();
  const deadline = start + seconds * 1000;
  let done = 0;
  while (done < sets && performance.now() < deadline) {
    churn();
    done += PER_READ;
    await new Promise((r) => setImmediate(r));
  }
  const elapsed = (performance.now() - start) / 1000;
  eld.disable();
  // Let the observer deliver the last entries.
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();

  const sorted = [...pauses].sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    sets: done,
    seconds: elapsed,
    sets_per_s: done / elapsed,
    items: c.items(),
    gc_count: pauses.length,
    gc_major_count: majors,
    gc_total_ms: pauses.reduce((a, b) => a + b, 0),
    gc_max_ms: sorted.length ? sorted[sorted.length - 1] : 0,
    gc_p999_ms: quantile(sorted, 0.999),
    eld_p99_ms: eld.percentile(99) / 1e6,
    eld_p999_ms: eld.percentile(99.9) / 1e6,
    eld_max_ms: eld.max / 1e6,
  }) + '\n');
}

await main();
