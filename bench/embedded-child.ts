// One embedded-cache measurement in a fresh process (started by
// embedded.bench.ts with --expose-gc), through the library's public API
// (createCache) against lru-cache and a Map holding a copy of each value:
//   embedded-child.js ops <wasm|js|lru-cache|map> <entries> <fillSeconds> <mixSeconds>
//     fills `entries` items, measures memory, then get/set ops/s (all-set,
//     all-get, 90/10) over random present keys;
//   embedded-child.js churn <wasm|js|lru-cache|none> <capacity> <sets> <seconds> <strings|bytes>
//     random sets over twice the capacity (fill, then evict), the keys made
//     per op as strings, or written into one reused 16-byte Uint8Array (the
//     caller then allocates nothing and every pause is the cache's own);
//     `none` makes the string keys and drops them: the caller's share alone;
//   embedded-child.js speed <wasm|js|lru-cache|map> <entries>
//     fills one contender, then measures get/set (and the cache's getView,
//     getMany, setMany) ops/s on request, row by row (see speedServe).
// Work runs in batches of 1000 ops, one event-loop turn each; every GC pause
// is recorded. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import { createCache } from '../src/embed/node.js';
import { key, prng } from './workload.js';

const VALUE_BYTES = 100;
const PER_TURN = 1000;
/** A 16-byte key and a 100-byte value take a 192-byte chunk (header included). */
const CHUNK_BYTES = 192;

interface Contender {
  /** Byte keys: createCache only (lru-cache and Map key by identity). */
  set(k: string | Uint8Array, v: Uint8Array): void;
  get(k: string): unknown;
  items(): number;
}

/** `slack`: room for every entry and more (ops); without, the budget holds `entries` and evicts beyond (churn). */
async function contender(kind: string, entries: number, slack: boolean): Promise<Contender> {
  if (kind === 'wasm' || kind === 'js') {
    const memory = slack ? Math.ceil(entries * CHUNK_BYTES * 1.02) + (16 << 20) : entries * CHUNK_BYTES;
    const cache = await createCache({ engine: kind, memory });
    return { set: (k, v) => { cache.set(k, v); }, get: (k) => cache.get(k), items: () => cache.stats().items };
  }
  // The JS caches keep the value object, so each set stores its own copy.
  if (kind === 'lru-cache') {
    const lru = new LRUCache<string, Uint8Array>({ max: entries });
    return { set: (k, v) => { lru.set(k as string, v.slice()); }, get: (k) => lru.get(k), items: () => lru.size };
  }
  if (kind === 'map') {
    const map = new Map<string, Uint8Array>();
    return { set: (k, v) => { map.set(k as string, v.slice()); }, get: (k) => map.get(k), items: () => map.size };
  }
  throw new Error(`unknown contender ${kind}`);
}

function rssBytes(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

function settle(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

const turn = () => new Promise((r) => setImmediate(r));

/** GC pauses recorded from start() until stop(). */
class Pauses {
  private list: number[] = [];
  private readonly obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) this.list.push(e.duration); });
  start(): void { this.list = []; this.obs.observe({ entryTypes: ['gc'] }); }
  async stop(): Promise<{ gc_count: number; gc_total_ms: number; gc_max_ms: number }> {
    // Let the observer deliver the last entries.
    await new Promise((r) => setTimeout(r, 50));
    this.obs.disconnect();
    return { gc_count: this.list.length, gc_total_ms: this.list.reduce((a, b) => a + b, 0), gc_max_ms: Math.max(0, ...this.list) };
  }
}

/** Runs `op(i)` in turns of PER_TURN until `count` ops or `seconds` pass. */
async function loop(count: number, seconds: number, op: (i: number) => void): Promise<{ ops: number; seconds: number }> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let done = 0;
  while (done < count && performance.now() < deadline) {
    const end = Math.min(count, done + PER_TURN);
    for (let i = done; i < end; i++) op(i);
    done = end;
    await turn();
  }
  return { ops: done, seconds: (performance.now() - start) / 1000 };
}

