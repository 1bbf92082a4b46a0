// Regression: the random differential test on -t 4 (seed 2020263394) sent
// `ma n2 T10000` to "99" and then `mg n2 R20000`: wasmcached answered
// `HD W` (TTL 10000 < 20000, so the client wins the recache) and memcached
// `HD`. memcached 1.6.18's do_add_delta replaces the item when the digits grow
// and hands back the old, unlinked copy, so `ma`'s `T` is written to that copy:
// reported by `t`, not kept. When the number fits in place, `T` is kept.
// Replies below are memcached 1.6.18's.
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore } from '../support/engine.js';

describe.each(ENGINES)('ma T after an incr that grows the number (%s engine)', (engine) => {
  it('a growing incr reports T but keeps the old TTL, as memcached', () => {
    const h = makeStore({ engine });
    expect(h.cmd('set n2 0 0 2\r\n99\r\nma n2 T10000\r\nmg n2 R20000\r\nmg n2 t\r\n'))
      .toBe('STORED\r\nHD\r\nHD\r\nHD t-1\r\n');
    expect(h.cmd('set c 0 0 2\r\n99\r\nma c T10000 t\r\nmg c t\r\n'))
      .toBe('STORED\r\nHD t10000\r\nHD t-1\r\n');
    // `t` before `T` reports the TTL as it was.
    expect(h.cmd('set d 0 500 1\r\n9\r\nma d t T100\r\nmg d t\r\n'))
      .toBe('STORED\r\nHD t500\r\nHD t500\r\n');
  });

  it('an incr in place keeps T', () => {
    const h = makeStore({ engine });
    expect(h.cmd('set a 0 0 3\r\n100\r\nma a T100 t\r\nmg a t\r\n'))
      .toBe('STORED\r\nHD t100\r\nHD t100\r\n');
    // decr shrinks in place (padded with spaces), so T is kept too.
    expect(h.cmd('set b 0 0 3\r\n100\r\nma b MD T200\r\nmg b t v\r\n'))
      .toBe('STORED\r\nHD\r\nVA 3 t200\r\n99 \r\n');
  });

  it('a miss created by N takes N, and T after it is kept', () => {
    const h = makeStore({ engine });
    expect(h.cmd('ma e T100 N50 t\r\nmg e t\r\n')).toBe('HD t50\r\nHD t50\r\n');
  });
});
