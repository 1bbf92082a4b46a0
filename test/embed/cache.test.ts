// The library API over both engine builds: exact memcached semantics per
// method, typed errors that change nothing, binary-safe bytes, TTL on an
// injected clock, a memory budget that holds, and several independent caches.
import { describe, it, expect } from 'vitest';
import {
  createCache, createCacheSync, loadModule, CacheError, InvalidKeyError, InvalidArgumentError, ItemTooLargeError,
  NonNumericValueError, type Cache, type CacheOptions,
} from '../../src/embed/node.js';
import { ENGINES, T0 } from '../support/engine.js';

function clock(): { now: number; fn: () => number } {
  const c = { now: T0, fn: () => c.now };
  return c;
}

for (const engine of ENGINES) {
  describe(`cache (${engine})`, () => {
    const make = (o: CacheOptions = {}) => createCache({ engine, memory: 2 * 1048576, ...o });

    it('get/set/has/delete with string and byte keys and values', async () => {
      const c = await make();
      expect(c.engine).toBe(engine);
      expect(c.get('a')).toBeUndefined();
      expect(c.set('a', 'héllo')).toBe(true);
      expect(c.getString('a')).toBe('héllo');
      expect(c.get(new TextEncoder().encode('a'))).toEqual(new TextEncoder().encode('héllo'));
      expect(c.has('a')).toBe(true);
      expect(c.delete('a')).toBe(true);
      expect(c.delete('a')).toBe(false);
      expect(c.has('a')).toBe(false);
    });

    it('stores every byte value and binary keys exactly', async () => {
      const c = await make();
      const key = new Uint8Array([0, 10, 13, 32, 255, 128]);
      const value = new Uint8Array(70000);
      for (let i = 0; i < value.length; i++) value[i] = (i * 7 + (i >> 8)) & 255;
      c.set(key, value);
      expect(c.get(key)).toEqual(value);
      expect(c.get(new Uint8Array([0, 10, 13, 32, 255]))).toBeUndefined();
      expect(c.set('empty', new Uint8Array(0))).toBe(true);
      expect(c.get('empty')).toEqual(new Uint8Array(0));
    });

    it('add, replace, append, prepend and flags', async () => {
      const c = await make();
      expect(c.replace('k', 'x')).toBe(false);
      expect(c.append('k', 'x')).toBe(false);
      expect(c.add('k', 'mid', { flags: 0xfffffffe })).toBe(true);
      expect(c.add('k', 'again')).toBe(false);
      expect(c.append('k', '>')).toBe(true);
      expect(c.prepend('k', '<')).toBe(true);
      expect(c.gets('k')?.flags).toBe(0xfffffffe);
      expect(c.getString('k')).toBe('<mid>');
      expect(c.replace('k', 'new', { flags: 3 })).toBe(true);
      expect(c.gets('k')?.flags).toBe(3);
      expect(c.getString('k')).toBe('new');
    });

    it('compare-and-set with the gets token', async () => {
      const c = await make();
      expect(c.cas('k', 'v', 1n)).toBe('not_found');
      c.set('k', 'v1');
      const e = c.gets('k')!;
      expect(typeof e.cas).toBe('bigint');
      expect(c.cas('k', 'v2', e.cas + 1n)).toBe('exists');
      expect(c.getString('k')).toBe('v1');
      expect(c.cas('k', 'v2', e.cas)).toBe('stored');
      expect(c.getString('k')).toBe('v2');
      expect(c.cas('k', 'v3', e.cas)).toBe('exists');
      expect(c.gets('k')!.cas).toBeGreaterThan(e.cas);
    });

    it('incr wraps at 2^64, decr stops at 0, as memcached', async () => {
      const c = await make();
      expect(c.incr('n', 1n)).toBeUndefined();
      c.set('n', '18446744073709551614');
      expect(c.incr('n', 1n)).toBe(18446744073709551615n);
      expect(c.incr('n', 2n)).toBe(1n);
      c.set('d', '100');
      expect(c.decr('d', 1)).toBe(99n);
      // memcached pads a shorter result in place
      expect(c.getString('d')).toBe('99 ');
      expect(c.decr('d', 1000n)).toBe(0n);
      c.set('x', 'abc');
      expect(() => c.incr('x', 1n)).toThrow(NonNumericValueError);
      expect(() => c.incr('n', -1)).toThrow(InvalidArgumentError);
      expect(() => c.incr('n', 1n << 64n)).toThrow(InvalidArgumentError);
    });

    it('TTL expires on the injected clock; touch changes it; negative is expired', async () => {
      const t = clock();
      const c = await make({ now: t.fn, ttl: 100 });
      c.set('default', 'v');
      c.set('short', 'v', { ttl: 10 });
      c.set('forever', 'v', { ttl: 0 });
      c.set('gone', 'v', { ttl: -1 });
      expect(c.has('gone')).toBe(false);
      c.set('touched', 'v', { ttl: 10 });
      expect(c.touch('touched', 1000)).toBe(true);
      expect(c.touch('missing', 10)).toBe(false);
      t.now += 10;
      expect(c.get('short')).toBeUndefined();
      expect(c.getString('default')).toBe('v');
      t.now += 90;
      expect(c.get('default')).toBeUndefined();
      expect(c.getString('forever')).toBe('v');
      expect(c.getString('touched')).toBe('v');
      // larger than 30 days: an absolute unix time
      c.set('abs', 'v', { ttl: t.now + 5 });
      t.now += 4;
      expect(c.has('abs')).toBe(true);
      t.now += 1;
      expect(c.has('abs')).toBe(false);
    });

    it('clear hides every item', async () => {
      const c = await make();
      for (let i = 0; i < 50; i++) c.set(`k${i}`, 'v');
      c.clear();
      for (let i = 0; i < 50; i++) expect(c.has(`k${i}`)).toBe(false);
      expect(c.set('after', 'v')).toBe(true);
      expect(c.has('after')).toBe(true);
    });

    it('bad input throws a typed error and leaves the store unchanged', async () => {
      const c = await make({ maxItemSize: 4096 });
      c.set('k', 'old');
      const before = c.stats();
      const bad: Array<[() => unknown, new (...a: never[]) => CacheError]> = [
        [() => c.set('x'.repeat(251), 'v'), InvalidKeyError],
        [() => c.set('é'.repeat(126), 'v'), InvalidKeyError],
        [() => c.get(''), InvalidKeyError],
        [() => c.get(42 as unknown as string), InvalidKeyError],
        [() => c.set('k', 5 as unknown as string), InvalidArgumentError],
        [() => c.set('k', 'v', { ttl: 1.5 }), InvalidArgumentError],
        [() => c.set('k', 'v', { flags: -1 }), InvalidArgumentError],
        [() => c.set('k', 'v'.repeat(5000)), ItemTooLargeError],
        [() => c.set('k', new Uint8Array(10_000_000)), ItemTooLargeError],
        [() => c.append('k', 'v'.repeat(4090)), ItemTooLargeError],
        [() => c.cas('k', 'v', -1n), InvalidArgumentError],
      ];
      for (const [f, type] of bad) {
        expect(f).toThrow(type);
        expect(f).toThrow(CacheError);
      }
      expect(c.getString('k')).toBe('old');
      const after = c.stats();
      expect(after.items).toBe(before.items);
      expect(after.bytes).toBe(before.bytes);
      expect(c.set('x'.repeat(250), 'v')).toBe(true);
    });

    it('eviction keeps the memory budget; stats count hits, misses and evictions', async () => {
      const c = await make();
      const value = new Uint8Array(1000).fill(120);
      for (let i = 0; i < 10_000; i++) c.set(`key:${i}`, value);
      const s = c.stats();
      expect(s.limitBytes).toBe(2 * 1048576);
      expect(s.evictions).toBeGreaterThan(0);
      expect(s.bytes).toBeLessThanOrEqual(s.limitBytes);
      expect(s.items).toBeLessThan(10_000);
      expect(c.get('key:0')).toBeUndefined();
      expect(c.get('key:9999')).toEqual(value);
      const s2 = c.stats();
      expect(s2.hits - s.hits).toBe(1);
      expect(s2.misses - s.misses).toBe(1);
      // has() counts neither
      c.has('key:9999');
      c.has('key:0');
      expect(c.stats().hits).toBe(s2.hits);
      expect(c.stats().misses).toBe(s2.misses);
    });

    it('get returns a copy of its own; getView is right until the next call', async () => {
      const c = await make();
      const enc = new TextEncoder();
      c.set('a', 'first value');
      c.set('b', 'second');
      const a = c.get('a')!;
      const b = c.get('b')!;
      // Copies share slabs, never bytes: writing one changes neither the other nor the cache.
      a.fill(0);
      expect(b).toEqual(enc.encode('second'));
      expect(c.getString('a')).toBe('first value');
      expect(b.byteOffset % 8).toBe(0);
      expect(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).toEqual(enc.encode('second'));

      const view = c.getView('a')!;
      expect(view).toEqual(enc.encode('first value'));
      const kept = view.slice();
      // The next call may overwrite the view: what the rule promises is the copy.
      c.get('b');
      expect(kept).toEqual(enc.encode('first value'));
      expect(c.getView('missing')).toBeUndefined();
      const big = new Uint8Array(70000).map((_, i) => i & 255);
      c.set('big', big);
      expect(c.getView('big')).toEqual(big);
      expect(c.get('big')).toEqual(big);
      c.set('empty', '');
      expect(c.getView('empty')).toEqual(new Uint8Array(0));
      // Views count as gets.
      const s = c.stats();
      c.getView('a');
      c.getView('nope');
      expect(c.stats().hits - s.hits).toBe(1);
      expect(c.stats().misses - s.misses).toBe(1);
    });

    it('string and byte keys name the same item, non-ASCII included', async () => {
      const c = await make();
      const enc = new TextEncoder();
      for (const k of ['plain', 'é', 'aé', '日本語のキー', 'emoji 😀', 'x'.repeat(250), 'é'.repeat(125)]) {
        expect(c.set(k, `v:${k}`)).toBe(true);
        expect(c.getString(enc.encode(k))).toBe(`v:${k}`);
        expect(c.getView(enc.encode(k))).toEqual(enc.encode(`v:${k}`));
        c.set(enc.encode(k), `w:${k}`);
        expect(c.getString(k)).toBe(`w:${k}`);
      }
      // 'é' is not the Latin-1 byte 0xe9
      expect(c.get(new Uint8Array([0xe9]))).toBeUndefined();
    });

    it('getMany: hits, misses, duplicates in order; bad keys throw', async () => {
      const c = await make();
      const enc = new TextEncoder();
      c.set('a', 'A');
      c.set('日本', 'JP');
      c.set(new Uint8Array([0, 255]), 'bin');
      const before = c.stats();
      const got = c.getMany(['a', 'missing', enc.encode('日本'), 'a', new Uint8Array([0, 255]), '日本']);
      expect(got.map((v) => (v === undefined ? undefined : new TextDecoder().decode(v)))).toEqual(['A', undefined, 'JP', 'A', 'bin', 'JP']);
      // Each value is a copy of its own.
      got[0]!.fill(0);
      expect(new TextDecoder().decode(got[3])).toBe('A');
      const after = c.stats();
      expect(after.hits - before.hits).toBe(5);
      expect(after.misses - before.misses).toBe(1);
      expect(c.getMany([])).toEqual([]);
      expect(() => c.getMany(['a', ''])).toThrow(InvalidKeyError);
      expect(() => c.getMany(['a', 'x'.repeat(251)])).toThrow(InvalidKeyError);
      expect(() => c.getMany(['a', 7 as unknown as string])).toThrow(InvalidKeyError);
      expect(() => c.getMany('a' as unknown as string[])).toThrow(InvalidArgumentError);
      const big = new Uint8Array(5000).fill(9);
      c.set('big', big);
      expect(c.getMany(['big', 'a'])).toEqual([big, enc.encode('A')]);
    });

    it('setMany stores every pair with the options; bad input throws as set does', async () => {
      const t = clock();
      const c = await make({ now: t.fn });
      expect(c.setMany([['a', '1'], ['b', new Uint8Array([2])], [new TextEncoder().encode('c'), '3']], { flags: 7, ttl: 10 })).toBe(3);
      expect(c.gets('a')?.flags).toBe(7);
      expect(c.getMany(['a', 'b', 'c']).map((v) => v && Array.from(v))).toEqual([[49], [2], [51]]);
      expect(c.setMany(new Map<string, string>([['m', 'map'], ['a', 'again']]))).toBe(2);
      expect(c.getString('a')).toBe('again');
      expect(c.gets('a')?.flags).toBe(0);
      t.now += 11;
      expect(c.has('b')).toBe(false);
      expect(c.getString('m')).toBe('map');
      expect(c.setMany([])).toBe(0);
      expect(() => c.setMany([['ok', 'v'], ['', 'v']])).toThrow(InvalidKeyError);
      expect(c.getString('ok')).toBe('v');
      expect(() => c.setMany([['k', 5 as unknown as string]])).toThrow(InvalidArgumentError);
      expect(() => c.setMany([['k', 'v']], { ttl: 0.5 })).toThrow(InvalidArgumentError);
      expect(() => c.setMany(5 as unknown as [string, string][])).toThrow(InvalidArgumentError);
      expect(() => c.setMany(['kv' as unknown as [string, string]])).toThrow(InvalidArgumentError);
    });

    it('several caches are independent', async () => {
      const caches: Cache[] = [];
      for (let i = 0; i < 3; i++) caches.push(await make());
      caches.forEach((c, i) => c.set('shared', `v${i}`));
      caches.forEach((c, i) => expect(c.getString('shared')).toBe(`v${i}`));
      caches[0].clear();
      expect(caches[0].has('shared')).toBe(false);
      expect(caches[1].getString('shared')).toBe('v1');
    });
  });
}

describe('createCacheSync', () => {
  it('takes a compiled module, or engine js; refuses wasm without one', async () => {
    const module = await loadModule();
    const a = createCacheSync({ module, memory: 1048576 });
    a.set('k', 'v');
    expect(a.getString('k')).toBe('v');
    expect(a.engine).toBe('wasm');
    expect(createCacheSync({ engine: 'js', memory: 1048576 }).engine).toBe('js');
    expect(() => createCacheSync({ memory: 1048576 })).toThrow(InvalidArgumentError);
    expect(() => createCacheSync({ engine: 'js', memory: -1 })).toThrow(InvalidArgumentError);
  });
});
