// Memory limit, eviction and page moves between slab classes.
import { describe, it, expect } from 'vitest';
import { ENGINES, makeStore as makeStoreOf, T0, type EngineKind } from '../support/engine.js';

const val = (n: number, c = 'v') => c.repeat(n);


for (const engine of ENGINES) {
  const makeStore = (o: Parameters<typeof makeStoreOf>[0] = {}) => makeStoreOf({ ...o, engine: engine as EngineKind });
  describe(`${engine} build`, () => {
  describe('eviction within -m', () => {
    it('a workload twice the memory limit evicts, and every answer stays valid', () => {
      const h = makeStore({ memoryMB: 8 });
      const v = val(1000);
      const n = 16000; // ~16 MB of values into 8 MB
      for (let i = 0; i < n; i++) expect(h.cmd(`set key:${i} 0 0 1000\r\n${v}\r\n`)).toBe('STORED\r\n');
      const s = h.stats();
      expect(Number(s.evictions)).toBeGreaterThan(0);
      expect(Number(s.curr_items) + Number(s.evictions)).toBe(n);
      expect(Number(s.bytes)).toBeLessThanOrEqual(8 * 1024 * 1024);
      const slabs = h.stats('slabs');
      expect(Number(slabs.total_malloced)).toBeLessThanOrEqual(8 * 1024 * 1024);
      // the newest items survive, each intact
      for (let i = n - 100; i < n; i++) expect(h.cmd(`get key:${i}\r\n`)).toBe(`VALUE key:${i} 0 1000\r\n${v}\r\nEND\r\n`);
    });
  
    it('-M answers out of memory instead of evicting', () => {
      const h = makeStore({ memoryMB: 2, opts: 1 });
      const v = val(10000);
      let oom = 0;
      for (let i = 0; i < 400; i++) {
        const r = h.cmd(`set k${i} 0 0 10000\r\n${v}\r\n`);
        if (r === 'SERVER_ERROR out of memory storing object\r\n') oom++;
        else expect(r).toBe('STORED\r\n');
      }
      expect(oom).toBeGreaterThan(0);
      const s = h.stats();
      expect(s.evictions).toBe('0');
      expect(Number(s.store_no_memory)).toBe(oom);
      expect(h.cmd('get k0\r\n')).toBe(`VALUE k0 0 10000\r\n${v}\r\nEND\r\n`);
    });
  
    it('an item read twice gets a second chance at the LRU tail', () => {
      const h = makeStore({ memoryMB: 2 });
      const v = val(1000);
      h.cmd(`set hot 0 0 1000\r\n${v}\r\n`);
      for (let i = 0; i < 6000; i++) {
        h.cmd(`set k${i} 0 0 1000\r\n${v}\r\n`);
        if (i % 500 === 0) h.cmd('get hot\r\nget hot\r\n');
      }
      expect(Number(h.stats().evictions)).toBeGreaterThan(3000);
      expect(h.cmd('get hot\r\n')).toBe(`VALUE hot 0 1000\r\n${v}\r\nEND\r\n`);
    });
  });
  
  describe('slab automove', () => {
    it('a workload that shifts from small to large values takes the memory over', () => {
      const h = makeStore({ memoryMB: 8 });
      for (let i = 0; i < 60000; i++) h.cmd(`set small:${i} 0 0 100\r\n${val(100)}\r\n`);
      h.now = T0 + 120; // the small items age
      const big = val(5000);
      const n = 3000; // ~15 MB of large values
      for (let i = 0; i < n; i++) expect(h.cmd(`set big:${i} 0 0 5000\r\n${big}\r\n`)).toBe('STORED\r\n');
      // The large class must hold far more than the one page it could get
      // without moves (~200 items); most of the 8 MB should now be large items.
      let hits = 0;
      for (let i = n - 1000; i < n; i++) if (h.cmd(`get big:${i}\r\n`).startsWith('VALUE')) hits++;
      expect(hits).toBe(1000);
      const s = h.stats();
      expect(Number(s.slabs_moved)).toBeGreaterThan(5);
    });
  
    it('slabs automove 0 disables page moves', () => {
      const h = makeStore({ memoryMB: 8 });
      expect(h.cmd('slabs automove 0\r\n')).toBe('OK\r\n');
      for (let i = 0; i < 60000; i++) h.cmd(`set small:${i} 0 0 100\r\n${val(100)}\r\n`);
      h.now = T0 + 120;
      let stored = 0;
      for (let i = 0; i < 500; i++) if (h.cmd(`set big:${i} 0 0 5000\r\n${val(5000)}\r\n`) === 'STORED\r\n') stored++;
      expect(h.stats().slabs_moved).toBe('0');
      expect(stored).toBeLessThan(500);
    });
  });
  
  describe('hash table growth', () => {
    it('grows incrementally while items keep being found', () => {
      const h = makeStore({ memoryMB: 64 });
      const start = Number(h.stats().hash_power_level);
      const n = 200000;
      for (let i = 0; i < n; i += 1000) {
        let batch = '';
        for (let j = i; j < i + 1000; j++) batch += `set k${j} 0 0 1\r\nx\r\n`;
        h.send(batch);
        // reads during expansion find everything stored so far
        expect(h.cmd(`get k0 k${i} k${i + 999}\r\n`)).toBe(`VALUE k0 0 1\r\nx\r\nVALUE k${i} 0 1\r\nx\r\nVALUE k${i + 999} 0 1\r\nx\r\nEND\r\n`);
      }
      expect(Number(h.stats().hash_power_level)).toBeGreaterThan(start);
      let all = '';
      for (let j = 0; j < n; j++) all += `get k${j}\r\n`;
      const out = h.cmd(all);
      expect(out.split('VALUE ').length - 1).toBe(n);
    });
  });
  });
}
