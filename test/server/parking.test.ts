// Parked connections (conn.ts, Conn.park()): a connection of the default
// host that has been quiet for two ticks of the server's clock with
// nothing in progress (or at once after a request, if it had been so
// before it) gives its socket and session objects back to the
// server's spares and keeps only its handle and its R_CONN word, so that an
// idle connection costs about 1 KB (README); one that keeps sending is never
// parked. These tests hold that parking happens where it should,
// never where something is in progress, and that a parked connection is
// served as if nothing had happened: its protocol, its authentication,
// its address in `stats conns`, the idle timeout and the server's stop.
// In-process on both builds (to count parked connections), real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings, storeOptions, credentialsFile } from '../../src/settings.js';
import { createLogger } from '../../src/log.js';
import { loadWasmEngine } from '../../src/engine/wasm.js';
import { loadJsEngine } from '../../src/engine/js.js';
import { Store } from '../../src/engine/store.js';
import { CacheServer } from '../../src/server.js';
import { RawClient } from '../support/client.js';
import { OP, frame, parseResponses, describe as show } from '../support/binary.js';

interface Running { server: CacheServer; port: number }

async function start(engine: 'wasm' | 'js', args: string[] = []): Promise<Running> {
  const cmd = parseSettings(['-p', '0', '-l', '127.0.0.1', '-t', '1', '--engine', engine, ...args]);
  if (cmd.action !== 'run') throw new Error('bad test arguments');
  const settings = cmd.settings;
  const store = Store.create(engine === 'js' ? loadJsEngine() : loadWasmEngine(), storeOptions(settings), Math.floor(Date.now() / 1000));
  const credentials = credentialsFile(settings);
  if (credentials !== null) store.setAuth(readFileSync(credentials));
  const log = createLogger(() => store.verbosity, () => {});
  const server: CacheServer = new CacheServer({ settings, store, log, exit: () => { void server.stop(); } });
  const where = await server.listen();
  return { server, port: Number(where.slice(where.lastIndexOf(':') + 1)) };
}

