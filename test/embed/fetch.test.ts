// Cache.fetch: one loader call per key in flight, stale-while-revalidate,
// and loader errors that reach every waiter and store nothing.
import { describe, it, expect } from 'vitest';
import { createCache } from '../../src/embed/node.js';
import { ENGINES, T0 } from '../support/engine.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A promise with its resolve/reject, to hold a loader open. */
function gate<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => { resolve = a; reject = b; });
  return { promise, resolve, reject };
}

for (const engine of ENGINES) {
  describe(`fetch (${engine})`, () => {
    it('100 concurrent misses make one loader call and all get its value', async () => {
      const c = await createCache({ engine, memory: 1048576 });
      let calls = 0;
      const g = gate<string>();
      const loader = (key: Uint8Array) => { calls++; expect(text(key)).toBe('k'); return g.promise; };
      const waiters = Array.from({ length: 100 }, () => c.fetch('k', loader, { ttl: 60 }));
      g.resolve('loaded');
      const got = await Promise.all(waiters);
      expect(calls).toBe(1);
      expect(got.every((v) => text(v) === 'loaded')).toBe(true);
      expect(c.getString('k')).toBe('loaded');
      // a hit: no further call
      expect(text(await c.fetch('k', loader))).toBe('loaded');
      expect(calls).toBe(1);
    });

    it('different keys load independently', async () => {
      const c = await createCache({ engine, memory: 1048576 });
      const seen: string[] = [];
      const vals = await Promise.all(['a', 'b', 'a'].map((k) => c.fetch(k, async (key) => { seen.push(text(key)); return `v-${text(key)}`; })));
      expect(vals.map(text)).toEqual(['v-a', 'v-b', 'v-a']);
      expect(seen.sort()).toEqual(['a', 'b']);
    });

    it('a loader error reaches every waiter and stores nothing; the next fetch retries', async () => {
      const c = await createCache({ engine, memory: 1048576 });
      let calls = 0;
      const g = gate<string>();
      const waiters = Array.from({ length: 20 }, () => c.fetch('k', () => { calls++; return g.promise; }).then(() => 'ok', (e: Error) => e.message));
      g.reject(new Error('backend down'));
      expect(await Promise.all(waiters)).toEqual(Array(20).fill('backend down'));
      expect(calls).toBe(1);
      expect(c.has('k')).toBe(false);
      expect(text(await c.fetch('k', () => 'second'))).toBe('second');
    });

    it('serves stale while one refresh runs, then the new value', async () => {
      const t = { now: T0 };
      const c = await createCache({ engine, memory: 1048576, now: () => t.now });
      const opts = { ttl: 10, staleWhileRevalidate: 30 };
      expect(text(await c.fetch('k', () => 'v1', opts))).toBe('v1');
      t.now += 11; // stale, within the grace period
      let calls = 0;
      const g = gate<string>();
      const refresh = () => { calls++; return g.promise; };
      const during = await Promise.all(Array.from({ length: 10 }, () => c.fetch('k', refresh, opts)));
      expect(during.map(text)).toEqual(Array(10).fill('v1'));
      expect(calls).toBe(1);
      g.resolve('v2');
      await g.promise;
      await new Promise((r) => setTimeout(r, 0));
      expect(text(await c.fetch('k', refresh, opts))).toBe('v2');
      expect(calls).toBe(1);
      // past ttl + staleWhileRevalidate the item is gone: a blocking load
      t.now += 41;
      expect(text(await c.fetch('k', () => 'v3', opts))).toBe('v3');
    });

    it('a failed refresh keeps serving the stale value', async () => {
      const t = { now: T0 };
      const c = await createCache({ engine, memory: 1048576, now: () => t.now });
      const opts = { ttl: 5, staleWhileRevalidate: 60 };
      await c.fetch('k', () => 'v1', opts);
      t.now += 6;
      let calls = 0;
      expect(text(await c.fetch('k', () => { calls++; throw new Error('boom'); }, opts))).toBe('v1');
      await new Promise((r) => setTimeout(r, 0));
      expect(calls).toBe(1);
      expect(c.getString('k')).toBe('v1');
    });

    it('a set by someone else makes the value fresh again', async () => {
      const t = { now: T0 };
      const c = await createCache({ engine, memory: 1048576, now: () => t.now });
      const opts = { ttl: 5, staleWhileRevalidate: 60 };
      await c.fetch('k', () => 'v1', opts);
      c.set('k', 'direct');
      t.now += 6;
      let calls = 0;
      expect(text(await c.fetch('k', () => { calls++; return 'v2'; }, opts))).toBe('direct');
      expect(calls).toBe(0);
    });
  });
}
