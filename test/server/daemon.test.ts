// -d (daemonize), -P (pid file) and MEMCACHED_PORT_FILENAME with real
// processes: the command exits 0 only once the server in the background
// listens, the server runs in its own session with stdio on /dev/null, the
// pid and port files say what memcached's say, and the pid file goes away at
// a clean stop only with -d — checked against Debian's memcached too. Every
// server listens on 127.0.0.1 on a port the OS picks (-p -1) and is stopped
// by the pid it wrote.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASMCACHED_BIN, haveTool, which, startWasmcached } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { memcachedBaseArgs } from '../support/memcached-verdict.js';

interface Finished { code: number | null; stdout: string; stderr: string }

/** Runs a command to its exit (SIGKILL by pid after 30 s); resolves on 'exit',
 *  not 'close': a daemon may keep an inherited pipe open. */
function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
  proc.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 30_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      // Let the output already written arrive.
      setTimeout(() => resolve({ code, stdout, stderr }), 50);
    });
  });
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** SIGTERM by pid, then waits (at most 10 s) until the process is gone. */
async function stopPid(pid: number): Promise<void> {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    throw new Error(`pid ${pid} did not stop within 10 s of SIGTERM`);
  }
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session. */
function procStat(pid: number): { ppid: number; session: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), session: Number(f[3]) };
}

async function version(port: number): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return (await c.request('version\r\n')).toString('latin1');
  } finally {
    c.close();
  }
}

const dirs: string[] = [];
const pids: number[] = [];
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'wasmcached-daemon-'));
  // memcached may write its files after dropping to another user.
  chmodSync(d, 0o777);
  dirs.push(d);
  return d;
}

