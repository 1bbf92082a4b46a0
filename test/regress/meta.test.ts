// Regressions found by the differential test against memcached 1.6.18.
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore } from '../support/engine.js';

describe.each(ENGINES)('meta regressions (%s engine)', (engine) => {
  it('ms I with a zero unique is a plain CAS mismatch, not a stale store', () => {
    const h = makeStore({ engine });
    expect(h.cmd('ms k 1\r\nx\r\nms k 1 I C0\r\ny\r\nmg k v\r\n')).toBe('HD\r\nEX\r\nVA 1\r\nx\r\n');
  });

  it('ms with more than 16 flags (over 20 tokens) is refused before its data is read', () => {
    const h = makeStore({ engine });
    const flags = ['c', 'k', 's', 't', 'f', 'v', 'h', 'l', 'u', 'O1', 'P1', 'L1', 'F1', 'T0', 'I', 'N1'];
    expect(h.cmd(`ms k 1 ${flags.join(' ')}\r\nx\r\n`)).toBe('HD c1 kk O1\r\n');
    // the data line is then read as a command: ERROR
    expect(h.cmd(`ms k 1 ${flags.join(' ')} R1\r\nx\r\n`)).toBe('CLIENT_ERROR options flags too long\r\nERROR\r\n');
  });
});
