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
import { answersBeforeFin, bigValuesToALateReader, binaryNoop, oneAtATime, pipelined } from '../support/host-checks.js';

const HAVE_BUN = haveTool(BUN_BIN);

describe.skipIf(!HAVE_BUN)('Bun host (Bun.listen)', () => {
  let server: ServerHandle;
  const client = () => RawClient.connect(server.port);

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

  it('answers get/set/delete, text and meta, one request at a time', () => oneAtATime(client));
  it('answers 2000 pipelined requests in order', () => pipelined(client));
  it('sends a 1 MB value whole, eight times, to a client that starts reading late', () => bigValuesToALateReader(client));
  it('answers what came before the client\'s FIN, then closes', () => answersBeforeFin(() => connect({ port: server.port, host: '127.0.0.1' })));
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

  it('serves the binary protocol too', () => binaryNoop(client));
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
