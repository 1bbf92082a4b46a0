// One store inside an engine's linear memory. This is the only host code that
// reads the store header; views are re-made whenever memory has grown
// (a view over a grown memory's old buffer is detached and reads as empty).
import {
  R_CONSUMED, R_OUT_LEN, R_NEED, R_SKIP, R_RESUME, R_CONN, R_CONN_STATE, R_CONN_BUSY, CONN_WORDS, R_VALUE_PTR, R_VALUE_LEN,
  R_VALUE_AT, R_VALUE_TRAILER, H_OUT_LIMIT, ST_OK, H_IN_PTR, H_IN_CAP, H_OUT_PTR, H_OUT_CAP,
  H_VERBOSITY, H_STORE_BYTES, DETAIL_REGION, DETAIL_DELIM, DETAIL_ENABLED, R_OP_VLEN, R_OP_FLAGS, R_OP_CAS_LO, R_OP_CAS_HI, H_AUTOMOVE,
  H_AUTOMOVE_WINDOW, R_SNAP_ITEMS, R_SNAP_DROPPED, hostStatOffset, H_WARMING, R_WARM_KEYS_LEN,
  H_WARM_MISS_THROUGH, H_WARM_MISS_TIMEOUTS,
  LOG_REGION, LOG_USED, LOG_RECORDS, LOG_WATCH, LOG_WATCH_REQUEST, LOG_WATCHERS,
  H_REQS_LEFT, HOST_SETTINGS, HSET_WORDS, H_CRAWLER_ON, CONTEXT_MAGIC, HOST_STRINGS, HOST_STRING_SLOT, HSTR_COUNT,
  CTX_IN_IO, CTX_IN_IO_END, CTX_OUT_RESULTS, CTX_OUT_OP, CTX_OUT_OP_END, CTX_VALUE, CTX_VALUE_END,
  CTX_CONN, CTX_CONN_END, CTX_REQS, CTX_REQS_END,
} from '../../assembly/abi.js';
import type { EngineLock } from './lock.js';
import { ViewsAt } from '../bytes.js';
import { H_UDP_PORT } from '../../assembly/abi.js';
import type { EngineBuild, StoreOptions } from './types.js';

export class StoreInitError extends Error {}

// copyConnWords() names the connection words one by one.
if (CONN_WORDS !== 13) throw new Error('store.ts: copyConnWords() does not match the ABI\'s connection words');

/** The CONN_WORDS words at `src[s..]` into `dst[d..]`, around every engine
 *  call. Spelled out, not set() nor a loop: a typed-array access costs a
 *  dozen instructions of checks (callgrind: about 630 instructions per copy
 *  as a loop, 330 spelled out). */
function copyConnWords(dst: Uint32Array, d: number, src: Uint32Array, s: number): void {
  dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]; dst[d + 3] = src[s + 3];
  dst[d + 4] = src[s + 4]; dst[d + 5] = src[s + 5]; dst[d + 6] = src[s + 6]; dst[d + 7] = src[s + 7];
  dst[d + 8] = src[s + 8]; dst[d + 9] = src[s + 9]; dst[d + 10] = src[s + 10]; dst[d + 11] = src[s + 11];
  dst[d + 12] = src[s + 12];
}

/** Word indexes in a header (from its base >>> 2): the connection words,
 *  R_CONN among them (and within a connection's CONN_WORDS), R_CONN_BUSY. */
const STATE_W = R_CONN_STATE >>> 2;
const CONN_W = R_CONN >>> 2;
const CONN_I = (R_CONN - R_CONN_STATE) >>> 2;
const BUSY_W = R_CONN_BUSY >>> 2;

/** Copies the words of byte range [start, end) from word index `src` on to `dst` on. */
function copyWords(u32: Uint32Array, dst: number, src: number, start: number, end: number): void {
  for (let i = start >>> 2; i < end >>> 2; i++) u32[dst + i] = u32[src + i];
}

