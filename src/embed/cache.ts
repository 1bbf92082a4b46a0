// The embeddable cache: one store of the engine (WebAssembly, or the pure-JS
// build of the same source) behind a typed API. Every operation is one mc_op
// call; nothing about caching is decided here, only argument checking and
// byte conversion. Memory is one fixed arena, so the budget is real bytes
// and millions of entries are no garbage for the JS collector.
import {
  OP_GET, OP_SET, OP_ADD, OP_REPLACE, OP_APPEND, OP_PREPEND, OP_CAS, OP_DELETE, OP_TOUCH, OP_INCR, OP_DECR,
  OP_FLUSH, OP_HAS, OP_STATS, OPR_OK, OPR_NOT_FOUND, OPR_EXISTS, OPR_TOO_LARGE, OPR_NO_MEMORY, OPR_NON_NUMERIC,
  OPS_ITEMS, OPS_BYTES_LO, OPS_BYTES_HI, OPS_HITS_LO, OPS_HITS_HI, OPS_MISSES_LO, OPS_MISSES_HI,
  OPS_EVICTIONS_LO, OPS_EVICTIONS_HI, OPS_LIMIT_MB, OPS_COUNT, LIMIT_KEY_LEN,
} from '../../assembly/abi.js';
import { Store, StoreInitError } from '../engine/store.js';
import { loadJsEngine } from '../engine/js.js';
import { instantiateWasmEngine } from '../engine/wasm_instance.js';
import type { EngineBuild } from '../engine/types.js';
import {
  CacheError, InvalidKeyError, InvalidArgumentError, ItemTooLargeError, OutOfMemoryError, NonNumericValueError, InvalidSnapshotError,
  CreateCacheError,
} from './errors.js';
import { Coalescer, type FetchOptions, type Loader } from './fetch.js';
import { dumpChunks, SnapshotReader, SnapshotError } from '../snapshot-format.js';

export type Key = string | Uint8Array;
export type Value = string | Uint8Array;

export interface CacheOptions {
  /** Memory for items in bytes, rounded up to whole MiB (slab pages); default 64 MiB. */
  memory?: number;
  /** Largest item (key + value + header) in bytes, as memcached's -I; default 1 MiB. */
  maxItemSize?: number;
  /** TTL in seconds for writes that give none; 0 (default) = no expiry. */
  ttl?: number;
  /** 'wasm' or 'js', the pure-JS build of the same engine. Default: 'wasm',
   *  or 'js' where WebAssembly is missing or cannot get its memory. */
  engine?: 'wasm' | 'js';
  /** A compiled engine module (build/wasmcached.wasm), for engine 'wasm'. */
  module?: WebAssembly.Module;
  /** Unix time in seconds (tests inject a clock); default the system clock. */
  now?: () => number;
  /** A snapshot (from dump() or a server's -e file) to load at creation. */
  snapshot?: Uint8Array;
}

export interface SetOptions {
  /** memcached exptime: seconds up to 30 days, larger = unix time, negative = expired. */
  ttl?: number;
  /** 32-bit client flags stored with the item. */
  flags?: number;
}

export interface Entry {
  value: Uint8Array;
  flags: number;
  /** The item's CAS unique, for cas(). */
  cas: bigint;
}

export interface CacheStats {
  items: number;
  /** Bytes of stored items (key, value and item header). */
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
  /** The memory budget in bytes. */
  limitBytes: number;
}

export type CasResult = 'stored' | 'exists' | 'not_found';

