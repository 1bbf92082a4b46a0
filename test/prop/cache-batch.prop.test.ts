// The library's batch and zero-copy reads against a Map model: random
// sequences of set / setMany / get / getView / getMany / has / delete with
// string and byte keys (non-ASCII included) give what a Map would, on both
// engine builds. (No eviction or expiry: the values fit the arena.)
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createCache, type Key } from '../../src/embed/node.js';
import { ENGINES } from '../support/engine.js';

const enc = new TextEncoder();
const NAMES = ['a', 'b', 'key:1', 'é', 'aé', '日本', 'x'.repeat(250)];
/** A key as a string or as its UTF-8 bytes: both name one item. */
const key = fc.tuple(fc.constantFrom(...NAMES), fc.boolean()).map(([k, bytes]): Key => (bytes ? enc.encode(k) : k));
const value = fc.uint8Array({ maxLength: 300 });
const name = (k: Key) => (typeof k === 'string' ? k : new TextDecoder().decode(k));

type Op =
  | { m: 'set'; k: Key; v: Uint8Array }
  | { m: 'setMany'; kv: [Key, Uint8Array][] }
  | { m: 'get' | 'getView' | 'has' | 'delete'; k: Key }
  | { m: 'getMany'; ks: Key[] };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ m: fc.constant('set' as const), k: key, v: value }),
  fc.record({ m: fc.constant('setMany' as const), kv: fc.array(fc.tuple(key, value), { maxLength: 8 }) }),
  fc.record({ m: fc.constantFrom('get' as const, 'getView' as const, 'has' as const, 'delete' as const), k: key }),
  fc.record({ m: fc.constant('getMany' as const), ks: fc.array(key, { maxLength: 10 }) }),
);

for (const engine of ENGINES) {
  describe(`cache batch calls against a Map (${engine})`, () => {
    it('same answers for random sequences', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 120 }), async (ops) => {
          const c = await createCache({ engine, memory: 2 * 1048576 });
          const model = new Map<string, Uint8Array>();
          let hits = 0;
          let misses = 0;
          const count = (v: unknown) => { if (v === undefined) misses++; else hits++; };
          for (const o of ops) {
            switch (o.m) {
              case 'set':
                expect(c.set(o.k, o.v)).toBe(true);
                model.set(name(o.k), o.v);
                break;
              case 'setMany':
                expect(c.setMany(o.kv)).toBe(o.kv.length);
                for (const [k, v] of o.kv) model.set(name(k), v);
                break;
              case 'get': {
                const want = model.get(name(o.k));
                count(want);
                expect(c.get(o.k)).toEqual(want);
                break;
              }
              case 'getView': {
                const want = model.get(name(o.k));
                count(want);
                // Compared before any other call, as the view's rule requires.
                expect(c.getView(o.k)).toEqual(want);
                break;
              }
              case 'getMany': {
                const want = o.ks.map((k) => model.get(name(k)));
                want.forEach(count);
                expect(c.getMany(o.ks)).toEqual(want);
                break;
              }
              case 'has':
                expect(c.has(o.k)).toBe(model.has(name(o.k)));
                break;
              case 'delete':
                expect(c.delete(o.k)).toBe(model.delete(name(o.k)));
                break;
            }
          }
          const s = c.stats();
          expect(s.items).toBe(model.size);
          expect([s.hits, s.misses]).toEqual([hits, misses]);
        }),
        { numRuns: 40 },
      );
    });
  });
}
