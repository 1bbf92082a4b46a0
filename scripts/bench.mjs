// `npm run bench`: bundles bench/run.ts (with the portable-engine resolver,
// so the pure-JS build is measured from the same source) and runs it with
// --expose-gc, which the memory section needs to measure after a full GC.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { portableEsbuild } from './portable.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, '.bench');
const outfile = join(outdir, 'run.js');
// The child scripts run one measurement each in a fresh process
// (bench/child.ts); the load generator and the do-nothing server are the
// server section's separate processes (null-handle-server is run by hand,
// BENCHMARKS.md).
const entries = ['run', 'memory-child', 'pauses-child', 'embedded-child', 'hostmem-child', 'warm-child', 'loadgen', 'null-server', 'null-handle-server', 'threads-engine'];
await build({
  entryPoints: entries.map((e) => join(root, 'bench', `${e}.ts`)),
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'es2022',
  packages: 'external',
  logLevel: 'warning',
  plugins: [portableEsbuild],
});
const child = spawn(process.execPath, ['--expose-gc', outfile, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