export class Store {
  /** Where this thread's per-call words and regions are: the store itself,
   *  or with -t N a thread context (CTX_* in assembly/abi.ts). */
  private io: number;
  /** Held around every engine call when threads share the store. */
  private lock: EngineLock | null = null;
  private buf: ArrayBuffer;
  private u32: Uint32Array;
  private u8: Uint8Array;
  /** How views() learns that memory moved (see there). */
  private readonly moves: 'detaches' | 'rebinds' | 'grows';
  /** A shared memory may have grown: this store made a thread context. */
  private mayHaveGrown = false;
  /** H_STORE_BYTES when the views were made: cache_memlimit changes it
   *  whenever it grows memory. */
  private storeBytesSeen = 0;

  private constructor(readonly build: EngineBuild, readonly base: number) {
    this.io = base;
    this.buf = build.buffer();
    this.u32 = new Uint32Array(this.buf);
    this.u8 = new Uint8Array(this.buf);
    this.moves = build.kind === 'js' ? 'rebinds'
      : typeof SharedArrayBuffer !== 'undefined' && this.buf instanceof SharedArrayBuffer ? 'grows' : 'detaches';
  }

  static create(build: EngineBuild, o: StoreOptions, nowSec: number): Store {
    const base = build.exports.mc_init(o.memoryMB, o.memoryCapMB ?? o.memoryMB, o.itemSizeMax, o.chunkMin,
      Math.round(o.growthFactor * 100), o.opts, nowSec) >>> 0;
    if (base === 0) throw new StoreInitError(`cannot allocate a ${o.memoryMB} MB arena`);
    const store = new Store(build, base);
    if (o.automove !== undefined) store.u32[(base + H_AUTOMOVE) >>> 2] = o.automove;
    if (o.automoveWindow !== undefined) store.u32[(base + H_AUTOMOVE_WINDOW) >>> 2] = o.automoveWindow;
    if (o.crawler !== undefined) store.u32[(base + H_CRAWLER_ON) >>> 2] = o.crawler ? 1 : 0;
    return store;
  }

  /** One more thread's view of a store another thread created: its calls
   *  use the context `ctx` (mc_context) and take `lock`. */
  static attach(build: EngineBuild, base: number, ctx: number, lock: EngineLock): Store {
    const store = new Store(build, base);
    store.useContext(ctx, lock);
    return store;
  }

  /** A new thread context for this store (mc_context); its address. */
  newContext(): number {
    const ctx = this.tryNewContext();
    if (ctx === 0) throw new StoreInitError('cannot allocate a thread context: memory is full');
    return ctx;
  }

  /** newContext(), or 0 when linear memory cannot hold another. */
  tryNewContext(): number {
    const ctx = this.build.exports.mc_context(this.base) >>> 0;
    this.mayHaveGrown = true;
    return ctx;
  }

  /** From now on this Store's calls use the context `ctx` and take `lock`
   *  (the creating thread too, once other threads share the store). The
   *  output limit and request budget set so far carry over. */
  useContext(ctx: number, lock: EngineLock): void {
    this.views();
    if (this.u32[ctx >>> 2] !== CONTEXT_MAGIC) throw new StoreInitError(`no thread context at ${ctx}`);
    const u32 = this.u32;
    u32[(ctx + H_OUT_LIMIT) >>> 2] = u32[(this.io + H_OUT_LIMIT) >>> 2];
    u32[(ctx + H_REQS_LEFT) >>> 2] = u32[(this.io + H_REQS_LEFT) >>> 2];
    // The records of the last call (mc_init's slab class table, for -vv).
    const used = u32[(this.io + LOG_REGION + LOG_USED) >>> 2];
    u32[(ctx + LOG_REGION + LOG_USED) >>> 2] = used;
    const from = this.io + LOG_REGION + LOG_RECORDS;
    this.u8.copyWithin(ctx + LOG_REGION + LOG_RECORDS, from, from + used);
    this.io = ctx;
    this.lock = lock;
    this.inView = null;
    this.outViews = null;
  }

