// Model-based property test: random sequences of storage, retrieval,
// arithmetic, touch, delete, flush and clock moves, executed by the engine
// and by a small JS model of memcached's semantics; every reply must match.
// (No eviction here: the values fit the arena. Eviction has its own tests.)
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { makeStore, T0 } from '../support/engine.js';

interface Entry { flags: number; value: string; cas: bigint; exp: number /* abs unix, 0 = never */ }

class Model {
  items = new Map<string, Entry>();
  cas = 0n;
  now = T0;
  live(k: string): Entry | undefined {
    const e = this.items.get(k);
    if (e && e.exp !== 0 && e.exp <= this.now) { this.items.delete(k); return undefined; }
    return e;
  }
  nextCas(): bigint { return ++this.cas; }
  exp(t: number): number { return t === 0 ? 0 : t < 0 ? this.now - 1 : this.now + t; }
}

type Op =
  | { k: 'store'; cmd: 'set' | 'add' | 'replace' | 'append' | 'prepend'; key: string; flags: number; ttl: number; value: string }
  | { k: 'cas'; key: string; value: string; stale: boolean }
  | { k: 'get'; cmd: 'get' | 'gets'; keys: string[] }
  | { k: 'delta'; cmd: 'incr' | 'decr'; key: string; delta: bigint }
  | { k: 'touch'; key: string; ttl: number }
  | { k: 'delete'; key: string }
  | { k: 'flush' }
  | { k: 'advance'; secs: number };

