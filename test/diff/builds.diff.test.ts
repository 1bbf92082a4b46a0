// The WebAssembly and pure-JS builds of the engine are one source; this
// checks they behave as one. The same random pipelined command streams —
// with eviction (a small arena), expiry (a moving clock), flushes, slab page
// moves, incr/decr wrap, multigets and malformed lines — go to both; every response byte and
// every counter (`stats`, `stats items`, `stats slabs`) must be identical.
// Meta commands are part of the text streams; binary-protocol streams,
// malformed lengths included, are checked the same way.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { makeStore, T0, type Harness } from '../support/engine.js';
import { OP, frame, setExtras, incrExtras, expExtras } from '../support/binary.js';

const keys = Array.from({ length: 400 }, (_, i) => `key:${i}`);
const key = fc.constantFrom(...keys);
const size = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1000, max: 20000 }), fc.constant(100000));
const ttl = fc.constantFrom(0, 0, 1, 5, 60, -1, 2592001, T0 + 10);

const command = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom('set', 'add', 'replace', 'append', 'prepend'), key, fc.integer({ min: 0, max: 2 ** 32 - 1 }), ttl, size, fc.boolean())
    .map(([c, k, f, t, n, nr]) => `${c} ${k} ${f} ${t} ${n}${nr ? ' noreply' : ''}\r\n${'x'.repeat(n)}\r\n`) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('get', 'gets'), fc.array(key, { minLength: 1, maxLength: 30 })).map(([c, ks]) => `${c} ${ks.join(' ')}\r\n`) },
  fc.tuple(fc.constantFrom('gat', 'gats'), ttl, fc.array(key, { minLength: 1, maxLength: 3 })).map(([c, t, ks]) => `${c} ${t} ${ks.join(' ')}\r\n`),
  fc.tuple(key, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([k, v]) => `set ${k} 0 0 ${String(v).length}\r\n${v}\r\n`),
  fc.tuple(fc.constantFrom('incr', 'decr'), key, fc.constantFrom('1', '7', '18446744073709551615', '-1', 'x')).map(([c, k, d]) => `${c} ${k} ${d}\r\n`),
  fc.tuple(key, fc.integer({ min: 0, max: 50 })).map(([k, u]) => `cas ${k} 0 0 1 ${u}\r\nc\r\n`),
  fc.tuple(key, ttl).map(([k, t]) => `touch ${k} ${t}\r\n`),
  key.map((k) => `delete ${k}\r\n`),
  fc.tuple(key, fc.shuffledSubarray(['v', 'k', 'c', 'f', 's', 't', 'l', 'h', 'q', 'u', 'N30', 'R30', 'T5', 'O1'], { maxLength: 8 }))
    .map(([k, f]) => `mg ${k} ${f.join(' ')}\r\n`),
  fc.tuple(key, size, fc.shuffledSubarray(['c', 'k', 'q', 'T60', 'F7', 'I', 'C3', 'MA', 'MP', 'ME', 'MR'], { maxLength: 4 }))
    .map(([k, n, f]) => `ms ${k} ${n} ${f.join(' ')}\r\n${'m'.repeat(n)}\r\n`),
  fc.tuple(key, fc.shuffledSubarray(['q', 'k', 'I', 'T30', 'C2'], { maxLength: 3 })).map(([k, f]) => `md ${k} ${f.join(' ')}\r\n`),
  fc.tuple(key, fc.shuffledSubarray(['N0', 'J18446744073709551615', 'D5', 'MD', 'v', 'c', 't', 'T9'], { maxLength: 5 }))
    .map(([k, f]) => `ma ${k} ${f.join(' ')}\r\n`),
  fc.constantFrom('flush_all\r\n', 'flush_all 3\r\n', 'version\r\n', 'bogus\r\n', 'set k 0 0 abc\r\n', 'get\r\n', 'verbosity 1\r\n',
    `set big 0 0 1100000\r\n${'y'.repeat(1100000)}\r\n`, 'slabs automove 1\r\n', 'stats detail on\r\n',
    'slabs reassign -1 0\r\n', 'slabs reassign -1 1\r\n', 'slabs reassign 0 30\r\n'),
);
const step = fc.oneof(
  { weight: 12, arbitrary: fc.array(command, { minLength: 1, maxLength: 40 }).map((cs) => ({ kind: 'send' as const, data: cs.join('') })) },
  fc.integer({ min: 1, max: 90 }).map((s) => ({ kind: 'advance' as const, secs: s })),
  fc.constant({ kind: 'tick' as const }),
);

