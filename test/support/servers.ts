// Starts real servers for black-box tests: wasmcached from this checkout, and
// Debian's memcached as the reference. Every server listens on 127.0.0.1 on a
// port the OS picks (never a fixed port), and is stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: two levels up from this file, or from a bundle of it (the bench's .bench/), the nearest folder holding bin/wasmcached.js. */
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let d = from, i = 0; i < 4; i++, d = dirname(d)) if (existsSync(join(d, 'bin', 'wasmcached.js'))) return d;
  return join(from, '..', '..');
}
export const WASMCACHED_BIN = join(ROOT, 'bin', 'wasmcached.js');
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
/** The Bun binary of the devDependency: the Bun host's runtime. */
export const BUN_BIN = join(ROOT, 'node_modules', '.bin', 'bun');

export interface ServerHandle {
  readonly name: string;
  readonly port: number;
  /** The UDP port (-U), 0 when UDP is off: the `UDP INET:` line of the
   *  MEMCACHED_PORT_FILENAME file, which both servers write. */
  readonly udpPort: number;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** stdout+stderr seen so far, for failure messages */
  output(): string;
  /** SIGTERM by PID, then wait for exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** Absolute path of a tool on PATH, or null. */
export function which(tool: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : null;
}

/**
 * Whether a test needing `tool` may run. Missing under CI is a hard failure
 * (tests must never skip silently there); on a developer machine the caller
 * skips with the returned reason.
 */
export function haveTool(tool: string): boolean {
  if (which(tool) || existsSync(tool)) return true;
  if (IN_CI) throw new Error(`required tool missing under CI: ${tool} (see .ci/run)`);
  return false;
}

function track(name: string, proc: ChildProcess, port: number, startup = '', udpPort = 0): ServerHandle {
  let out = startup;
  proc.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  proc.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<void>((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) res();
    else proc.once('exit', () => res());
  });
  return {
    name, port, udpPort, pid: proc.pid!, proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        try { process.kill(proc.pid!, 'SIGTERM'); } catch { /* already gone */ }
        const t = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/**
 * Starts `node bin/wasmcached.js -p 0 <args>` and waits for the line
 * `listening on 127.0.0.1:<port>` that the server prints once it is bound.
 * `runtime: 'bun'` (or TEST_HOST=bun for a whole run) starts it under Bun,
 * whose default is the Bun.listen host.
 */
/** `addressSpaceKb`: run the server under `ulimit -v` of that many KiB;
 *  `nodeFlags`: Node.js options before the script (e.g. --jitless). */
export async function startWasmcached(
  args: string[] = [],
  opts: { env?: NodeJS.ProcessEnv; runtime?: 'node' | 'bun'; addressSpaceKb?: number; nodeFlags?: string[] } = {},
): Promise<ServerHandle> {
  if (process.env.TEST_TARGET === 'memcached') return startMemcached(translateForMemcached(args));
  const dir = mkdtempSync(join(tmpdir(), 'wasmcached-'));
  const portFile = opts.env?.MEMCACHED_PORT_FILENAME ?? join(dir, 'port');
  const bun = (opts.runtime ?? process.env.TEST_HOST) === 'bun';
  // Bun runs from outside the checkout so that it reads no project config.
  const argv = [bun ? BUN_BIN : process.execPath, ...(opts.nodeFlags ?? []), WASMCACHED_BIN, '-p', '0', ...args];
  // The shell sets the limit and execs the server, which keeps its pid.
  if (opts.addressSpaceKb !== undefined) argv.unshift('/bin/sh', '-c', `ulimit -v ${opts.addressSpaceKb} && exec "$0" "$@"`);
  const proc = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile, ...opts.env }, cwd: bun ? tmpdir() : undefined,
  });
  let buf = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wasmcached did not report a port within 15 s:\n${buf}`)), 15000);
    const onData = (b: Buffer) => {
      buf += b.toString();
      // A unix socket (-s) prints its path: port 0.
      const m = /listening on (?:\S*:(\d+)|\/\S*)\s*$/m.exec(buf);
      if (m) { clearTimeout(timer); proc.stdout!.off('data', onData); resolve(Number(m[1] ?? 0)); }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (b: Buffer) => { buf += b.toString(); });
    proc.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`wasmcached exited (${code ?? sig}) before listening:\n${buf}`)); });
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  // The port file is complete before the server prints that it listens.
  const udpPort = udpPortIn(portFile);
  rmSync(dir, { recursive: true, force: true });
  // What the server printed before listening (a snapshot's load line) counts too.
  proc.stderr!.removeAllListeners('data');
  return track('wasmcached', proc, port, buf, udpPort);
}

/** Our flags that memcached lacks are dropped when a test is pointed at memcached. */
function translateForMemcached(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-o' && /debug_time/.test(args[i + 1] ?? '')) { i++; continue; }
    out.push(args[i]);
  }
  return out;
}

/**
 * Starts Debian's memcached on an OS-chosen port: `-p -1` plus
 * MEMCACHED_PORT_FILENAME makes it write `TCP INET: <port>` to a file.
 */
export async function startMemcached(args: string[] = [], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ServerHandle> {
  const bin = which('memcached');
  if (!bin) throw new Error('memcached is not installed (apt-get install -y memcached)');
  const dir = mkdtempSync(join(tmpdir(), 'mc-'));
  const portFile = join(dir, 'port');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const proc = spawn(bin, ['-p', '-1', '-U', '0', '-l', '127.0.0.1', ...(asRoot ? ['-u', 'root'] : []), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env, MEMCACHED_PORT_FILENAME: portFile },
  });
  const deadline = Date.now() + 10000;
  let port = 0;
  let udpPort = 0;
  while (!port) {
    if (proc.exitCode !== null) throw new Error(`memcached exited with ${proc.exitCode}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error('memcached did not write its port file'); }
    try {
      const text = readFileSync(portFile, 'utf8');
      const m = /TCP INET: (\d+)/.exec(text);
      if (m) port = Number(m[1]);
      udpPort = Number(/UDP INET: (\d+)/.exec(text)?.[1] ?? 0);
    } catch { /* not written yet */ }
    if (!port) await new Promise((r) => setTimeout(r, 20));
  }
  rmSync(dir, { recursive: true, force: true });
  return track('memcached', proc, port, '', udpPort);
}

/** The `UDP INET:` port of a port file, 0 when it has none or is missing. */
function udpPortIn(portFile: string): number {
  try {
    return Number(/UDP INET: (\d+)/.exec(readFileSync(portFile, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
