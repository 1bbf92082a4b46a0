// memcached's own tools and libmemcached's dumps against wasmcached:
// memcached-tool dump and keys (lru_crawler metadump), memcdump and PHP
// Memcached::getAllKeys (stats cachedump per class). Missing under CI=true
// is a failure.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startWasmcached, which, IN_CI, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';

const MEMCACHED_TOOL = '/usr/share/memcached/scripts/memcached-tool';

function present(ok: boolean, what: string): boolean {
  if (!ok && IN_CI) throw new Error(`${what} is missing under CI: install memcached, libmemcached-tools and php-memcached`);
  return ok;
}

const HAVE_TOOL = present(existsSync(MEMCACHED_TOOL) && which('perl') !== null, 'memcached-tool');
const HAVE_MEMCDUMP = present(which('memcdump') !== null, 'memcdump');
const HAVE_PHP = present(spawnSync('php', ['-r', 'exit(class_exists("Memcached") ? 0 : 1);']).status === 0, 'PHP Memcached');

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${stderr}\n${stdout}`)); else resolve(stdout);
    });
  });
}

const KEYS = Array.from({ length: 500 }, (_, i) => `tool:${i}`);

describe.each(['wasm', 'js'] as const)('dump tools, %s engine', (engine) => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startWasmcached(['--engine', engine]);
    const c = await RawClient.connect(server.port);
    await c.send(KEYS.map((k, i) => `set ${k} ${i} ${i % 2 ? 0 : 3600} ${String(i).length}\r\n${i}\r\n`).join(''));
    await c.readWith((b) => (b.toString().split('STORED\r\n').length - 1 === KEYS.length ? b.length : -1));
    c.close();
  });
  afterAll(async () => { await server?.stop(); });

  test.skipIf(!HAVE_TOOL)('memcached-tool dump prints an add per item', async () => {
    const out = await run('perl', [MEMCACHED_TOOL, `127.0.0.1:${server.port}`, 'dump']);
    const adds = [...out.matchAll(/^add (\S+) (\d+) (\d+) (\d+)\r\n(.*)\r$/gm)];
    expect(adds.map((m) => m[1]).sort()).toEqual([...KEYS].sort());
    for (const m of adds) {
      const i = Number(m[1].slice(5));
      expect(m[2]).toBe(String(i));
      expect(m[5]).toBe(String(i));
      if (i % 2) expect(m[3]).toBe('0'); else expect(Number(m[3])).toBeGreaterThan(Date.now() / 1000);
    }
  });

  test.skipIf(!HAVE_TOOL)('memcached-tool keys prints the metadump lines', async () => {
    const out = await run('perl', [MEMCACHED_TOOL, `127.0.0.1:${server.port}`, 'keys']);
    const keys = out.split('\n').filter((l) => l).map((l) => /^key=(\S+) exp=/.exec(l)![1]);
    expect(keys.map(decodeURIComponent).sort()).toEqual([...KEYS].sort());
  });

  test.skipIf(!HAVE_MEMCDUMP)('memcdump lists every key', async () => {
    const out = await run('memcdump', [`--servers=127.0.0.1:${server.port}`]);
    expect(out.split('\n').filter((l) => l).sort()).toEqual([...KEYS].sort());
  });

  test.skipIf(!HAVE_PHP)('PHP Memcached::getAllKeys lists every key', async () => {
    const out = await run('php', ['-r', `$m = new Memcached(); $m->addServer("127.0.0.1", ${server.port}); echo json_encode($m->getAllKeys());`]);
    expect((JSON.parse(out) as string[]).sort()).toEqual([...KEYS].sort());
  });
});

// cachedump streams (no 2 MB cap), so a class of 100,000 keys is listed whole.
describe.each(['wasm', 'js'] as const)('dump tools on 100,000 keys, %s engine', (engine) => {
  const BIG = Array.from({ length: 100_000 }, (_, i) => `big:${i}`);
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startWasmcached(['--engine', engine]);
    const c = await RawClient.connect(server.port);
    for (let b = 0; b < BIG.length; b += 10_000) {
      await c.send(BIG.slice(b, b + 10_000).map((k) => `set ${k} 0 0 1 noreply\r\nx\r\n`).join(''));
    }
    expect((await c.request('mn\r\n')).toString()).toBe('MN\r\n');
    c.close();
  }, 60_000);
  afterAll(async () => { await server?.stop(); });

  test.skipIf(!HAVE_MEMCDUMP)('memcdump lists every key', async () => {
    const out = await run('memcdump', [`--servers=127.0.0.1:${server.port}`]);
    expect(out.split('\n').filter((l) => l).sort()).toEqual([...BIG].sort());
  }, 60_000);

  test.skipIf(!HAVE_PHP)('PHP Memcached::getAllKeys lists every key', async () => {
    const out = await run('php', ['-r', `$m = new Memcached(); $m->addServer("127.0.0.1", ${server.port}); echo json_encode($m->getAllKeys());`]);
    expect((JSON.parse(out) as string[]).sort()).toEqual([...BIG].sort());
  }, 60_000);
});
