// The library where WebAssembly cannot run: with no engine asked for,
// createCache() and createCacheSync() give a cache on the pure-JS build
// (cache.engine === 'js') when the runtime has no WebAssembly (node
// --jitless here; iOS Lockdown Mode and browsers' JIT-less security modes
// alike) or cannot reserve a WebAssembly memory (ulimit -v). Asked for
// 'wasm', they fail as asked. Each case runs the built package (dist/) in a
// process of its own.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/servers.js';

const LIBRARY = pathToFileURL(join(ROOT, 'dist', 'index.node.js')).href;

/** Runs `body` (ESM, with the library's exports in scope) in a new Node
 *  process with `flags`, under `ulimit -v` of `addressSpaceKb` if given;
 *  returns what it printed. */
function run(body: string, flags: string[] = [], addressSpaceKb?: number): { out: string; err: string; status: number | null } {
  const script = `import { createCache, createCacheSync, loadModule } from ${JSON.stringify(LIBRARY)};\n${body}`;
  const argv = [process.execPath, ...flags, '--input-type=module', '-e', script];
  if (addressSpaceKb !== undefined) argv.unshift('/bin/sh', '-c', `ulimit -v ${addressSpaceKb} && exec "$0" "$@"`);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

const USE = `
const a = await createCache();
a.set('k', 'v1');
const b = createCacheSync();
b.set('k', 'v2');
console.log(a.engine, a.getString('k'), b.engine, b.getString('k'));
`;

describe('the library without WebAssembly', () => {
  it('node --jitless: createCache() and createCacheSync() run on the js build', () => {
    const r = run(USE, ['--jitless']);
    expect(r.err).not.toMatch(/Error/);
    expect(r.out.trim()).toBe('js v1 js v2');
  });

  it('node --jitless: engine \'wasm\' asked for fails, naming WebAssembly', () => {
    const r = run(`try { await createCache({ engine: 'wasm' }); console.log('made'); } catch (e) { console.log(e.name, e.message); }`, ['--jitless']);
    expect(r.out).toMatch(/WebAssembly is not defined/);
  });

  it('ulimit -v 3.5 GB: no room for a WebAssembly memory, so the js build; with engine \'wasm\', the RangeError', () => {
    const r = run(`
const a = await createCache();
a.set('k', 'v1');
const m = await loadModule();
const b = createCacheSync({ module: m });
b.set('k', 'v2');
console.log(a.engine, a.getString('k'), b.engine, b.getString('k'));
try { createCacheSync({ module: m, engine: 'wasm' }); console.log('made'); } catch (e) { console.log(e.name); }`, [], 3_500_000);
    expect(r.err).not.toMatch(/Error/);
    expect(r.out.trim().split('\n')).toEqual(['js v1 js v2', 'RangeError']);
  });
});
