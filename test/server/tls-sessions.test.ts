// The -o ssl_session_cache store (src/tls-sessions.ts): bounded in bytes,
// oldest dropped first, a replaced session counted once.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TlsSessions } from '../../src/tls-sessions.js';

const get = (s: TlsSessions, id: string): Uint8Array | null => {
  let out: Uint8Array | null = null;
  s.get(id, (d) => { out = d; });
  return out;
};

describe('TLS session store', () => {
  it('keeps what fits, drops the oldest first, never holds more than its bound', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 400 })), { maxLength: 200 }),
      (puts) => {
        const max = 1000;
        const s = new TlsSessions(max);
        const model = new Map<string, number>();
        for (const [k, n] of puts) {
          const id = `s${k}`;
          s.put(id, new Uint8Array(n).fill(k));
          model.delete(id);
          if (n <= max) model.set(id, n);
          let total = [...model.values()].reduce((a, b) => a + b, 0);
          for (const oldest of [...model.keys()]) {
            if (total <= max) break;
            total -= model.get(oldest)!;
            model.delete(oldest);
          }
          expect(s.heldBytes).toBe(total);
          expect(s.heldBytes).toBeLessThanOrEqual(max);
        }
        for (const [id, n] of model) {
          const d = get(s, id);
          expect(d?.length).toBe(n);
        }
        expect(s.size).toBe(model.size);
      },
    ));
  });

  it('a session larger than the bound is not kept', () => {
    const s = new TlsSessions(10);
    s.put('a', new Uint8Array(5));
    s.put('b', new Uint8Array(11));
    expect(get(s, 'b')).toBeNull();
    expect(get(s, 'a')?.length).toBe(5);
  });
});
