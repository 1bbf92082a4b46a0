// Builds the engine (asc -> build/wasmcached.wasm) and the host bundle
// (esbuild -> dist/cli.js). Run by `npm run build`, and by `prepare` on npm ci.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { portableEsbuild } from './portable.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const targets = process.argv.includes('--debug') ? ['release', 'debug'] : ['release'];
for (const target of targets) {
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
}
await build({
  entryPoints: [join(root, 'src', 'cli.ts')],
  outfile: join(root, 'dist', 'cli.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [portableEsbuild],
});
