// The wasmcached command: exit codes and messages for bad command lines, -h,
// -V, the `listening on` line, serving on a unix socket, and a clean exit on
// SIGTERM. Runs the real bin/wasmcached.js. The unix-socket and SIGTERM tests
// also run against memcached (TEST_TARGET=memcached); the rest is about our
// own command line.
import { describe, it, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASMCACHED_BIN, which, startWasmcached } from '../support/servers.js';

const AGAINST_MEMCACHED = process.env.TEST_TARGET === 'memcached';
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs the CLI to completion (killed by PID after 20 s). */
function runCli(args: string[]): Promise<Finished> {
  const proc = spawn(process.execPath, [WASMCACHED_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return finish(proc, 20_000);
}

function finish(proc: ChildProcess, timeoutMs: number): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
  proc.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    proc.once('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** Starts a long-running server and resolves once `ready(stdout)` holds. */
async function startServer(bin: string, args: string[], ready: (out: string) => boolean): Promise<{ proc: ChildProcess; out: () => string; done: Promise<Finished> }> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const done = finish(proc, 60_000);
  const deadline = Date.now() + 15_000;
  while (!ready(out)) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`server exited early: ${out}`);
    if (Date.now() > deadline) { process.kill(proc.pid!, 'SIGKILL'); throw new Error(`server not ready: ${out}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, out: () => out, done };
}

/** Sends `request` on a fresh connection (TCP port or unix path) and returns the reply through `until`. */
function ask(where: { port: number } | { path: string }, request: string, until = '\r\n'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = 'path' in where ? connect(where.path) : connect({ port: where.port, host: '127.0.0.1' });
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no reply; got ${JSON.stringify(got)}`)); }, 10_000);
    s.on('connect', () => s.write(request));
    s.on('data', (b: Buffer) => {
      got += b.toString('latin1');
      if (got.includes(until)) { clearTimeout(timer); s.destroy(); resolve(got); }
    });
    s.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

const HINT = "Run 'wasmcached -h' for the list of options.\n";

