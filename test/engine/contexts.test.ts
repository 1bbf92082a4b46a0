// Thread contexts (-t N): several Stores on one engine memory, each working
// through its own context (CTX_* in assembly/abi.ts) under one lock. Calls
// of one context must never see another's results, regions or connection
// state, however the calls interleave; both builds of the engine.
import { describe, it, expect } from 'vitest';
import { Store } from '../../src/engine/store.js';
import { EngineLock } from '../../src/engine/lock.js';
import { ST_OUT_FULL, ST_VALUE, ST_OK } from '../../assembly/abi.js';
import { ENGINES, loadEngine, T0, SessionClient as Client } from '../support/engine.js';

for (const engine of ENGINES) {
  describe(`${engine} build: thread contexts`, () => {
    const setup = (threads: number) => {
      const build = loadEngine(engine);
      const main = Store.create(build, { memoryMB: 16, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 }, T0);
      const lock = new EngineLock(new SharedArrayBuffer(4));
      const stores = [main];
      for (let t = 1; t < threads; t++) stores.push(Store.attach(build, main.base, main.newContext(), lock));
      main.useContext(main.newContext(), lock);
      return stores;
    };

    it('each context has its own input and output regions, above the reserved store', () => {
      const [a, b, c] = setup(3);
      const regions = [a, b, c].map((s) => s.input().byteOffset);
      expect(new Set(regions).size).toBe(3);
      for (const s of [a, b, c]) expect(s.input().byteOffset).toBeGreaterThan(a.base + a.storeBytes);
      expect(b.inputCapacity).toBe(a.inputCapacity);
    });

    it('one cache: what a context stores every other reads', () => {
      const [a, b] = setup(2);
      const ca = new Client(a);
      const cb = new Client(b);
      ca.feed('set k 5 0 3\r\nabc\r\n');
      expect(ca.take()).toBe('STORED\r\n');
      cb.feed('get k\r\n');
      expect(cb.take()).toBe('VALUE k 5 3\r\nabc\r\nEND\r\n');
      cb.feed('incr n 1\r\nset n 0 0 1\r\n7\r\nincr n 5\r\n');
      ca.feed('incr n 1\r\n');
      expect(cb.take()).toBe('NOT_FOUND\r\nSTORED\r\n12\r\n');
      expect(ca.take()).toBe('13\r\n');
    });

    it('a value arriving in pieces on one context is not disturbed by calls on another', () => {
      const [a, b] = setup(2);
      const ca = new Client(a);
      const cb = new Client(b);
      const value = 'x'.repeat(300_000);
      // The line and the first part of the value: the item waits, unlinked.
      expect(ca.feed(`set big 0 0 ${value.length}\r\n${value.slice(0, 1000)}`)).toBe(ST_VALUE);
      cb.feed('set small 0 0 2\r\nhi\r\nget big small\r\n');
      expect(cb.take()).toBe('STORED\r\nVALUE small 0 2\r\nhi\r\nEND\r\n');
      ca.feed(value.slice(1000) + '\r\nget small\r\n');
      expect(ca.take()).toBe('STORED\r\nVALUE small 0 2\r\nhi\r\nEND\r\n');
      cb.feed('get big\r\n');
      expect(cb.take()).toBe(`VALUE big 0 ${value.length}\r\n${value}\r\nEND\r\n`);
    });

    it('a multiget stopped by a full output region resumes on its context after another context ran', () => {
      const [a, b] = setup(2);
      // The server's bound on one call's output; this context's alone.
      a.outputLimit = 128 * 1024;
      const ca = new Client(a);
      const cb = new Client(b);
      const v = 'v'.repeat(100_000);
      for (let i = 0; i < 6; i++) ca.feed(`set m${i} ${i} 0 ${v.length}\r\n${v}\r\n`);
      ca.take();
      const keys = Array.from({ length: 6 }, (_, i) => `m${i}`).join(' ');
      // One call at a time, alternating with the other context's calls.
      ca.session.push(Buffer.from(`get ${keys}\r\n`, 'latin1'));
      let rounds = 0;
      while (ca.session.runnable() && rounds++ < 100) {
        const st = ca.feed('', 1);
        cb.feed(`get m${rounds % 6}\r\n`);
        expect(cb.take()).toBe(`VALUE m${rounds % 6} ${rounds % 6} ${v.length}\r\n${v}\r\nEND\r\n`);
        if (st !== ST_OUT_FULL) break;
      }
      expect(rounds).toBeGreaterThan(2);
      const expected = Array.from({ length: 6 }, (_, i) => `VALUE m${i} ${i} ${v.length}\r\n${v}\r\n`).join('') + 'END\r\n';
      expect(ca.take()).toBe(expected);
    });

    it('a connection that closes mid-value on one context frees its item, leaving the others', () => {
      const [a, b] = setup(2);
      const ca = new Client(a);
      const cb = new Client(b);
      cb.feed('stats\r\n');
      const before = /STAT curr_items (\d+)/.exec(cb.take())![1];
      expect(ca.feed('set gone 0 0 100000\r\nabc')).toBe(ST_VALUE);
      ca.session.close();
      cb.feed('get gone\r\nstats\r\n');
      const after = cb.take();
      expect(after.startsWith('END\r\n')).toBe(true);
      expect(/STAT curr_items (\d+)/.exec(after)![1]).toBe(before);
    });
  });
}
