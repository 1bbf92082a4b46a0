// Expiry with a clock the test moves: relative and absolute exptimes,
// negative = already expired, touch/gat, flush_all with and without delay,
// and the crawler reclaiming expired items without any access.
import { describe, it, expect } from 'vitest';
import { ENGINES, makeStore as makeStoreOf, T0, type EngineKind } from '../support/engine.js';


for (const engine of ENGINES) {
  const makeStore = (o: Parameters<typeof makeStoreOf>[0] = {}) => makeStoreOf({ ...o, engine: engine as EngineKind });
  describe(`${engine} build`, () => {
  describe('expiry', () => {
    it('relative exptime expires after that many seconds', () => {
      const h = makeStore();
      h.cmd('set k 0 10 1\r\na\r\n');
      h.now = T0 + 9;
      expect(h.cmd('get k\r\n')).toBe('VALUE k 0 1\r\na\r\nEND\r\n');
      h.now = T0 + 10;
      expect(h.cmd('get k\r\n')).toBe('END\r\n');
      expect(h.stats().get_expired).toBe('1');
    });
  
    it('negative exptime stores an already expired item', () => {
      const h = makeStore();
      expect(h.cmd('set k 0 -1 1\r\na\r\nget k\r\n')).toBe('STORED\r\nEND\r\n');
    });
  
    it('exptime above 30 days is an absolute unix time', () => {
      const h = makeStore();
      h.cmd(`set past 0 ${T0 - 100} 1\r\na\r\n`);
      h.cmd(`set future 0 ${T0 + 100} 1\r\nb\r\n`);
      h.cmd('set month 0 2592000 1\r\nc\r\n');
      expect(h.cmd('get past future month\r\n')).toBe('VALUE future 0 1\r\nb\r\nVALUE month 0 1\r\nc\r\nEND\r\n');
      h.now = T0 + 100;
      expect(h.cmd('get future month\r\n')).toBe('VALUE month 0 1\r\nc\r\nEND\r\n');
      h.now = T0 + 2592000;
      expect(h.cmd('get month\r\n')).toBe('END\r\n');
    });
  
    it('touch and gat change the expiry; gats returns the CAS', () => {
      const h = makeStore();
      h.cmd('set k 0 10 1\r\na\r\n');
      expect(h.cmd('touch k 100\r\n')).toBe('TOUCHED\r\n');
      h.now = T0 + 50;
      expect(h.cmd('gat 200 k\r\n')).toBe('VALUE k 0 1\r\na\r\nEND\r\n');
      h.now = T0 + 240;
      expect(h.cmd('gats 0 k\r\n')).toBe('VALUE k 0 1 1\r\na\r\nEND\r\n');
      h.now = T0 + 100000;
      expect(h.cmd('get k\r\n')).toBe('VALUE k 0 1\r\na\r\nEND\r\n');
      expect(h.cmd('touch nope 1\r\ntouch k abc\r\ngat abc k\r\n')).toBe(
        'NOT_FOUND\r\nCLIENT_ERROR invalid exptime argument\r\nCLIENT_ERROR invalid exptime argument\r\n');
    });
  
    it('flush_all hides everything stored before it, not what follows', () => {
      const h = makeStore();
      h.cmd('set a 0 0 1\r\na\r\n');
      expect(h.cmd('flush_all\r\nset b 0 0 1\r\nb\r\nget a b\r\n')).toBe('OK\r\nSTORED\r\nVALUE b 0 1\r\nb\r\nEND\r\n');
      expect(h.stats().get_flushed).toBe('1');
    });
  
    it('flush_all with a delay takes effect when the delay passes', () => {
      const h = makeStore();
      h.cmd('set a 0 0 1\r\na\r\n');
      expect(h.cmd('flush_all 10\r\n')).toBe('OK\r\n');
      h.now = T0 + 5;
      expect(h.cmd('get a\r\n')).toBe('VALUE a 0 1\r\na\r\nEND\r\n');
      h.now = T0 + 11;
      expect(h.cmd('get a\r\n')).toBe('END\r\n');
    });
  
    it('the crawler reclaims expired items nobody reads', () => {
      const h = makeStore();
      for (let i = 0; i < 1000; i++) h.cmd(`set k${i} 0 ${i < 600 ? 5 : 0} 10\r\n0123456789\r\n`);
      expect(h.stats().curr_items).toBe('1000');
      h.now = T0 + 6;
      h.tick();
      const s = h.stats();
      expect(s.curr_items).toBe('400');
      expect(s.crawler_reclaimed).toBe('600');
      expect(s.expired_unfetched).toBe('600');
    });
  
    it('the clock never runs backwards', () => {
      const h = makeStore();
      h.cmd('set k 0 10 1\r\na\r\n');
      h.now = T0 + 20;
      expect(h.cmd('get k\r\n')).toBe('END\r\n');
      h.cmd('set j 0 10 1\r\na\r\n');
      h.now = T0; // wall clock stepped back
      expect(h.cmd('get j\r\n')).toBe('VALUE j 0 1\r\na\r\nEND\r\n');
    });
  });
  });
}
