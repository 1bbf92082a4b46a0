// The pool as a client-side hash: pymemcache's HashClient in a Python
// process (hashclient.py) talks to the nodes directly. A switch is what an
// application does when its server list changes: it builds a new client with
// the replacement's address under the old node's name.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'hashclient.py');
/** Debian's python3 carries python3-pymemcache; another python3 earlier on PATH may not. */
export const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const REPLY_TIMEOUT_MS = 60_000;

/** Whether PYTHON can import pymemcache; the reason if not. */
export function pymemcacheMissing() {
  const r = spawnSync(PYTHON, ['-c', 'import pymemcache'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON}: ${r.error.message}`;
  return r.status === 0 ? null : `${PYTHON} cannot import pymemcache (apt-get install -y python3-pymemcache): ${r.stderr.trim()}`;
}

const serverSpec = (servers) => servers.map((s) => `${s.name}=${s.host}:${s.port}`).join(',');

/** `nodes`: [{ name, host, port }]; `opts`: { keys, valueBytes, rate }. */
export async function hashClientPool(nodes, opts) {
  const missing = pymemcacheMissing();
  if (missing) throw new Error(missing);
  const proc = spawn(PYTHON, [SCRIPT, '--servers', serverSpec(nodes), '--keys', String(opts.keys),
    '--value-bytes', String(opts.valueBytes), '--rate', String(opts.rate)], {
    stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  let stderr = '';
  proc.stderr.on('data', (b) => { stderr += b; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const waiting = [];
  createInterface({ input: proc.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  exited.then((code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`hashclient.py exited (${code}):\n${stderr}`));
  });

  /** Sends one command and resolves to its reply line. */
  function call(cmd) {
    return new Promise((resolve, reject) => {
      if (proc.exitCode !== null || proc.signalCode !== null) { reject(new Error(`hashclient.py is not running:\n${stderr}`)); return; }
      const timer = setTimeout(() => reject(new Error(`hashclient.py: no reply to ${cmd.cmd} within ${REPLY_TIMEOUT_MS} ms:\n${stderr}`)), REPLY_TIMEOUT_MS);
      waiting.push({
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      proc.stdin.write(JSON.stringify(cmd) + '\n');
    });
  }

  let buckets = null;
  return {
    describe: () => `pymemcache HashClient (python pid ${proc.pid}), keys placed by server name`,
    load: async () => (await call({ cmd: 'load' })).loaded,
    startReading: () => { call({ cmd: 'read' }).catch(() => {}); },
    switchTo: async (servers) => { await call({ cmd: 'swap', servers: serverSpec(servers) }); },
    sweep: async () => (await call({ cmd: 'sweep' })).missed,
    async stopReading() {
      buckets ??= (await call({ cmd: 'stop' })).buckets;
      return buckets;
    },
    /** Stops the Python process by its PID if it is still running. */
    async close() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try { process.kill(proc.pid, 'SIGTERM'); } catch { /* gone */ }
      const kill = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(kill);
    },
  };
}
