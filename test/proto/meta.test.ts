// Meta commands (mg ms md ma me mn), in-process on both engine builds with
// exact expected bytes (answers observed on memcached 1.6.18), and the same
// request list sent to a real memcached and to wasmcached over TCP, whose
// answers must be byte-identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, makeStore } from '../support/engine.js';
import { RawClient, show } from '../support/client.js';
import { startPair, stopPair, type ServerPair } from '../support/reference.js';

describe.each(ENGINES)('meta commands (%s engine)', (engine) => {
  it('mg returns the requested flags in request order, q hides only EN', () => {
    const h = makeStore({ engine });
    expect(h.cmd('ms k 2 T0 F42\r\nhi\r\n')).toBe('HD\r\n');
    expect(h.cmd('mg k s v f t k O123 q\r\n')).toBe('VA 2 s2 f42 t-1 kk O123\r\nhi\r\n');
    expect(h.cmd('mg k\r\n')).toBe('HD\r\n');
    expect(h.cmd('mg k q\r\n')).toBe('HD\r\n');
    expect(h.cmd('mg nokey v q\r\nmg nokey v O9 k\r\nmn\r\n')).toBe('EN O9 knokey\r\nMN\r\n');
  });

  it('ms modes, CAS compare and the unique of what was stored', () => {
    const h = makeStore({ engine });
    expect(h.cmd('ms a 1 c\r\nx\r\n')).toBe('HD c1\r\n');
    expect(h.cmd('ms a 1 MA c\r\ny\r\n')).toBe('HD c2\r\n');
    expect(h.cmd('ms a 1 ME c\r\nz\r\n')).toBe('NS c0\r\n');
    expect(h.cmd('ms a 1 C1 c O1 k\r\nz\r\n')).toBe('EX c0 O1 ka\r\n');
    expect(h.cmd('ms a 1 C2 q\r\nz\r\nmn\r\n')).toBe('MN\r\n');
    expect(h.cmd('ms b 1 C2\r\nz\r\n')).toBe('NF\r\n');
    expect(h.cmd('ms a 1 MP\r\n<\r\nmg a v\r\n')).toBe('HD\r\nVA 2\r\n<z\r\n');
    expect(h.cmd('ms a 1 MX\r\nx\r\n')).toBe('CLIENT_ERROR invalid mode for ms M token\r\n');
    expect(h.cmd('ms a 1 MSS\r\nx\r\n')).toBe('CLIENT_ERROR incorrect length for M token\r\n');
    // errors not tied to the data leave it to be read as a command
    expect(h.cmd('ms a xx\r\nhi\r\n')).toBe('CLIENT_ERROR bad command line format\r\nERROR\r\n');
    expect(h.cmd('ms a 2 E5\r\nhi\r\n')).toBe('CLIENT_ERROR invalid flag\r\n');
  });

  it('base64 keys: b decodes, k answers encoded with b', () => {
    const h = makeStore({ engine });
    expect(h.cmd('ms AAH/ 2 b k\r\nhi\r\n')).toBe('HD kAAH/ b\r\n');
    expect(h.cmd('mg AAH/ b k v\r\n')).toBe('VA 2 kAAH/ b\r\nhi\r\n');
    expect(h.cmd('me AAH/ b\r\n')).toMatch(/^ME AAH\/ exp=-1 la=0 cas=1 fetch=yes cls=\d+ size=64\r\n$/);
    expect(h.cmd('mg Y b\r\n')).toBe('CLIENT_ERROR error decoding key\r\n');
  });

  it('flag errors as memcached words them', () => {
    const h = makeStore({ engine });
    expect(h.cmd('mg k !\r\n')).toBe('CLIENT_ERROR invalid flag\r\n');
    expect(h.cmd('mg k v v\r\n')).toBe('CLIENT_ERROR duplicate flag\r\n');
    expect(h.cmd(`mg k O${'a'.repeat(40)}\r\n`)).toBe('CLIENT_ERROR opaque token too long\r\n');
    expect(h.cmd('mg k Tx\r\n')).toBe('CLIENT_ERROR bad token in command line format\r\n');
    expect(h.cmd('mg k a b c d e f g h i j k l m n o p q r s t u\r\n')).toBe('CLIENT_ERROR options flags are too long\r\n');
    expect(h.cmd('md k x\r\n')).toBe('CLIENT_ERROR invalid or duplicate flag\r\n');
    expect(h.cmd('ma k Dabc\r\n')).toBe('CLIENT_ERROR invalid or duplicate flag\r\n');
    expect(h.cmd('ma k MX\r\n')).toBe('CLIENT_ERROR invalid mode for ma M token\r\n');
    expect(h.cmd('mg\r\nmx k\r\nme\r\n')).toBe('ERROR\r\nERROR\r\nCLIENT_ERROR bad command line format\r\n');
  });

  it('ma: create, initial, delta, modes, CAS', () => {
    const h = makeStore({ engine });
    expect(h.cmd('ma n\r\nma n q\r\n')).toBe('NF\r\nNF\r\n');
    expect(h.cmd('ma n N0 J13 v c t k O2\r\n')).toBe('VA 2 c1 t-1 kn O2\r\n13\r\n');
    expect(h.cmd('ma n v t T30 D5 MD\r\n')).toBe('VA 1 t-1\r\n8\r\n');
    expect(h.cmd('ma n M+ q v\r\nma n M- v t\r\n')).toBe('VA 1 t30\r\n8\r\n');
    expect(h.cmd('ma n C1 O1 k\r\n')).toBe('EX O1 kn\r\n');
    expect(h.cmd('ma big N0 J18446744073709551615 v\r\nma big v\r\n')).toBe('VA 20\r\n18446744073709551615\r\nVA 1\r\n0\r\n');
    expect(h.cmd('ms s 1\r\nx\r\nma s\r\n')).toBe('HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
  });

  it('stampede control: N vivifies with W, then Z; R and I hand out one win', () => {
    const h = makeStore({ engine });
    expect(h.cmd('mg k N30 v t c\r\n')).toBe('VA 0 t30 c1 W\r\n\r\n');
    expect(h.cmd('mg k N30 v t c\r\n')).toBe('VA 0 t30 c1 Z\r\n\r\n');
    expect(h.cmd('ms k 3 T60\r\nnew\r\nmg k N30 v t\r\n')).toBe('HD\r\nVA 3 t60\r\nnew\r\n');
    expect(h.cmd('mg k v R30\r\nmg k v R90\r\nmg k v R90\r\n')).toBe('VA 3\r\nnew\r\nVA 3 W\r\nnew\r\nVA 3 Z\r\nnew\r\n');
    expect(h.cmd('md k I T90 q\r\nmg k c t\r\nmg k c t\r\n')).toBe('HD c3 t90 X W\r\nHD c3 t90 Z X\r\n');
    // a stale-allowed ms with an older unique stores, still stale
    expect(h.cmd('ms k 1 I C1\r\nz\r\nmg k v\r\n')).toBe('HD\r\nVA 1 Z X\r\nz\r\n');
  });

  it('md: cas, invalidate, q hides HD only', () => {
    const h = makeStore({ engine });
    expect(h.cmd('md k q\r\nmd k O1 k\r\n')).toBe('NF\r\nNF O1 kk\r\n');
    expect(h.cmd('ms k 1\r\nx\r\nmd k C9\r\nmd k q\r\nmn\r\n')).toBe('HD\r\nEX\r\nMN\r\n');
  });

  it('counts meta traffic in stats as memcached does', () => {
    const h = makeStore({ engine });
    const before = h.stats();
    h.cmd('mg a v\r\nms a 1\r\nx\r\nmg a v\r\nmg a v T30\r\nmd a\r\nma a\r\nme a\r\n');
    const after = h.stats();
    const delta = (k: string) => Number(after[k]) - Number(before[k]);
    expect({
      cmd_get: delta('cmd_get'), get_hits: delta('get_hits'), get_misses: delta('get_misses'),
      cmd_set: delta('cmd_set'), cmd_touch: delta('cmd_touch'), touch_hits: delta('touch_hits'),
      delete_hits: delta('delete_hits'), incr_misses: delta('incr_misses'), cmd_meta: delta('cmd_meta'),
    }).toEqual({
      cmd_get: 2, get_hits: 1, get_misses: 1, cmd_set: 1, cmd_touch: 1, touch_hits: 1,
      delete_hits: 1, incr_misses: 1, cmd_meta: 1,
    });
  });

  it('an ms whose data arrives later waits for it (R_NEED)', () => {
    const h = makeStore({ engine });
    // an error answers at once and swallows the data still to come (R_SKIP)
    expect(h.cmd('ms k 10 b\r\n')).toBe('CLIENT_ERROR error decoding key\r\n');
    expect(h.cmd('01234')).toBe('');
    expect(h.cmd('56789\r\nmg k v\r\n')).toBe('EN\r\n');
    expect(h.cmd('ms k 10 T0\r\n0123')).toBe('');
    expect(h.cmd('456789\r\nmg k v\r\n')).toBe('HD\r\nVA 10\r\n0123456789\r\n');
  });
});

/** Requests sent to memcached and wasmcached, each on a fresh connection. */
const DIFF_CASES: string[] = [
  'mg\r\n', 'mg a\r\n', 'mg a v\r\n', 'mg a v q\r\nmn\r\n',
  'ms a 2 T0\r\nhi\r\nmg a\r\nmg a v q\r\nmg a q\r\nmn\r\n',
  'ms a 2 T0 q\r\nhi\r\nmn\r\n',
  'ms a 2 c k s O123 b\r\nhi\r\n',
  'ms YQ== 2 c k s O123 b\r\nhi\r\nmg YQ== b k v\r\nmg a k v\r\nme a\r\nme YQ== b\r\n',
  'ms a 2 c k s O123 E5\r\nhi\r\n', 'ms a 2 noreply\r\nhi\r\n', 'ms a 2 MX\r\nhi\r\n', 'ms a 2 MA N30\r\nhi\r\n',
  'ms a xx\r\nhi\r\n', 'ms a\r\nhi\r\n', 'ms a -1\r\nhi\r\n', 'ms a 2 q Fx\r\nhi\r\n', 'ms a 2 q T1x\r\nhi\r\n',
  'ms a 2 q C1\r\nhi\r\nmn\r\n', 'ms a 2 q ME\r\nhi\r\nmn\r\n',
  'md a q\r\nmd a q\r\nmd a\r\nmn\r\n', 'md a O1 k x\r\n',
  'md a O1 k\r\nmd a O1 k q C5\r\nms a 1\r\n1\r\nmd a O1 k q C5\r\nmd a O1 k q\r\nmn\r\n',
  'ma a\r\nma a q\r\nma a O1 k\r\nma a N0 J13 v c t k O2\r\nma a v t T30 D5 MD\r\nma a Dabc\r\nma a MX\r\nma a q\r\nmn\r\n',
  'ms a 1\r\nx\r\nma a\r\nma a MI C1\r\n',
  'mg a N30 v t c\r\nmg a N30 v t c\r\nmg a N30 t v c\r\nms a 1 T60\r\nx\r\nmg a v c t\r\nmg a v R30 t\r\nmg a v R90 t\r\nmg a v R90 t\r\n',
  'mg b t N30 v\r\n',
  'ms c 1 T30\r\nx\r\nmd c I T90 q\r\nmg c v c t\r\nmg c v c t\r\nmg c v c t h l\r\nme c\r\n',
  'mg k !\r\n', 'mg k v v\r\n', `mg k O${'a'.repeat(54)}\r\n`, `mg k2 O${'a'.repeat(54)} k q\r\nmn\r\n`,
  'mg k a b c d e f g h i j k l m n o p q r s t u v w x y\r\n',
  'mg k s v f t k O123 q P1 L2 h l u c\r\nmn\r\n',
  'mg k 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\r\n', 'mg k O1 O2\r\n', 'mg k T N R\r\n',
  'mg k Tx\r\nmg k T-1 v\r\nmg k N-1 v\r\nmg k Rabc\r\n',
  'ms k2 2 T-1\r\nhi\r\nmg k2 v\r\n', 'ms k3 2 k c s f t v h l\r\nhi\r\n',
  'ms k3 2 I\r\nhi\r\nms k3 2 I C1\r\nhi\r\nmg k3 c v\r\n',
  'ms k3 0 F4294967296\r\n\r\nmg k3 f v\r\nms k3 0 F-1\r\n\r\nmg k3 f v\r\n',
  'ms k4 3 MS\r\nabc\r\nms k4 1 MP\r\nx\r\nms k4 1 MR\r\ny\r\nms k5 1 MR\r\ny\r\nms k5 1 MA\r\ny\r\nms k5 1 MP\r\ny\r\nms k4 1 ME\r\ny\r\nms k4 1 Ms\r\ny\r\nms k4 1 Ma\r\ny\r\nms k4 1 MSS\r\ny\r\n',
  'ms k4 2\r\nabc\r\nmn\r\n',
  `ms ${'x'.repeat(251)} 1\r\nx\r\n`, `mg ${'x'.repeat(251)} v\r\nmd ${'x'.repeat(251)}\r\nma ${'x'.repeat(251)}\r\n`,
  'ms k6 2 C0\r\nhi\r\nms k6 2 C99 ME\r\nhi\r\nms k6 2 C99 MA\r\nhi\r\nms k6 2 C99 MR\r\nhi\r\n',
  'md\r\nma\r\nms\r\n',
  'md k7 q\r\nmd k7 q\r\nmd k7 I\r\nms k7 1\r\nx\r\nmd k7 I q\r\nmg k7 v\r\nmd k7 C1\r\nma k7 q\r\nmn\r\n',
  'ma k8 N0 J18446744073709551615 v\r\nma k8 v\r\nma k8 MD D5 v\r\nma k8 MD D18446744073709551616 v\r\nma k8 J-1 N0\r\n',
  'ma k9 N30 J100 v t c\r\nma k9 MD v D1 c\r\nma k9 t T0 v\r\nma k9 C1 v q\r\nma k9 Mx q\r\nma k9 M+ q v\r\nma k9 M- v\r\nma k9 Mi v\r\nma k9 Md v\r\nmn\r\n',
  'ma k10 O1 k q\r\nmn\r\n', 'mn\r\nmn x y\r\nme\r\n', 'me a b\r\nme YQ b\r\nme nokey x y z\r\n',
  'ma t2 N0 O1 k C5\r\nma t2 O1 k C5\r\n',
  'ms t3 1 MA c\r\nx\r\nms t3 1 c\r\nx\r\nms t3 1 MA c\r\nx\r\nms t3 1 MA c C99\r\nx\r\nms t3 1 ME c O1 k\r\nx\r\nms t3 1 C1 c O1 k\r\nx\r\n',
  'md t3 C1 O1 k\r\nmg t3 O1 k N30 q v\r\nmd t3\r\nmg t3 N30 k q\r\nmg t3 v\r\n',
  'ms big 2000000 T0\r\n',
  'ms \x01\xff 1\r\nx\r\nmg \x01\xff k v\r\nmg AQ== b k\r\n',
];

describe('meta commands against memcached 1.6.18', () => {
  let pair: ServerPair;
  beforeAll(async () => { pair = await startPair(); });
  afterAll(async () => { await stopPair(pair); });

  /** The replies to `req`: at least `expect` bytes (memcached's answer, so
   *  a server slowed by a busy machine is waited for), then whatever follows
   *  within a quiet 150 ms. */
  async function exchange(port: number, req: string, expect = 0): Promise<Buffer> {
    const c = await RawClient.connect(port);
    try {
      await c.send(req);
      const first = expect > 0 ? await c.readWith((b) => (b.length >= expect ? b.length : -1), 5000).catch(() => Buffer.alloc(0)) : Buffer.alloc(0);
      return Buffer.concat([first, await c.readAvailable(150, 3000)]);
    } finally {
      c.close();
    }
  }

  it('answers every case with the same bytes', async () => {
    const diffs: string[] = [];
    for (const req of DIFF_CASES) {
      const a = await exchange(pair.ref.port, req);
      const b = await exchange(pair.sut.port, req, a.length);
      if (!a.equals(b)) diffs.push(`${show(req)}\n  memcached:  ${show(a)}\n  wasmcached: ${show(b)}`);
    }
    expect(diffs.join('\n')).toBe('');
  });
});
