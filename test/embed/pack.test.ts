// The published package: `npm pack` of the built tree, installed into an
// empty folder, where a script imports `wasmcached` and `wasmcached/server`
// and uses both. Needs `npm run build` first (as every test does).
import { describe, it, expect } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** Runs `npx <tarball> -p 0` (offline, own cache) until it listens; returns its port and PID. */
function npxServer(dir: string, tarball: string): Promise<{ port: number; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(npx, ['--yes', '--offline', '--package', tarball, 'wasmcached', '-p', '0'], {
      cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_cache: join(dir, 'npm-cache') },
    });
    let err = '';
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } reject(new Error(`npx did not start a server in 60 s: ${err}`)); }, 60_000);
    const onOutput = (d: Buffer) => {
      err += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) { clearTimeout(timer); resolve({ port: Number(m[1]), pid: child.pid! }); }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`npx exited (${code}): ${err}`)); });
  });
}

function ask(port: number, request: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let got = '';
    sock.on('data', (d) => { got += d; if (until.test(got)) { sock.end(); resolve(got); } });
    sock.on('error', reject);
    sock.write(request);
  });
}

const script = `
import { createCache, createCacheSync, loadModule, InvalidKeyError } from 'wasmcached';
import { startServer } from 'wasmcached/server';
import { connect } from 'node:net';
const c = await createCache({ memory: 1 << 20 });
c.set('k', 'packed');
const j = createCacheSync({ engine: 'js', memory: 1 << 20 });
j.set('k', 'js');
const m = createCacheSync({ module: await loadModule(), memory: 1 << 20 });
let typed = false;
try { c.get(''); } catch (e) { typed = e instanceof InvalidKeyError; }
const s = await startServer({ memory: 4 << 20 });
const reply = await new Promise((res, rej) => {
  const sock = connect({ port: s.port, host: '127.0.0.1' });
  let got = '';
  sock.on('data', (d) => { got += d; if (got.endsWith('END\\r\\n')) { sock.end(); res(got); } });
  sock.on('error', rej);
  sock.write('set a 0 0 2\\r\\nok\\r\\nget a\\r\\n');
});
await s.close();
console.log(JSON.stringify({ wasm: c.getString('k'), js: j.getString('k'), sync: m.engine, typed, reply }));
`;

describe('npm package', () => {
  it('packs, installs into an empty folder and works there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-pack-'));
    try {
      // --ignore-scripts: the tree is built already; a rebuild would race other test files.
      execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, stdio: 'pipe' });
      const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
      expect(tarball).toBeDefined();
      const app = join(dir, 'app');
      execFileSync('mkdir', [app]);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
      execFileSync(npm, ['install', '--no-audit', '--no-fund', '--offline', '--ignore-scripts', join(dir, tarball!)], { cwd: app, stdio: 'pipe' });
      writeFileSync(join(app, 'main.mjs'), script);
      const out = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
      expect(JSON.parse(out.trim())).toEqual({
        wasm: 'packed', js: 'js', sync: 'wasm', typed: true, reply: 'STORED\r\nVALUE a 0 2\r\nok\r\nEND\r\n',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`npx <tarball> -p 0` runs the server, and -V and `version` state the same versions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-npx-'));
    let pid = 0;
    try {
      execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, stdio: 'pipe' });
      const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
      const pkg = JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' }));
      const server = await npxServer(dir, tarball);
      pid = server.pid;
      const reply = await ask(server.port, 'set a 0 0 2\r\nok\r\nget a\r\nversion\r\n', /VERSION [^\r]*\r\n$/);
      expect(reply).toMatch(/^STORED\r\nVALUE a 0 2\r\nok\r\nEND\r\nVERSION 1\.6\.18\r\n$/);
      const v = execFileSync(process.execPath, [join(root, 'bin', 'wasmcached.js'), '-V'], { encoding: 'utf8' });
      expect(v.trim()).toBe(`wasmcached ${pkg.version} (memcached 1.6.18 protocols)`);
    } finally {
      // detached: npx, npm exec and the server form one process group.
      if (pid) try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
