// The clients that first showed big multigets closing the connection: PHP's
// Memcached::getMulti (CONNECTION FAILURE) and Perl's
// Cache::Memcached::Fast::get_multi (an empty result, no error), each with
// 6,000 keys of 240 bytes, a 1.4 MB line. Debian's php-memcached and
// libcache-memcached-fast-perl; missing under CI=true is a failure.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startWasmcached, ROOT, IN_CI, type ServerHandle } from '../support/servers.js';

function available(cmd: string, args: string[]): boolean {
  const ok = spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
  if (!ok && IN_CI) throw new Error(`${cmd} ${args.join(' ')} failed under CI: install php-memcached and libcache-memcached-fast-perl`);
  return ok;
}

function runJson(cmd: string, args: (string | number)[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args.map(String), { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`${cmd} failed: ${stderr}\n${stdout}`)); return; }
      resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

const HAVE_PHP = available('php', ['-r', 'exit(class_exists("Memcached") ? 0 : 1);']);
const HAVE_PERL = available('perl', ['-MCache::Memcached::Fast', '-e', '1']);

describe.each(['wasm', 'js'] as const)('PHP and Perl multigets, %s engine', (engine) => {
  let server: ServerHandle;
  beforeAll(async () => { server = await startWasmcached(['--engine', engine, '-m', '128']); });
  afterAll(async () => { await server?.stop(); });

  test.skipIf(!HAVE_PHP)('PHP Memcached::getMulti of 6,000 keys of 240 bytes', async () => {
    const r = await runJson('php', [join(ROOT, 'test', 'clients', 'php', 'get_multi.php'), server.port, 6000, 240, 2]);
    expect(r).toEqual({ set: true, hits: 3000, error: null, stored: 3000, wrong: 0 });
  }, 150_000);

  test.skipIf(!HAVE_PERL)('Perl Cache::Memcached::Fast get_multi of 6,000 keys of 240 bytes', async () => {
    const r = await runJson('perl', [join(ROOT, 'test', 'clients', 'perl', 'get_multi.pl'), server.port, 6000, 240, 3]);
    expect(r).toEqual({ failed_sets: 0, hits: 2000, stored: 2000, wrong: 0 });
  }, 150_000);
});
