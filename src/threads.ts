// -t N: N event loops, each with its own connections, executing on one store
// in one shared memory (a WebAssembly.Memory, or the js build's
// SharedArrayBuffer: src/engine/shared.ts). The main thread is thread 0: it owns the
// listening socket, UDP, the ticker (engine clock, crawler), metrics,
// snapshots and warming, and serves connections like the others. Threads
// 1..N-1 are worker_threads (src/worker.ts) that accept on the main
// thread's listening socket (same descriptor, each thread's own poll; the
// kernel hands each connection to one of them) and execute through their
// own thread context under the engine lock (src/engine/lock.ts).
//
// Node cannot hand an accepted socket to another thread, so sharing the
// listening socket is the way to balance here; it spreads connections about
// evenly when the threads are equally busy (a busy thread polls less often).
import { Worker, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import {
  HS_CURR_CONNECTIONS, HS_TOTAL_CONNECTIONS, HS_REJECTED_CONNECTIONS, HS_CONNECTION_STRUCTURES, HS_CONN_YIELDS,
  HS_IDLE_KICKS, HS_RESPONSE_OBJ_COUNT, HS_RESPONSE_OBJ_BYTES, HS_READ_BUF_COUNT, HS_READ_BUF_BYTES,
  HS_SSL_HANDSHAKE_ERRORS,
} from '../assembly/abi.js';
import { EngineLock } from './engine/lock.js';
import type { Store } from './engine/store.js';
import type { SharedEngine } from './engine/shared.js';
import type { Settings } from './settings.js';
import type { Logger } from './log.js';
import type { ThreadRelay } from './thread-relay.js';
import { THREAD_YOUNG_GENERATION_MB } from './young-gen.js';

/** memcached's default -t is 4; here: the cores, at most 4. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Host counters each thread keeps for its own connections; `stats`
 *  reports their sum (written under the engine lock, see ThreadShared). */
const SUMMED_STATS = [
  HS_CURR_CONNECTIONS, HS_TOTAL_CONNECTIONS, HS_REJECTED_CONNECTIONS, HS_CONNECTION_STRUCTURES, HS_CONN_YIELDS,
  HS_IDLE_KICKS, HS_RESPONSE_OBJ_COUNT, HS_RESPONSE_OBJ_BYTES, HS_READ_BUF_COUNT, HS_READ_BUF_BYTES,
  HS_SSL_HANDSHAKE_ERRORS,
];
const MAX_THREADS = 1024;
// Int32 words at the start of the shared buffer; then, per thread, the
// LOGW_* kinds its watchers want and how many watchers it has.
const W_LOCK = 0;
const W_OPEN_CONNS = 1;
/** memcached's logger_gid: one number per watch entry, for all threads. */
const W_GID = 2;
const WORDS = 4;

/** What the threads of one server share besides the store: the engine lock,
 *  the open connection count (-c holds per server), and per-thread counters. */
export class ThreadShared {
  readonly lock: EngineLock;
  private readonly words: Int32Array;
  private readonly counters: Float64Array;

  readonly threads: number;
  private readonly watchKinds: Int32Array;
  private readonly watcherCounts: Int32Array;
  /** Bytes of watch lines sent to each thread and not yet taken by it. */
  private readonly relayQueued: Int32Array;
  /** Watch lines not sent to each thread because its queue was full. */
  private readonly relayDropped: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.lock = new EngineLock(buffer, W_LOCK);
    this.words = new Int32Array(buffer, 0, WORDS);
    this.threads = new Int32Array(buffer, WORDS * 4, 1)[0];
    const perThread = WORDS * 4 + 4;
    this.watchKinds = new Int32Array(buffer, perThread, this.threads);
    this.watcherCounts = new Int32Array(buffer, perThread + this.threads * 4, this.threads);
    this.relayQueued = new Int32Array(buffer, perThread + this.threads * 8, this.threads);
    this.relayDropped = new Int32Array(buffer, perThread + this.threads * 12, this.threads);
    this.counters = new Float64Array(buffer, countersAt(this.threads), this.threads * SUMMED_STATS.length);
  }

  static create(threads: number): ThreadShared {
    const buffer = new SharedArrayBuffer(countersAt(threads) + threads * SUMMED_STATS.length * 8);
    new Int32Array(buffer, WORDS * 4, 1)[0] = threads;
    return new ThreadShared(buffer);
  }

  /** The next watch entry number (memcached's logger_gid). */
  nextGid(): number {
    return Atomics.add(this.words, W_GID, 1) + 1;
  }

  /** Thread `thread` now has `count` watchers wanting `kinds`. Returns the
   *  kinds and count of all threads' watchers. */
  setWatchers(thread: number, kinds: number, count: number): { kinds: number; count: number } {
    Atomics.store(this.watchKinds, thread, kinds);
    Atomics.store(this.watcherCounts, thread, count);
    let all = 0;
    let n = 0;
    for (let t = 0; t < this.threads; t++) {
      all |= Atomics.load(this.watchKinds, t);
      n += Atomics.load(this.watcherCounts, t);
    }
    return { kinds: all, count: n };
  }

  /** The kinds watchers of the other threads want. */
  watchKindsElsewhere(thread: number): number {
    let all = 0;
    for (let t = 0; t < this.threads; t++) if (t !== thread) all |= Atomics.load(this.watchKinds, t);
    return all;
  }

  /** The kinds thread `t`'s watchers want. */
  watchKindsOf(t: number): number {
    return Atomics.load(this.watchKinds, t);
  }

  /** Queues `bytes` of watch lines for thread `t` if its queue has room
   *  (`limit`); otherwise counts the `lines` as dropped for it. */
  relayReserve(t: number, bytes: number, lines: number, limit: number): boolean {
    if (Atomics.add(this.relayQueued, t, bytes) + bytes <= limit) return true;
    Atomics.sub(this.relayQueued, t, bytes);
    Atomics.add(this.relayDropped, t, lines);
    return false;
  }

  /** Whether thread `t`'s queue of watch lines has `room` bytes under `limit`. */
  relayRoom(t: number, room: number, limit: number): boolean {
    return Atomics.load(this.relayQueued, t) + room <= limit;
  }

  /** Counts `lines` watch lines as dropped for thread `t`. */
  relayDrop(t: number, lines: number): void {
    Atomics.add(this.relayDropped, t, lines);
  }

  /** Thread `t` took `bytes` of its queue; returns the lines dropped for it since. */
  relayTaken(t: number, bytes: number): number {
    Atomics.sub(this.relayQueued, t, bytes);
    return Atomics.exchange(this.relayDropped, t, 0);
  }

  /** Watchers of all threads. */
  watcherCount(): number {
    let n = 0;
    for (let t = 0; t < this.threads; t++) n += Atomics.load(this.watcherCounts, t);
    return n;
  }

  /** Counts a connection in if fewer than `limit` are open in all threads. */
  tryOpen(limit: number): boolean {
    if (Atomics.add(this.words, W_OPEN_CONNS, 1) < limit) return true;
    Atomics.sub(this.words, W_OPEN_CONNS, 1);
    return false;
  }

  closeOne(): void {
    Atomics.sub(this.words, W_OPEN_CONNS, 1);
  }

  /** Each thread's own value of summed host counter `id` (metrics). */
  perThread(id: number): number[] {
    const slot = SUMMED_STATS.indexOf(id);
    const k = SUMMED_STATS.length;
    const out: number[] = [];
    for (let t = 0; t < this.threads; t++) out.push(slot < 0 ? 0 : this.counters[t * k + slot]);
    return out;
  }

  /** Sets thread `thread`'s value of host counter `id`, and the store's
   *  to the sum over threads, under the engine lock so that two threads'
   *  sums never cross. False for a counter that is not summed. */
  setStat(store: Store, thread: number, id: number, value: number): boolean {
    const slot = SUMMED_STATS.indexOf(id);
    if (slot < 0) return false;
    store.withLock(() => {
      const k = SUMMED_STATS.length;
      this.counters[thread * k + slot] = value;
      let sum = 0;
      for (let t = 0; t < this.threads; t++) sum += this.counters[t * k + slot];
      store.setHostStat(id, sum);
    });
    return true;
  }
}

