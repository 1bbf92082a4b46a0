// The binary protocol: in-process on both engine builds with exact expected
// packets (memcached 1.6.18's answers), the malformed length fields behind
// memcached's CVE-2016-8704/8705/8706 and CVE-2020-10931, headers split
// across reads, and a list of packets sent to a real memcached and to
// wasmcached over TCP whose answers must be byte-identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, makeStore, type Harness } from '../support/engine.js';
import { RawClient } from '../support/client.js';
import { startPair, stopPair, type ServerPair } from '../support/reference.js';
import {
  OP, frame, setExtras, incrExtras, expExtras, parseResponses, describe as show, type Request,
} from '../support/binary.js';

const NOT_FOUND = 0x01;
const EXISTS = 0x02;
const TOO_LARGE = 0x03;
const EINVAL = 0x04;
const NOT_STORED = 0x05;
const BADVAL = 0x06;
const UNKNOWN = 0x81;

function send(h: Harness, ...reqs: (Request | Buffer)[]): string[] {
  const out = h.send(Buffer.concat(reqs.map((r) => (Buffer.isBuffer(r) ? r : frame(r)))));
  const { packets, rest } = parseResponses(out);
  const lines = packets.map(show);
  if (rest.length) lines.push(`rest=${rest.toString('hex')}`);
  if (h.closed) lines.push('closed');
  return lines;
}

/** A fresh connection on the same store (new connection state). */
function reconnect(h: Harness): void {
  h.closed = false;
  h.reset();
}

const set = (key: string, value: string, cas = 0n, opcode: number = OP.SET): Request =>
  ({ opcode, key, extras: setExtras(0, 0), value, cas });