afterEach(async () => {
  // A failed test must not leave a daemon behind.
  for (const pid of pids.splice(0)) if (alive(pid)) await stopPid(pid).catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('-d: wasmcached in the background', () => {
  it('exits 0 once the server listens; the server has its own session, stdio on /dev/null, and the pid and port files', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'mc.pid');
    const portFile = join(dir, 'ports');
    const r = await run(process.execPath, [WASMCACHED_BIN, '-d', '-p', '-1', '-P', pidFile], { MEMCACHED_PORT_FILENAME: portFile });
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    pids.push(pid);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${pid}\n`);
    const m = /^TCP INET: (\d+)\n$/.exec(readFileSync(portFile, 'utf8'));
    expect(m, readFileSync(portFile, 'utf8')).not.toBeNull();
    const port = Number(m![1]);
    expect(r.stdout).toBe(`listening on 127.0.0.1:${port}\n`);
    // Listening already when the command returned: no retry needed.
    expect(await version(port)).toBe('VERSION 1.6.18\r\n');
    expect(alive(pid)).toBe(true);
    const st = procStat(pid);
    expect(st.session).toBe(pid);
    expect(st.ppid).not.toBe(process.pid);
    for (const fd of [0, 1, 2]) expect(readlinkSync(`/proc/${pid}/fd/${fd}`)).toBe('/dev/null');
    expect(readdirSync(dir).sort()).toEqual(['mc.pid', 'ports']);
    await stopPid(pid);
    // A clean stop of a daemon removes its pid file, as memcached's does.
    expect(existsSync(pidFile)).toBe(false);
  });

  it('with -v the server keeps the command\'s stderr for its log, as memcached\'s daemon does', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'mc.pid');
    const r = await run(process.execPath, [WASMCACHED_BIN, '-d', '-vv', '-p', '-1', '-P', pidFile, '-L']);
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    pids.push(pid);
    // The -vv notes are printed once, by the command.
    expect(r.stderr.match(/-L: large memory pages are not used/g)).toHaveLength(1);
    expect(readlinkSync(`/proc/${pid}/fd/2`)).not.toBe('/dev/null');
    expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe('/dev/null');
    await stopPid(pid);
  });

  it('a server that cannot start makes the command exit with its code and reason, and leaves no process or pid file', async () => {
    const taken = await startWasmcached();
    try {
      const dir = scratch();
      const pidFile = join(dir, 'mc.pid');
      const r = await run(process.execPath, [WASMCACHED_BIN, '-d', '-p', String(taken.port), '-P', pidFile]);
      expect(r.code).toBe(71);
      expect(r.stderr).toMatch(new RegExp(`^wasmcached: failed to listen on 127\\.0\\.0\\.1:${taken.port}: .*EADDRINUSE`));
      expect(r.stdout).toBe('');
      expect(existsSync(pidFile)).toBe(false);
      // A bad command line is refused before anything starts.
      const bad = await run(process.execPath, [WASMCACHED_BIN, '-d', '-p', '-1', '-o', 'bogus']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^wasmcached: unknown -o option "bogus"/);
    } finally {
      await taken.stop();
    }
  });

  it('the shutdown command (-A) stops a daemon cleanly: its pid file goes too', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'mc.pid');
    const portFile = join(dir, 'ports');
    const r = await run(process.execPath, [WASMCACHED_BIN, '-d', '-A', '-p', '-1', '-P', pidFile], { MEMCACHED_PORT_FILENAME: portFile });
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    pids.push(pid);
    const port = Number(/TCP INET: (\d+)/.exec(readFileSync(portFile, 'utf8'))![1]);
    const c = await RawClient.connect(port);
    await c.send('shutdown\r\n');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    c.close();
    expect(alive(pid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  });
});

describe('-P without -d, and MEMCACHED_PORT_FILENAME', () => {
  it('the pid file names the server and stays after a clean stop; the port file is written whole', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'mc.pid');
    const portFile = join(dir, 'ports');
    const proc = spawn(process.execPath, [WASMCACHED_BIN, '-p', '-1', '-P', pidFile], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    });
    pids.push(proc.pid!);
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    const deadline = Date.now() + 15_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(pidFile, 'utf8')).toBe(`${proc.pid}\n`);
    const port = Number(/^TCP INET: (\d+)\n$/.exec(readFileSync(portFile, 'utf8'))![1]);
    expect(await version(port)).toBe('VERSION 1.6.18\r\n');
    // The temporary files were renamed into place.
    expect(readdirSync(dir).sort()).toEqual(['mc.pid', 'ports']);
    process.kill(proc.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${proc.pid}\n`);
  });
});

const memcachedReady = haveTool('memcached');

describe.skipIf(!memcachedReady)('the same pid and port files from memcached 1.6.18', () => {
  it('-d -P: memcached writes the same files and removes the pid file at a clean stop', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'mc.pid');
    const portFile = join(dir, 'ports');
    const r = await run(which('memcached')!, [...memcachedBaseArgs(), '-d', '-P', pidFile], { MEMCACHED_PORT_FILENAME: portFile });
    expect(r.code, r.stderr).toBe(0);
    // memcached's parent does not wait for the daemon to listen.
    const deadline = Date.now() + 10_000;
    while (!(existsSync(pidFile) && existsSync(portFile)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    pids.push(pid);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${pid}\n`);
    const port = Number(/^TCP INET: (\d+)\n$/.exec(readFileSync(portFile, 'utf8'))![1]);
    expect(await version(port)).toBe('VERSION 1.6.18\r\n');
    expect(procStat(pid).session).toBe(pid);
    await stopPid(pid);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('-P without -d: memcached leaves the pid file after a clean stop', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'mc.pid');
    const portFile = join(dir, 'ports');
    const proc = spawn(which('memcached')!, [...memcachedBaseArgs(), '-P', pidFile], {
      stdio: 'ignore', env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    });
    pids.push(proc.pid!);
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    const deadline = Date.now() + 10_000;
    while (!(existsSync(pidFile) && existsSync(portFile)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(readFileSync(pidFile, 'utf8')).toBe(`${proc.pid}\n`);
    process.kill(proc.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(pidFile)).toBe(true);
  });
});
