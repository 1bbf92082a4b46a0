// memcached's monitoring tools side by side: memcached-tool display, stats
// and settings, and libmemcached's memcstat, against wasmcached and Debian's
// memcached holding the same items. Values differ (pids, times, item
// headers); the rows, columns and fields the tools print must be the same,
// apart from the settings README "Differences" names.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startWasmcached, startMemcached, which, IN_CI, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';

const MEMCACHED_TOOL = '/usr/share/memcached/scripts/memcached-tool';
const HAVE_TOOL = existsSync(MEMCACHED_TOOL) && which('perl') !== null;
const HAVE_MEMCSTAT = which('memcstat') !== null;
if (IN_CI && !(HAVE_TOOL && HAVE_MEMCSTAT)) throw new Error('memcached-tool or memcstat is missing under CI: install memcached and libmemcached-tools');

/** stats settings memcached prints and wasmcached leaves out (README: Differences). */
const SETTINGS_LEFT_OUT = /^(hot_lru_pct|warm_lru_pct|hot_max_factor|warm_max_factor|temp_lru|temporary_ttl|ext_.*|slab_automove_freeratio)$/;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${stderr}`)) : resolve(stdout)));
  });
}

async function load(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  // Three size classes, a couple of items each.
  const sizes = [10, 10, 900, 900, 30_000];
  await c.send(sizes.map((n, i) => `set tool${i} 0 0 ${n}\r\n${'x'.repeat(n)}\r\n`).join(''));
  await c.readWith((b) => (b.toString().split('STORED\r\n').length - 1 === sizes.length ? b.length : -1));
  c.close();
}

/** The first column of each row of a memcached-tool table. */
const fields = (out: string) => out.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0]).filter((f) => f);

let ref: ServerHandle;
let sut: ServerHandle;
beforeAll(async () => {
  [ref, sut] = await Promise.all([startMemcached([]), startWasmcached([])]);
  await Promise.all([load(ref.port), load(sut.port)]);
});
afterAll(async () => { await Promise.all([ref?.stop(), sut?.stop()]); });

describe('monitoring tools print the same shape for wasmcached as for memcached', () => {
  const tool = (h: ServerHandle, cmd: string) => run('perl', [MEMCACHED_TOOL, `127.0.0.1:${h.port}`, cmd]);

  test.skipIf(!HAVE_TOOL)('memcached-tool display: the same header and one row per class holding items', async () => {
    const [a, b] = await Promise.all([tool(ref, 'display'), tool(sut, 'display')]);
    const rows = (out: string) => out.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    expect(b.split('\n')[0]).toBe(a.split('\n')[0]);
    expect(rows(b).length).toBe(rows(a).length);
    for (const r of rows(b)) expect(r.trim().split(/\s+/).length).toBe(rows(a)[0].trim().split(/\s+/).length);
  });

  test.skipIf(!HAVE_TOOL)('memcached-tool stats: the same fields', async () => {
    const [a, b] = await Promise.all([tool(ref, 'stats'), tool(sut, 'stats')]);
    expect(fields(b)).toEqual(fields(a));
  });

  test.skipIf(!HAVE_TOOL)('memcached-tool settings: the same fields, less the ones README lists', async () => {
    const [a, b] = await Promise.all([tool(ref, 'settings'), tool(sut, 'settings')]);
    expect(fields(b)).toEqual(fields(a).filter((f) => !SETTINGS_LEFT_OUT.test(f)));
  });

  test.skipIf(!HAVE_MEMCSTAT)('memcstat: the same fields', async () => {
    const names = (out: string) => out.split('\n').filter((l) => l.startsWith('\t')).map((l) => l.trim().split(':')[0]);
    const [a, b] = await Promise.all([ref, sut].map((h) => run('memcstat', [`--servers=127.0.0.1:${h.port}`])));
    expect(names(a).length).toBeGreaterThan(50);
    expect(names(b)).toEqual(names(a));
  });
});
