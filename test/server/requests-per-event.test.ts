// -R (memcached's reqs_per_event): a connection completes at most N
// requests per event, then lets the other connections run; `stats`
// conn_yields counts the events a connection gave up, and `stats settings`
// reports N. Over real sockets.
import { describe, it, expect } from 'vitest';
import { startWasmcached } from '../support/servers.js';
import { RawClient } from '../support/client.js';

async function statsOf(c: RawClient, sub = ''): Promise<Record<string, string>> {
  const out = (await c.request(sub ? `stats ${sub}\r\n` : 'stats\r\n')).toString('latin1');
  return Object.fromEntries([...out.matchAll(/^STAT (\S+) (.*)\r$/gm)].map((m) => [m[1], m[2]]));
}

/** The counter values one connection's `incr` replies show, in order. */
function values(replies: Buffer): number[] {
  return replies.toString('latin1').split('\r\n').filter((l) => l !== '').map(Number);
}

describe('-R: requests per event', () => {
  it('two connections pipelining at once take turns with -R 1; conn_yields counts the turns given up', async () => {
    // -R shares one thread's event loop between its connections (memcached's
    // reqs_per_event is per worker thread): both connections on one thread.
    const server = await startWasmcached(['-R', '1', '-t', '1']);
    try {
      const setup = await RawClient.connect(server.port);
      expect((await setup.request('set c 0 0 1\r\n0\r\n')).toString()).toBe('STORED\r\n');
      const n = 400;
      const [a, b] = await Promise.all([RawClient.connect(server.port), RawClient.connect(server.port)]);
      const pipeline = 'incr c 1\r\n'.repeat(n);
      await Promise.all([a.send(pipeline), b.send(pipeline)]);
      const [ra, rb] = await Promise.all([a.readWith((buf) => (values(buf).length >= n && buf.toString('latin1').endsWith('\r\n') ? buf.length : -1)),
        b.readWith((buf) => (values(buf).length >= n && buf.toString('latin1').endsWith('\r\n') ? buf.length : -1))]);
      const va = values(ra);
      const vb = values(rb);
      // Every increment happened once...
      expect([...va, ...vb].sort((x, y) => x - y)).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
      // ...and neither connection had all of its own in one run: they interleave.
      const runs = (v: number[]) => v.filter((x, i) => i > 0 && x !== v[i - 1] + 1).length;
      expect(runs(va) + runs(vb)).toBeGreaterThan(10);
      const st = await statsOf(setup);
      expect(Number(st.conn_yields)).toBeGreaterThanOrEqual(n);
      expect((await statsOf(setup, 'settings')).reqs_per_event).toBe('1');
      for (const c of [a, b, setup]) c.close();
    } finally {
      await server.stop();
    }
  });

  it('one connection alone counts the event boundaries of its pipeline (memcached\'s t/issue_61.t)', async () => {
    const server = await startWasmcached(['-R', '1']);
    try {
      const c = await RawClient.connect(server.port);
      const out = await c.request('set foobar 0 0 5\r\nBubba\r\n'.repeat(6), 6);
      expect(out.toString()).toBe('STORED\r\n'.repeat(6));
      expect(Number((await statsOf(c)).conn_yields)).toBeGreaterThanOrEqual(5);
      c.close();
    } finally {
      await server.stop();
    }
  });

  it('memcached\'s default is 20 per event: a pipeline of 100 gives up 4 events, one of 20 none', async () => {
    const server = await startWasmcached();
    try {
      const c = await RawClient.connect(server.port);
      expect((await statsOf(c, 'settings')).reqs_per_event).toBe('20');
      const before = Number((await statsOf(c)).conn_yields);
      await c.request('mn\r\n'.repeat(20), 20);
      expect(Number((await statsOf(c)).conn_yields)).toBe(before);
      await c.request('mn\r\n'.repeat(100), 100);
      expect(Number((await statsOf(c)).conn_yields)).toBe(before + 4);
      c.close();
    } finally {
      await server.stop();
    }
  });
});