const MIB = 1048576;
const DEFAULT_MEMORY = 64 * MIB;
const DEFAULT_ITEM_MAX = MIB;
const U64_MAX = (1n << 64n) - 1n;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Cache {
  private readonly defaultTtl: number;
  private readonly clock: () => number;
  private readonly coalescer: Coalescer;
  /** The clock second of the last engine tick (crawler, hash growth, page mover). */
  private lastTick = -1;

  /** Use createCache() or createCacheSync(). */
  constructor(private readonly store: Store, options: CacheOptions) {
    this.defaultTtl = options.ttl === undefined ? 0 : checkTtl(options.ttl);
    this.clock = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.coalescer = new Coalescer(this);
  }

  /** The engine build behind this cache. */
  get engine(): 'wasm' | 'js' { return this.store.build.kind; }

  /** Current unix time in seconds, from the clock the cache was made with. */
  now(): number { return this.clock() >>> 0; }

  /**
   * A copy of the value. Small values (up to 2 KiB) are carved from a shared
   * 16 KiB ArrayBuffer, as Node's Buffer.allocUnsafe does: `value.buffer`
   * may hold other values too, so read it through `byteOffset` and
   * `byteLength` (or `slice()` the value) when handing the buffer on.
   */
  get(key: Key): Uint8Array | undefined {
    if (this.lookup(OP_GET, key) !== OPR_OK) return undefined;
    return copyOut(this.store);
  }

  /**
   * The value without a copy: a view into the cache's own memory. It is
   * valid only until the next call on this cache (any method, any key) or
   * the creation of another cache, which may overwrite or detach its bytes;
   * `slice()` it to keep it. For reading a value at once (decoding,
   * hashing, writing it to a socket) without allocating a copy.
   */
  getView(key: Key): Uint8Array | undefined {
    if (this.lookup(OP_GET, key) !== OPR_OK) return undefined;
    return this.store.opOutputView();
  }

  /**
   * get() of each key, in order: undefined for a miss. A key may repeat (each
   * lookup counts as a get). A bad key throws InvalidKeyError; the keys
   * before it were looked up.
   */
  getMany(keys: readonly Key[]): (Uint8Array | undefined)[] {
    if (!Array.isArray(keys)) throw new InvalidArgumentError('getMany needs an array of keys');
    const n = keys.length;
    const out = new Array<Uint8Array | undefined>(n);
    const s = this.store;
    const now = this.tickNow();
    for (let i = 0; i < n; i++) {
      const keyLen = putKey(s.opInput(), keys[i]);
      out[i] = s.op(OP_GET, keyLen, 0, 0, 0, 0, 0, now) === OPR_OK ? copyOut(s) : undefined;
    }
    return out;
  }

  /**
   * set() of each [key, value] pair, in order, with the same options;
   * returns how many were stored. Bad input throws as set() does; the
   * pairs before it stay stored.
   */
  setMany(entries: Iterable<readonly [Key, Value]>, options?: SetOptions): number {
    if (entries === null || typeof entries !== 'object' || typeof (entries as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError('setMany needs an iterable of [key, value] pairs');
    }
    const { ttl, flags } = this.writeOptions(options);
    let stored = 0;
    for (const e of entries) {
      if (!Array.isArray(e)) throw new InvalidArgumentError('setMany needs [key, value] pairs');
      if (this.store1(OP_SET, e[0], e[1], flags, ttl, 0, 0) === OPR_OK) stored++;
    }
    return stored;
  }

  /** get() decoded as UTF-8. */
  getString(key: Key): string | undefined {
    if (this.lookup(OP_GET, key) !== OPR_OK) return undefined;
    return decoder.decode(this.store.opOutput());
  }

  /** The value with its flags and CAS unique. */
  gets(key: Key): Entry | undefined {
    if (this.lookup(OP_GET, key) !== OPR_OK) return undefined;
    const s = this.store;
    return { value: copyOut(s), flags: s.opFlags, cas: (BigInt(s.opCasHi) << 32n) | BigInt(s.opCasLo) };
  }

  /** Whether a live item exists; counts no hit or miss. */
  has(key: Key): boolean { return this.lookup(OP_HAS, key) === OPR_OK; }

  set(key: Key, value: Value, options?: SetOptions): boolean { return this.write(OP_SET, key, value, options) === OPR_OK; }
  /** Stores only if the key is missing. */
  add(key: Key, value: Value, options?: SetOptions): boolean { return this.write(OP_ADD, key, value, options) === OPR_OK; }
  /** Stores only if the key exists. */
  replace(key: Key, value: Value, options?: SetOptions): boolean { return this.write(OP_REPLACE, key, value, options) === OPR_OK; }
  /** Appends to an existing value (its flags and TTL are kept). */
  append(key: Key, value: Value): boolean { return this.write(OP_APPEND, key, value, undefined) === OPR_OK; }
  prepend(key: Key, value: Value): boolean { return this.write(OP_PREPEND, key, value, undefined) === OPR_OK; }

  /** Stores only if the item still has the CAS unique `cas` from gets(). */
  cas(key: Key, value: Value, cas: bigint, options?: SetOptions): CasResult {
    if (typeof cas !== 'bigint' || cas < 0n || cas > U64_MAX) throw new InvalidArgumentError('cas must be a bigint in [0, 2^64)');
    const r = this.write(OP_CAS, key, value, options, Number(cas >> 32n), Number(cas & 0xffffffffn));
    return r === OPR_OK ? 'stored' : r === OPR_EXISTS ? 'exists' : 'not_found';
  }

  delete(key: Key): boolean { return this.lookup(OP_DELETE, key) === OPR_OK; }

  /** Gives a live item a new TTL. */
  touch(key: Key, ttl: number): boolean { return this.run(OP_TOUCH, key, 0, 0, checkTtl(ttl)) === OPR_OK; }

  /** Adds to a decimal value, wrapping at 2^64; undefined if the key is missing. */
  incr(key: Key, delta: bigint | number = 1n): bigint | undefined { return this.delta(OP_INCR, key, delta); }
  /** Subtracts from a decimal value, stopping at 0; undefined if the key is missing. */
  decr(key: Key, delta: bigint | number = 1n): bigint | undefined { return this.delta(OP_DECR, key, delta); }

  /** Makes every item invisible (memcached's flush_all). */
  /** The whole cache as a snapshot, in the format of the server's -e file. */
  dump(): Uint8Array {
    const chunks: Uint8Array[] = [];
    for (const c of dumpChunks(this.store, () => this.now(), 0)) chunks.push(c.slice());
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }

  /** The snapshot in bounded chunks, letting other work run between them
   *  (writes meanwhile may or may not be in it). */
  async *dumpStream(): AsyncGenerator<Uint8Array> {
    for (const chunk of dumpChunks(this.store, () => this.now())) {
      yield chunk.slice();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /**
   * Adds the items of a snapshot (a key already here is replaced), keeping
   * their flags, expiry and CAS uniques; items that have expired since are
   * skipped. The snapshot is checked whole first: a damaged one throws
   * InvalidSnapshotError and changes nothing. Returns the items loaded.
   */
  load(bytes: Uint8Array): number {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('load needs a Uint8Array');
    this.readSnapshot(null, [bytes]);
    return this.readSnapshot(this.store, [bytes]);
  }

  /** load() from chunks as they arrive. Items before a damaged part stay
   *  loaded; the damage throws InvalidSnapshotError. */
  async loadStream(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
    const reader = new SnapshotReader(this.store, () => this.now());
    try {
      for await (const c of chunks) reader.push(c);
      return reader.end().loaded;
    } catch (err) {
      if (err instanceof SnapshotError) throw new InvalidSnapshotError(err.message);
      throw err;
    }
  }

  private readSnapshot(store: Store | null, chunks: Uint8Array[]): number {
    const reader = new SnapshotReader(store, () => this.now());
    try {
      for (const c of chunks) reader.push(c);
      return reader.end().loaded;
    } catch (err) {
      if (err instanceof SnapshotError) throw new InvalidSnapshotError(err.message);
      throw err;
    }
  }

  clear(): void {
    this.store.op(OP_FLUSH, 0, 0, 0, 0, 0, 0, this.now());
  }

  stats(): CacheStats {
    this.store.op(OP_STATS, 0, 0, 0, 0, 0, 0, this.now());
    const w = this.store.opWords(OPS_COUNT);
    const u64 = (lo: number, hi: number) => w[hi] * 4294967296 + w[lo];
    return {
      items: w[OPS_ITEMS],
      bytes: u64(OPS_BYTES_LO, OPS_BYTES_HI),
      hits: u64(OPS_HITS_LO, OPS_HITS_HI),
      misses: u64(OPS_MISSES_LO, OPS_MISSES_HI),
      evictions: u64(OPS_EVICTIONS_LO, OPS_EVICTIONS_HI),
      limitBytes: w[OPS_LIMIT_MB] * MIB,
    };
  }

  /**
   * The cached value, or the loader's result stored with `ttl`. Concurrent
   * misses of one key share one loader call; with `staleWhileRevalidate`
   * an item older than `ttl` is still served for that many seconds while
   * one refresh runs. A loader error reaches every waiter and stores nothing.
   */
  fetch(key: Key, loader: Loader, options?: FetchOptions): Promise<Uint8Array> {
    return this.coalescer.fetch(keyBytes(key), loader, options ?? {});
  }

  // ---- plumbing ----

  private delta(op: number, key: Key, delta: bigint | number): bigint | undefined {
    let d: bigint;
    if (typeof delta === 'number' && Number.isSafeInteger(delta) && delta >= 0) d = BigInt(delta);
    else if (typeof delta === 'bigint' && delta >= 0n && delta <= U64_MAX) d = delta;
    else throw new InvalidArgumentError('delta must be a non-negative integer below 2^64');
    const r = this.run(op, key, 0, 0, 0, Number(d >> 32n), Number(d & 0xffffffffn));
    if (r === OPR_NOT_FOUND) return undefined;
    if (r === OPR_NON_NUMERIC) throw new NonNumericValueError('cannot increment or decrement a non-numeric value');
    if (r === OPR_NO_MEMORY) throw new OutOfMemoryError('out of memory');
    return BigInt(decoder.decode(this.store.opOutput()));
  }

  private write(op: number, key: Key, value: Value, options: SetOptions | undefined, casHi = 0, casLo = 0): number {
    if (options === undefined) return this.store1(op, key, value, 0, this.defaultTtl, casHi, casLo);
    const o = this.writeOptions(options);
    return this.store1(op, key, value, o.flags, o.ttl, casHi, casLo);
  }

  private writeOptions(options: SetOptions | undefined): { ttl: number; flags: number } {
    const ttl = options?.ttl === undefined ? this.defaultTtl : checkTtl(options.ttl);
    const flags = options?.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw new InvalidArgumentError('flags must be an integer in [0, 2^32)');
    return { ttl, flags };
  }

  private store1(op: number, key: Key, value: Value, flags: number, ttl: number, casHi: number, casLo: number): number {
    const r = this.run(op, key, value, flags, ttl, casHi, casLo);
    if (r === OPR_TOO_LARGE) throw new ItemTooLargeError('item larger than maxItemSize');
    if (r === OPR_NO_MEMORY) throw new OutOfMemoryError('out of memory storing the item');
    return r;
  }

  /** One op on a key alone (get, has, delete): the hot path, no value. */
  private lookup(op: number, key: Key): number {
    const s = this.store;
    const keyLen = putKey(s.opInput(), key);
    return s.op(op, keyLen, 0, 0, 0, 0, 0, this.tickNow());
  }

  /** The clock second, ticking the engine once per second as the server
   *  does: the crawler's step is sized for that, and ticking by operation
   *  count made it most of a get's cost. */
  private tickNow(): number {
    const now = this.now();
    if (now !== this.lastTick) {
      this.lastTick = now;
      this.store.tick(now);
      this.coalescer.prune(now);
    }
    return now;
  }

  /** Copies key (and value) into the input region and runs one op. */
  private run(op: number, key: Key, value: Value | 0 = 0, flags = 0, ttl = 0, hi = 0, lo = 0): number {
    const s = this.store;
    const input = s.opInput();
    const keyLen = putKey(input, key);
    let valueLen = 0;
    if (value !== 0) {
      if (typeof value === 'string') {
        const room = input.length - keyLen;
        // UTF-8 takes at most 3 bytes per UTF-16 unit.
        if (value.length * 3 > room && encoder.encode(value).length > room) throw new ItemTooLargeError('item larger than maxItemSize');
        valueLen = encoder.encodeInto(value, input.subarray(keyLen)).written;
      } else if (value instanceof Uint8Array) {
        valueLen = value.length;
        if (valueLen > input.length - keyLen) throw new ItemTooLargeError('item larger than maxItemSize');
        // Small values: a loop beats set()'s call for the bytes of a cache entry.
        if (valueLen <= 64) for (let i = 0; i < valueLen; i++) input[keyLen + i] = value[i];
        else input.set(value, keyLen);
      } else {
        throw new InvalidArgumentError('value must be a string or a Uint8Array');
      }
    }
    return s.op(op, keyLen, valueLen, flags, ttl, hi, lo, this.tickNow());
  }
}

function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < -2147483648 || ttl > 2147483647) throw new InvalidArgumentError('ttl must be an integer number of seconds (int32)');
  return ttl;
}

/** Writes the key at the start of `input`; returns its length in bytes. */
function putKey(input: Uint8Array, key: Key): number {
  let n: number;
  if (typeof key === 'string') {
    n = putAscii(input, key);
    if (n < 0) {
      if (key.length > LIMIT_KEY_LEN) {
        if (encoder.encode(key).length > LIMIT_KEY_LEN) throw new InvalidKeyError(`key longer than ${LIMIT_KEY_LEN} bytes`);
      }
      n = encoder.encodeInto(key, input).written;
    }
  } else if (key instanceof Uint8Array) {
    if (key.length > LIMIT_KEY_LEN) throw new InvalidKeyError(`key longer than ${LIMIT_KEY_LEN} bytes`);
    input.set(key);
    n = key.length;
  } else {
    throw new InvalidKeyError('key must be a string or a Uint8Array');
  }
  if (n === 0) throw new InvalidKeyError('key must not be empty');
  if (n > LIMIT_KEY_LEN) throw new InvalidKeyError(`key longer than ${LIMIT_KEY_LEN} bytes`);
  return n;
}

/**
 * Writes a short ASCII string byte by byte; -1 (nothing to trust) when it is
 * longer than a key may be or holds a non-ASCII unit. For the short keys of
 * a cache this loop costs a fraction of TextEncoder.encodeInto's call.
 */
function putAscii(out: Uint8Array, str: string): number {
  const n = str.length;
  if (n > LIMIT_KEY_LEN) return -1;
  for (let i = 0; i < n; i++) {
    const c = str.charCodeAt(i);
    if (c >= 0x80) return -1;
    out[i] = c;
  }
  return n;
}

// Copies handed out by get(), getMany() and gets(): small values are carved
// from shared slabs, as Node's Buffer.allocUnsafe does, because a fresh
// ArrayBuffer per value (V8 keeps any over 64 bytes off-heap) cost more than
// the lookup itself. A slab is at most SLAB_BYTES that one kept value can
// hold alive; larger values get their own buffer.
const SLAB_BYTES = 16384;
const SLAB_VALUE_MAX = 2048;
let slab = new ArrayBuffer(0);
let slabU8 = new Uint8Array(slab);
let slabAt = 0;

/** A copy of the last op's output. */
function copyOut(s: Store): Uint8Array {
  const n = s.opOutputLength();
  if (n > SLAB_VALUE_MAX) {
    const out = new Uint8Array(n);
    s.copyOpOutput(out, 0, n);
    return out;
  }
  if (slabAt + n > slabU8.length) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabU8 = new Uint8Array(slab);
    slabAt = 0;
  }
  const at = slabAt;
  s.copyOpOutput(slabU8, at, n);
  // 8-byte aligned, so a value can be read as wider typed arrays in place.
  slabAt = (at + n + 7) & ~7;
  return new Uint8Array(slab, at, n);
}

