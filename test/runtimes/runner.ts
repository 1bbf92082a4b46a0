// Runs the runtime scenario in another JavaScript runtime (Deno, Bun): writes
// a small runner script to a temp dir that imports the library's browser
// entry (the .wasm inlined, no node: imports, so nothing to resolve or
// download) and the scenario, then spawns the runtime and parses the JSON
// line it prints.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/servers.js';

export const BROWSER_ENTRY = join(ROOT, 'dist', 'index.browser.js');
export const SCENARIO = join(ROOT, 'test', 'runtimes', 'scenario.js');

function runnerSource(engine: 'wasm' | 'js'): string {
  return [
    `import { createCache } from ${JSON.stringify(pathToFileURL(BROWSER_ENTRY).href)};`,
    `import { runScenario } from ${JSON.stringify(pathToFileURL(SCENARIO).href)};`,
    `const r = await runScenario((o) => createCache({ ...o, engine: ${JSON.stringify(engine)} }));`,
    `console.log(JSON.stringify(r));`,
    '',
  ].join('\n');
}

/**
 * Spawns `bin` with `args(script)` and `env(dir)` in the temp dir; returns the parsed
 * JSON result; rejects on a non-zero exit, bad output, or `timeoutMs`.
 */
export async function runInRuntime(
  bin: string, args: (script: string) => string[], engine: 'wasm' | 'js', env: (dir: string) => NodeJS.ProcessEnv = () => ({}), timeoutMs = 20_000,
): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmcached-runtime-'));
  const script = join(dir, 'runner.mjs');
  writeFileSync(script, runnerSource(engine));
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const p = spawn(bin, args(script), { cwd: dir, env: { ...process.env, ...env(dir) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
      p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${bin} timed out after ${timeoutMs} ms; stderr: ${stderr}`)); }, timeoutMs);
      p.on('error', (err) => { clearTimeout(timer); reject(err); });
      p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    });
    if (code !== 0) throw new Error(`${bin} exited with ${code}; stderr: ${stderr}`);
    const line = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
