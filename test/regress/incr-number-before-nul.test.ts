// Regression: incr/decr refused a stored number followed by a NUL byte. The
// random differential test stored "0\0" and sent `decr a 100 noreply`:
// memcached's safe_strtoull accepts digits followed by whitespace *or* the
// end of a C string, so it stores 0 (and takes a CAS unique), while
// wasmcached answered "non-numeric" and the CAS counters drifted apart.
// Replies below are memcached 1.6.18's.
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore } from '../support/engine.js';

describe.each(ENGINES)('incr/decr of a number followed by NUL (%s engine)', (engine) => {
  it('text incr/decr read the digits before the NUL, as memcached', () => {
    const h = makeStore({ engine });
    expect(h.cmd('set a 0 0 2\r\n0\0\r\ndecr a 100\r\nget a\r\n')).toBe('STORED\r\n0\r\nVALUE a 0 2\r\n0 \r\nEND\r\n');
    expect(h.cmd('set b 0 0 3\r\n5\0x\r\nincr b 1\r\n')).toBe('STORED\r\n6\r\n');
    expect(h.cmd('set d 0 0 2\r\n9\0\r\nincr d 5\r\nget d\r\n')).toBe('STORED\r\n14\r\nVALUE d 0 2\r\n14\r\nEND\r\n');
    // A NUL before any digit is still not a number.
    expect(h.cmd('set e 0 0 2\r\n\x005\r\nincr e 1\r\n'))
      .toBe('STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
  });

  it('decr ... noreply of such a value takes a CAS unique, as memcached', () => {
    const h = makeStore({ engine });
    h.cmd('set a 0 0 2\r\n0\0\r\n');
    const cas = (r: string) => BigInt(r.split('\r\n')[0].split(' ')[4]);
    const before = cas(h.cmd('gets a\r\n'));
    expect(h.cmd('decr a 100 noreply\r\n')).toBe('');
    expect(cas(h.cmd('gets a\r\n'))).toBe(before + 1n);
  });

  it("a '-' counts only when the number reads as negative", () => {
    const h = makeStore({ engine });
    expect(h.cmd('set n 0 0 21\r\n-18446744073709551615\r\nincr n 1\r\n')).toBe('STORED\r\n2\r\n');
    expect(h.cmd('set m 0 0 2\r\n-5\r\nincr m 1\r\n'))
      .toBe('STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
  });
});
