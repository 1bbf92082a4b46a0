// mc_op on the two builds of the engine: the same random operation sequences
// (small arena for eviction, a moving clock for expiry) give the same results
// and counters from the WebAssembly and the pure-JS build.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createCache, type Cache } from '../../src/embed/node.js';
import { T0 } from '../support/engine.js';

const key = fc.integer({ min: 0, max: 300 }).map((i) => `key:${i}`);
const value = fc.oneof(fc.integer({ min: 0, max: 3000 }).map((n) => 'v'.repeat(n)), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String));
const ttl = fc.constantFrom(0, 1, 5, 60, -1);
const op = fc.oneof(
  fc.tuple(fc.constantFrom('set', 'add', 'replace', 'append', 'prepend'), key, value, ttl).map(([m, k, v, t]) => ({ m, k, v, t })),
  fc.tuple(fc.constantFrom('get', 'gets', 'has', 'delete'), key).map(([m, k]) => ({ m, k, v: '', t: 0 })),
  fc.tuple(fc.constantFrom('incr', 'decr'), key, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([m, k, d]) => ({ m, k, v: String(d), t: 0 })),
  fc.tuple(key, ttl).map(([k, t]) => ({ m: 'touch', k, v: '', t })),
  fc.tuple(key, fc.bigInt({ min: 0n, max: 400n })).map(([k, c]) => ({ m: 'cas', k, v: String(c), t: 0 })),
  fc.constantFrom({ m: 'advance', k: '', v: '', t: 7 }, { m: 'clear', k: '', v: '', t: 0 }),
  // batch calls: several keys (or key/value pairs) joined by spaces
  fc.tuple(fc.constantFrom('getMany', 'getView'), fc.array(key, { minLength: 1, maxLength: 4 })).map(([m, ks]) => ({ m, k: ks.join(' '), v: '', t: 0 })),
  fc.tuple(fc.array(key, { minLength: 1, maxLength: 4 }), value, ttl).map(([ks, v, t]) => ({ m: 'setMany', k: ks.join(' '), v, t })),
);

type Op = { m: string; k: string; v: string; t: number };

function apply(c: Cache, o: Op): unknown {
  try {
    switch (o.m) {
      case 'set': case 'add': case 'replace': return c[o.m](o.k, o.v, { ttl: o.t, flags: o.v.length });
      case 'append': case 'prepend': return c[o.m](o.k, o.v);
      case 'get': return c.getString(o.k);
      case 'gets': { const e = c.gets(o.k); return e && [new TextDecoder().decode(e.value), e.flags, e.cas]; }
      case 'has': return c.has(o.k);
      case 'delete': return c.delete(o.k);
      case 'incr': case 'decr': return c[o.m](o.k, BigInt(o.v));
      case 'touch': return c.touch(o.k, o.t);
      case 'cas': return c.cas(o.k, 'c', BigInt(o.v));
      case 'clear': c.clear(); return null;
      case 'getMany': return c.getMany(o.k.split(' ')).map((v) => v && new TextDecoder().decode(v));
      case 'getView': { const v = c.getView(o.k.split(' ')[0]); return v && new TextDecoder().decode(v); }
      case 'setMany': return c.setMany(o.k.split(' ').map((k, i) => [k, o.v + i]), { ttl: o.t });
    }
  } catch (err) {
    return `${(err as Error).name}`;
  }
  return null;
}

describe('wasm and js builds run mc_op identically', () => {
  it('same results and stats for random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 300 }), async (ops) => {
        const clock = { now: T0 };
        const now = () => clock.now;
        const w = await createCache({ engine: 'wasm', memory: 1048576, now });
        const j = await createCache({ engine: 'js', memory: 1048576, now });
        for (const o of ops) {
          if (o.m === 'advance') { clock.now += o.t; continue; }
          expect(apply(j, o), JSON.stringify(o)).toEqual(apply(w, o));
        }
        expect(j.stats()).toEqual(w.stats());
      }),
      { numRuns: 25 },
    );
  });
});
