// Builds the engine (asc -> build/wasmcached.wasm), the host bundle
// (esbuild -> dist/cli.js), the library bundles and their types (dist/).
// Run by `npm run build`, and by `prepare` on npm ci.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { portableEsbuild } from './portable.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
// `shared`: the same engine on an imported shared memory, for -t N threads.
const targets = process.argv.includes('--debug') ? ['release', 'shared', 'debug'] : ['release', 'shared'];
for (const target of targets) {
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
}
const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning', plugins: [portableEsbuild] };
await build({ ...common, entryPoints: [join(root, 'src', 'cli.ts')], outfile: join(root, 'dist', 'cli.js'), platform: 'node' });
// Each -t thread past the first runs this (src/worker.ts).
await build({ ...common, entryPoints: [join(root, 'src', 'worker.ts')], outfile: join(root, 'dist', 'worker.js'), platform: 'node' });
// The library: for Node-like runtimes (the engine module read from
// build/wasmcached.wasm), for browsers and workers (the module's bytes
// inlined, no node: imports), and the in-process server.
await build({ ...common, entryPoints: [join(root, 'src', 'embed', 'node.ts')], outfile: join(root, 'dist', 'index.node.js'), platform: 'node' });
await build({
  ...common, entryPoints: [join(root, 'src', 'embed', 'browser.ts')], outfile: join(root, 'dist', 'index.browser.js'),
  platform: 'neutral', loader: { '.wasm': 'binary' }, minify: true,
});
await build({ ...common, entryPoints: [join(root, 'src', 'server-api.ts')], outfile: join(root, 'dist', 'server.js'), platform: 'node' });
// Type declarations of the public entries.
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.types.json'], { cwd: root, stdio: 'inherit' });
