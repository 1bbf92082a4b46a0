// While warming (H_WARMING set), a call stops with ST_WARM_KEYS before the
// get-family and delete-family commands whose keys the host must see first,
// lists those keys after its output, and runs them normally, exactly once,
// when called again. Driven through the host's own Session on both builds,
// the old node played by the test (it stores "hits" with OP_ADD, as the
// warmer does).
import { describe, it, expect } from 'vitest';
import { ENGINES, loadEngine, T0, type EngineKind } from '../support/engine.js';
import { Store } from '../../src/engine/store.js';
import { Session } from '../../src/session.js';
import { frame, parseResponses, OP, expExtras } from '../support/binary.js';
import {
  ST_OK, ST_OUT_FULL, ST_CLOSE, ST_WARM_KEYS, OP_ADD, OPR_OK, WARMING_DELETES, WARMING_MISS_THROUGH, WARM_KEY_LOOKUP,
  WARM_KEY_DELETE, WARM_KEY_FLUSH, OPT_NO_FLUSH, OPT_AUTH_FILE, OPT_SASL,
} from '../../assembly/abi.js';

const KIND: Record<number, string> = { [WARM_KEY_LOOKUP]: 'lookup', [WARM_KEY_DELETE]: 'delete', [WARM_KEY_FLUSH]: 'flush' };
const BOTH = WARMING_DELETES | WARMING_MISS_THROUGH;

/** `lookup a`, `delete b`, `flush` entries of a list. */
function entries(list: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < list.length;) {
    const n = list[at + 1];
    const key = list.subarray(at + 2, at + 2 + n).toString('latin1');
    out.push(n === 0 ? KIND[list[at]] : `${KIND[list[at]]} ${key}`);
    at += 2 + n;
  }
  return out;
}

interface Node {
  store: Store;
  session: Session;
  now: number;
  /** Every ST_WARM_KEYS list, in order. */
  lists: string[][];
  /** What the "old node" has: stored here with add semantics when looked up. */
  old: Map<string, string>;
  /** Sends bytes as one read and runs until nothing more can run. */
  send(data: string | Buffer): Buffer;
  cmd(data: string): string;
  stats(): Record<string, string>;
}

function makeNode(engine: EngineKind, warming: number, opts = 0, outputLimit = 0): Node {
  const store = Store.create(loadEngine(engine), { memoryMB: 16, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts }, T0);
  if (outputLimit > 0) store.outputLimit = outputLimit;
  store.warming = warming;
  const n: Node = {
    store, session: new Session(store), now: T0, lists: [], old: new Map(),
    send(data) {
      const s = n.session;
      s.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      const outs: Uint8Array[] = [];
      for (let guard = 0; guard < 100_000 && s.runnable(); guard++) {
        const st = s.execute(n.now, store.inputCapacity);
        if (s.output) outs.push(s.output);
        if (st === ST_WARM_KEYS) {
          const list = entries(s.warmKeys!);
          n.lists.push(list);
          for (const e of new Set(list)) {
            const key = e.slice('lookup '.length);
            const v = e.startsWith('lookup ') ? n.old.get(key) : undefined;
            if (v === undefined) continue;
            const k = Buffer.from(key, 'latin1');
            store.input().set(k, 0);
            store.input().set(Buffer.from(v, 'latin1'), k.length);
            expect(store.op(OP_ADD, k.length, v.length, 7, 0, 0, 0, n.now)).toBe(OPR_OK);
          }
          continue;
        }
        if (st === ST_OUT_FULL) continue;
        if (st === ST_CLOSE) break;
        expect(st).toBe(ST_OK);
        if (s.consumed === 0) break;
      }
      return Buffer.concat(outs);
    },
    cmd(data) { return n.send(data).toString('latin1'); },
    stats() {
      // Stats with warming off: the stats line itself is not watched, but keep it plain.
      const out = n.cmd('stats\r\n');
      const r: Record<string, string> = {};
      for (const line of out.split('\r\n')) {
        const m = /^STAT (\S+) (.*)$/.exec(line);
        if (m) r[m[1]] = m[2];
      }
      return r;
    },
  };
  return n;
}