describe('wasm and js builds are identical', () => {
  it('same bytes and counters for random pipelined streams with eviction and expiry', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 40, size: 'max' }), (steps) => {
        const w = makeStore({ engine: 'wasm', memoryMB: 2 });
        const j = makeStore({ engine: 'js', memoryMB: 2 });
        for (const s of steps) {
          if (s.kind === 'advance') { w.now += s.secs; j.now += s.secs; continue; }
          if (s.kind === 'tick') { w.tick(); j.tick(); continue; }
          const a = w.send(s.data);
          const b = j.send(s.data);
          expect(b.equals(a), `diverged after ${JSON.stringify(s.data.slice(0, 200))}`).toBe(true);
        }
        for (const sub of ['', 'items', 'slabs', 'settings']) {
          expect(j.cmd(sub ? `stats ${sub}\r\n` : 'stats\r\n')).toBe(w.cmd(sub ? `stats ${sub}\r\n` : 'stats\r\n'));
        }
      }),
      { numRuns: 40, seed: Number(process.env.FC_SEED ?? 7) },
    );
  });

  it('a long eviction-heavy run ends with identical stats and evictions > 0', () => {
    const w = makeStore({ engine: 'wasm', memoryMB: 2 });
    const j = makeStore({ engine: 'js', memoryMB: 2 });
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 200; round++) {
      let batch = '';
      for (let i = 0; i < 100; i++) {
        const k = `k${Math.floor(rnd() * 5000)}`;
        const n = Math.floor(rnd() * 3000);
        batch += rnd() < 0.6 ? `set ${k} 0 ${rnd() < 0.2 ? 3 : 0} ${n}\r\n${'z'.repeat(n)}\r\n` : `get ${k}\r\n`;
      }
      expect(j.send(batch).equals(w.send(batch))).toBe(true);
      if (round % 20 === 0) { w.now += 2; j.now += 2; w.tick(); j.tick(); }
    }
    const ws = w.stats();
    expect(Number(ws.evictions)).toBeGreaterThan(0);
    expect(j.stats()).toEqual(ws);
  });
});

const binKey = fc.constantFrom('a', 'b', 'n', 'key:1');
const packet: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(OP.SET, OP.ADD, OP.REPLACE, OP.SETQ), binKey, size, fc.bigInt({ min: 0n, max: 5n }))
    .map(([opcode, key, n, cas]) => frame({ opcode, key, extras: setExtras(n, 0), value: 'v'.repeat(n), cas })) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(OP.GET, OP.GETK, OP.GETQ, OP.GETKQ), binKey).map(([opcode, key]) => frame({ opcode, key })) },
  fc.tuple(fc.constantFrom(OP.INCREMENT, OP.DECREMENT, OP.INCREMENTQ), binKey, fc.constantFrom(0, 60, 0xffffffff))
    .map(([opcode, key, exp]) => frame({ opcode, key, extras: incrExtras(3n, 10n, exp) })),
  fc.tuple(fc.constantFrom(OP.APPEND, OP.PREPEND), binKey).map(([opcode, key]) => frame({ opcode, key, value: '12' })),
  fc.tuple(fc.constantFrom(OP.TOUCH, OP.GAT, OP.GATK, OP.GATQ), binKey, ttl).map(([opcode, key, t]) => frame({ opcode, key, extras: expExtras(t) })),
  fc.tuple(fc.constantFrom(OP.DELETE, OP.DELETEQ), binKey).map(([opcode, key]) => frame({ opcode, key })),
  fc.constantFrom(OP.NOOP, OP.VERSION, OP.FLUSH, OP.STAT, 0xee).map((opcode) => frame({ opcode })),
  // malformed: lengths that do not add up, oversized fields, a bad magic
  fc.tuple(fc.constantFrom(OP.GET, OP.SET, OP.APPEND, OP.SASL_AUTH, 0x55), fc.nat(300), fc.nat(255), fc.constantFrom(0, 1, 9, 300, 0x80000000, 0xffffffff))
    .map(([opcode, keylen, extlen, bodylen]) => frame({ opcode, keylen, extlen, bodylen, key: 'k'.repeat(Math.min(keylen, 40)) })),
  fc.constant(frame({ opcode: OP.NOOP, magic: 0x42 })),
);

/** A fresh connection on the same store (new connection state). */
function reconnect(h: Harness): void {
  h.closed = false;
  h.reset();
}

describe('wasm and js builds are identical on the binary protocol', () => {
  it('same bytes and counters for random packet streams, malformed ones included', () => {
    fc.assert(
      fc.property(fc.array(fc.array(packet, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 15 }), (conns) => {
        const w = makeStore({ engine: 'wasm', memoryMB: 2 });
        const j = makeStore({ engine: 'js', memoryMB: 2 });
        for (const packets of conns) {
          reconnect(w);
          reconnect(j);
          const data = Buffer.concat(packets);
          const a = w.send(data);
          const b = j.send(data);
          expect(b.equals(a), `diverged after ${data.subarray(0, 200).toString('hex')}`).toBe(true);
          expect(j.closed).toBe(w.closed);
        }
        reconnect(w);
        reconnect(j);
        expect(j.cmd('stats\r\n')).toBe(w.cmd('stats\r\n'));
      }),
      { numRuns: 40, seed: Number(process.env.FC_SEED ?? 7) },
    );
  });
});
