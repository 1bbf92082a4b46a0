// Regression: `lru_crawler crawl <classes>` answered OK and did nothing; the
// expired items waited for the background pass. memcached's crawler serves
// the request at once (its lru-crawler.t: 30 of 90 items in class 1 expire,
// `lru_crawler crawl 1`, and `stats slabs` then shows 60 used chunks and
// `stats items` 30 crawler_reclaimed). Now the named classes' pages are
// walked inside the call, at most 262,144 chunks.
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore, type Harness } from '../support/engine.js';

function stat(h: Harness, cmd: string, name: string): number {
  const m = new RegExp(`STAT ${name} (\\d+)\r\n`).exec(h.cmd(cmd));
  if (!m) throw new Error(`no ${name} in ${cmd.trim()}`);
  return Number(m[1]);
}

describe.each(ENGINES)('lru_crawler crawl reclaims at once (%s engine)', (engine) => {
  it('expired items of the named class are reclaimed and counted before the reply', () => {
    const h = makeStore({ engine, memoryMB: 32, crawler: false });
    for (let i = 1; i <= 30; i++) expect(h.cmd(`set ifoo${i} 0 0 2\r\nok\r\n`)).toBe('STORED\r\n');
    for (let i = 1; i <= 30; i++) expect(h.cmd(`set lfoo${i} 0 3600 2\r\nok\r\n`)).toBe('STORED\r\n');
    for (let i = 1; i <= 30; i++) expect(h.cmd(`set sfoo${i} 0 1 2\r\nok\r\n`)).toBe('STORED\r\n');
    expect(stat(h, 'stats slabs\r\n', '1:used_chunks')).toBe(90);
    h.now += 3;
    expect(h.cmd('lru_crawler enable\r\n')).toBe('OK\r\n');
    expect(h.cmd('lru_crawler crawl 1\r\n')).toBe('OK\r\n');
    expect(stat(h, 'stats slabs\r\n', '1:used_chunks')).toBe(60);
    expect(stat(h, 'stats items\r\n', 'items:1:crawler_reclaimed')).toBe(30);
    expect(h.cmd('get sfoo1 lfoo1 ifoo1\r\n')).toBe('VALUE lfoo1 0 2\r\nok\r\nVALUE ifoo1 0 2\r\nok\r\nEND\r\n');
  });

  it('a class not named is left to the background pass', () => {
    const h = makeStore({ engine, memoryMB: 32, crawler: false });
    for (let i = 1; i <= 20; i++) expect(h.cmd(`set s${i} 0 1 2\r\nok\r\n`)).toBe('STORED\r\n');
    h.now += 3;
    expect(h.cmd('lru_crawler enable\r\n')).toBe('OK\r\n');
    expect(h.cmd('lru_crawler crawl 2\r\n')).toBe('OK\r\n');
    expect(stat(h, 'stats slabs\r\n', '1:used_chunks')).toBe(20);
    expect(h.cmd('lru_crawler crawl all\r\n')).toBe('OK\r\n');
    expect(stat(h, 'stats slabs\r\n', '1:used_chunks')).toBe(0);
  });
});