function valueBytes(): Uint8Array {
  const v = new Uint8Array(VALUE_BYTES);
  for (let i = 0; i < v.length; i++) v[i] = 97 + ((i * 7) % 26);
  return v;
}

async function ops(kind: string, entries: number, fillSeconds: number, mixSeconds: number): Promise<Record<string, unknown>> {
  const c = await contender(kind, entries, true);
  const v = valueBytes();
  const pauses = new Pauses();
  settle();
  const rss0 = rssBytes();
  const m0 = process.memoryUsage();
  pauses.start();
  const fill = await loop(entries, fillSeconds, (i) => c.set(key(i), v));
  const fillGc = await pauses.stop();
  settle();
  const rss1 = rssBytes();
  const m1 = process.memoryUsage();
  const filled = fill.ops;
  const result: Record<string, unknown> = {
    entries, filled, items: c.items(), fill_seconds: fill.seconds, fill_sets_per_s: filled / fill.seconds, fill_gc: fillGc,
    rss_growth: rss1 - rss0, heap_external_growth: m1.heapUsed + m1.external - (m0.heapUsed + m0.external),
  };
  const rnd = prng(777);
  const pick = () => key(Math.floor(rnd() * filled));
  const mixes: Record<string, (i: number) => void> = {
    set: () => c.set(pick(), v),
    get: () => { c.get(pick()); },
    mixed: () => { if (rnd() < 0.9) c.get(pick()); else c.set(pick(), v); },
  };
  for (const [name, op] of Object.entries(mixes)) {
    settle();
    pauses.start();
    const r = await loop(Number.MAX_SAFE_INTEGER, mixSeconds, op);
    result[name] = { ops: r.ops, seconds: r.seconds, ops_per_s: r.ops / r.seconds, ...(await pauses.stop()) };
  }
  return result;
}

async function churn(kind: string, capacity: number, sets: number, seconds: number, keys: string): Promise<Record<string, unknown>> {
  const c = kind === 'none' ? null : await contender(kind, capacity, false);
  const v = valueBytes();
  const keyspace = 2 * capacity;
  // Keys made and dropped (kind none) feed this, so they are really made.
  let sink = 0;
  let op: () => void;
  if (keys === 'bytes') {
    if (c === null || kind === 'lru-cache') throw new Error('byte keys: only for createCache');
    // The bytes of key(i), its 12 digits rewritten in place, and a PRNG whose
    // result stays a small integer: nothing allocated per op on this side.
    const kb = new TextEncoder().encode(key(0));
    let a = 12345;
    op = () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      let k = ((t ^ (t >>> 14)) >>> 0) % keyspace;
      for (let j = kb.length - 1; j >= 4; j--) { kb[j] = 48 + (k % 10); k = (k / 10) | 0; }
      c.set(kb, v);
    };
  } else if (keys === 'strings') {
    const rnd = prng(12345);
    op = c === null
      ? () => { sink += key(Math.floor(rnd() * keyspace)).charCodeAt(15); }
      : () => c.set(key(Math.floor(rnd() * keyspace)), v);
  } else {
    throw new Error(`unknown key mode ${keys}`);
  }
  const pauses = new Pauses();
  settle();
  pauses.start();
  const r = await loop(sets, seconds, op);
  return { capacity, keys, sets: r.ops, seconds: r.seconds, sets_per_s: r.ops / r.seconds, items: c === null ? 0 : c.items(), key_digits_sum: sink, ...(await pauses.stop()) };
}

/** One way of reading or writing: a call per op, or a batch call of `per` ops. */
interface SpeedRow { per: number; run: (k: () => string) => void }

const BATCH = 100;

