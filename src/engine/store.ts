// One store inside an engine's linear memory. This is the only host code that
// reads the store header; views are re-made whenever memory has grown
// (a view over a grown memory's old buffer is detached and reads as empty).
import {
  R_CONSUMED, R_OUT_LEN, R_NEED, R_SKIP, R_RESUME, R_CONN, R_CONN_STATE, CONN_WORDS, R_VALUE_PTR, R_VALUE_LEN,
  R_VALUE_AT, R_VALUE_TRAILER, H_OUT_LIMIT, ST_OK, H_IN_PTR, H_IN_CAP, H_OUT_PTR, H_OUT_CAP,
  H_VERBOSITY, H_STORE_BYTES, HS_BASE, R_OP_VLEN, R_OP_FLAGS, R_OP_CAS_LO, R_OP_CAS_HI, H_AUTOMOVE,
  H_AUTOMOVE_WINDOW, R_SNAP_ITEMS, R_SNAP_DROPPED, HS_COUNT, HS_EXT_BASE, H_REQS_LEFT, HOST_SETTINGS, HSET_WORDS,
  H_CRAWLER_ON,
} from '../../assembly/abi.js';
import type { EngineBuild, StoreOptions } from './types.js';

export class StoreInitError extends Error {}

export class Store {
  private buf: ArrayBuffer;
  private u32: Uint32Array;
  private u8: Uint8Array;

