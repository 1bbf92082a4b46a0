// Regression: total_malloced never fell after cache_memlimit lowered the
// limit. memcached's dyn-maxbytes.t raises the limit to 16 MB, fills it,
// lowers it to 8 MB and deletes everything: the slab automover moves the
// emptied pages to the global pool and memcached frees pool pages while more
// are malloced than the limit (memory_release), so `stats slabs`
// total_malloced drops within a few seconds. wasmcached's pages stay in
// linear memory, unused beyond the limit, and were still counted.
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore, type Harness } from '../support/engine.js';

const MB = 1024 * 1024;

function slabStat(h: Harness, name: string): number {
  const m = new RegExp(`STAT ${name} (\\d+)\r\n`).exec(h.cmd('stats slabs\r\n'));
  if (!m) throw new Error(`no ${name} in stats slabs`);
  return Number(m[1]);
}

function globalPool(h: Harness): number {
  return Number(/STAT slab_global_page_pool (\d+)\r\n/.exec(h.cmd('stats\r\n'))![1]);
}

describe.each(ENGINES)('total_malloced after cache_memlimit lowers the limit (%s engine)', (engine) => {
  it('pages emptied above the new limit count as given back, and the limit still holds', () => {
    const h = makeStore({ engine, memoryMB: 3, memoryCapMB: 16, automove: 1, automoveWindow: 3 });
    const v = 'B'.repeat(66560);
    expect(h.cmd('cache_memlimit 16\r\n')).toBe('OK\r\n');
    for (let i = 0; i < 150; i++) expect(h.cmd(`set key${i} 0 0 66560\r\n${v}\r\n`)).toBe('STORED\r\n');
    const full = slabStat(h, 'total_malloced');
    expect(full).toBeGreaterThan(8 * MB);

    expect(h.cmd('cache_memlimit 8\r\n')).toBe('OK\r\n');
    for (let i = 0; i < 150; i++) expect(h.cmd(`delete key${i}\r\n`)).toMatch(/^(DELETED|NOT_FOUND)\r\n$/);
    // The automover moves a page a second (window 3), as memcached's does.
    for (let s = 0; s < 20 && slabStat(h, 'total_malloced') > 8 * MB; s++) {
      h.now += 1;
      h.tick();
    }
    expect(slabStat(h, 'total_malloced')).toBeLessThan(full);
    expect(slabStat(h, 'total_malloced')).toBeLessThanOrEqual(8 * MB);
    // The pool shows only pages the limit still lets a class take.
    expect(globalPool(h) * MB).toBeLessThanOrEqual(8 * MB);

    // Filling again stays within the lowered limit, counted the same way.
    for (let i = 0; i < 150; i++) expect(h.cmd(`set again${i} 0 0 66560\r\n${v}\r\n`)).toBe('STORED\r\n');
    expect(slabStat(h, 'total_malloced')).toBeLessThanOrEqual(8 * MB);
    expect(h.cmd('get again149\r\n')).toBe(`VALUE again149 0 66560\r\n${v}\r\nEND\r\n`);

    // Raising the limit again lets memory grow back.
    expect(h.cmd('cache_memlimit 16\r\n')).toBe('OK\r\n');
    for (let i = 0; i < 150; i++) expect(h.cmd(`set more${i} 0 0 66560\r\n${v}\r\n`)).toBe('STORED\r\n');
    expect(slabStat(h, 'total_malloced')).toBeGreaterThan(8 * MB);
  });
});
