// -B ascii|binary|auto: which protocol a connection may speak, sent the same
// bytes as Debian's memcached 1.6.18 started with the same -B; the replies,
// and whether the server hangs up, must be the same. Also the `stats
// settings` lines the command-line flags set, against memcached's.
import { describe, it, expect, afterAll } from 'vitest';
import { startMemcached, startWasmcached, haveTool, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { OP, frame } from '../support/binary.js';

/** Sends `bytes` on a new connection; what came back within the quiet time, and whether it was closed. */
async function exchange(port: number, bytes: Buffer): Promise<{ reply: string; closed: boolean }> {
  const c = await RawClient.connect(port);
  try {
    await c.send(bytes);
    const reply = (await c.readAvailable(300, 5000)).toString('hex');
    return { reply, closed: c.isClosed || await c.waitClosed(200) };
  } finally {
    c.close();
  }
}

const noop = frame({ opcode: OP.NOOP, opaque: 7 });
const version = Buffer.from('version\r\n');
const CASES: Array<{ name: string; bytes: Buffer }> = [
  { name: 'a text command', bytes: version },
  { name: 'a binary NOOP', bytes: noop },
  { name: 'a binary NOOP then a text command', bytes: Buffer.concat([noop, version]) },
  { name: 'a text line of 30 bytes', bytes: Buffer.from('get this_is_not_binary_at_all\r\n') },
  { name: 'a binary NOOP then garbage', bytes: Buffer.concat([noop, Buffer.from('x'.repeat(30))]) },
];

const ready = haveTool('memcached');

describe.skipIf(!ready)('-B: the protocol a connection may speak, as memcached 1.6.18', () => {
  const started: ServerHandle[] = [];
  afterAll(async () => { await Promise.all(started.map((s) => s.stop())); });

  for (const mode of ['ascii', 'binary', 'auto']) {
    it(`-B ${mode}: the same bytes get the same answer`, async () => {
      const [ref, sut] = await Promise.all([startMemcached(['-B', mode]), startWasmcached(['-B', mode])]);
      started.push(ref, sut);
      for (const c of CASES) {
        const [want, got] = await Promise.all([exchange(ref.port, c.bytes), exchange(sut.port, c.bytes)]);
        expect(got, `${c.name} with -B ${mode}`).toEqual(want);
      }
    });
  }

  it('stats settings reports -B, -b, -R, -D and -o hashpower as memcached does', async () => {
    const args = ['-B', 'ascii', '-b', '99', '-R', '7', '-D', '#', '-o', 'hashpower=20'];
    const [ref, sut] = await Promise.all([startMemcached(args), startWasmcached(args)]);
    const [refDefault, sutDefault] = await Promise.all([startMemcached(), startWasmcached()]);
    started.push(ref, sut, refDefault, sutDefault);
    const keys = ['binding_protocol', 'tcp_backlog', 'reqs_per_event', 'stat_key_prefix', 'detail_enabled', 'hashpower_init'];
    for (const [r, s] of [[ref, sut], [refDefault, sutDefault]]) {
      const [want, got] = await Promise.all([settingsOf(r.port), settingsOf(s.port)]);
      for (const k of keys) expect(`${k} ${got[k]}`).toBe(`${k} ${want[k]}`);
    }
  });

  // (Not -o no_modern: memcached then has no slab mover and leaves out its
  // fields and rejected_connections; wasmcached still moves pages and still
  // refuses connections over -c at once, so it keeps them.)
  it('stats lists the same fields as memcached, with the crawler and LRU maintainer on or off', async () => {
    for (const args of [[], ['-o', 'no_lru_crawler'], ['-o', 'no_lru_maintainer'], ['-o', 'no_lru_crawler,no_lru_maintainer']]) {
      const [ref, sut] = await Promise.all([startMemcached(args), startWasmcached(args)]);
      started.push(ref, sut);
      const [want, got] = await Promise.all([statsKeys(ref.port), statsKeys(sut.port)]);
      expect(got, JSON.stringify(args)).toEqual(want);
    }
  });
});

async function statsLines(port: number, sub: string): Promise<Record<string, string>> {
  const c = await RawClient.connect(port);
  try {
    const out = (await c.request(`stats${sub ? ` ${sub}` : ''}\r\n`)).toString('latin1');
    return Object.fromEntries([...out.matchAll(/^STAT (\S+) (.*)\r$/gm)].map((m) => [m[1], m[2]]));
  } finally {
    c.close();
  }
}

const settingsOf = (port: number) => statsLines(port, 'settings');
const statsKeys = async (port: number) => Object.keys(await statsLines(port, '')).sort();
