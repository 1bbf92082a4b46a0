// The published package: `npm pack` of the built tree, installed into an
// empty folder, where a script imports `wasmcached` and `wasmcached/server`
// and uses both. Needs `npm run build` first (as every test does).
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

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
});