for (const engine of ENGINES) {
  describe(`${engine} build: ST_WARM_KEYS`, () => {
    it('a multiget stops before running, lists only the keys not here, then runs once', () => {
      const n = makeNode(engine, BOTH);
      expect(n.cmd('set here 1 0 2\r\nhi\r\n')).toBe('STORED\r\n');
      n.old.set('a', 'AA');
      const before = n.stats();
      expect(n.cmd('get a here c\r\n')).toBe('VALUE a 7 2\r\nAA\r\nVALUE here 1 2\r\nhi\r\nEND\r\n');
      expect(n.lists).toEqual([['lookup a', 'lookup c']]);
      const after = n.stats();
      // The look ahead counted nothing: one get of three keys, two hits.
      expect(Number(after.cmd_get) - Number(before.cmd_get)).toBe(3);
      expect(Number(after.get_hits) - Number(before.get_hits)).toBe(2);
      expect(Number(after.get_misses) - Number(before.get_misses)).toBe(1);
    });

    it('one stop covers a pipelined run of reads and deletes; other commands end the run', () => {
      const n = makeNode(engine, BOTH);
      n.old.set('b', 'BB');
      n.old.set('d', 'DD');
      const out = n.cmd('set x 0 0 1\r\nX\r\nget a\r\nmg b v\r\nmn\r\ndelete c noreply\r\nmd e q\r\ngets x\r\nset y 0 0 1\r\nY\r\nmg d v k\r\n');
      // (1.6.18's md answers NF even with q.)
      expect(out).toBe('STORED\r\nEND\r\nVA 2\r\nBB\r\nMN\r\nNF\r\nVALUE x 0 1 1\r\nX\r\nEND\r\nSTORED\r\nVA 2 kd\r\nDD\r\n');
      expect(n.lists).toEqual([['lookup a', 'lookup b', 'delete c', 'delete e'], ['lookup d']]);
    });

    it('gat, gats, bget and base64 mg keys; a key over 250 bytes looks nothing up', () => {
      const n = makeNode(engine, BOTH);
      const bin = Buffer.from([0, 1, 2, 0xff, 32, 13, 10]).toString('latin1');
      n.old.set(bin, 'BIN');
      n.old.set('g', 'G');
      const b64 = Buffer.from(bin, 'latin1').toString('base64');
      expect(n.cmd(`mg ${b64} b v\r\ngat 100 g h\r\ngats 100 i\r\nbget j\r\nget ${'k'.repeat(251)} l\r\n`))
        .toBe('VA 3\r\nBIN\r\nVALUE g 7 1\r\nG\r\nEND\r\nEND\r\nEND\r\nCLIENT_ERROR bad command line format\r\n');
      expect(n.lists).toEqual([[`lookup ${bin}`, 'lookup g', 'lookup h', 'lookup i', 'lookup j']]);
      // gat touched the copied item: its TTL is the new one.
      expect(n.cmd('mg g t\r\n')).toBe('HD t100\r\n');
    });

    it('an expired or flushed item here counts as missing', () => {
      const n = makeNode(engine, 0);
      expect(n.cmd('set e 0 10 1\r\nE\r\nset e2 0 10 1\r\nE\r\nset f 0 0 1\r\nF\r\n')).toBe('STORED\r\nSTORED\r\nSTORED\r\n');
      n.now += 20;
      n.store.warming = BOTH;
      n.old.set('e', 'new');
      expect(n.cmd('get e e2 f\r\n')).toBe('VALUE e 7 3\r\nnew\r\nVALUE f 0 1\r\nF\r\nEND\r\n');
      expect(n.lists).toEqual([['lookup e', 'lookup e2']]);
      n.store.warming = 0;
      expect(n.cmd('flush_all\r\n')).toBe('OK\r\n');
      n.store.warming = BOTH;
      n.old.delete('e');
      expect(n.cmd('get e f\r\n')).toBe('END\r\n');
      expect(n.lists[1]).toEqual(['lookup e', 'lookup f']);
    });

    it('each bit watches its own commands; with none set nothing stops', () => {
      const reads = makeNode(engine, WARMING_MISS_THROUGH);
      expect(reads.cmd('delete a\r\nflush_all\r\nget b\r\n')).toBe('NOT_FOUND\r\nOK\r\nEND\r\n');
      expect(reads.lists).toEqual([['lookup b']]);
      const deletes = makeNode(engine, WARMING_DELETES);
      expect(deletes.cmd('get b\r\ndelete a\r\nflush_all 10 noreply\r\nget c\r\n')).toBe('END\r\nNOT_FOUND\r\nEND\r\n');
      expect(deletes.lists).toEqual([['delete a', 'flush']]);
      const off = makeNode(engine, 0);
      expect(off.cmd('get b\r\ndelete a\r\n')).toBe('END\r\nNOT_FOUND\r\n');
      expect(off.lists).toEqual([]);
      // flush_all refused by -F is not reported.
      const noFlush = makeNode(engine, BOTH, OPT_NO_FLUSH);
      expect(noFlush.cmd('flush_all\r\n')).toBe('CLIENT_ERROR flush_all not allowed\r\n');
      expect(noFlush.lists).toEqual([]);
    });

    it('a run stops once 1,000 keys are listed; the rest is the next run', () => {
      const n = makeNode(engine, BOTH);
      const lines = Array.from({ length: 1500 }, (_, i) => `get k${i}\r\n`).join('');
      expect(n.cmd(lines)).toBe('END\r\n'.repeat(1500));
      expect(n.lists.map((l) => l.length)).toEqual([1000, 500]);
      expect(n.lists.flat()).toEqual(Array.from({ length: 1500 }, (_, i) => `lookup k${i}`));
    });

    it('replies that fill the output resume without checking the run again', () => {
      const n = makeNode(engine, 0, 0, 128 * 1024);
      const big = 'v'.repeat(100_000);
      for (const k of ['b1', 'b2', 'b3']) expect(n.cmd(`set ${k} 0 0 ${big.length}\r\n${big}\r\n`)).toBe('STORED\r\n');
      n.store.warming = BOTH;
      n.old.set('m2', 'M2');
      const out = n.cmd('get b1 m1\r\nget b2 b3 m2\r\nmn\r\n').toString();
      expect(out).toBe(`VALUE b1 0 100000\r\n${big}\r\nEND\r\nVALUE b2 0 100000\r\n${big}\r\nVALUE b3 0 100000\r\n${big}\r\nVALUE m2 7 2\r\nM2\r\nEND\r\nMN\r\n`);
      expect(n.lists).toEqual([['lookup m1', 'lookup m2']]);
      expect(n.stats().cmd_get).toBe('5');
    });

    it('binary: a run of getkq, gatq and deleteq ended by noop is one stop', () => {
      const n = makeNode(engine, BOTH);
      n.old.set('a', 'AA');
      n.old.set('c', 'CC');
      const req = Buffer.concat([
        frame({ opcode: OP.GETKQ, key: 'a' }),
        frame({ opcode: OP.GETKQ, key: 'b' }),
        frame({ opcode: OP.GATQ, key: 'c', extras: expExtras(100) }),
        frame({ opcode: OP.DELETEQ, key: 'd' }),
        frame({ opcode: OP.NOOP }),
        frame({ opcode: OP.SET, key: 's', extras: Buffer.alloc(8), value: 'S' }),
        frame({ opcode: OP.GETK, key: 'e' }),
      ]);
      const { packets, rest } = parseResponses(n.send(req));
      expect(rest.length).toBe(0);
      expect(packets.map((p) => [p.opcode, p.status, p.key, p.value.toString()])).toEqual([
        [OP.GETKQ, 0, 'a', 'AA'], [OP.GATQ, 0, '', 'CC'], [OP.DELETEQ, 1, '', 'Not found'], [OP.NOOP, 0, '', ''],
        [OP.SET, 0, '', ''], [OP.GETK, 1, 'e', ''],
      ]);
      expect(n.lists).toEqual([['lookup a', 'lookup b', 'lookup c', 'delete d'], ['lookup e']]);
    });

    it('binary: a packet dispatch refuses is not looked at', () => {
      const n = makeNode(engine, BOTH);
      // A GET with extras is a protocol error: answered, connection closed, nothing listed.
      const out = n.send(frame({ opcode: OP.GET, key: 'a', extras: Buffer.alloc(4) }));
      expect(parseResponses(out).packets.map((p) => p.status)).toEqual([4]);
      expect(n.lists).toEqual([]);
    });

    it('a connection that has not authenticated (-Y, -S) is not looked at', () => {
      const ascii = makeNode(engine, BOTH, OPT_AUTH_FILE);
      expect(ascii.cmd('get a\r\n')).toBe('CLIENT_ERROR unauthenticated\r\n');
      expect(ascii.lists).toEqual([]);
      const sasl = makeNode(engine, BOTH, OPT_SASL);
      const out = parseResponses(sasl.send(Buffer.concat([frame({ opcode: OP.GETKQ, key: 'a' }), frame({ opcode: OP.NOOP })]))).packets;
      expect(out.map((p) => p.status)).toEqual([0x20]);
      expect(sasl.lists).toEqual([]);
    });

    it('keys arriving in pieces are listed once the command is complete', () => {
      const n = makeNode(engine, BOTH);
      n.old.set('split', 'S');
      expect(n.cmd('get sp')).toBe('');
      expect(n.lists).toEqual([]);
      expect(n.cmd('lit\r\n')).toBe('VALUE split 7 1\r\nS\r\nEND\r\n');
      expect(n.lists).toEqual([['lookup split']]);
    });
  });
}

describe('both builds list the same keys and answer the same bytes', () => {
  it('a mixed pipelined stream', () => {
    const results = ENGINES.map((engine) => {
      const n = makeNode(engine, BOTH);
      for (let i = 0; i < 50; i += 3) n.old.set(`k${i}`, `old${i}`);
      const parts: string[] = [];
      for (let i = 0; i < 300; i++) {
        const k = `k${(i * 7) % 50}`;
        const r = i % 6;
        if (r === 0) parts.push(`get ${k} k${i % 50}\r\n`);
        else if (r === 1) parts.push(`set ${k} 0 0 3\r\nnew\r\n`);
        else if (r === 2) parts.push(`mg ${k} v k\r\n`);
        else if (r === 3) parts.push(`delete ${k}\r\n`);
        else if (r === 4) parts.push(`gats 50 ${k}\r\n`);
        else parts.push('mn\r\n');
      }
      return { out: n.cmd(parts.join('')), lists: n.lists };
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[0].lists.length).toBeGreaterThan(10);
  });
});