/** Waits until `server` has `n` parked connections (each parks once its read event is done). */
async function parked(server: CacheServer, n: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (server.parkedConnections !== n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(server.parkedConnections).toBe(n);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['wasm', 'js'] as const)('parked connections (%s engine)', (engine) => {
  let running: Running | undefined;
  const clients: RawClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await running?.server.stop();
    running = undefined;
  });
  const connect = async (port: number) => { const c = await RawClient.connect(port); clients.push(c); return c; };

  it('a quiet connection parks and goes on in its protocol, text or binary', async () => {
    running = await start(engine);
    const { server, port } = running;
    const text = await connect(port);
    const bin = await connect(port);
    await parked(server, 2);
    expect((await text.request('set k 0 0 1\r\nv\r\n', 1)).toString()).toBe('STORED\r\n');
    await parked(server, 2);
    const getk = () => bin.readWith((b) => parseResponses(b).packets.length >= 1 ? b.length : -1).then((b) => parseResponses(b).packets.map(show));
    await bin.send(frame({ opcode: OP.GETK, key: 'k' }));
    expect(await getk()).toEqual(['op=c st=0 cas=1 ext=00000000 key="k" val="v"']);
    await parked(server, 2);
    // Decided by the first byte, the protocol outlives the parking: a text
    // line on the binary connection is not taken as text.
    await bin.send(frame({ opcode: OP.GETK, key: 'k' }));
    expect(await getk()).toEqual(['op=c st=0 cas=1 ext=00000000 key="k" val="v"']);
    expect((await text.request('get k\r\n', 1)).toString()).toBe('VALUE k 0 1\r\nv\r\nEND\r\n');
    await parked(server, 2);
  });

  it('a connection that keeps sending is not parked', async () => {
    running = await start(engine);
    const { server, port } = running;
    const busy = await connect(port);
    await parked(server, 1);
    // Quiet until now, it parks again right after its first request; from
    // its second on it is busy.
    expect((await busy.request('set first 0 0 1\r\nv\r\n', 1)).toString()).toBe('STORED\r\n');
    await sleep(100);
    const end = Date.now() + 3000;
    let parkedMeanwhile = 0;
    for (let i = 0; Date.now() < end; i++) {
      expect((await busy.request(`set k${i} 0 0 1\r\nv\r\n`, 1)).toString()).toBe('STORED\r\n');
      parkedMeanwhile = Math.max(parkedMeanwhile, server.parkedConnections);
      await sleep(100);
    }
    expect(parkedMeanwhile).toBe(0);
    await parked(server, 1);
    // Busy, its reads went straight to its socket (stream-socket.ts,
    // onReadOwn); parked, its handle's reads find the connection again.
    expect((await busy.request('get first\r\n', 1)).toString()).toBe('VALUE first 0 1\r\nv\r\nEND\r\n');
    await parked(server, 1);
    expect((await busy.request('get first\r\n', 1)).toString()).toBe('VALUE first 0 1\r\nv\r\nEND\r\n');
  });

  it('a command line or a value that arrives in pieces keeps its connection serving until it is whole', async () => {
    running = await start(engine);
    const { server, port } = running;
    const line = await connect(port);
    const value = await connect(port);
    await parked(server, 2);
    await line.send('get a');
    await value.send('set v 0 0 10\r\n12345');
    await parked(server, 0);
    // The once-a-second pass over the connections parks none of them either.
    await sleep(1200);
    expect(server.parkedConnections).toBe(0);
    await value.send('67890\r\n');
    expect((await value.readUntil('\r\n')).toString()).toBe('STORED\r\n');
    await line.send('b v\r\n');
    expect((await line.readUntil('END\r\n')).toString()).toBe('VALUE v 0 10\r\n1234567890\r\nEND\r\n');
    await parked(server, 2);
  });

  it('authentication (-Y) outlives the parking, and a new connection is not authenticated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-parking-'));
    try {
      writeFileSync(join(dir, 'users'), 'alice:secret\n');
      running = await start(engine, ['-Y', join(dir, 'users')]);
      const { server, port } = running;
      const c = await connect(port);
      expect((await c.request('set auth 0 0 12\r\nalice secret\r\n', 1)).toString()).toBe('STORED\r\n');
      await parked(server, 1);
      await sleep(1100);
      expect((await c.request('set k 0 0 1\r\nv\r\n', 1)).toString()).toBe('STORED\r\n');
      const other = await connect(port);
      expect((await other.request('get k\r\n', 1)).toString()).toBe('CLIENT_ERROR unauthenticated\r\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('2,000 parked connections are each answered, and stats conns lists each with its own address', async () => {
    running = await start(engine, ['-c', '4096']);
    const { server, port } = running;
    const many: RawClient[] = [];
    for (let i = 0; i < 2000; i++) many.push(await connect(port));
    // Half of them have spoken once before they idle.
    await Promise.all(many.filter((_, i) => i % 2 === 0).map(async (c) => {
      expect((await c.request('version\r\n', 1)).toString()).toMatch(/^VERSION /);
    }));
    await parked(server, 2000);
    const asker = await connect(port);
    const listing = (await asker.request('stats conns\r\n', 1, 10_000)).toString();
    const states = new Map<string, string>();
    for (const m of listing.matchAll(/STAT (\d+):addr tcp:127\.0\.0\.1:(\d+)\r\nSTAT \1:listen_addr [^\r]*\r\nSTAT \1:state (\w+)/g)) states.set(m[2], m[3]);
    for (const c of many) expect(states.get(String(c.localPort))).toBe('conn_read');
    expect((await asker.request('set shared 0 0 2\r\nok\r\n', 1)).toString()).toBe('STORED\r\n');
    const replies = await Promise.all(many.map((c) => c.request('get shared\r\n', 1)));
    for (const r of replies) expect(r.toString()).toBe('VALUE shared 0 2\r\nok\r\nEND\r\n');
    await parked(server, 2001);
  }, 60_000);

  it('the idle timeout and the server\'s stop close parked connections', async () => {
    running = await start(engine, ['-o', 'idle_timeout=1']);
    const { server, port } = running;
    const idle = await connect(port);
    await parked(server, 1);
    // Kicked by the once-a-second check after more than a second idle.
    const end = Date.now() + 5000;
    while (!idle.isClosed && Date.now() < end) await sleep(20);
    expect(idle.isClosed).toBe(true);
    expect((await (await connect(port)).request('stats\r\n', 1)).toString()).toMatch(/STAT idle_kicks 1\r\n/);
    await running.server.stop();
    running = await start(engine);
    const open = await connect(running.port);
    await parked(running.server, 1);
    await running.server.stop();
    running = undefined;
    const end2 = Date.now() + 3000;
    while (!open.isClosed && Date.now() < end2) await sleep(20);
    expect(open.isClosed).toBe(true);
  });
});
