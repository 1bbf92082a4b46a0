// Runs the Python client scripts in test/clients/py with Debian's python3,
// which carries the distribution's pymemcache and pylibmc packages (a python3
// earlier on PATH may lack them).
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, IN_CI, haveTool } from '../support/servers.js';

export const PYTHON = '/usr/bin/python3';
const SCRIPTS = join(ROOT, 'test', 'clients', 'py');

/** Whether python3 and the given modules import; missing under CI is an error. */
export function havePythonModules(modules: string[]): boolean {
  if (!haveTool(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  if (r.status === 0) return true;
  if (IN_CI) throw new Error(`python modules missing under CI: ${modules.join(', ')}\n${r.stderr}`);
  return false;
}

/** Runs test/clients/py/<script> and returns the JSON it printed. */
export function runPython<T = Record<string, unknown>>(script: string, args: (string | number)[],
  timeoutMs = 30_000): Promise<T> {
  const options = {
    timeout: timeoutMs,
    cwd: SCRIPTS,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, // keep the checkout free of __pycache__
  };
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [join(SCRIPTS, script), ...args.map(String)], options, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${script} ${args.join(' ')} failed (${err.signal ?? err.code}):\n${stderr}\n${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as T);
      } catch {
        reject(new Error(`${script} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}