  /** The lock threads share, null on a single thread. */
  get engineLock(): EngineLock | null { return this.lock; }

  /** Under the lock: the context's per-call words into the store's header
   *  (`conn`: its connection words too; executeConn() moves those itself).
   *  Loops, not copyWithin(): a few dozen words, around every call. */
  private swapIn(conn = true): void {
    this.views();
    const u32 = this.u32;
    const b = this.base >>> 2;
    const c = this.io >>> 2;
    copyWords(u32, b, c, CTX_IN_IO, CTX_IN_IO_END);
    copyWords(u32, b, c, CTX_VALUE, CTX_VALUE_END);
    if (conn) {
      copyWords(u32, b, c, CTX_CONN, CTX_CONN_END);
      u32[b + BUSY_W] = 1;
    }
    copyWords(u32, b, c, CTX_REQS, CTX_REQS_END);
  }

  /** Under the lock: the call's results, state and log records into the context. */
  private swapOut(conn = true): void {
    this.views();
    const u32 = this.u32;
    const b = this.base >>> 2;
    const c = this.io >>> 2;
    copyWords(u32, c, b, CTX_OUT_RESULTS, CTX_IN_IO_END);
    copyWords(u32, c, b, CTX_OUT_OP, CTX_OUT_OP_END);
    copyWords(u32, c, b, CTX_VALUE, CTX_VALUE_END);
    if (conn) copyWords(u32, c, b, CTX_CONN, CTX_CONN_END);
    copyWords(u32, c, b, CTX_REQS, CTX_REQS_END);
    const log = (this.base + LOG_REGION) >>> 2;
    const used = u32[log + (LOG_USED >>> 2)];
    u32[((this.io + LOG_REGION + LOG_USED) >>> 2)] = used;
    u32[((this.io + LOG_REGION + LOG_WATCH_REQUEST) >>> 2)] = u32[log + (LOG_WATCH_REQUEST >>> 2)];
    if (used !== 0) {
      const from = this.base + LOG_REGION + LOG_RECORDS;
      this.u8.copyWithin(this.io + LOG_REGION + LOG_RECORDS, from, from + used);
    }
  }

  /** input() of the current buffer, made once (a view per call was a
   *  measurable share of a library get). */
  private inView: Uint8Array | null = null;

  /**
   * Makes the views current before they are used: memory grows when any
   * store of the same memory (one module hosts several) makes room.
   * WebAssembly's memory.buffer getter is an API call (about 1,000
   * instructions with its handle scope), and reading it before every access
   * was a tenth of the server's user time per request; so each kind of
   * memory is checked the cheap way. A grown WebAssembly memory detaches its
   * old buffer, whose views then read as empty; the JS build's buffer() is a
   * plain function; a shared memory (-t N) grows in place without
   * detaching, and once its threads run only when cache_memlimit raises the
   * store's size (H_STORE_BYTES, in the header every thread sees) or this
   * thread makes a context.
   */
  private views(): void {
    switch (this.moves) {
      case 'detaches': if (this.u8.length !== 0) return; break;
      case 'rebinds': if (this.build.buffer() === this.buf) return; break;
      case 'grows':
        if (!this.mayHaveGrown && this.u32[(this.base + H_STORE_BYTES) >>> 2] === this.storeBytesSeen) return;
        this.mayHaveGrown = false;
        break;
    }
    const b = this.build.buffer();
    if (b !== this.buf || b.byteLength !== this.u8.length) {
      this.buf = b;
      this.u32 = new Uint32Array(b);
      this.u8 = new Uint8Array(b);
      this.inView = null;
      this.outViews = null;
    }
    this.storeBytesSeen = this.u32[(this.base + H_STORE_BYTES) >>> 2];
  }


  /** A word of the store's header (shared by every thread). */
  private word(off: number): number {
    return this.u32[(this.base + off) >>> 2];
  }