function keyBytes(key: Key): Uint8Array {
  if (typeof key === 'string') return encoder.encode(key);
  if (key instanceof Uint8Array) return key.slice();
  throw new InvalidKeyError('key must be a string or a Uint8Array');
}

function checkOptions(o: CacheOptions): void {
  if (o.memory !== undefined && !(Number.isFinite(o.memory) && o.memory > 0)) throw new InvalidArgumentError('memory must be a positive number of bytes');
  if (o.maxItemSize !== undefined && !(Number.isInteger(o.maxItemSize) && o.maxItemSize >= 1024 && o.maxItemSize <= 1024 * MIB)) {
    throw new InvalidArgumentError('maxItemSize must be an integer from 1024 to 1 GiB');
  }
  if (o.engine !== undefined && o.engine !== 'wasm' && o.engine !== 'js') throw new InvalidArgumentError("engine must be 'wasm' or 'js'");
  if (o.module !== undefined && !(o.module instanceof WebAssembly.Module)) throw new InvalidArgumentError('module must be a WebAssembly.Module');
}

function openCache(build: EngineBuild, o: CacheOptions): Cache {
  const memoryMB = Math.max(1, Math.ceil((o.memory ?? DEFAULT_MEMORY) / MIB));
  const now = (o.now ?? (() => Math.floor(Date.now() / 1000)))() >>> 0;
  try {
    const store = Store.create(build, { memoryMB, itemSizeMax: o.maxItemSize ?? DEFAULT_ITEM_MAX, chunkMin: 48, growthFactor: 1.25, opts: 0 }, now);
    const cache = new Cache(store, o);
    if (o.snapshot !== undefined) cache.load(o.snapshot);
    return cache;
  } catch (err) {
    if (err instanceof StoreInitError) throw new CreateCacheError(err.message);
    throw err;
  }
}

