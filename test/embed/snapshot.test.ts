// dump()/load() and their streaming forms over both engine builds: a round
// trip keeps values, flags, expiry and CAS (new uniques above the loaded
// ones), expired items are skipped, a damaged snapshot throws and changes
// nothing, and a dump loads into the other build and another size.
import { describe, it, expect } from 'vitest';
import { createCache, InvalidSnapshotError, type CacheOptions } from '../../src/embed/node.js';
import { ENGINES, T0 } from '../support/engine.js';

for (const engine of ENGINES) {
  const other = engine === 'wasm' ? 'js' : 'wasm';
  describe(`snapshots (${engine})`, () => {
    const clock = { now: T0 };
    const make = (o: CacheOptions = {}) => createCache({ engine, memory: 8 << 20, now: () => clock.now, ...o });

    it('dump and load keep values, flags, TTL and CAS, into the other build and another size', async () => {
      clock.now = T0;
      const a = await make();
      const bin = new Uint8Array(3000).map((_, i) => (i * 7) & 255);
      a.set('bytes', bin, { flags: 0xdeadbeef });
      a.set('ttl', 'soon', { ttl: 100 });
      a.set('n', '41');
      a.incr('n', 1n);
      const before = ['bytes', 'ttl', 'n'].map((k) => a.gets(k)!);
      const maxCas = before.reduce((m, e) => (e.cas > m ? e.cas : m), 0n);
      const b = await createCache({ engine: other, memory: 4 << 20, maxItemSize: 4096, now: () => clock.now, snapshot: a.dump() });
      ['bytes', 'ttl', 'n'].forEach((k, i) => expect(b.gets(k)).toEqual(before[i]));
      expect(b.cas('n', '50', before[2].cas)).toBe('stored');
      expect(b.gets('n')!.cas > maxCas).toBe(true);
      b.set('new', 'x');
      expect(b.gets('new')!.cas > maxCas).toBe(true);
      clock.now = T0 + 101;
      expect(b.get('ttl')).toBeUndefined();
      // Expired by load time: not loaded at all.
      const c = await make();
      expect(c.load(a.dump())).toBe(2);
      expect(c.getString('ttl')).toBeUndefined();
    });

    it('streams: dumpStream into loadStream', async () => {
      clock.now = T0;
      const a = await make({ memory: 32 << 20 });
      for (let i = 0; i < 20000; i++) a.set(`k${i}`, `v${i}`.repeat(20), { flags: i });
      // Larger than a background step: written whole in its own step.
      const big = new Uint8Array(700_000).map((_, i) => i & 255);
      a.set('big', big);
      const b = await make({ memory: 32 << 20 });
      expect(await b.loadStream(a.dumpStream())).toBe(20001);
      expect(b.gets('k12345')).toEqual(a.gets('k12345'));
      expect(b.get('big')).toEqual(big);
      expect(b.stats().items).toBe(20001);
    });

    it('items over the new maxItemSize are skipped', async () => {
      clock.now = T0;
      const a = await make({ memory: 16 << 20, maxItemSize: 2 << 20 });
      a.set('huge', new Uint8Array(1_500_000));
      a.set('small', 'x');
      const b = await make();
      expect(b.load(a.dump())).toBe(1);
      expect(b.getString('small')).toBe('x');
      expect(b.get('huge')).toBeUndefined();
    });

    it('a damaged snapshot throws InvalidSnapshotError and loads nothing', async () => {
      clock.now = T0;
      const a = await make();
      for (let i = 0; i < 100; i++) a.set(`k${i}`, 'value');
      const good = a.dump();
      const flipped = good.slice();
      flipped[100] ^= 1;
      const versioned = good.slice();
      versioned[8] = 2;
      for (const bad of [good.subarray(0, good.length - 1), flipped, new Uint8Array(0), versioned, new TextEncoder().encode('hello')]) {
        const b = await make();
        b.set('mine', 'kept');
        expect(() => b.load(bad)).toThrow(InvalidSnapshotError);
        expect(b.stats().items).toBe(1);
      }
    });
  });
}

describe('snapshots across builds', () => {
  it('the same operations dump to the same bytes in both builds', async () => {
    const dumps = [];
    for (const engine of ENGINES) {
      const c = await createCache({ engine, memory: 8 << 20, now: () => T0 });
      for (let i = 0; i < 3000; i++) c.set(`k${i}`, 'v'.repeat(i % 700), { flags: i * 977, ttl: i % 5 === 0 ? 0 : 60 + i });
      for (let i = 0; i < 3000; i += 7) c.delete(`k${i}`);
      c.incr('k1', 1n);
      dumps.push(c.dump());
    }
    expect(dumps[0].length).toBeGreaterThan(1000);
    expect(Buffer.from(dumps[0]).equals(Buffer.from(dumps[1]))).toBe(true);
  });
});
