// The threads section's in-process engine figure, in a fresh process
// (started by threads.bench.ts): how many engine ops/s one arena gives when
// 2 threads execute on it (-t 2's shared build, one context each, one lock
// around each call) against 1 thread, with no sockets in the way.
//   threads-engine.js <seconds per run> <rounds>
// Each run is a tight loop of pipelined batches (32 commands of 100 B
// values, ~90% gets of stored keys), copied in, executed, the output copied
// out, as a connection does per read. Configurations, in an order rotated
// each round, each in worker threads: the -t 1 build without a lock, and 1
// or 2 threads on the shared arena. Prints one JSON line.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { loadSharedWasmEngine, loadWasmEngine, newSharedMemory, sharedWasmModule } from '../src/engine/wasm.js';
import { Store } from '../src/engine/store.js';
import { EngineLock } from '../src/engine/lock.js';
import { ST_OK } from '../assembly/abi.js';
import { fillBatches, getCmd, key, prng, setCmd, value } from './workload.js';
import { median } from './types.js';

const KEYS = 100_000;
const VALUE_BYTES = 100;
const PER_BATCH = 32;
const SET_SHARE = 0.1;
const BATCHES = 512;
const MEMORY_MB = 64;
/** Bounds a run in count as well as time. */
const MAX_BATCHES = 50_000_000;
const STORE_OPTIONS = { memoryMB: MEMORY_MB, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 };

/** SharedArrayBuffer words: the engine lock, the start flag, the threads ready, then the deadline (Float64). */
const W_LOCK = 0;
const W_GO = 1;
const W_READY = 2;
const DEADLINE_AT = 8;

/** The engine lock, timing how long a thread waits when it finds it held,
 *  and how long it holds it (so the share of a thread's time spent under the
 *  lock, which bounds what more threads can add). */
class TimedLock extends EngineLock {
  calls = 0;
  waitMs = 0;
  heldMs = 0;
  private since = 0;
  override acquire(): void {
    this.calls++;
    const before = this.waits;
    const t = performance.now();
    super.acquire();
    this.since = performance.now();
    if (this.waits !== before) this.waitMs += this.since - t;
  }
  override release(): void {
    this.heldMs += performance.now() - this.since;
    super.release();
  }
}

interface RunResult {
  ops: number;
  ms: number;
  bad: number;
  calls: number;
  waits: number;
  waitMs: number;
  heldMs: number;
}

function batches(seed: number): Buffer[] {
  const rnd = prng(seed);
  const v = value(VALUE_BYTES, seed & 7);
  const out: Buffer[] = [];
  for (let b = 0; b < BATCHES; b++) {
    let s = '';
    for (let i = 0; i < PER_BATCH; i++) {
      const k = key(Math.floor(rnd() * KEYS));
      s += rnd() < SET_SHARE ? setCmd(k, v) : getCmd(k);
    }
    out.push(Buffer.from(s, 'latin1'));
  }
  return out;
}

/** Runs batches until the wall clock passes `deadline` (performance.timeOrigin + now, ms). */
function loop(store: Store, work: Buffer[], deadline: number, now: number, lock: TimedLock | null): RunResult {
  const out = new Uint8Array(64 * 1024);
  const t0 = performance.now();
  const end = deadline - performance.timeOrigin;
  const calls0 = lock?.calls ?? 0;
  const waits0 = lock?.waits ?? 0;
  const waitMs0 = lock?.waitMs ?? 0;
  const heldMs0 = lock?.heldMs ?? 0;
  let n = 0;
  let bad = 0;
  let i = 0;
  while (n < MAX_BATCHES) {
    // The clock every 16 batches: reading it costs about what a get does.
    if ((n & 15) === 0 && performance.now() >= end) break;
    const b = work[i];
    if (++i === work.length) i = 0;
    store.input().set(b);
    const st = store.execute(b.length, now);
    if (st !== ST_OK || store.consumed !== b.length) bad++;
    const o = store.output();
    if (o.length <= out.length) out.set(o);
    n++;
  }
  return {
    ops: n * PER_BATCH,
    ms: performance.now() - t0,
    bad,
    calls: (lock?.calls ?? 0) - calls0,
    waits: (lock?.waits ?? 0) - waits0,
    waitMs: (lock?.waitMs ?? 0) - waitMs0,
    heldMs: (lock?.heldMs ?? 0) - heldMs0,
  };
}

