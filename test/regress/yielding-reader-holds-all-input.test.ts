// Regression: a client that pipelined small gets faster than its -R turns
// came, and never read its replies, made the host hold everything it sent.
// With two or more connections a run yields after -R (20) requests and waits
// for a later turn; the socket kept reading meanwhile, so the unconsumed input
// grew without bound: 4 such clients took RSS from 66 MB to 309 MB in 12 s,
// 200 to 2.9 GB (memcached: +0.4 MB, as it reads only into its fixed read
// buffer), and other clients waited seconds. Reading now stops while a
// connection that waits for its turn holds more than PENDING_HIGH_WATER bytes
// of input (src/conn.ts), and resumes when a run has used them.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { rssOf, settledRss, startProbe } from '../support/loadshapes.js';

const MB = 1024 * 1024;
const CLIENTS = 8;
const SECONDS = 5;

/** `n` connections that send `get s1` as fast as the kernel takes it for
 *  `ms`, reading nothing; resolves with the bytes each got into the kernel. */
async function pipelineWithoutReading(port: number, n: number, ms: number): Promise<{ sentPerClient: number; close(): void }> {
  const chunk = Buffer.from('get s1\r\n'.repeat(1000));
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<net.Socket>((res, rej) => {
    const s = net.connect(port, '127.0.0.1', () => res(s));
    s.once('error', rej);
  })));
  for (const s of sockets) s.on('error', () => {});
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    // Keep each client's own buffer short: what counts is what the server takes.
    for (const s of sockets) if (s.writableLength < chunk.length) s.write(chunk);
    await new Promise((r) => setTimeout(r, 5));
  }
  const sent = sockets.reduce((a, s) => a + s.bytesWritten - s.writableLength, 0);
  return { sentPerClient: sent / n, close: () => { for (const s of sockets) s.destroy(); } };
}

describe.each(['wasm', 'js'] as const)('clients that pipeline faster than their turns and never read (%s engine)', (engine) => {
  let server: ServerHandle | undefined;
  afterEach(async () => { await server?.stop(); server = undefined; });

  // -R 2: turns come often, so a run's input waits for its turn most of the time.
  it(`${CLIENTS} of them for ${SECONDS} s: the server stops reading them, stays small, and answers others`, async () => {
    server = await startWasmcached(['--engine', engine, '-t', '1', '-m', '64', '-R', '2']);
    const c = await RawClient.connect(server.port);
    expect((await c.request('set s1 0 0 10\r\n0123456789\r\n', 1)).toString()).toBe('STORED\r\n');
    c.close();
    const before = await settledRss(server.pid);
    const probe = await startProbe(server.port, { intervalMs: 20 });
    const flood = await pipelineWithoutReading(server.port, CLIENTS, SECONDS * 1000);
    const grown = rssOf(server.pid) - before;
    flood.close();
    const seen = await probe.stop();
    // Before the fix each client got 15-20 MB in, all of it held in the
    // server's heap; now what it sends stops at the kernel's socket buffers
    // (a few MB each, outside the process) and the host holds at most
    // PENDING_HIGH_WATER plus one read and its replies' bound per client.
    expect(flood.sentPerClient).toBeGreaterThan(64 * 1024);
    // Measured here: +22-26 MB with the fix (the heap's growth under the
    // flood, mostly garbage not collected yet), +133-161 MB without.
    expect(grown).toBeLessThan(64 * MB);
    expect(seen.samples).toBeGreaterThan(10);
    expect(seen.unanswered).toBe(false);
    expect(seen.maxMs).toBeLessThan(2000);
    // Nothing stored was touched, and a new client is served as usual.
    const after = await RawClient.connect(server.port);
    expect((await after.request('get s1\r\n', 1)).toString()).toBe('VALUE s1 0 10\r\n0123456789\r\nEND\r\n');
    after.close();
  }, 60_000);
});