const key = fc.constantFrom('a', 'b', 'c', 'n', 'counter', 'k:1', 'x'.repeat(250));
const value = fc.oneof(
  fc.constantFrom('', '0', '7', '42', '100', '18446744073709551615', '12 ', 'abc', 'hello\r\nworld'),
  fc.stringMatching(/^[0-9]{1,5}$/),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '.')),
);
const ttl = fc.constantFrom(0, 0, 0, 5, 30, -1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('store' as const), cmd: fc.constantFrom('set', 'set', 'add', 'replace', 'append', 'prepend'), key, flags: fc.constantFrom(0, 1, 65535, 4294967295), ttl, value }) },
  fc.record({ k: fc.constant('cas' as const), key, value, stale: fc.boolean() }),
  { weight: 3, arbitrary: fc.record({ k: fc.constant('get' as const), cmd: fc.constantFrom('get', 'gets'), keys: fc.array(key, { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('delta' as const), cmd: fc.constantFrom('incr', 'decr'), key, delta: fc.constantFrom(0n, 1n, 5n, 1000n, 18446744073709551615n) }) },
  fc.record({ k: fc.constant('touch' as const), key, ttl }),
  fc.record({ k: fc.constant('delete' as const), key }),
  fc.constant({ k: 'flush' as const }),
  fc.record({ k: fc.constant('advance' as const), secs: fc.constantFrom(1, 4, 10, 31) }),
);

/** The request bytes and the model's expected reply for one op. */
function apply(m: Model, o: Op): [string, string] {
  switch (o.k) {
    case 'store': {
      const req = `${o.cmd} ${o.key} ${o.flags} ${o.ttl} ${o.value.length}\r\n${o.value}\r\n`;
      const old = m.live(o.key);
      const put = (e: Entry) => { m.items.set(o.key, e); return [req, 'STORED\r\n'] as [string, string]; };
      if (o.cmd === 'set' || (o.cmd === 'add' && !old) || (o.cmd === 'replace' && old)) {
        return put({ flags: o.flags, value: o.value, cas: m.nextCas(), exp: m.exp(o.ttl) });
      }
      if ((o.cmd === 'append' || o.cmd === 'prepend') && old) {
        const v = o.cmd === 'append' ? old.value + o.value : o.value + old.value;
        return put({ flags: old.flags, value: v, cas: m.nextCas(), exp: old.exp });
      }
      return [req, 'NOT_STORED\r\n'];
    }
    case 'cas': {
      const old = m.live(o.key);
      const unique = old ? (o.stale ? old.cas + 1000n : old.cas) : 1n;
      const req = `cas ${o.key} 3 0 ${o.value.length} ${unique}\r\n${o.value}\r\n`;
      if (!old) return [req, 'NOT_FOUND\r\n'];
      if (o.stale) return [req, 'EXISTS\r\n'];
      m.items.set(o.key, { flags: 3, value: o.value, cas: m.nextCas(), exp: 0 });
      return [req, 'STORED\r\n'];
    }
    case 'get': {
      let rep = '';
      for (const k of o.keys) {
        const e = m.live(k);
        if (e) rep += `VALUE ${k} ${e.flags} ${e.value.length}${o.cmd === 'gets' ? ` ${e.cas}` : ''}\r\n${e.value}\r\n`;
      }
      return [`${o.cmd} ${o.keys.join(' ')}\r\n`, rep + 'END\r\n'];
    }
    case 'delta': {
      const req = `${o.cmd} ${o.key} ${o.delta}\r\n`;
      const e = m.live(o.key);
      if (!e) return [req, 'NOT_FOUND\r\n'];
      const mm = /^[ \t\n\v\f\r]*(\d+)(?:[ \t\n\v\f\r][\s\S]*)?$/.exec(e.value);
      if (!mm || BigInt(mm[1]) > 18446744073709551615n) return [req, 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n'];
      const cur = BigInt(mm[1]);
      const next = o.cmd === 'incr' ? (cur + o.delta) % 18446744073709551616n : (o.delta > cur ? 0n : cur - o.delta);
      const digits = next.toString();
      e.value = digits.length <= e.value.length ? digits.padEnd(e.value.length, ' ') : digits;
      e.cas = m.nextCas();
      return [req, digits + '\r\n'];
    }
    case 'touch': {
      const e = m.live(o.key);
      if (e) e.exp = m.exp(o.ttl);
      return [`touch ${o.key} ${o.ttl}\r\n`, e ? 'TOUCHED\r\n' : 'NOT_FOUND\r\n'];
    }
    case 'delete': {
      const e = m.live(o.key);
      if (e) m.items.delete(o.key);
      return [`delete ${o.key}\r\n`, e ? 'DELETED\r\n' : 'NOT_FOUND\r\n'];
    }
    case 'flush':
      m.items.clear();
      m.nextCas(); // memcached takes a CAS unique as the flush horizon
      return ['flush_all\r\n', 'OK\r\n'];
    case 'advance':
      m.now += o.secs;
      return ['', ''];
  }
}

describe('engine vs model', () => {
  it('every reply matches the model for random command sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 150, size: 'max' }), (ops) => {
        const h = makeStore({ memoryMB: 16 });
        const m = new Model();
        for (const o of ops) {
          const [req, want] = apply(m, o);
          h.now = m.now;
          if (req) expect(h.cmd(req)).toBe(want);
        }
        expect(Number(h.stats().curr_items)).toBeGreaterThanOrEqual([...m.items.keys()].filter((k) => m.live(k)).length);
      }),
      { numRuns: 150, seed: Number(process.env.FC_SEED ?? 20261123) },
    );
  });

  it('pipelined: the whole sequence in one read gives the same bytes as one command per read', () => {
    fc.assert(
      fc.property(fc.array(op.filter((o) => o.k !== 'advance'), { minLength: 10, maxLength: 150, size: 'max' }), fc.integer({ min: 1, max: 97 }), (ops, cut) => {
        const m = new Model();
        const reqs = ops.map((o) => apply(m, o)[0]);
        const one = makeStore({ memoryMB: 16 });
        const each = reqs.map((r) => one.cmd(r)).join('');
        const all = reqs.join('');
        const piped = makeStore({ memoryMB: 16 });
        expect(piped.cmd(all)).toBe(each);
        // and in arbitrary splits
        const split = makeStore({ memoryMB: 16 });
        let got = '';
        for (let i = 0; i < all.length; i += cut) got += split.cmd(all.slice(i, i + cut));
        expect(got).toBe(each);
      }),
      { numRuns: 60, seed: Number(process.env.FC_SEED ?? 20261124) },
    );
  });
});