/**
 * Creates a cache without waiting: engine 'js', or engine 'wasm' with an
 * already compiled `module` (edge runtimes forbid compiling from bytes).
 */
export function createCacheSync(options: CacheOptions = {}): Cache {
  checkOptions(options);
  if (options.engine === 'js' || jsByDefault(options)) return openCache(loadJsEngine(), options);
  if (!options.module) throw new InvalidArgumentError("createCacheSync needs options.module (a compiled WebAssembly.Module) or engine 'js'");
  let build: EngineBuild;
  try {
    build = instantiateWasmEngine(options.module);
  } catch (err) {
    // Not the address space a WebAssembly memory reserves (a RangeError:
    // ulimit -v, 32-bit hosts): the js build needs far less.
    if (options.engine === undefined && err instanceof RangeError) return openCache(loadJsEngine(), options);
    throw err;
  }
  return openCache(build, options);
}

/** createCache for a runtime that finds the engine module with `loadModule`. */
export function cacheFactory(loadModule: () => Promise<WebAssembly.Module>): (options?: CacheOptions) => Promise<Cache> {
  return async (options = {}) => {
    checkOptions(options);
    if (options.engine === 'js' || options.module || jsByDefault(options)) return createCacheSync(options);
    return createCacheSync({ ...options, module: await loadModule() });
  };
}

/** No engine asked for, and no WebAssembly in this runtime (iOS Lockdown
 *  Mode, browsers' JIT-less security modes, node --jitless): the pure-JS
 *  build of the same engine serves; `cache.engine` says which one did. */
function jsByDefault(o: CacheOptions): boolean {
  return o.engine === undefined && !o.module && typeof WebAssembly === 'undefined';
}

export { CacheError };
