// The default Node.js host serves each connection on its libuv stream handle
// (src/stream-socket.ts) rather than node:net's Socket; --host node-net keeps
// node:net. The same host-level checks run on both, over TCP and a unix
// socket (a pipe handle): one reply per request, pipelining, values far
// larger than the socket takes at once to a client that reads late (writes
// libuv finishes later), a client's FIN, a client that resets in the middle
// of a reply while another keeps being served, -c, and the binary protocol.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { streamBinding } from '../../src/stream-socket.js';
import { answersBeforeFin, bigValuesToALateReader, binaryNoop, oneAtATime, pipelined } from '../support/host-checks.js';

it('Node.js offers the stream binding the default host needs (else it would fall back to node:net)', () => {
  expect(streamBinding()).not.toBeNull();
});

type Where = { host: 'node' | 'node-net'; unix: boolean };
const CASES: Where[] = [
  { host: 'node', unix: false },
  { host: 'node', unix: true },
  { host: 'node-net', unix: false },
];

describe.each(CASES)('--host $host (unix socket: $unix)', ({ host, unix }) => {
  let server: ServerHandle;
  let dir: string;
  let path: string;
  const open = (): Socket => (unix ? connect({ path }) : connect({ port: server.port, host: '127.0.0.1' }));
  const client = async (): Promise<RawClient> => (unix ? RawClient.connectPath(path) : RawClient.connect(server.port));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasmcached-stream-'));
    path = join(dir, 'sock');
    // -v: warnings, such as a fallback to node:net, would show.
    server = await startWasmcached(['-t', '1', '-c', '8', '-v', '--host', host, ...(unix ? ['-s', path] : [])]);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves without falling back', () => {
    expect(server.output()).not.toMatch(/served through node:net/);
  });

  it('answers get/set/delete, text and meta, one request at a time', () => oneAtATime(client));
  it('answers 2000 pipelined requests in order', () => pipelined(client));
  it('sends a 1 MB value whole, eight times, to a client that starts reading late', () => bigValuesToALateReader(client));
  it('a client that resets in the middle of big replies disturbs no one', async () => {
    const value = Buffer.alloc(500 * 1000, 'r');
    const setter = await client();
    await setter.request(Buffer.concat([Buffer.from(`set r 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]));
    setter.close();
    for (let round = 0; round < 5; round++) {
      const s = open();
      s.pause();
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      s.write('get r\r\n'.repeat(20));
      await new Promise((r) => setTimeout(r, 50));
      // A reset (RST) where the transport has one; a unix socket just closes.
      if (unix) s.destroy(); else s.resetAndDestroy();
    }
    const c = await client();
    try {
      expect((await c.request('get r\r\n')).length).toBe(`VALUE r 0 ${value.length}\r\n`.length + value.length + 7);
      expect((await c.request('stats\r\n')).toString()).toMatch(/STAT curr_connections \d+\r\n/);
    } finally {
      c.close();
    }
  });

  it("answers what came before the client's FIN, then closes", () => answersBeforeFin(open));
  it('quit closes the connection after the replies before it', async () => {
    const c = await client();
    await c.send('set q 0 0 1\r\n1\r\nget q\r\nquit\r\nget q\r\n');
    expect((await c.readUntil('END\r\n')).toString()).toBe('STORED\r\nVALUE q 0 1\r\n1\r\nEND\r\n');
    expect(await c.waitClosed(5000)).toBe(true);
    expect(c.pending.length).toBe(0);
  });

  it('serves the binary protocol too', () => binaryNoop(client));
  it('keeps -c: the ninth connection is refused as memcached refuses it, and closed ones are counted out', async () => {
    const clients: RawClient[] = [];
    try {
      // The tests above closed theirs (the server counts them out a moment later).
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 9; i++) clients.push(await client());
      const last = clients[clients.length - 1];
      expect((await last.readUntil('\r\n', 5000)).toString()).toBe('ERROR Too many open connections\r\n');
      expect(await last.waitClosed(5000)).toBe(true);
      expect((await clients[0].request('get nothing\r\n')).toString()).toBe('END\r\n');
    } finally {
      for (const c of clients) c.close();
    }
  });
});