/** Where the Float64 counters start: after the per-thread words, 8-aligned. */
function countersAt(threads: number): number {
  return (WORDS * 4 + 4 + threads * 16 + 7) & ~7;
}

/** What a server needs to know of the threads it runs with. */
export interface ThreadRole {
  /** 0: the main thread. */
  readonly index: number;
  readonly shared: ThreadShared;
  /** A worker thread: the main thread's listening socket to accept on. */
  readonly listenFd?: number;
  /** A worker thread: tells the main thread what only it may do. */
  readonly toMain?: (msg: ToMain) => void;
  /** A worker thread: asks the main thread to write a snapshot (-e). */
  readonly snapshot?: () => Promise<string>;
  /** Watch lines and `stats conns` between threads. */
  readonly relay: ThreadRelay;
}

/** Messages of a worker to the main thread. */
export type ToMain =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'exit'; code: number }
  | { type: 'shutdown' }
  | { type: 'snapshot'; id: number }
  | { type: 'stopped' };

/** Messages of the main thread to a worker. */
export type ToWorker =
  | { type: 'stop' }
  | { type: 'snapshot-done'; id: number; reply: string };

/** What src/worker.ts receives. */
export interface WorkerData {
  engine: SharedEngine;
  base: number;
  ctx: number;
  shared: SharedArrayBuffer;
  index: number;
  listenFd: number;
  /** Its ports to the other threads (thread-relay.ts); transferred. */
  relayPorts: (MessagePort | null)[];
  settings: Settings;
  verbosity: number;
}

