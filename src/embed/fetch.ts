// Cache.fetch: read-through with one loader call per key in flight, and
// stale-while-revalidate. An item fetch() stores with staleWhileRevalidate
// lives in the engine for ttl + staleWhileRevalidate seconds; the moment it
// turns stale is kept here, tied to the item's CAS unique so that any other
// write of the key makes the record void.
import { InvalidArgumentError } from './errors.js';

export type Loader = (key: Uint8Array) => Promise<string | Uint8Array> | string | Uint8Array;

export interface FetchOptions {
  /** Seconds the loaded value is fresh; default the cache's TTL. */
  ttl?: number;
  /** Seconds after `ttl` that the old value is still served while one refresh runs. */
  staleWhileRevalidate?: number;
}

/** The part of Cache that fetch needs. */
export interface FetchTarget {
  now(): number;
  gets(key: Uint8Array): { value: Uint8Array; cas: bigint } | undefined;
  set(key: Uint8Array, value: string | Uint8Array, options?: { ttl?: number }): boolean;
}

interface Freshness {
  cas: bigint;
  staleAt: number;
  goneAt: number;
}

/** Map keys: the key bytes as a latin1 string (one char per byte, binary-safe). */
function id(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]);
  return s;
}

export class Coalescer {
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private readonly fresh = new Map<string, Freshness>();

  constructor(private readonly cache: FetchTarget) {}

  fetch(key: Uint8Array, loader: Loader, o: FetchOptions): Promise<Uint8Array> {
    if (typeof loader !== 'function') throw new InvalidArgumentError('loader must be a function');
    const swr = o.staleWhileRevalidate ?? 0;
    if (!Number.isInteger(swr) || swr < 0) throw new InvalidArgumentError('staleWhileRevalidate must be a non-negative integer');
    if (o.ttl !== undefined && (!Number.isInteger(o.ttl) || o.ttl < 0 || o.ttl > 2592000)) {
      throw new InvalidArgumentError('ttl must be an integer number of seconds from 0 to 30 days');
    }
    const k = id(key);
    const hit = this.cache.gets(key);
    if (hit) {
      const f = this.fresh.get(k);
      if (f && f.cas !== hit.cas) this.fresh.delete(k);
      else if (f && this.cache.now() >= f.staleAt && !this.inflight.has(k)) {
        // Serve the stale value; a failed refresh leaves it being served.
        this.load(k, key, loader, o.ttl, swr).catch(() => {});
      }
      return Promise.resolve(hit.value);
    }
    this.fresh.delete(k);
    return this.inflight.get(k) ?? this.load(k, key, loader, o.ttl, swr);
  }

  private load(k: string, key: Uint8Array, loader: Loader, ttl: number | undefined, swr: number): Promise<Uint8Array> {
    const p = (async () => {
      const value = await loader(key.slice());
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
        throw new InvalidArgumentError('loader must return a string or a Uint8Array');
      }
      const hard = ttl !== undefined && ttl > 0 && swr > 0 ? ttl + swr : ttl;
      this.cache.set(key, value, { ttl: hard });
      const stored = this.cache.gets(key);
      if (stored && ttl !== undefined && ttl > 0 && swr > 0) {
        const now = this.cache.now();
        this.fresh.set(k, { cas: stored.cas, staleAt: now + ttl, goneAt: now + ttl + swr });
      }
      return typeof value === 'string' ? new TextEncoder().encode(value) : value.slice();
    })();
    this.inflight.set(k, p);
    const done = () => { if (this.inflight.get(k) === p) this.inflight.delete(k); };
    p.then(done, done);
    return p;
  }

  /** Forgets records of items that have expired by now. */
  prune(now: number): void {
    for (const [k, f] of this.fresh) if (f.goneAt <= now) this.fresh.delete(k);
  }
}