describe.each(ENGINES)('binary protocol (%s engine)', (engine) => {
  it('set, get, getk, quiet gets, noop', () => {
    const h = makeStore({ engine });
    expect(send(h, { opcode: OP.SET, key: 'k', extras: setExtras(5, 0), value: 'hello' },
      { opcode: OP.GET, key: 'k' }, { opcode: OP.GETK, key: 'k' })).toEqual([
      'op=1 st=0 cas=1 ext= key="" val=""',
      'op=0 st=0 cas=1 ext=00000005 key="" val="hello"',
      'op=c st=0 cas=1 ext=00000005 key="k" val="hello"',
    ]);
    expect(send(h, { opcode: OP.GETK, key: 'nokey' }, { opcode: OP.GET, key: 'nokey' },
      { opcode: OP.GETQ, key: 'nokey' }, { opcode: OP.GETKQ, key: 'nokey' }, { opcode: OP.GETKQ, key: 'k' },
      { opcode: OP.NOOP })).toEqual([
      'op=c st=1 cas=0 ext= key="nokey" val=""',
      'op=0 st=1 cas=0 ext= key="" val="Not found"',
      'op=d st=0 cas=1 ext=00000005 key="k" val="hello"',
      'op=a st=0 cas=0 ext= key="" val=""',
    ]);
  });

  it('add, replace, append, prepend, cas and their status codes; quiet ones report only errors', () => {
    const h = makeStore({ engine });
    expect(send(h, set('k', 'a'), set('k', 'x', 0n, OP.ADD), set('zz', 'x', 0n, OP.REPLACE),
      { opcode: OP.APPEND, key: 'zz', value: 'x' }, { opcode: OP.PREPEND, key: 'k', value: '<' },
      { opcode: OP.APPEND, key: 'k', value: '>' }, { opcode: OP.GET, key: 'k' })).toEqual([
      'op=1 st=0 cas=1 ext= key="" val=""',
      'op=2 st=2 cas=0 ext= key="" val="Data exists for key."',
      'op=3 st=1 cas=0 ext= key="" val="Not found"',
      'op=e st=5 cas=0 ext= key="" val="Not stored."',
      'op=f st=0 cas=2 ext= key="" val=""',
      'op=e st=0 cas=3 ext= key="" val=""',
      'op=0 st=0 cas=3 ext=00000000 key="" val="<a>"',
    ]);
    expect(send(h, set('k', 'v', 3n), set('k', 'v', 3n), set('nokey', 'v', 9n),
      set('q', 'v', 0n, OP.SETQ), set('q', 'v', 0n, OP.ADDQ), { opcode: OP.NOOP })).toEqual([
      'op=1 st=0 cas=4 ext= key="" val=""',
      'op=1 st=2 cas=0 ext= key="" val="Data exists for key."',
      'op=1 st=1 cas=0 ext= key="" val="Not found"',
      'op=12 st=2 cas=0 ext= key="" val="Data exists for key."',
      'op=a st=0 cas=0 ext= key="" val=""',
    ]);
  });

  it('incr/decr: initial value on a miss, no create with exptime 0xffffffff, CAS, non-numeric', () => {
    const h = makeStore({ engine });
    const incr = (key: string, delta: bigint, initial: bigint, exptime: number, opcode: number = OP.INCREMENT, cas = 0n): Request =>
      ({ opcode, key, extras: incrExtras(delta, initial, exptime), cas });
    expect(send(h, incr('n', 5n, 10n, 0), incr('n', 5n, 10n, 0), incr('n', 100n, 0n, 0, OP.DECREMENT),
      incr('m', 1n, 0n, 0xffffffff), incr('n', 1n, 0n, 0, OP.INCREMENT, 99n), set('s', 'abc'), incr('s', 1n, 0n, 0),
      incr('n', 2n ** 64n - 1n, 0n, 0), incr('n', 1n, 0n, 0, OP.INCREMENTQ), { opcode: OP.NOOP })).toEqual([
      'op=5 st=0 cas=1 ext= key="" val="0x000000000000000a"',
      'op=5 st=0 cas=2 ext= key="" val="0x000000000000000f"',
      'op=6 st=0 cas=3 ext= key="" val="0x0000000000000000"',
      'op=5 st=1 cas=0 ext= key="" val="Not found"',
      'op=5 st=2 cas=0 ext= key="" val="Data exists for key."',
      'op=1 st=0 cas=4 ext= key="" val=""',
      'op=5 st=6 cas=0 ext= key="" val="Non-numeric server-side value for incr or decr"',
      'op=5 st=0 cas=5 ext= key="" val="0xffffffffffffffff"',
      'op=a st=0 cas=0 ext= key="" val=""',
    ]);
  });

  it('delete, touch, gat, gatk, flush, version', () => {
    const h = makeStore({ engine });
    expect(send(h, set('k', 'v'), { opcode: OP.DELETE, key: 'k', cas: 7n }, { opcode: OP.TOUCH, key: 'k', extras: expExtras(100) },
      { opcode: OP.GAT, key: 'k', extras: expExtras(100) }, { opcode: OP.GATK, key: 'k', extras: expExtras(100) },
      { opcode: OP.GATQ, key: 'zz', extras: expExtras(100) }, { opcode: OP.DELETE, key: 'k' }, { opcode: OP.DELETE, key: 'k' },
      { opcode: OP.DELETEQ, key: 'k' }, { opcode: OP.VERSION })).toEqual([
      'op=1 st=0 cas=1 ext= key="" val=""',
      'op=4 st=2 cas=0 ext= key="" val="Data exists for key."',
      'op=1c st=0 cas=1 ext=00000000 key="" val=""',
      'op=1d st=0 cas=1 ext=00000000 key="" val="v"',
      'op=23 st=0 cas=1 ext=00000000 key="k" val="v"',
      'op=4 st=0 cas=0 ext= key="" val=""',
      'op=4 st=1 cas=0 ext= key="" val="Not found"',
      'op=14 st=1 cas=0 ext= key="" val="Not found"',
      'op=b st=0 cas=0 ext= key="" val="1.6.18"',
    ]);
    expect(send(h, set('k', 'v'), { opcode: OP.FLUSHQ, extras: expExtras(0) }, { opcode: OP.FLUSH },
      { opcode: OP.GET, key: 'k' })).toEqual([
      'op=1 st=0 cas=2 ext= key="" val=""',
      'op=8 st=0 cas=0 ext= key="" val=""',
      'op=0 st=1 cas=0 ext= key="" val="Not found"',
    ]);
  });

  it('stat: one packet per stat and an empty one; reset; unknown group is Not found', () => {
    const h = makeStore({ engine });
    const all = send(h, { opcode: OP.STAT });
    expect(all.at(-1)).toBe('op=10 st=0 cas=0 ext= key="" val=""');
    expect(all).toContain('op=10 st=0 cas=0 ext= key="version" val="1.6.18"');
    expect(all.length).toBeGreaterThan(50);
    expect(send(h, { opcode: OP.STAT, key: 'reset' }, { opcode: OP.STAT, key: 'bogus' })).toEqual([
      'op=10 st=0 cas=0 ext= key="" val=""',
      'op=10 st=1 cas=0 ext= key="" val="Not found"',
    ]);
    expect(send(h, { opcode: OP.STAT, key: 'settings' })).toContain('op=10 st=0 cas=0 ext= key="cas_enabled" val="yes"');
  });

  it('many pipelined STATs fill the output region and resume in the next call', () => {
    const h = makeStore({ engine });
    // items in many slab classes make `stats items` and `stats slabs` long
    for (let n = 10; n < 400000; n = Math.ceil(n * 1.3)) send(h, set(`k${n}`, 'x'.repeat(n)));
    const groups = ['', 'items', 'slabs', 'settings'];
    const reqs = Array.from({ length: 40 }, (_, i) => ({ opcode: OP.STAT, key: groups[i % 4] }));
    const { packets, rest } = parseResponses(h.send(Buffer.concat(reqs.map(frame))));
    expect(rest.length).toBe(0);
    expect(packets.every((p) => p.status === 0 && p.opcode === OP.STAT)).toBe(true);
    expect(packets.filter((p) => p.key === '' && p.value.length === 0)).toHaveLength(40);
    expect(packets.filter((p) => p.key === 'items:1:number')).toHaveLength(10);
  });

  it('counts binary traffic in stats as memcached does', () => {
    const h = makeStore({ engine });
    send(h, { opcode: OP.GET, key: 'x' }, set('x', '1'), { opcode: OP.GETQ, key: 'x' }, { opcode: OP.TOUCH, key: 'y', extras: expExtras(1) },
      { opcode: OP.INCREMENT, key: 'z', extras: incrExtras(1n, 0n, 0xffffffff) }, { opcode: OP.DELETE, key: 'x' },
      { opcode: OP.FLUSH }, { opcode: OP.QUIT });
    reconnect(h);
    const s = h.stats();
    expect([s.cmd_get, s.get_hits, s.get_misses, s.cmd_set, s.cmd_touch, s.touch_misses, s.incr_misses, s.delete_hits, s.cmd_flush])
      .toEqual(['2', '1', '1', '1', '1', '1', '1', '1', '1']);
  });

  describe('malformed lengths (CVE-2016-8704/8705/8706, CVE-2020-10931)', () => {
    it('keylen > bodylen: Unknown command, then the connection is closed', () => {
      const h = makeStore({ engine });
      expect(send(h, { opcode: OP.GET, key: 'abc', bodylen: 2 })).toEqual(['op=0 st=81 cas=0 ext= key="" val="Unknown command"', 'closed']);
    });

    it('keylen + extlen > bodylen on set, append and SASL: refused before any copy', () => {
      for (const opcode of [OP.SET, OP.APPEND, OP.PREPEND, OP.SASL_AUTH]) {
        const h = makeStore({ engine });
        const extras = opcode === OP.SET ? setExtras(0, 0) : undefined;
        expect(send(h, { opcode, key: 'k', extras, value: 'v', bodylen: extras ? 5 : 0 })).toEqual([
          `op=${opcode.toString(16)} st=81 cas=0 ext= key="" val="Unknown command"`, 'closed']);
      }
    });

    it('bodylen 0xffffffff on set: Too large, nothing swallowed, connection kept', () => {
      const h = makeStore({ engine });
      expect(send(h, { opcode: OP.SET, key: 'k', extras: setExtras(0, 0), bodylen: 0xffffffff }, { opcode: OP.NOOP })).toEqual([
        'op=1 st=3 cas=0 ext= key="" val="Too large."', 'op=a st=0 cas=0 ext= key="" val=""']);
      expect(send(h, { opcode: OP.APPEND, key: 'k', bodylen: 0xfffffff0 }, { opcode: OP.NOOP })).toEqual([
        'op=e st=3 cas=0 ext= key="" val="Too large."', 'op=a st=0 cas=0 ext= key="" val=""']);
    });

    it('bodylen 2^31 on set: Too large, and the announced bytes are swallowed', () => {
      const h = makeStore({ engine });
      const out = send(h, { opcode: OP.SET, key: 'k', extras: setExtras(0, 0), bodylen: 0x80000000 }, { opcode: OP.NOOP });
      expect(out).toEqual(['op=1 st=3 cas=0 ext= key="" val="Too large."']);
      expect(h.closed).toBe(false);
    });

    it('extlen 255 with a tiny body: waits for the extras, then refuses them', () => {
      const h = makeStore({ engine });
      expect(send(h, { opcode: OP.GET, key: 'k', extlen: 255, bodylen: 1 })).toEqual([]);
      expect(send(h, Buffer.alloc(255, 0x41))).toEqual(['op=0 st=81 cas=0 ext= key="" val="Unknown command"', 'closed']);
      reconnect(h);
      expect(send(h, { opcode: OP.GET, key: 'k', extras: Buffer.alloc(255, 1) }, { opcode: OP.NOOP })).toEqual([
        'op=0 st=4 cas=0 ext= key="" val="Invalid arguments"', 'closed']);
    });

    it('keylen 251 and wrong extras lengths: Invalid arguments and close', () => {
      const h = makeStore({ engine });
      expect(send(h, { opcode: OP.GET, key: 'k'.repeat(251) })).toEqual(['op=0 st=4 cas=0 ext= key="" val="Invalid arguments"', 'closed']);
      for (const r of [
        { opcode: OP.SET, key: 'k', extras: Buffer.alloc(4), value: 'v' },
        { opcode: OP.INCREMENT, key: 'k', extras: Buffer.alloc(8) },
        { opcode: OP.TOUCH, key: 'k' },
        { opcode: OP.NOOP, value: 'x' },
        { opcode: OP.DELETE, key: 'k', value: 'x' },
      ]) {
        reconnect(h);
        expect(send(h, r, { opcode: OP.NOOP })).toEqual([
          `op=${r.opcode.toString(16)} st=4 cas=0 ext= key="" val="Invalid arguments"`, 'closed']);
      }
    });

    it('keylen 65535 with a short body waits for the key, then is refused', () => {
      const h = makeStore({ engine });
      expect(send(h, { opcode: OP.SET, keylen: 65535, extlen: 8, bodylen: 8 })).toEqual([]);
      expect(send(h, Buffer.alloc(65535 + 8, 0x61))).toEqual(['op=1 st=81 cas=0 ext= key="" val="Unknown command"', 'closed']);
    });

    it('an unknown opcode answers 0x81 and keeps the connection; a bad magic closes it', () => {
      const h = makeStore({ engine });
      expect(send(h, { opcode: 0xee }, { opcode: OP.NOOP })).toEqual([
        'op=ee st=81 cas=0 ext= key="" val="Unknown command"', 'op=a st=0 cas=0 ext= key="" val=""']);
      // replies not yet flushed (none since the NOOP) are lost with the connection, as in memcached
      expect(send(h, { opcode: OP.NOOP }, set('k', 'v'), { opcode: OP.NOOP, magic: 0x42 })).toEqual([
        'op=a st=0 cas=0 ext= key="" val=""', 'closed']);
    });

    it('after every malformed packet the store still serves a new connection', () => {
      const h = makeStore({ engine });
      send(h, set('kept', 'intact'));
      for (const r of [
        { opcode: OP.SET, key: 'k', extras: setExtras(0, 0), bodylen: 3 },
        { opcode: OP.APPEND, key: 'kept', bodylen: 1 },
        { opcode: OP.SASL_AUTH, key: 'PLAIN', bodylen: 2 },
        { opcode: OP.GET, key: 'kept', extlen: 255, bodylen: 260 },
      ]) {
        reconnect(h);
        send(h, r, Buffer.alloc(300, 0x80));
      }
      reconnect(h);
      expect(send(h, { opcode: OP.GET, key: 'kept' })).toEqual(['op=0 st=0 cas=1 ext=00000000 key="" val="intact"']);
    });
  });

  it('headers and bodies split across reads at every byte', () => {
    const h = makeStore({ engine });
    const stream = Buffer.concat([
      frame(set('a', 'x'.repeat(100))), frame({ opcode: OP.GETK, key: 'a' }), frame({ opcode: OP.GETQ, key: 'b' }),
      frame({ opcode: OP.INCREMENT, key: 'n', extras: incrExtras(1n, 7n, 0) }), frame({ opcode: OP.NOOP }),
    ]);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(h.send(stream.subarray(i, i + 1)));
    const { packets, rest } = parseResponses(Buffer.concat(out));
    expect(rest.length).toBe(0);
    expect(packets.map(show)).toEqual([
      'op=1 st=0 cas=1 ext= key="" val=""',
      `op=c st=0 cas=1 ext=00000000 key="a" val="${'x'.repeat(60)}..."`,
      'op=5 st=0 cas=2 ext= key="" val="0x0000000000000007"',
      'op=a st=0 cas=0 ext= key="" val=""',
    ]);
  });

  it('a connection speaks text or binary from its first byte, independently of others', () => {
    const h = makeStore({ engine });
    expect(h.cmd('set t 0 0 1\r\nx\r\n')).toBe('STORED\r\n');
    // still text: a 0x80 later on this connection is not a packet
    expect(h.cmd('\x80\r\n')).toBe('ERROR\r\n');
    reconnect(h);
    expect(send(h, { opcode: OP.GET, key: 't' })).toEqual(['op=0 st=0 cas=1 ext=00000000 key="" val="x"']);
  });
});