  /** A per-call word (results, connection state, regions): this thread's. */
  private ioWord(off: number): number {
    return this.u32[(this.io + off) >>> 2];
  }

  private setIoWord(off: number, v: number): void {
    this.u32[(this.io + off) >>> 2] = v >>> 0;
  }

  get inputCapacity(): number { this.views(); return this.word(H_IN_CAP); }
  get outputCapacity(): number { this.views(); return this.word(H_OUT_CAP); }
  get storeBytes(): number { this.views(); return this.word(H_STORE_BYTES); }

  /** A view of the whole input region; copy a chunk in, then execute(len). */
  input(): Uint8Array {
    this.views();
    if (this.inView === null) {
      const p = this.ioWord(H_IN_PTR);
      this.inView = this.u8.subarray(p, p + this.ioWord(H_IN_CAP));
    }
    return this.inView;
  }

  /** After executeConn(): whether the call left every connection word but
   *  R_CONN zero (then `state` holds zeros there). */
  connRestZero = false;

  /**
   * execute() for a connection whose CONN_WORDS words are `state[from..]`:
   * loaded before the call and saved after it. With threads they go
   * straight between `state` and the store's header, under the lock, not
   * through the context as well. `restZero`: the caller knows `state`'s
   * words other than R_CONN are zero (connRestZero after its last call);
   * then, if the header's are too (R_CONN_BUSY), only R_CONN moves.
   * `maxRequests`: most commands the call may complete (0: no limit).
   * Its results are in the last* fields below.
   */
  executeConn(state: Uint32Array, from: number, len: number, nowSec: number, restZero = false, maxRequests = 0): number {
    this.views();
    this.setIoWord(H_REQS_LEFT, maxRequests);
    const lock = this.lock;
    if (lock === null) {
      this.connEnter(state, from, restZero);
      const status = this.build.exports.mc_execute(this.base, len, nowSec);
      this.views();
      this.connLeave(state, from, restZero);
      this.keepResults();
      return status;
    }
    lock.acquire();
    try {
      this.swapIn(false);
      this.connEnter(state, from, restZero);
      const status = this.build.exports.mc_execute(this.base, len, nowSec);
      this.views();
      this.connLeave(state, from, restZero);
      this.swapOut(false);
      this.keepResults();
      return status;
    } finally {
      lock.release();
    }
  }

  // The results of the last executeConn(), as plain fields: the session
  // reads five of them after every call, and through the getters below
  // (each makes its views current, then reads a word) that was about 80
  // instructions apiece (callgrind).
  /** Output bytes (outLen). */
  lastOutLen = 0;
  /** Input bytes consumed (consumed). */
  lastConsumed = 0;
  /** Bytes the next call needs pending (need). */
  lastNeed = 0;
  /** Bytes of a rejected value still to drop (skip). */
  lastSkip = 0;
  /** Of the call's budget of commands (maxRequests; 0: no limit), how many
   *  were left (0 when the budget stopped it). */
  lastRequestsLeft = 0;
  /** Bytes of log records it left: 0 when nobody watched. */
  lastLogUsed = 0;

  /** After a call (views current): its results into the last* fields. */
  private keepResults(): void {
    const u32 = this.u32;
    const io = this.io;
    this.lastOutLen = u32[(io + R_OUT_LEN) >>> 2];
    this.lastConsumed = u32[(io + R_CONSUMED) >>> 2];
    this.lastNeed = u32[(io + R_NEED) >>> 2];
    this.lastSkip = u32[(io + R_SKIP) >>> 2];
    this.lastRequestsLeft = u32[(io + H_REQS_LEFT) >>> 2];
    this.lastLogUsed = u32[(io + LOG_REGION + LOG_USED) >>> 2];
  }

