// Runs one bundled bench script (.bench/<name>.js, built beside run.js by
// scripts/bench.mjs) in a fresh Node process with --expose-gc and returns the
// JSON line it prints last. Bounded in time; stopped by its PID on timeout.
import { spawn } from 'node:child_process';

export async function runChild<T>(name: string, args: (string | number)[], timeoutMs: number): Promise<T> {
  const script = new URL(`./${name}.js`, import.meta.url);
  const proc = spawn(process.execPath, ['--expose-gc', script.pathname, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  proc.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }, timeoutMs);
  const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
  clearTimeout(timer);
  if (timedOut) throw new Error(`${name} ${args.join(' ')}: no result within ${timeoutMs / 1000} s`);
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`${name} ${args.join(' ')} exited with ${code}: ${err.trim().slice(-500)}`);
  return JSON.parse(last) as T;
}