describe.skipIf(AGAINST_MEMCACHED)('command line of wasmcached', () => {
  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['-p', 'x'], '-p "x": expected an integer'],
    [['-m', '0'], '-m 0: memory limit must be at least 1 MB'],
    [['-m', '2', '-I', '2m'], 'cannot set item size limit higher than 1/2 of memory max (-I 2m with -m 2)'],
    [['-I', '500'], '-I 500: item max size cannot be less than 1024 bytes'],
    [['-U', '70000'], '-U 70000: UDP port must be from 1 to 65535, 0 (off) or -1 (any free port)'],
    [['-o', 'idle_timeout=1,bogus'], 'unknown -o option "bogus" (see wasmcached -h)'],
    [['-B', 'http'], '-B "http": invalid value for binding protocol (should be one of auto, binary, or ascii)'],
    [['--engine', 'asm'], '--engine "asm": unknown engine (expected wasm or js)'],
    [['-f', '1'], '-f 1: factor must be greater than 1 (at least 1.01)'],
    [['--warm-from', 'localhost'], '--warm-from "localhost": expected HOST:PORT such as 10.0.0.5:11211'],
  ])('%j exits 2 with one message and a hint', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`wasmcached: ${message}\n${HINT}`);
    expect(r.stdout).toBe('');
  });

  it('-h prints the usage and exits 0', async () => {
    const r = await runCli(['-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wasmcached 0\.1\.0 /);
    expect(r.stdout).toContain('-p, --port=<num>');
    expect(r.stdout).toContain('-I, --max-item-size=<size>');
    expect(r.stderr).toBe('');
  });

  it('-i prints the license and exits 0', async () => {
    const r = await runCli(['-i']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('wasmcached 0.1.0 (memcached 1.6.18 protocols)\nLicense: BSD-3-Clause (the BSD 3-Clause license).\n');
  });

  it('-m above 3072 serves 3072 MB and says why once, at every verbosity (memcached\'s tests ask for -m 4098)', async () => {
    const s = await startWasmcached(['-m', '4098']);
    try {
      expect(s.output()).toMatch(/^wasmcached: -m 4098: item memory is limited to 3072 MB, using that \(the engine is 32-bit WebAssembly: 4 GiB of memory in all/m);
      const stats = await ask({ port: s.port }, 'stats\r\n', 'END\r\n');
      expect(stats).toMatch(/\r\nSTAT limit_maxbytes 3221225472\r\n/);
      expect(stats).toMatch(/\r\nSTAT pointer_size 32\r\n/);
    } finally {
      await s.stop();
    }
  });

  it('flags that change nothing here say so at -vv, and only there', async () => {
    const quiet = await startWasmcached(['-r', '-k', '-L', '-o', 'hot_lru_pct=10']);
    const loud = await startWasmcached(['-vv', '-r', '-k', '-L', '-o', 'hot_lru_pct=10']);
    try {
      expect(quiet.output()).not.toMatch(/wasmcached:/);
      for (const line of [/^wasmcached: -r: core dumps keep the limit the shell set/m, /^wasmcached: -k: memory is not locked into RAM/m,
        /^wasmcached: -L: large memory pages are not used/m, /^wasmcached: -o hot_lru_pct: no effect: the LRU is one list per class/m]) {
        expect(loud.output()).toMatch(line);
      }
    } finally {
      await Promise.all([quiet.stop(), loud.stop()]);
    }
  });

  it('-V prints the version and exits 0', async () => {
    for (const flag of ['-V', '--version']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('wasmcached 0.1.0 (memcached 1.6.18 protocols)\n');
    }
  });

  it('-p 0 prints exactly one listening line with the chosen port, and serves on it', async () => {
    for (const portArgs of [['-p', '0'], ['-p0'], ['--port=0']]) {
      const s = await startServer(process.execPath, [WASMCACHED_BIN, ...portArgs], (o) => o.includes('\n'));
      try {
        const m = /^listening on 127\.0\.0\.1:(\d+)\n$/.exec(s.out());
        expect(m, s.out()).not.toBeNull();
        const port = Number(m![1]);
        expect(port).toBeGreaterThan(0);
        expect(await ask({ port }, 'version\r\n')).toBe('VERSION 1.6.18\r\n');
      } finally {
        process.kill(s.proc.pid!, 'SIGTERM');
      }
      const r = await s.done;
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(s.out());
    }
  });

  it('a port already in use is reported and exits non-zero', async () => {
    const first = await startServer(process.execPath, [WASMCACHED_BIN, '-p', '0'], (o) => o.includes('\n'));
    try {
      const port = Number(/:(\d+)\n/.exec(first.out())![1]);
      const r = await runCli(['-p', String(port)]);
      expect(r.code).toBe(71);
      expect(r.stderr).toMatch(new RegExp(`^wasmcached: failed to listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      process.kill(first.proc.pid!, 'SIGTERM');
      await first.done;
    }
  });
});

describe('serving', () => {
  it('-s serves on a unix socket with the -a mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-sock-'));
    const path = join(dir, 'mc.sock');
    try {
      const s = AGAINST_MEMCACHED
        ? await startServer(which('memcached')!, [...(asRoot ? ['-u', 'root'] : []), '-s', path, '-a', '0700'], () => existsSync(path))
        : await startServer(process.execPath, [WASMCACHED_BIN, '-s', path, '-a', '0700'], (o) => o.includes('\n'));
      try {
        if (!AGAINST_MEMCACHED) expect(s.out()).toBe(`listening on ${path}\n`);
        expect(statSync(path).isSocket()).toBe(true);
        expect(statSync(path).mode & 0o777).toBe(0o700);
        expect(await ask({ path }, 'version\r\n')).toBe('VERSION 1.6.18\r\n');
        expect(await ask({ path }, 'set k 0 0 2\r\nhi\r\n')).toBe('STORED\r\n');
      } finally {
        process.kill(s.proc.pid!, 'SIGTERM');
      }
      expect((await s.done).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM with connections open exits 0', async () => {
    const server = await startWasmcached();
    const open = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = connect({ port: server.port, host: '127.0.0.1' });
        c.on('error', () => { /* the server goes away */ });
        open.push(c);
      }
      expect(await ask({ port: server.port }, 'version\r\n')).toBe('VERSION 1.6.18\r\n');
    } finally {
      await server.stop(); // SIGTERM by PID; SIGKILL only after 5 s
      for (const c of open) c.destroy();
    }
    expect(server.proc.signalCode).toBeNull();
    expect(server.proc.exitCode).toBe(0);
  });

  it('-vv logs connection open and close as memcached does', async () => {
    const server = await startWasmcached(['-vv']);
    try {
      expect(await ask({ port: server.port }, 'version\r\n')).toBe('VERSION 1.6.18\r\n');
      const deadline = Date.now() + 10_000;
      while (!/connection closed\./.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const opened = /^<(\d+) new auto-negotiating client connection$/m.exec(server.output());
      expect(opened, server.output()).not.toBeNull();
      expect(server.output()).toMatch(new RegExp(`^<${opened![1]} connection closed\\.$`, 'm'));
    } finally {
      await server.stop();
    }
  });

  it('the shutdown command (with -A) closes every connection and exits 0', async () => {
    const server = await startWasmcached(['-A']);
    const bystander = connect({ port: server.port, host: '127.0.0.1' });
    bystander.on('error', () => { /* the server goes away */ });
    const bystanderClosed = new Promise<void>((resolve) => bystander.once('close', () => resolve()));
    const exited = new Promise<void>((resolve) => {
      if (server.proc.exitCode !== null) resolve();
      else server.proc.once('exit', () => resolve());
    });
    try {
      await new Promise<void>((resolve) => bystander.once('connect', () => resolve()));
      expect(await ask({ port: server.port }, 'version\r\n')).toBe('VERSION 1.6.18\r\n');
      const s = connect({ port: server.port, host: '127.0.0.1' });
      s.on('error', () => { /* closed by the server */ });
      s.write('shutdown\r\n');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      await Promise.race([bystanderClosed, new Promise((r) => setTimeout(r, 5_000))]);
      s.destroy();
      expect(server.proc.exitCode).toBe(0);
      expect(bystander.destroyed).toBe(true);
    } finally {
      bystander.destroy();
      await server.stop();
    }
  });
});