  /** Before a call (views current): the connection's words into the
   *  store's header. Copying all 13 cost about 340 instructions a request
   *  (callgrind); when no multiget, value, send or dump is in progress,
   *  the usual case, only R_CONN differs from the zeros already there. */
  private connEnter(state: Uint32Array, from: number, restZero: boolean): void {
    const u32 = this.u32;
    const h = this.base >>> 2;
    if (restZero && u32[h + BUSY_W] === 0) {
      u32[h + CONN_W] = state[from + CONN_I];
    } else {
      copyConnWords(u32, h + STATE_W, state, from);
      u32[h + BUSY_W] = 1;
    }
  }

  /** After a call (views current): the connection's words back into
   *  `state`, or only R_CONN when the rest are zero in both. */
  private connLeave(state: Uint32Array, from: number, restZero: boolean): void {
    const u32 = this.u32;
    const h = this.base >>> 2;
    const busy = u32[h + BUSY_W] !== 0;
    if (!busy && restZero) state[from + CONN_I] = u32[h + CONN_W];
    else copyConnWords(state, from, u32, h + STATE_W);
    this.connRestZero = !busy;
  }

  execute(len: number, nowSec: number): number {
    const lock = this.lock;
    if (lock === null) return this.build.exports.mc_execute(this.base, len, nowSec);
    lock.acquire();
    try {
      this.swapIn();
      const status = this.build.exports.mc_execute(this.base, len, nowSec);
      this.swapOut();
      return status;
    } finally {
      lock.release();
    }
  }

  tick(nowSec: number): number {
    const lock = this.lock;
    if (lock === null) return this.build.exports.mc_tick(this.base, nowSec);
    lock.acquire();
    try {
      return this.build.exports.mc_tick(this.base, nowSec);
    } finally {
      lock.release();
    }
  }