export interface ThreadGroupOptions {
  store: Store;
  engine: SharedEngine;
  shared: ThreadShared;
  settings: Settings;
  log: Logger;
  /** relayPorts(): every thread's ports to the others (thread-relay.ts). */
  relayPorts: (MessagePort | null)[][];
  /** The thread contexts of threads 1..N-1 (Store.tryNewContext). */
  contexts: number[];
  /** The main thread's server: what workers ask of it. */
  onExit(code: number): void;
  onShutdown(): void;
  snapshot(): Promise<string>;
}

/** The main thread's handle on threads 1..N-1. */
export class ThreadGroup {
  private readonly workers: Worker[] = [];
  private stopped = 0;
  private stopping: Promise<void> | null = null;
  private allStopped: (() => void) | null = null;

  constructor(private readonly o: ThreadGroupOptions) {}

  /** Starts the workers on the listening socket `listenFd`; resolves once
   *  every one accepts. */
  async start(listenFd: number): Promise<void> {
    const o = this.o;
    const url = new URL('./worker.js', import.meta.url);
    const ready: Promise<void>[] = [];
    for (let index = 1; index < o.shared.threads; index++) {
      const data: WorkerData = {
        engine: o.engine, base: o.store.base, ctx: o.contexts[index - 1], shared: o.shared.buffer,
        index, listenFd, settings: o.settings, verbosity: o.store.verbosity, relayPorts: o.relayPorts[index],
      };
      const transfer = o.relayPorts[index].filter((p): p is MessagePort => p !== null);
      const w = new Worker(url, {
        workerData: data, transferList: transfer, stdout: false, stderr: false,
        resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
      });
      this.workers.push(w);
      ready.push(new Promise<void>((resolve, reject) => {
        w.on('message', (msg: ToMain) => {
          if (msg.type === 'ready') resolve();
          else if (msg.type === 'failed') reject(new Error(`thread ${index}: ${msg.message}`));
          else this.onMessage(w, msg);
        });
        // A thread that dies takes the server with it: the arena may be
        // half-changed, and its connections are gone.
        w.on('error', (err) => {
          o.log.error(`thread ${index} failed: ${err.stack ?? err.message}`);
          reject(err);
          o.onExit(70);
        });
        w.on('exit', (code) => {
          if (this.stopping === null) {
            o.log.error(`thread ${index} exited (${code})`);
            o.onExit(70);
          }
        });
      }));
    }
    await Promise.all(ready);
  }

  private onMessage(w: Worker, msg: ToMain): void {
    switch (msg.type) {
      case 'exit': this.o.onExit(msg.code); break;
      case 'shutdown': this.o.onShutdown(); break;
      case 'snapshot':
        void this.o.snapshot().then((reply) => w.postMessage({ type: 'snapshot-done', id: msg.id, reply } satisfies ToWorker));
        break;
      case 'stopped':
        if (++this.stopped === this.workers.length) this.allStopped?.();
        break;
      default: break;
    }
  }

  /** Every worker stops accepting and ends its connections; resolves when
   *  all have (their threads end with the process). */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = new Promise<void>((resolve) => {
      if (this.workers.length === 0) { resolve(); return; }
      this.allStopped = resolve;
      for (const w of this.workers) w.postMessage({ type: 'stop' } satisfies ToWorker);
    });
    return this.stopping;
  }
}