function prefill(store: Store, now: number): void {
  for (const b of fillBatches(0, KEYS, VALUE_BYTES, 1000)) {
    store.input().set(b);
    if (store.execute(b.length, now) !== ST_OK || store.consumed !== b.length) throw new Error('prefill failed');
  }
}

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  base: number;
  ctx: number;
  sab: SharedArrayBuffer;
  seed: number;
  now: number;
  /** the -t 1 build on its own store, no lock */
  plain: boolean;
}

if (!isMainThread) {
  const d = workerData as WorkerInit;
  // The -t 1 build runs in a worker too, so every configuration's code is
  // compiled in an isolate that has seen one engine instance only.
  const lock = d.plain ? null : new TimedLock(d.sab, W_LOCK);
  const store = lock ? Store.attach(loadSharedWasmEngine(d.module, d.memory), d.base, d.ctx, lock) : Store.create(loadWasmEngine(), STORE_OPTIONS, d.now);
  if (!lock) prefill(store, d.now);
  const work = batches(d.seed);
  const words = new Int32Array(d.sab);
  const deadline = new Float64Array(d.sab, DEADLINE_AT * 4, 1);
  parentPort!.on('message', (m: string) => {
    if (m === 'exit') { process.exit(0); }
    // Ready, then wait for the start flag so that the threads start together.
    Atomics.add(words, W_READY, 1);
    Atomics.notify(words, W_READY);
    while (Atomics.load(words, W_GO) === 0) Atomics.wait(words, W_GO, 0, 1000);
    parentPort!.postMessage(loop(store, work, deadline[0], d.now, lock));
  });
  parentPort!.postMessage('ready');
} else {
  const seconds = Number(process.argv[2] ?? 1);
  const rounds = Number(process.argv[3] ?? 3);
  const now = Math.floor(Date.now() / 1000);
  const module = sharedWasmModule();
  const memory = newSharedMemory();
  const sab = new SharedArrayBuffer(64);
  const words = new Int32Array(sab);
  const deadline = new Float64Array(sab, DEADLINE_AT * 4, 1);
  const shared = Store.create(loadSharedWasmEngine(module, memory), STORE_OPTIONS, now);
  // As the server does with -t N: the creating thread too goes through a context and the lock.
  shared.useContext(shared.newContext(), new EngineLock(sab, W_LOCK));
  prefill(shared, now);
  /** A worker and its replies, taken in order. */
  class Thread {
    readonly worker: Worker;
    private readonly queue: unknown[] = [];
    private waiting: ((m: unknown) => void) | null = null;
    constructor(t: number, plain: boolean) {
      this.worker = new Worker(new URL(import.meta.url), {
        workerData: { module, memory, base: shared.base, ctx: plain ? 0 : shared.newContext(), sab, seed: 1 + t, now, plain } satisfies WorkerInit,
      });
      this.worker.on('message', (m) => {
        const f = this.waiting;
        if (f) { this.waiting = null; f(m); } else this.queue.push(m);
      });
      this.worker.on('error', (e) => { process.stderr.write(`worker ${t}: ${e.stack ?? e}\n`); process.exit(1); });
    }
    next(): Promise<unknown> {
      return this.queue.length ? Promise.resolve(this.queue.shift()) : new Promise((r) => { this.waiting = r; });
    }
  }
  const workers = [new Thread(0, false), new Thread(1, false)];
  const plainWorker = new Thread(0, true);
  for (const w of [...workers, plainWorker]) await w.next();

  type Config = 'plain-1' | 'shared-1' | 'shared-2';
  const configs: Config[] = ['plain-1', 'shared-1', 'shared-2'];
  interface Measured { ops_per_s: number; ops_per_cpu_s: number; cpu_cores: number; bad: number; waits_per_call: number; wait_share: number; held_share: number }
  const results: Record<Config, Measured[]> = { 'plain-1': [], 'shared-1': [], 'shared-2': [] };

  const run = async (c: Config): Promise<Measured> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const threads = c === 'plain-1' ? [plainWorker] : c === 'shared-1' ? workers.slice(0, 1) : workers;
    const n = threads.length;
    Atomics.store(words, W_GO, 0);
    Atomics.store(words, W_READY, 0);
    const replies = threads.map((w) => { w.worker.postMessage('run'); return w.next() as Promise<RunResult>; });
    while (Atomics.load(words, W_READY) < n) Atomics.wait(words, W_READY, Atomics.load(words, W_READY), 50);
    deadline[0] = performance.timeOrigin + performance.now() + seconds * 1000;
    Atomics.store(words, W_GO, 1);
    Atomics.notify(words, W_GO);
    const rs = await Promise.all(replies);
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const ops = rs.reduce((a, r) => a + r.ops, 0);
    const ms = Math.max(...rs.map((r) => r.ms));
    const calls = rs.reduce((a, r) => a + r.calls, 0);
    return {
      ops_per_s: ops / (ms / 1000),
      ops_per_cpu_s: ops / ((cpu.user + cpu.system) / 1e6),
      cpu_cores: (cpu.user + cpu.system) / 1e6 / wall,
      bad: rs.reduce((a, r) => a + r.bad, 0),
      waits_per_call: calls ? rs.reduce((a, r) => a + r.waits, 0) / calls : 0,
      // Time the threads spent waiting for the lock over the time they ran.
      wait_share: rs.reduce((a, r) => a + r.waitMs, 0) / rs.reduce((a, r) => a + r.ms, 0),
      // The lock's occupancy: time any thread held it over the run's wall time.
      held_share: rs.reduce((a, r) => a + r.heldMs, 0) / ms,
    };
  };

  const ratios: number[] = [];
  const lockCost: number[] = [];
  const perCpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = configs.slice(r % 3).concat(configs.slice(0, r % 3));
    const got: Partial<Record<Config, Measured>> = {};
    for (const c of order) got[c] = await run(c);
    for (const c of configs) results[c].push(got[c]!);
    ratios.push(got['shared-2']!.ops_per_s / got['shared-1']!.ops_per_s);
    perCpu.push(got['shared-2']!.ops_per_cpu_s / got['shared-1']!.ops_per_cpu_s);
    lockCost.push(got['shared-1']!.ops_per_s / got['plain-1']!.ops_per_s);
  }
  await Promise.all([...workers, plainWorker].map((w) => { w.worker.postMessage('exit'); return new Promise((r) => w.worker.once('exit', r)); }));

  const summary = (c: Config) => ({
    ops_per_s: median(results[c].map((m) => m.ops_per_s)),
    ops_per_cpu_s: median(results[c].map((m) => m.ops_per_cpu_s)),
    cpu_cores: median(results[c].map((m) => m.cpu_cores)),
    waits_per_call: median(results[c].map((m) => m.waits_per_call)),
    wait_share: median(results[c].map((m) => m.wait_share)),
    held_share: median(results[c].map((m) => m.held_share)),
    bad: results[c].reduce((a, m) => a + m.bad, 0),
    ops_per_s_by_round: results[c].map((m) => Math.round(m.ops_per_s)),
  });
  process.stdout.write(JSON.stringify({
    seconds, rounds, keys: KEYS, value_bytes: VALUE_BYTES, per_batch: PER_BATCH, set_share: SET_SHARE,
    plain_1: summary('plain-1'), shared_1: summary('shared-1'), shared_2: summary('shared-2'),
    two_over_one: median(ratios), two_over_one_per_cpu_s: median(perCpu), shared_over_plain: median(lockCost),
  }) + '\n');
}