/** Sent to memcached and wasmcached, each on a fresh connection, in order. */
const E8 = setExtras(5, 0);
const DIFF_CASES: [string, Buffer][] = ([
  ['unknown opcode', [{ opcode: 0xee }, { opcode: OP.NOOP }]],
  ['unknown opcode with a key swallows bodylen past it', [{ opcode: 0xee, key: 'abc', value: 'xyz' }, { opcode: OP.NOOP }, { opcode: OP.NOOP }]],
  ['set get getk', [{ opcode: OP.SET, key: 'k', extras: E8, value: 'hello' }, { opcode: OP.GET, key: 'k' }, { opcode: OP.GETK, key: 'k' }]],
  ['misses', [{ opcode: OP.GETK, key: 'nokey' }, { opcode: OP.GETQ, key: 'nokey' }, { opcode: OP.GETKQ, key: 'nokey' }, { opcode: OP.NOOP }]],
  ['version', [{ opcode: OP.VERSION }]],
  ['keylen > bodylen', [{ opcode: OP.GET, key: 'abc', bodylen: 2 }]],
  ['keylen + extlen > bodylen', [{ opcode: OP.SET, key: 'k', extras: E8, bodylen: 5 }]],
  ['bodylen 0xffffffff', [{ opcode: OP.SET, key: 'k', extras: E8, bodylen: 0xffffffff }, { opcode: OP.NOOP }]],
  ['extlen 255', [{ opcode: OP.GET, key: 'k', extras: Buffer.alloc(255, 0x78) }, { opcode: OP.NOOP }]],
  ['keylen 251', [{ opcode: OP.GET, key: 'k'.repeat(251) }, { opcode: OP.NOOP }]],
  ['set with 4 bytes of extras', [{ opcode: OP.SET, key: 'k', extras: Buffer.from('1234'), value: 'v' }, { opcode: OP.NOOP }]],
  ['too large', [{ opcode: OP.SET, key: 'big', extras: E8, value: Buffer.alloc(1024 * 1024 + 10, 0x78) }, { opcode: OP.NOOP }]],
  ['bad magic after a noop', [{ opcode: OP.NOOP }, { opcode: OP.NOOP, magic: 0x42 }]],
  ['quit', [{ opcode: OP.QUIT }, { opcode: OP.NOOP }]],
  ['quitq', [{ opcode: OP.QUITQ }, { opcode: OP.NOOP }]],
  ['incr create, incr, decr, no-create', [
    { opcode: OP.INCREMENT, key: 'n', extras: incrExtras(5n, 10n, 0) }, { opcode: OP.INCREMENT, key: 'n', extras: incrExtras(5n, 10n, 0) },
    { opcode: OP.DECREMENT, key: 'n', extras: incrExtras(100n, 10n, 0) }, { opcode: OP.INCREMENT, key: 'nn', extras: incrExtras(5n, 10n, 0xffffffff) }]],
  ['incr non-numeric, bad cas', [{ opcode: OP.INCREMENT, key: 'k', extras: incrExtras(5n, 10n, 0) }, { opcode: OP.INCREMENT, key: 'n', extras: incrExtras(5n, 10n, 0), cas: 1n }]],
  ['add replace append prepend', [
    { opcode: OP.ADD, key: 'k', extras: E8, value: 'a' }, { opcode: OP.REPLACE, key: 'zz', extras: E8, value: 'a' },
    { opcode: OP.APPEND, key: 'zz', value: 'a' }, { opcode: OP.PREPEND, key: 'k', value: '<<' }, { opcode: OP.APPEND, key: 'k', value: '>>' },
    { opcode: OP.GET, key: 'k' }]],
  ['quiet set and a quiet error', [{ opcode: OP.SETQ, key: 'q', extras: E8, value: 'v' }, { opcode: OP.ADDQ, key: 'q', extras: E8, value: 'v' }, { opcode: OP.NOOP }]],
  ['delete', [{ opcode: OP.DELETE, key: 'q' }, { opcode: OP.DELETE, key: 'q' }, { opcode: OP.DELETEQ, key: 'k', cas: 1n }, { opcode: OP.NOOP }]],
  ['touch gat gatk', [
    { opcode: OP.TOUCH, key: 'k', extras: expExtras(100) }, { opcode: OP.GAT, key: 'k', extras: expExtras(100) },
    { opcode: OP.GATK, key: 'k', extras: expExtras(100) }, { opcode: OP.GATQ, key: 'zz', extras: expExtras(100) },
    { opcode: OP.GATK, key: 'zz', extras: expExtras(100) }, { opcode: OP.NOOP }]],
  ['flush', [{ opcode: OP.FLUSH }, { opcode: OP.GET, key: 'k' }, { opcode: OP.FLUSHQ, extras: expExtras(0) }, { opcode: OP.NOOP }]],
  ['noop with a body', [{ opcode: OP.NOOP, value: 'x' }]],
  ['SASL without -S', [{ opcode: OP.SASL_LIST_MECHS }, { opcode: OP.SASL_AUTH, key: 'PLAIN', value: '\0a\0b' }, { opcode: OP.NOOP }]],
  ['opcode 0x1b (verbosity) is unknown', [{ opcode: 0x1b, extras: expExtras(1) }, { opcode: OP.NOOP }]],
  ['stat reset and an unknown group', [{ opcode: OP.STAT, key: 'reset' }, { opcode: OP.STAT, key: 'bogus' }, { opcode: OP.NOOP }]],
  ['get with a cas', [{ opcode: OP.SET, key: 'c', extras: E8, value: 'v' }, { opcode: OP.GET, key: 'c', cas: 99n }]],
  ['a stat with extra body bytes reads them as the next packet', [{ opcode: OP.STAT, key: 'reset', value: frame({ opcode: OP.VERSION }) }]],
] as [string, Request[]][]).map(([name, reqs]) => [name, Buffer.concat(reqs.map(frame))]);

describe('binary protocol against memcached 1.6.18', () => {
  let pair: ServerPair;
  beforeAll(async () => { pair = await startPair(); });
  afterAll(async () => { await stopPair(pair); });

  async function exchange(port: number, req: Buffer): Promise<string> {
    const c = await RawClient.connect(port);
    try {
      await c.send(req);
      const got = await c.readAvailable(150, 3000);
      const { packets, rest } = parseResponses(got);
      return [...packets.map(show), ...(rest.length ? [`rest=${rest.toString('hex')}`] : []),
        ...((await c.waitClosed(100)) ? ['closed'] : [])].join('\n');
    } finally {
      c.close();
    }
  }

  it('answers every case with the same packets', async () => {
    const diffs: string[] = [];
    for (const [name, req] of DIFF_CASES) {
      const a = await exchange(pair.ref.port, req);
      const b = await exchange(pair.sut.port, req);
      if (a !== b) diffs.push(`${name}\n  memcached:\n    ${a.replaceAll('\n', '\n    ')}\n  wasmcached:\n    ${b.replaceAll('\n', '\n    ')}`);
    }
    expect(diffs.join('\n')).toBe('');
  });
});
