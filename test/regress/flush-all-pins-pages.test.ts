// Regression: after flush_all, values of other sizes could not be stored.
// With -m 8 full of 11,000-byte items, a flush_all made them invisible but
// left every page with their class, and a class whose items were all
// flushed (or reclaimed) was never asked for a page: `set b 0 0 4096`
// answered SERVER_ERROR out of memory where memcached answers STORED (in
// memcached's slabs-reassign2.t, all 20,000 4 KB sets after a flush failed).
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore, type Harness } from '../support/engine.js';

const OOM = 'SERVER_ERROR out of memory storing object\r\n';

function fillWithLargeItems(h: Harness): void {
  const v = 'x'.repeat(11000);
  for (let i = 0; i < 1200; i++) expect(h.cmd(`set k${i} 0 0 11000\r\n${v}\r\n`)).toBe('STORED\r\n');
}

function storeAndRead(h: Harness, key: string, n: number): void {
  const v = key[0].repeat(n);
  expect(h.cmd(`set ${key} 0 0 ${n}\r\n${v}\r\n`)).toBe('STORED\r\n');
  expect(h.cmd(`get ${key}\r\n`)).toBe(`VALUE ${key} 0 ${n}\r\n${v}\r\nEND\r\n`);
}

describe.each(ENGINES)('flushed or expired items do not pin pages (%s engine)', (engine) => {
  it('-m 8 full of 11,000-byte items, flush_all, 2 s later: 4096- and 100-byte values store', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fillWithLargeItems(h);
    expect(h.cmd('flush_all\r\n')).toBe('OK\r\n');
    h.now += 2;
    h.tick();
    storeAndRead(h, 'b', 4096);
    storeAndRead(h, 'c', 100);
  });

  it('right after flush_all (before any tick reclaims them), flushed items give up their pages', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fillWithLargeItems(h);
    expect(h.cmd('flush_all\r\n')).toBe('OK\r\n');
    storeAndRead(h, 'b', 4096);
    storeAndRead(h, 'c', 100);
  });

  it('expired items give up their pages the same way', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    const v = 'x'.repeat(11000);
    for (let i = 0; i < 1200; i++) expect(h.cmd(`set k${i} 0 1 11000\r\n${v}\r\n`)).toBe('STORED\r\n');
    h.now += 2;
    storeAndRead(h, 'b', 4096);
    storeAndRead(h, 'c', 100);
  });

  it('after a flush, a value of every size stores', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fillWithLargeItems(h);
    expect(h.cmd('flush_all\r\n')).toBe('OK\r\n');
    h.now += 2;
    h.tick();
    for (let n = 1, i = 0; n < 1024 * 1024 - 512; n = Math.ceil(n * 1.2), i++) storeAndRead(h, `s${i}`, n);
  });

  it('after a flush, a new size takes over the memory the flushed items held', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fillWithLargeItems(h);
    expect(h.cmd('flush_all\r\n')).toBe('OK\r\n');
    h.now += 2;
    h.tick();
    const v = 'j'.repeat(4096);
    let stored = 0;
    for (let i = 0; i < 4000; i++) if (h.cmd(`set j${i} 0 0 4096\r\n${v}\r\n`) === 'STORED\r\n') stored++;
    expect(stored).toBe(4000);
    // Most of the 8 MB now holds 4 KB items, not one page's worth (~230).
    expect(Number(h.stats().curr_items)).toBeGreaterThan(1500);
    expect(h.cmd('get j3999\r\n')).toBe(`VALUE j3999 0 4096\r\n${v}\r\nEND\r\n`);
  });

  it('a quiet class returns the pages its flushed items held to the global pool', () => {
    const h = makeStore({ engine, memoryMB: 8, automoveWindow: 3 });
    fillWithLargeItems(h);
    expect(h.cmd('flush_all\r\n')).toBe('OK\r\n');
    for (let s = 0; s < 4; s++) {
      h.now += 1;
      h.tick();
    }
    const s = h.stats();
    // The class keeps at most 2.5 pages' worth of free chunks (memcached's rule).
    expect(Number(s.slab_global_page_pool)).toBe(6);
    expect(h.stats('slabs').total_malloced).toBe(String(8 * 1024 * 1024));
    // The pool serves any class, and is drained before anything is evicted.
    const evictions = s.evictions;
    const v = 'j'.repeat(4096);
    for (let i = 0; i < 1300; i++) expect(h.cmd(`set j${i} 0 0 4096\r\n${v}\r\n`)).toBe('STORED\r\n');
    expect(h.stats().slab_global_page_pool).toBe('0');
    expect(h.stats().evictions).toBe(evictions);
    expect(h.cmd(`get j0\r\n`)).toBe(`VALUE j0 0 4096\r\n${v}\r\nEND\r\n`);
  });

  it('with -M, flushed items still give up their pages (nothing live is evicted)', () => {
    const h = makeStore({ engine, memoryMB: 8, opts: 1 });
    const v = 'x'.repeat(11000);
    let stored = 0;
    for (let i = 0; i < 1200; i++) if (h.cmd(`set k${i} 0 0 11000\r\n${v}\r\n`) === 'STORED\r\n') stored++;
    expect(stored).toBeLessThan(1200);
    expect(h.cmd(`set b 0 0 4096\r\n${'b'.repeat(4096)}\r\n`)).toBe(OOM);
    expect(h.cmd('flush_all\r\n')).toBe('OK\r\n');
    storeAndRead(h, 'b', 4096);
    storeAndRead(h, 'c', 100);
    expect(h.stats().evictions).toBe('0');
  });
});
