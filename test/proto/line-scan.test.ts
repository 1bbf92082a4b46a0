// A text command line is scanned for its newline, then for a NUL (which ends
// it, as memcached's C strings do), then split on spaces; the WebAssembly
// build scans eight bytes at a time (assembly/mem.ts find), the JS build a
// byte at a time. Every position of the newline, the NUL and the spaces
// against those eight-byte steps, on both builds, gives memcached's answer.
import { describe, it, expect } from 'vitest';
import { makeStore, ENGINES } from '../support/engine.js';

describe.each(ENGINES)('%s build: line scanning at every alignment', (engine) => {
  it('finds the NUL that ends a get line wherever it falls', () => {
    const h = makeStore({ engine });
    for (let len = 1; len <= 40; len++) {
      const key = 'k'.repeat(len);
      expect(h.cmd(`set ${key} 0 0 1\r\n${len % 10}\r\n`)).toBe('STORED\r\n');
      for (let lead = 0; lead < 8; lead++) {
        // The NUL ends the line: the junk after it, spaces and all, is not a key.
        const line = `get${' '.repeat(1 + lead)}${key}\0 other junk ${'j'.repeat(lead)}\r\n`;
        expect(h.cmd(line)).toBe(`VALUE ${key} 0 1\r\n${len % 10}\r\nEND\r\n`);
      }
    }
  });

  it('splits keys on runs of spaces wherever they fall', () => {
    const h = makeStore({ engine });
    const keys = Array.from({ length: 12 }, (_, i) => `key${'x'.repeat(i * 3)}${i}`);
    for (const [i, k] of keys.entries()) h.cmd(`set ${k} ${i} 0 1\r\n${i % 10}\r\n`);
    for (let gap = 1; gap <= 9; gap++) {
      for (let shift = 0; shift < 8; shift++) {
        const line = `${' '.repeat(shift)}get${' '.repeat(gap)}${keys.join(' '.repeat(gap))}${' '.repeat(shift)}\r\n`;
        const want = keys.map((k, i) => `VALUE ${k} ${i} 1\r\n${i % 10}\r\n`).join('') + 'END\r\n';
        expect(h.cmd(line)).toBe(want);
      }
    }
  });

  it('finds the newline of each pipelined line wherever it falls', () => {
    const h = makeStore({ engine });
    expect(h.cmd('set a 0 0 1\r\n1\r\n')).toBe('STORED\r\n');
    // Lines of 5 to 44 bytes back to back: every newline lands at another
    // offset of an eight-byte step; `\n` alone ends a line as `\r\n` does.
    let input = '';
    let want = '';
    for (let pad = 0; pad < 40; pad++) {
      input += `get a${' '.repeat(pad)}${pad % 2 ? '\n' : '\r\n'}`;
      want += 'VALUE a 0 1\r\n1\r\nEND\r\n';
    }
    expect(h.cmd(input)).toBe(want);
  });
});