  private constructor(readonly build: EngineBuild, readonly base: number) {
    this.buf = build.buffer();
    this.u32 = new Uint32Array(this.buf);
    this.u8 = new Uint8Array(this.buf);
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

  private views(): void {
    const b = this.build.buffer();
    if (b !== this.buf) {
      this.buf = b;
      this.u32 = new Uint32Array(b);
      this.u8 = new Uint8Array(b);
    }
  }

  private word(off: number): number {
    return this.u32[(this.base + off) >>> 2];
  }

  get inputCapacity(): number { this.views(); return this.word(H_IN_CAP); }
  get outputCapacity(): number { this.views(); return this.word(H_OUT_CAP); }
  get storeBytes(): number { this.views(); return this.word(H_STORE_BYTES); }

  /** A view of the whole input region; copy a chunk in, then execute(len). */
  input(): Uint8Array {
    this.views();
    const p = this.word(H_IN_PTR);
    return this.u8.subarray(p, p + this.word(H_IN_CAP));
  }

  execute(len: number, nowSec: number): number {
    return this.build.exports.mc_execute(this.base, len, nowSec);
  }

  tick(nowSec: number): number {
    return this.build.exports.mc_tick(this.base, nowSec);
  }

  /** Results of the last execute (see R_* in assembly/abi.ts). */
  get consumed(): number { this.views(); return this.word(R_CONSUMED); }
  get outLen(): number { this.views(); return this.word(R_OUT_LEN); }
  get need(): number { this.views(); return this.word(R_NEED); }
  get skip(): number { this.views(); return this.word(R_SKIP); }
  get verbosity(): number { this.views(); return this.word(H_VERBOSITY); }

  /** A connection's place in an interrupted multiget: read after each
   *  execute, written back before that connection's next one. */
  get resume(): number { this.views(); return this.word(R_RESUME); }
  set resume(v: number) { this.views(); this.u32[(this.base + R_RESUME) >>> 2] = v >>> 0; }

  /** A connection's protocol and authentication (R_CONN): saved and
   *  restored around each execute exactly like `resume`; 0 when new. */
  get conn(): number { this.views(); return this.word(R_CONN); }
  set conn(v: number) { this.views(); this.u32[(this.base + R_CONN) >>> 2] = v >>> 0; }

  /** Makes `state` (CONN_WORDS words, all 0 for a new connection) the
   *  connection state of the next call. */
  loadConn(state: Uint32Array): void {
    this.views();
    const u32 = this.u32;
    const at = (this.base + R_CONN_STATE) >>> 2;
    // A loop, not set(): this runs around every call, and allocates nothing.
    for (let i = 0; i < CONN_WORDS; i++) u32[at + i] = state[i];
  }

  /** Copies the connection state the last call left into `state`. */
  saveConn(state: Uint32Array): void {
    this.views();
    const u32 = this.u32;
    const at = (this.base + R_CONN_STATE) >>> 2;
    for (let i = 0; i < CONN_WORDS; i++) state[i] = u32[at + i];
  }

  /** The connection whose state is `state` is gone: releases its items. */
  closeConn(state: Uint32Array): void {
    this.loadConn(state);
    this.build.exports.mc_conn_close(this.base);
    state.fill(0);
  }

  /** After ST_VALUE: where the value goes, how long it is, where it starts
   *  after the consumed input, and the trailer bytes after it. */
  get valuePtr(): number { this.views(); return this.word(R_VALUE_PTR); }
  get valueLen(): number { this.views(); return this.word(R_VALUE_LEN); }
  get valueAt(): number { this.views(); return this.word(R_VALUE_AT); }
  get valueTrailer(): number { this.views(); return this.word(R_VALUE_TRAILER); }

  /** A view of n bytes of the store's memory at address p (an item's value
   *  while it arrives); valid until memory next grows. */
  bytes(p: number, n: number): Uint8Array {
    this.views();
    return this.u8.subarray(p, p + n);
  }

  /** Most bytes one execute may write to the output region (0: all of it). */
  set outputLimit(n: number) { this.views(); this.u32[(this.base + H_OUT_LIMIT) >>> 2] = n >>> 0; }

  /** Most commands the next execute may complete (0: no limit); after it,
   *  how many of them were left (0 when the limit stopped it). */
  get requestsLeft(): number { this.views(); return this.word(H_REQS_LEFT); }
  set requestsLeft(n: number) { this.views(); this.u32[(this.base + H_REQS_LEFT) >>> 2] = n >>> 0; }

  /** Sets one of the host's command-line settings (HSET_* id). */
  setHostSetting(id: number, value: number): void {
    if (id < 0 || id >= HSET_WORDS) throw new RangeError(`no host setting ${id}`);
    this.views();
    this.u32[((this.base + HOST_SETTINGS) >>> 2) + id] = value >>> 0;
  }

  /** Hands the engine the credentials file of -S / -Y (`user:password` lines). */
  setAuth(bytes: Uint8Array): void {
    if (bytes.length > this.inputCapacity) throw new StoreInitError('credentials file too large');
    this.input().set(bytes);
    if (this.build.exports.mc_set_auth(this.base, bytes.length) !== ST_OK) {
      throw new StoreInitError(`credentials file too large (${bytes.length} bytes)`);
    }
  }

  /** The response bytes of the last execute. The region is reused by the next
   *  call: copy before writing to a socket (Buffer.from(view) copies). */
  output(): Uint8Array {
    this.views();
    const p = this.word(H_OUT_PTR);
    return this.u8.subarray(p, p + this.word(R_OUT_LEN));
  }

  /** One logical operation (mc_op): key then value already in input(). */
  op(op: number, keyLen: number, valueLen: number, flags: number, ttl: number, casHi: number, casLo: number, nowSec: number): number {
    return this.build.exports.mc_op(this.base, op, keyLen, valueLen, flags >>> 0, ttl >>> 0, casHi >>> 0, casLo >>> 0, nowSec);
  }

  /** Results of the last op (R_OP_* in assembly/abi.ts). */
  get opFlags(): number { this.views(); return this.word(R_OP_FLAGS); }
  get opCasHi(): number { this.views(); return this.word(R_OP_CAS_HI); }
  get opCasLo(): number { this.views(); return this.word(R_OP_CAS_LO); }

  /** The bytes the last op wrote (a value, digits, counters); reused by the next call. */
  opOutput(): Uint8Array {
    this.views();
    const p = this.word(H_OUT_PTR);
    return this.u8.subarray(p, p + this.word(R_OP_VLEN));
  }

  /** The first `n` words of the output region (OP_STATS). */
  opWords(n: number): Uint32Array {
    this.views();
    return this.u32.slice(this.word(H_OUT_PTR) >>> 2, (this.word(H_OUT_PTR) >>> 2) + n);
  }

  /** One bounded step of a snapshot (mc_dump): records in output(); true
   *  while more remain. `restart` begins a new walk over the items; a step
   *  writes about `maxBytes` (0: up to the whole output region). */
  dumpStep(restart: boolean, maxBytes: number, nowSec: number): boolean {
    return this.build.exports.mc_dump(this.base, restart ? 1 : 0, maxBytes, nowSec) !== ST_OK;
  }

  /** Links the snapshot records in input()[0, len) (mc_load); returns the
   *  bytes of whole records handled (see consumed, snapItems, snapDropped). */
  loadRecords(len: number, nowSec: number): number {
    this.build.exports.mc_load(this.base, len, nowSec);
    return this.consumed;
  }

  /** Records the last dumpStep wrote or loadRecords linked; those it dropped. */
  get snapItems(): number { this.views(); return this.word(R_SNAP_ITEMS); }
  get snapDropped(): number { this.views(); return this.word(R_SNAP_DROPPED); }

  /** Sets a host counter (HS_* id) that `stats` reports. */
  setHostStat(id: number, value: number): void {
    this.views();
    const i = (this.base + (id < HS_COUNT ? HS_BASE + id * 8 : HS_EXT_BASE + (id - HS_COUNT) * 8)) >>> 2;
    this.u32[i] = value >>> 0;
    this.u32[i + 1] = Math.floor(value / 4294967296) >>> 0;
  }
}