  /** Runs `fn` holding the engine lock (when threads share the store): for
   *  read-modify-writes of shared header words outside engine calls. */
  withLock<T>(fn: () => T): T {
    const lock = this.lock;
    if (lock === null) return fn();
    lock.acquire();
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  /** An engine call on this thread's context, under the lock. */
  private locked(call: () => number): number {
    const lock = this.lock;
    if (lock === null) return call();
    lock.acquire();
    try {
      this.swapIn();
      const r = call();
      this.swapOut();
      return r;
    } finally {
      lock.release();
    }
  }

  /** Results of the last execute (see R_* in assembly/abi.ts). */
  get consumed(): number { this.views(); return this.ioWord(R_CONSUMED); }
  get outLen(): number { this.views(); return this.ioWord(R_OUT_LEN); }
  get need(): number { this.views(); return this.ioWord(R_NEED); }
  get skip(): number { this.views(); return this.ioWord(R_SKIP); }
  get verbosity(): number { this.views(); return this.word(H_VERBOSITY); }
  /** -v count at start; `verbosity N` changes it later (memcached's settings.verbose). */
  set verbosity(v: number) { this.views(); this.u32[(this.base + H_VERBOSITY) >>> 2] = v >>> 0; }

  /** The log records the last execute left (assembly/log.ts; after create,
   *  the slab class table); a view, valid until the next call. */
  logRecords(): Uint8Array {
    this.views();
    const used = this.ioWord(LOG_REGION + LOG_USED);
    const p = this.io + LOG_REGION + LOG_RECORDS;
    return this.u8.subarray(p, p + used);
  }

  /** The LOGW_* kinds watchers want (LOG_WATCH). */
  set logWatch(kinds: number) { this.views(); this.u32[(this.base + LOG_REGION + LOG_WATCH) >>> 2] = kinds >>> 0; }
  /** After ST_WATCH: the kinds the `watch` command asked for. */
  get watchRequest(): number { this.views(); return this.ioWord(LOG_REGION + LOG_WATCH_REQUEST); }
  /** Adds n to a 64-bit log counter (LOG_WRITTEN, LOG_SKIPPED, LOG_SENT). */
  addLogCounter(off: number, n: number): void {
    this.withLock(() => this.addLogCounterUnlocked(off, n));
  }

  private addLogCounterUnlocked(off: number, n: number): void {
    this.views();
    const i = (this.base + LOG_REGION + off) >>> 2;
    const lo = this.u32[i] + n;
    this.u32[i] = lo >>> 0;
    if (lo > 0xffffffff) this.u32[i + 1] = (this.u32[i + 1] + Math.floor(lo / 4294967296)) >>> 0;
  }
  set logWatchers(n: number) { this.views(); this.u32[(this.base + LOG_REGION + LOG_WATCHERS) >>> 2] = n >>> 0; }

  /** A connection's place in an interrupted multiget: read after each
   *  execute, written back before that connection's next one. */
  get resume(): number { this.views(); return this.ioWord(R_RESUME); }
  set resume(v: number) { this.views(); this.setIoWord(R_RESUME, v); this.connWordsWritten(); }

  /** A connection's protocol and authentication (R_CONN): saved and
   *  restored around each execute exactly like `resume`; 0 when new. */
  get conn(): number { this.views(); return this.ioWord(R_CONN); }
  set conn(v: number) { this.views(); this.setIoWord(R_CONN, v); }

  /** Makes `state[from..]` (CONN_WORDS words, all 0 for a new connection)
   *  the connection state of the next call. */
  loadConn(state: Uint32Array, from = 0): void {
    this.views();
    this.connIn(this.io, state, from);
    this.connWordsWritten();
  }

  /** The host wrote connection words into this thread's header: on one
   *  thread that is the store's, which is then not known to be zero
   *  (R_CONN_BUSY). A context's words reach the store's header through
   *  swapIn(), which says so itself. */
  private connWordsWritten(): void {
    if (this.io === this.base) this.u32[(this.base >>> 2) + BUSY_W] = 1;
  }

  /** Copies the connection state the last call left into `state[from..]`. */
  saveConn(state: Uint32Array, from = 0): void {
    this.views();
    this.connOut(this.io, state, from);
  }

  /** `state[from..]` into the connection words of the header at `header`. */
  private connIn(header: number, state: Uint32Array, from: number): void {
    copyConnWords(this.u32, (header + R_CONN_STATE) >>> 2, state, from);
  }

  /** The connection words of the header at `header` into `state[from..]`. */
  private connOut(header: number, state: Uint32Array, from: number): void {
    copyConnWords(state, from, this.u32, (header + R_CONN_STATE) >>> 2);
  }

  /** The connection whose state is `state[from..]` is gone: releases its items. */
  closeConn(state: Uint32Array, from = 0): void {
    this.loadConn(state, from);
    this.locked(() => this.build.exports.mc_conn_close(this.base));
    state.fill(0, from, from + CONN_WORDS);
  }

  /** After ST_VALUE: where the value goes, how long it is, where it starts
   *  after the consumed input, and the trailer bytes after it. */
  get valuePtr(): number { this.views(); return this.ioWord(R_VALUE_PTR); }
  get valueLen(): number { this.views(); return this.ioWord(R_VALUE_LEN); }
  get valueAt(): number { this.views(); return this.ioWord(R_VALUE_AT); }
  get valueTrailer(): number { this.views(); return this.ioWord(R_VALUE_TRAILER); }

  /** A view of n bytes of the store's memory at address p (an item's value
   *  while it arrives); valid until memory next grows. */
  bytes(p: number, n: number): Uint8Array {
    this.views();
    return this.u8.subarray(p, p + n);
  }

  /** While warming from an old node: WARMING_* bits, which commands stop a
   *  call with ST_WARM_KEYS (0: none). */
  set warming(bits: number) { this.views(); this.u32[(this.base + H_WARMING) >>> 2] = bits >>> 0; }

  /** After ST_WARM_KEYS: the key list that follows the output; reused by the next call. */
  warmKeys(): Uint8Array {
    this.views();
    const p = this.ioWord(H_OUT_PTR) + this.ioWord(R_OUT_LEN);
    return this.u8.subarray(p, p + this.ioWord(R_WARM_KEYS_LEN));
  }

  /** Sets one of the host's 32-bit counters (H_WARM_MISS_*) that `stats` reports. */
  setHostWord(off: number, value: number): void {
    if (off < H_WARM_MISS_THROUGH || off > H_WARM_MISS_TIMEOUTS) throw new RangeError(`not a host word: ${off}`);
    this.views();
    this.u32[(this.base + off) >>> 2] = value >>> 0;
  }
  /** The UDP port the host listens on (-U), for `stats settings`; 0 = none. */
  set udpPort(n: number) { this.views(); this.u32[(this.base + H_UDP_PORT) >>> 2] = n >>> 0; }

  /** Most bytes one execute may write to the output region (0: all of it). */
  set outputLimit(n: number) { this.views(); this.setIoWord(H_OUT_LIMIT, n); }
  /** -D: the byte that ends a key's prefix for `stats detail`. */
  set prefixDelimiter(c: number) { this.views(); this.u32[(this.base + DETAIL_REGION + DETAIL_DELIM) >>> 2] = c & 0xff; }
  /** `stats detail on|off` from the host (-D turns it on). */
  set detailEnabled(on: boolean) { this.views(); this.u32[(this.base + DETAIL_REGION + DETAIL_ENABLED) >>> 2] = on ? 1 : 0; }

  /** Sets one of the host's command-line settings (HSET_* id). */
  setHostSetting(id: number, value: number): void {
    if (id < 0 || id >= HSET_WORDS) throw new RangeError(`no host setting ${id}`);
    this.views();
    this.u32[((this.base + HOST_SETTINGS) >>> 2) + id] = value >>> 0;
  }

  /** Sets one of the host's strings of `stats settings` (HSTR_* id);
   *  longer than a slot holds, it is cut. */
  setHostString(id: number, text: string): void {
    if (id < 0 || id >= HSTR_COUNT) throw new RangeError(`no host string ${id}`);
    this.views();
    const bytes = Buffer.from(text, 'latin1').subarray(0, HOST_STRING_SLOT - 4);
    const at = this.base + HOST_STRINGS + id * HOST_STRING_SLOT;
    this.u32[at >>> 2] = bytes.length;
    this.u8.set(bytes, at + 4);
  }

  /** Hands the engine the credentials file of -S / -Y (`user:password` lines). */
  setAuth(bytes: Uint8Array): void {
    if (bytes.length > this.inputCapacity) throw new StoreInitError('credentials file too large');
    this.input().set(bytes);
    if (this.locked(() => this.build.exports.mc_set_auth(this.base, bytes.length)) !== ST_OK) {
      throw new StoreInitError(`credentials file too large (${bytes.length} bytes)`);
    }
  }

  /** The response bytes of the last execute. The region is reused by the next
   *  call: copy before writing to a socket (Buffer.from(view) copies). */
  output(): Uint8Array {
    this.views();
    const p = this.ioWord(H_OUT_PTR);
    let v = this.outViews;
    if (v === null || v.at !== p) v = this.outViews = new ViewsAt(this.u8, p);
    return v.of(this.ioWord(R_OUT_LEN));
  }

  /** Views of the output region, one per length (output()); remade when
   *  memory moves or the region does (a thread context of its own). */
  private outViews: ViewsAt | null = null;

  /** One logical operation (mc_op): key then value already in input(). */
  op(op: number, keyLen: number, valueLen: number, flags: number, ttl: number, casHi: number, casLo: number, nowSec: number): number {
    if (this.lock !== null) {
      return this.locked(() => this.build.exports.mc_op(this.base, op, keyLen, valueLen, flags >>> 0, ttl >>> 0, casHi >>> 0, casLo >>> 0, nowSec));
    }
    return this.build.exports.mc_op(this.base, op, keyLen, valueLen, flags >>> 0, ttl >>> 0, casHi >>> 0, casLo >>> 0, nowSec);
  }

  /** Results of the last op (R_OP_* in assembly/abi.ts). */
  get opFlags(): number { this.views(); return this.ioWord(R_OP_FLAGS); }
  get opCasHi(): number { this.views(); return this.ioWord(R_OP_CAS_HI); }
  get opCasLo(): number { this.views(); return this.ioWord(R_OP_CAS_LO); }

  /** The bytes the last op wrote (a value, digits, counters); reused by the next call. */
  opOutput(): Uint8Array {
    this.views();
    const p = this.ioWord(H_OUT_PTR);
    return this.u8.subarray(p, p + this.ioWord(R_OP_VLEN));
  }

  /** A copy of opOutput() (one allocation). */
  opOutputCopy(): Uint8Array {
    this.views();
    const p = this.ioWord(H_OUT_PTR);
    const n = this.ioWord(R_OP_VLEN);
    // new + set: slice() on a view of the engine's memory goes through the
    // species constructor and is several times slower in V8.
    const out = new Uint8Array(n);
    const u8 = this.u8;
    // Small values: a loop beats making a subarray view just to copy it.
    if (n <= 128) for (let i = 0; i < n; i++) out[i] = u8[p + i];
    else out.set(u8.subarray(p, p + n));
    return out;
  }

  // ---- the embedded cache's hot path ----
  // The same reads as input() / opOutput(), for a caller making one op per call.

  /** input(), current. */
  opInput(): Uint8Array {
    this.views();
    return this.inView ?? this.input();
  }

  /** Bytes the last op wrote to the output region (opOutput().length). */
  opOutputLength(): number {
    this.views();
    return this.ioWord(R_OP_VLEN);
  }

  /** opOutput(), current. */
  opOutputView(): Uint8Array {
    this.views();
    const p = this.ioWord(H_OUT_PTR);
    return this.u8.subarray(p, p + this.ioWord(R_OP_VLEN));
  }

  /** Copies the last op's `n` output bytes (opOutputLength()) into `dst` at `at`. */
  copyOpOutput(dst: Uint8Array, at: number, n: number): void {
    this.views();
    const p = this.ioWord(H_OUT_PTR);
    const u8 = this.u8;
    // Small values: a loop beats making a subarray view just to copy it.
    if (n <= 64) for (let i = 0; i < n; i++) dst[at + i] = u8[p + i];
    else dst.set(u8.subarray(p, p + n), at);
  }

  /** The first `n` words of the output region (OP_STATS). */
  opWords(n: number): Uint32Array {
    this.views();
    return this.u32.slice(this.ioWord(H_OUT_PTR) >>> 2, (this.ioWord(H_OUT_PTR) >>> 2) + n);
  }

  /** One bounded step of a snapshot (mc_dump): records in output(); true
   *  while more remain. `restart` begins a new walk over the items; a step
   *  writes about `maxBytes` (0: up to the whole output region). */
  dumpStep(restart: boolean, maxBytes: number, nowSec: number): boolean {
    return this.locked(() => this.build.exports.mc_dump(this.base, restart ? 1 : 0, maxBytes, nowSec)) !== ST_OK;
  }

  /** Links the snapshot records in input()[0, len) (mc_load); returns the
   *  bytes of whole records handled (see consumed, snapItems, snapDropped). */
  loadRecords(len: number, nowSec: number): number {
    this.locked(() => this.build.exports.mc_load(this.base, len, nowSec));
    return this.consumed;
  }

  /** Records the last dumpStep wrote or loadRecords linked; those it dropped. */
  get snapItems(): number { this.views(); return this.ioWord(R_SNAP_ITEMS); }
  get snapDropped(): number { this.views(); return this.ioWord(R_SNAP_DROPPED); }

  /** Sets a host counter (HS_* id) that `stats` reports. */
  setHostStat(id: number, value: number): void {
    this.views();
    const i = (this.base + hostStatOffset(id)) >>> 2;
    this.u32[i] = value >>> 0;
    this.u32[i + 1] = Math.floor(value / 4294967296) >>> 0;
  }
}
