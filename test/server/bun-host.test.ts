// The Bun host: wasmcached started under Bun (the npm-installed binary) serves
// its sockets with Bun.listen. Real clients against it: pymemcache's tutorial
// patterns, and raw sockets for what the host itself does (one reply per
// request, pipelining, a value larger than the socket takes at once, a
// client that reads late, a client's FIN, the -c limit, `stats conns`).
// Under CI a missing bun fails this file (haveTool), it does not skip.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { startWasmcached, haveTool, BUN_BIN, WASMCACHED_BIN, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { havePythonModules, runPython } from '../clients/python.js';

const HAVE_BUN = haveTool(BUN_BIN);

describe.skipIf(!HAVE_BUN)('Bun host (Bun.listen)', () => {
  let server: ServerHandle;

  beforeAll(async () => {
    server = await startWasmcached(['-c', '8', '-vv'], { runtime: 'bun' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('runs under Bun with the Bun.listen host', () => {
    expect(server.output()).toMatch(/listening on 127\.0\.0\.1:\d+/);
    const r = spawnSync(BUN_BIN, [WASMCACHED_BIN, '--help'], { encoding: 'utf8', cwd: tmpdir() });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--host/);
  });

  it('answers get/set/delete, text and meta, one request at a time', async () => {
    const c = await RawClient.connect(server.port);
    try {
      expect((await c.request('set k 5 0 3\r\nabc\r\n')).toString()).toBe('STORED\r\n');
      expect((await c.request('get k\r\n')).toString()).toBe('VALUE k 5 3\r\nabc\r\nEND\r\n');
      expect((await c.request('mg k v f\r\n')).toString()).toBe('VA 3 f5\r\nabc\r\n');
      expect((await c.request('delete k\r\n')).toString()).toBe('DELETED\r\n');
      expect((await c.request('get k\r\n')).toString()).toBe('END\r\n');
    } finally {
      c.close();
    }
  });

  it('answers 2000 pipelined requests in order', async () => {
    const c = await RawClient.connect(server.port);
    try {
      await c.request('set p 0 0 5\r\nhello\r\n');
      const n = 2000;
      const replies = await c.request('get p\r\n'.repeat(n), n, 15_000);
      expect(replies.toString()).toBe('VALUE p 0 5\r\nhello\r\nEND\r\n'.repeat(n));
    } finally {
      c.close();
    }
  });

  it('sends a 1 MB value whole, also to a client that starts reading late', async () => {
    const value = Buffer.alloc(1000 * 1000, 'v');
    const c = await RawClient.connect(server.port);
    try {
      await c.request(Buffer.concat([Buffer.from(`set big 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]));
      // Eight copies asked at once: far more than the socket takes without the client reading.
      const expected = Buffer.concat([Buffer.from(`VALUE big 0 ${value.length}\r\n`), value, Buffer.from('\r\nEND\r\n')]);
      const got = await c.request('get big\r\n'.repeat(8), 8, 20_000);
      expect(got.length).toBe(expected.length * 8);
      expect(got.equals(Buffer.concat(Array(8).fill(expected)))).toBe(true);
    } finally {
      c.close();
    }
  });

  it('answers what came before the client\'s FIN, then closes', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      let out = '';
      const s = connect({ port: server.port, host: '127.0.0.1' }, () => s.end('set f 0 0 1\r\nx\r\nget f\r\n'));
      s.on('data', (b: Buffer) => { out += b.toString('latin1'); });
      s.on('close', () => resolve(out));
      s.on('error', reject);
    });
    expect(got).toBe('STORED\r\nVALUE f 0 1\r\nx\r\nEND\r\n');
  });

  it('lists its connections in stats conns and keeps -c', async () => {
    const clients: RawClient[] = [];
    try {
      const c = await RawClient.connect(server.port);
      clients.push(c);
      await c.send('stats conns\r\n');
      const conns = (await c.readUntil('END\r\n')).toString();
      expect(conns).toMatch(/STAT \d+:addr tcp:127\.0\.0\.1:\d+\r\n/);
      expect(conns).toMatch(/STAT \d+:state conn_listening\r\n/);
      await c.send('stats\r\n');
      const stats = (await c.readUntil('END\r\n')).toString();
      expect(stats).toMatch(/STAT max_connections 8\r\n/);
      // -c 8: the ninth open connection is refused as memcached refuses it.
      for (let i = 0; i < 8; i++) clients.push(await RawClient.connect(server.port));
      const last = clients[clients.length - 1];
      const refused = await last.readUntil('\r\n', 5000);
      expect(refused.toString()).toBe('ERROR Too many open connections\r\n');
      expect(await last.waitClosed(5000)).toBe(true);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it.skipIf(!havePythonModules(['pymemcache']))('pymemcache: set/get, set_many/get_many, delete', async () => {
    const r = await runPython('pymemcache_getset.py', [server.port]);
    expect(r).toMatchObject({
      set_bytes: true, get_bytes: "b'hello world'", binary_roundtrip: true, get_missing: null,
      get_many: { k1: "b'v1'", k2: "b'v2'", k3: "b'v3'" }, delete_existing: true, delete_missing: false,
    });
  });

  it('serves the binary protocol too', async () => {
    const c = await RawClient.connect(server.port);
    try {
      // A binary no-op (opcode 0x0a): a 24-byte response header with magic 0x81.
      const noop = Buffer.alloc(24);
      noop[0] = 0x80;
      noop[1] = 0x0a;
      await c.send(noop);
      const reply = await c.readExactly(24);
      expect(reply[0]).toBe(0x81);
      expect(reply[1]).toBe(0x0a);
    } finally {
      c.close();
    }
  });
});

describe.skipIf(!HAVE_BUN)('--host', () => {
  it('--host node under Bun serves through Bun\'s node:net', async () => {
    const s = await startWasmcached(['--host', 'node'], { runtime: 'bun' });
    try {
      const c = await RawClient.connect(s.port);
      expect((await c.request('set a 0 0 1\r\n1\r\nget a\r\n', 2)).toString()).toBe('STORED\r\nVALUE a 0 1\r\n1\r\nEND\r\n');
      c.close();
    } finally {
      await s.stop();
    }
  });

  it('--host bun under Node.js is refused with a usage error', () => {
    const r = spawnSync(process.execPath, [WASMCACHED_BIN, '--host', 'bun', '-p', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/run wasmcached with Bun/);
  });
});
