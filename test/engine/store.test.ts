// The store through the text protocol, in-process: exact replies for every
// classic command, CAS bookkeeping, incr/decr edge semantics, noreply.
import { describe, it, expect } from 'vitest';
import { ENGINES, makeStore as makeStoreOf, type EngineKind } from '../support/engine.js';


for (const engine of ENGINES) {
  const makeStore = (o: Parameters<typeof makeStoreOf>[0] = {}) => makeStoreOf({ ...o, engine: engine as EngineKind });
  describe(`${engine} build`, () => {
  describe('storage commands', () => {
    it('set/get/gets round-trip with flags and CAS from one counter', () => {
      const h = makeStore();
      expect(h.cmd('set a 5 0 3\r\nabc\r\n')).toBe('STORED\r\n');
      expect(h.cmd('set b 4294967295 0 0\r\n\r\n')).toBe('STORED\r\n');
      expect(h.cmd('gets a b c\r\n')).toBe('VALUE a 5 3 1\r\nabc\r\nVALUE b 4294967295 0 2\r\n\r\nEND\r\n');
      expect(h.cmd('get a\r\n')).toBe('VALUE a 5 3\r\nabc\r\nEND\r\n');
    });
  
    it('add, replace, append, prepend keep memcached semantics', () => {
      const h = makeStore();
      expect(h.cmd('add k 1 0 1\r\nx\r\n')).toBe('STORED\r\n');
      expect(h.cmd('add k 1 0 1\r\ny\r\n')).toBe('NOT_STORED\r\n');
      expect(h.cmd('replace nope 0 0 1\r\ny\r\n')).toBe('NOT_STORED\r\n');
      expect(h.cmd('replace k 2 0 1\r\nz\r\n')).toBe('STORED\r\n');
      expect(h.cmd('append k 9 0 2\r\n>>\r\n')).toBe('STORED\r\n');
      expect(h.cmd('prepend k 9 0 2\r\n<<\r\n')).toBe('STORED\r\n');
      // append/prepend keep the old item's flags
      expect(h.cmd('get k\r\n')).toBe('VALUE k 2 5\r\n<<z>>\r\nEND\r\n');
      expect(h.cmd('append nope 0 0 1\r\nx\r\n')).toBe('NOT_STORED\r\n');
    });
  
    it('cas: match stores, stale answers EXISTS, missing answers NOT_FOUND', () => {
      const h = makeStore();
      h.cmd('set k 0 0 1\r\na\r\n');
      const cas = /VALUE k 0 1 (\d+)/.exec(h.cmd('gets k\r\n'))![1];
      expect(h.cmd(`cas k 0 0 1 ${cas}\r\nb\r\n`)).toBe('STORED\r\n');
      expect(h.cmd(`cas k 0 0 1 ${cas}\r\nc\r\n`)).toBe('EXISTS\r\n');
      expect(h.cmd('cas k 0 0 1 0\r\nc\r\n')).toBe('EXISTS\r\n');
      expect(h.cmd('cas nope 0 0 1 1\r\nc\r\n')).toBe('NOT_FOUND\r\n');
      expect(h.cmd('get k\r\n')).toBe('VALUE k 0 1\r\nb\r\nEND\r\n');
      const s = h.stats();
      expect([s.cas_hits, s.cas_badval, s.cas_misses]).toEqual(['1', '2', '1']);
    });
  
    it('-C disables CAS: uniques are 0', () => {
      const h = makeStore({ opts: 2 });
      h.cmd('set k 0 0 1\r\na\r\n');
      expect(h.cmd('gets k\r\n')).toBe('VALUE k 0 1 0\r\na\r\nEND\r\n');
    });
  
    it('a value larger than -I is refused, swallowed, and drops the old value on set', () => {
      const h = makeStore({ itemSizeMax: 1024 });
      h.cmd('set k 0 0 1\r\na\r\n');
      const big = 'x'.repeat(2000);
      expect(h.cmd(`set k 0 0 2000\r\n${big}\r\nget k\r\n`)).toBe('SERVER_ERROR object too large for cache\r\nEND\r\n');
      // the limit counts memcached's item header: 48 + key+1 + value+2 + 8 (CAS) <= -I
      expect(h.cmd(`set k 0 0 964\r\n${'y'.repeat(964)}\r\n`)).toBe('STORED\r\n');
      expect(h.cmd(`set k 0 0 965\r\n${'y'.repeat(965)}\r\n`)).toBe('SERVER_ERROR object too large for cache\r\n');
      expect(h.stats().store_too_large).toBe('2');
    });
  
    it('a refused value whose bytes have not arrived yet is skipped across reads', () => {
      const h = makeStore({ itemSizeMax: 1024 });
      expect(h.cmd('set k 0 0 5000\r\n' + 'z'.repeat(100))).toBe('SERVER_ERROR object too large for cache\r\n');
      expect(h.cmd('z'.repeat(4900))).toBe('');
      expect(h.cmd('\r\nversion\r\n')).toBe('VERSION 1.6.18\r\n');
    });
  
    it('bad data chunk consumes the declared bytes and stores nothing', () => {
      const h = makeStore();
      expect(h.cmd('set k 0 0 3\r\nabcd\r\n')).toBe('CLIENT_ERROR bad data chunk\r\nERROR\r\n');
      expect(h.cmd('get k\r\n')).toBe('END\r\n');
    });
  });
  
  describe('incr / decr', () => {
    it('wraps at 2^64 on incr, floors at 0 on decr, pads a shrinking value', () => {
      const h = makeStore();
      h.cmd('set n 0 0 20\r\n18446744073709551615\r\n');
      expect(h.cmd('incr n 1\r\n')).toBe('0\r\n');
      expect(h.cmd('get n\r\n')).toBe('VALUE n 0 20\r\n0                   \r\nEND\r\n');
      h.cmd('set m 0 0 3\r\n100\r\n');
      expect(h.cmd('decr m 1\r\n')).toBe('99\r\n');
      expect(h.cmd('get m\r\n')).toBe('VALUE m 0 3\r\n99 \r\nEND\r\n');
      expect(h.cmd('decr m 1000\r\n')).toBe('0\r\n');
      // a growing value gets a new item
      h.cmd('set g 0 0 1\r\n9\r\n');
      expect(h.cmd('incr g 1\r\n')).toBe('10\r\n');
      expect(h.cmd('get g\r\n')).toBe('VALUE g 0 2\r\n10\r\nEND\r\n');
    });
  
    it('rejects bad deltas and non-numeric values with memcached\'s errors', () => {
      const h = makeStore();
      h.cmd('set s 0 0 3\r\nabc\r\n');
      expect(h.cmd('incr s 1\r\n')).toBe('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
      expect(h.cmd('incr s -1\r\n')).toBe('CLIENT_ERROR invalid numeric delta argument\r\n');
      expect(h.cmd('incr s 18446744073709551616\r\n')).toBe('CLIENT_ERROR invalid numeric delta argument\r\n');
      expect(h.cmd('incr nope 1\r\n')).toBe('NOT_FOUND\r\n');
      expect(h.cmd('incr s\r\n')).toBe('ERROR\r\n');
    });
  
    it('incr assigns a new CAS unique', () => {
      const h = makeStore();
      h.cmd('set n 0 0 1\r\n1\r\n');
      const before = /VALUE n 0 1 (\d+)/.exec(h.cmd('gets n\r\n'))![1];
      h.cmd('incr n 1\r\n');
      const after = /VALUE n 0 1 (\d+)/.exec(h.cmd('gets n\r\n'))![1];
      expect(BigInt(after)).toBeGreaterThan(BigInt(before));
    });
  });
  
  describe('noreply', () => {
    it('silences replies, errors included, as memcached does', () => {
      const h = makeStore();
      expect(h.cmd('set k 0 0 1 noreply\r\na\r\n')).toBe('');
      expect(h.cmd('add k 0 0 1 noreply\r\na\r\n')).toBe('');
      expect(h.cmd('incr k 1 noreply\r\n')).toBe('');
      expect(h.cmd('delete k noreply\r\n')).toBe('');
      expect(h.cmd('touch k 10 noreply\r\n')).toBe('');
      expect(h.cmd('flush_all noreply\r\n')).toBe('');
      expect(h.cmd('verbosity noreply\r\n')).toBe('');
      expect(h.cmd(`set ${'k'.repeat(251)} 0 0 1 noreply\r\na\r\n`)).toBe('ERROR\r\n');
    });
  });
  
  describe('delete and arity', () => {
    it('answers as memcached 1.6.18 for the legacy delete forms', () => {
      const h = makeStore();
      h.cmd('set k 0 0 1\r\na\r\n');
      expect(h.cmd('delete k 0\r\n')).toBe('DELETED\r\n');
      expect(h.cmd('delete k 10\r\n')).toBe('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n');
      expect(h.cmd('delete a b c d e\r\n')).toBe('ERROR\r\n');
      expect(h.cmd('delete k\r\n')).toBe('NOT_FOUND\r\n');
    });
  
    it('unknown, empty, uppercase and TAB-separated commands are ERROR', () => {
      const h = makeStore();
      expect(h.cmd('\r\nGET k\r\nget\tk\r\nx\r\nbogus 1 2\r\n')).toBe('ERROR\r\n'.repeat(5));
    });
  });
  });
}