async function speedRows(kind: string, entries: number): Promise<{ rows: Record<string, SpeedRow>; items: () => number }> {
  const v = valueBytes();
  const keys = (k: () => string) => { const a: string[] = new Array(BATCH); for (let i = 0; i < BATCH; i++) a[i] = k(); return a; };
  if (kind === 'wasm' || kind === 'js') {
    const cache = await createCache({ engine: kind, memory: Math.ceil(entries * CHUNK_BYTES * 1.02) + (16 << 20) });
    for (let i = 0; i < entries; i++) cache.set(key(i), v);
    const rows: Record<string, SpeedRow> = {
      get: { per: 1, run: (k) => { cache.get(k()); } },
      set: { per: 1, run: (k) => { cache.set(k(), v); } },
    };
    if (kind === 'wasm') {
      rows.getView = { per: 1, run: (k) => { cache.getView(k()); } };
      rows[`getMany(${BATCH})`] = { per: BATCH, run: (k) => { cache.getMany(keys(k)); } };
      rows[`setMany(${BATCH})`] = {
        per: BATCH,
        run: (k) => { const e: [string, Uint8Array][] = new Array(BATCH); for (let i = 0; i < BATCH; i++) e[i] = [k(), v]; cache.setMany(e); },
      };
    }
    return { rows, items: () => cache.stats().items };
  }
  // The JS caches keep the value object, so each set stores its own copy.
  const c = kind === 'lru-cache' ? new LRUCache<string, Uint8Array>({ max: entries }) : kind === 'map' ? new Map<string, Uint8Array>() : undefined;
  if (!c) throw new Error(`unknown contender ${kind}`);
  for (let i = 0; i < entries; i++) c.set(key(i), v.slice());
  return {
    rows: { get: { per: 1, run: (k) => { c.get(k()); } }, set: { per: 1, run: (k) => { c.set(k(), v.slice()); } } },
    items: () => c.size,
  };
}

/**
 * Fills one contender, prints its row names, then measures the row named on
 * each stdin line (`<row> <seconds>`) and prints its figures, until `end`.
 * The parent keeps one such process per contender and asks them in turn:
 * each has a heap of its own (no contender pays for another's garbage), and
 * the machine's load falls on all of them alike, round after round.
 */
async function speedServe(kind: string, entries: number): Promise<void> {
  const { rows, items } = await speedRows(kind, entries);
  const rnd = prng(4242);
  const pick = () => key(Math.floor(rnd() * entries));
  const measure = async (r: SpeedRow, seconds: number) => {
    const calls = Math.max(1, Math.floor(PER_TURN / r.per));
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const deadline = start + seconds * 1000;
    let ops = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < calls; i++) r.run(pick);
      ops += calls * r.per;
      await turn();
    }
    // CPU time of the whole process (the collector's threads included): the
    // other contenders, and other work on the machine, stretch the wall
    // clock but not this figure.
    const cpu = process.cpuUsage(cpu0);
    return { ops, cpu_ops_per_s: ops / ((cpu.user + cpu.system) / 1e6), wall_ops_per_s: ops / ((performance.now() - start) / 1000) };
  };
  // Unrecorded first passes: the JIT compiles every path.
  for (const r of Object.values(rows)) await measure(r, 0.1);
  process.stdout.write(JSON.stringify({ ready: true, rows: Object.keys(rows), items: items() }) + '\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [name, seconds] = line.trim().split(' ');
    if (name === 'end') break;
    const r = rows[name];
    if (!r) throw new Error(`no row ${name} for ${kind}`);
    // A full collection first, untimed: each row pays for its own garbage only.
    globalThis.gc!();
    process.stdout.write(JSON.stringify({ row: name, ...(await measure(r, Number(seconds))) }) + '\n');
  }
  lines.close();
}

async function main(): Promise<void> {
  const [what, kind, nArg, aArg, bArg, cArg] = process.argv.slice(2);
  if (!globalThis.gc) throw new Error('run with --expose-gc');
  if (what === 'speed') return speedServe(kind, Number(nArg));
  const n = Number(nArg);
  const result = what === 'ops' ? await ops(kind, n, Number(aArg), Number(bArg))
    : what === 'churn' ? await churn(kind, n, Number(aArg), Number(bArg), cArg ?? 'strings')
        : undefined;
  if (!result) throw new Error(`unknown measurement ${what}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
