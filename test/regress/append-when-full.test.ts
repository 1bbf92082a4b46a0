// Regression: append/prepend answered NOT_STORED when memory was full. With
// -m 8 full of 11,000-byte items, `set appender 0 0 10` then 40 appends of 12
// bytes answered NOT_STORED 38 times (memcached: STORED, evicting as a set
// would; its chunked-items.t failed 15,903 of 16,629 checks). The joined item
// was allocated with the old one pinned, and allocation gave up when the
// class it picked a page from held that pinned item (or the in-flight new
// data) instead of trying another. incr growing a number past its item's
// size class has the same shape.
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore, type Harness } from '../support/engine.js';

function fill(h: Harness): void {
  const v = 'x'.repeat(11000);
  for (let i = 0; i < 1200; i++) expect(h.cmd(`set k${i} 0 0 11000\r\n${v}\r\n`)).toBe('STORED\r\n');
}

describe.each(ENGINES)('writes that grow an item when memory is full (%s engine)', (engine) => {
  it('40 appends of 12 bytes to a 10-byte item all store', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fill(h);
    let expected = 'seedstring';
    expect(h.cmd(`set appender 0 0 10\r\n${expected}\r\n`)).toBe('STORED\r\n');
    for (let i = 0; i < 40; i++) {
      const part = `${String(i).padStart(2, '0')}xxxxxxxxxx`;
      expected += part;
      expect(h.cmd(`append appender 0 0 12\r\n${part}\r\n`)).toBe('STORED\r\n');
      expect(h.cmd('get appender\r\n')).toBe(`VALUE appender 0 ${expected.length}\r\n${expected}\r\nEND\r\n`);
    }
  });

  it('40 prepends of 12 bytes to a 10-byte item all store', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fill(h);
    let expected = 'seedstring';
    expect(h.cmd(`set prepender 0 0 10\r\n${expected}\r\n`)).toBe('STORED\r\n');
    for (let i = 0; i < 40; i++) {
      const part = `${String(i).padStart(2, '0')}xxxxxxxxxx`;
      expected = part + expected;
      expect(h.cmd(`prepend prepender 0 0 12\r\n${part}\r\n`)).toBe('STORED\r\n');
    }
    expect(h.cmd('get prepender\r\n')).toBe(`VALUE prepender 0 ${expected.length}\r\n${expected}\r\nEND\r\n`);
  });

  it('an append that doubles a large item stores', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fill(h);
    const half = 'a'.repeat(200000);
    expect(h.cmd(`set big 0 0 ${half.length}\r\n${half}\r\n`)).toBe('STORED\r\n');
    expect(h.cmd(`append big 0 0 ${half.length}\r\n${half}\r\n`)).toBe('STORED\r\n');
    expect(h.cmd('get big\r\n')).toBe(`VALUE big 0 ${2 * half.length}\r\n${half}${half}\r\nEND\r\n`);
  });

  it('incr that grows a number into a larger size class stores', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fill(h);
    // 44-byte header + 40-byte key: 1 digit fits the first class (96 bytes), 20 do not.
    const key = 'c'.repeat(40);
    expect(h.cmd(`set ${key} 0 0 1\r\n1\r\n`)).toBe('STORED\r\n');
    expect(h.cmd(`incr ${key} 18446744073709551614\r\n`)).toBe('18446744073709551615\r\n');
    expect(h.cmd(`get ${key}\r\n`)).toBe(`VALUE ${key} 0 20\r\n18446744073709551615\r\nEND\r\n`);
    expect(h.cmd(`ma ${key} N0 J0 D1 v\r\n`)).toBe('VA 1\r\n0\r\n');
  });

  it('meta append (ms MA) stores the same way', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    fill(h);
    expect(h.cmd('ms m 3\r\nabc\r\n')).toBe('HD\r\n');
    let expected = 'abc';
    for (let i = 0; i < 40; i++) {
      expected += 'defghijklmno';
      expect(h.cmd('ms m 12 MA\r\ndefghijklmno\r\n')).toBe('HD\r\n');
    }
    expect(h.cmd('mg m v\r\n')).toBe(`VA ${expected.length}\r\n${expected}\r\n`);
  });
});
