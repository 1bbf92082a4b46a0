// The servers the server section measures, each started as a child process
// on 127.0.0.1 with an OS-chosen port, optionally pinned to one CPU, and
// stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  alive(): boolean;
  /** how it ended, if it has, plus the tail of its output */
  describeExit(): string;
  /** SIGTERM by PID, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export interface Contender {
  /** as printed in the tables and the JSON */
  readonly name: string;
  /** false: stores nothing, so there is nothing to prefill */
  readonly stores: boolean;
  start(): Promise<ServerProcess>;
}

/** Absolute path of a tool on PATH, or null. */
export function which(tool: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : null;
}

/** `taskset -c <cpu>` in front of a command when taskset exists (it execs, so the PID stays the server's). */
export function pinned(cpu: number | null, argv: string[]): string[] {
  return cpu !== null && which('taskset') ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

const OUTPUT_KEPT = 4096;
/** -c for every contender: room for the host memory section's 16,000 idle
 *  connections (memcached allocates nothing per allowed connection). Each
 *  process needs as many descriptors: `ulimit -n` must allow them. */
export const CONN_LIMIT = '17000';

function track(proc: ChildProcess, port: number, output: () => string): ServerProcess {
  const exited = new Promise<void>((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) res();
    else proc.once('exit', () => res());
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    pid: proc.pid!,
    port,
    alive,
    describeExit: () => (alive() ? 'running' : `exited (${proc.exitCode ?? proc.signalCode})`) + (output() ? `: ${output().trim().slice(-300)}` : ''),
    async stop() {
      if (!alive()) return;
      try { process.kill(proc.pid!, 'SIGTERM'); } catch { /* already gone */ }
      const t = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

function collect(proc: ChildProcess): () => string {
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-OUTPUT_KEPT); };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return () => out;
}

/** Spawns argv and waits for `listening on <host>:<port>` on its stdout. */
export async function startListening(argv: string[], what: string): Promise<ServerProcess> {
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(proc);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not report a port within 15 s: ${output()}`)), 15000);
      const onData = () => {
        const m = /listening on \S*:(\d+)\s*$/m.exec(output());
        if (m) { clearTimeout(timer); proc.stdout!.off('data', onData); resolve(Number(m[1])); }
      };
      proc.stdout!.on('data', onData);
      proc.once('error', (e) => { clearTimeout(timer); reject(e); });
      proc.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`${what} exited (${code ?? sig}) before listening: ${output()}`)); });
    });
    return track(proc, port, output);
  } catch (e) {
    if (proc.pid && proc.exitCode === null) try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
    throw e;
  }
}

/** memcached on an OS-chosen port: `-p -1` plus MEMCACHED_PORT_FILENAME makes it write `TCP INET: <port>`. */
export async function startMemcached(bin: string, args: string[], cpu: number | null): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'mc-bench-'));
  const portFile = join(dir, 'port');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const argv = pinned(cpu, [bin, '-p', '-1', '-U', '0', '-l', '127.0.0.1', ...(asRoot ? ['-u', 'root'] : []), ...args]);
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile } });
  const output = collect(proc);
  try {
    const deadline = Date.now() + 10000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`memcached exited (${proc.exitCode ?? proc.signalCode}): ${output()}`);
      if (Date.now() > deadline) throw new Error('memcached did not write its port file within 10 s');
      try {
        const m = /TCP INET: (\d+)/.exec(readFileSync(portFile, 'utf8'));
        if (m) return track(proc, Number(m[1]), output);
      } catch { /* not written yet */ }
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (e) {
    if (proc.pid && proc.exitCode === null) try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * memcached-njs ships no dist/ (its `main`), so its server class is loaded from
 * src/. Its `port` option goes straight to `server.listen`, which also takes
 * an options object: that is how it is bound to 127.0.0.1 and port 0. Its
 * default logger prints a line per get, so it gets a silent one, as a test
 * suite embedding it would.
 */
function memcachedNjsScript(root: string): string | null {
  let entry: string;
  try {
    entry = createRequire(join(root, 'package.json')).resolve('memcached-njs/src/lib/memcached-server.js');
  } catch {
    return null;
  }
  return [
    `const MemcacheServer = require(${JSON.stringify(entry)});`,
    'const quiet = { debug() {}, info() {}, warn() {}, error() {} };',
    "new MemcacheServer({ port: { port: 0, host: '127.0.0.1' }, logger: quiet }).startup()",
    "  .then((s) => process.stdout.write('listening on 127.0.0.1:' + s._port + '\\n'));",
  ].join('\n');
}

export interface ContenderOptions {
  /** repository root */
  root: string;
  /** the bundled null-server.js */
  nullServer: string;
  /** CPU the servers are pinned to, or null */
  cpu: number | null;
  /** -m for the servers that take one */
  memoryMb: number;
}

/** Every contender this machine can run, and why the others are missing. */
export function contenders(o: ContenderOptions): { list: Contender[]; missing: string[] } {
  const node = process.execPath;
  const wasmcached = join(o.root, 'bin', 'wasmcached.js');
  const list: Contender[] = [];
  const missing: string[] = [];
  for (const engine of ['wasm', 'js']) {
    list.push({
      name: `wasmcached (${engine})`,
      stores: true,
      start: () => startListening(pinned(o.cpu, [node, wasmcached, '-p', '0', '--engine', engine, '-m', String(o.memoryMb), '-c', CONN_LIMIT]), `wasmcached --engine ${engine}`),
    });
  }
  // What serving sockets on their libuv handles (the default host) saves over node:net's Socket.
  list.push({
    name: 'wasmcached (wasm, node-net)',
    stores: true,
    start: () => startListening(pinned(o.cpu, [node, wasmcached, '-p', '0', '--host', 'node-net', '-m', String(o.memoryMb), '-c', CONN_LIMIT]), 'wasmcached --host node-net'),
  });
  const mc = which('memcached');
  if (mc) list.push({ name: 'memcached -t 1', stores: true, start: () => startMemcached(mc, ['-t', '1', '-m', String(o.memoryMb), '-c', CONN_LIMIT], o.cpu) });
  else missing.push('memcached is not installed (apt-get install -y memcached): no memcached column, no ratios');
  const njs = memcachedNjsScript(o.root);
  if (njs) list.push({ name: 'memcached-njs', stores: true, start: () => startListening(pinned(o.cpu, [node, '-e', njs]), 'memcached-njs') });
  else missing.push('memcached-njs is not installed (npm devDependency)');
  list.push({ name: 'Node do-nothing', stores: false, start: () => startListening(pinned(o.cpu, [node, o.nullServer]), 'null server') });
  return { list, missing };
}
