// Debian's memcached packaging starts wasmcached in place of the binary:
// /etc/memcached.conf as shipped, and the systemd unit's wrapper
// (/usr/share/memcached/scripts/systemd-memcached-wrapper) that turns that
// file into a command line. Both come with the memcached package.
//
// What is changed for the test, and only that: the wrapper's binary path
// (/usr/bin/memcached) points to wasmcached; the file's `-p 11211` becomes
// memcached's `-p -1` (any free port, read back from MEMCACHED_PORT_FILENAME:
// tests never use fixed ports) and its pid file moves to a scratch
// directory. When the tests do not run as root, the wrapper's "only root"
// check is taken out too, since that check would end it before it reads the
// file.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings, type Settings } from '../../src/settings.js';
import { WASMCACHED_BIN, haveTool } from '../support/servers.js';
import { RawClient } from '../support/client.js';

const CONF = '/etc/memcached.conf';
const WRAPPER = '/usr/share/memcached/scripts/systemd-memcached-wrapper';
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The command-line words of a memcached.conf, as Debian's scripts read it
 *  (comments dropped; lines that are not flags, such as `logfile`, skipped). */
function confFlags(text: string): string[] {
  const words: string[] = [];
  for (let line of text.split('\n')) {
    line = line.replace(/(?<!\\)#[^#]*/g, '').trim();
    if (!line.startsWith('-')) continue;
    words.push(...line.split(/\s+/));
  }
  return words;
}

/** The shipped file with the port and pid file lines replaced (and checked to be there). */
function testConf(shipped: string, pidFile: string): string {
  let ports = 0;
  let pids = 0;
  const out = shipped.split('\n').map((line) => {
    if (/^-p 11211\s*$/.test(line)) { ports++; return '-p -1'; }
    if (/^-P \S+\s*$/.test(line)) { pids++; return `-P ${pidFile}`; }
    return line;
  }).join('\n');
  expect({ ports, pids }).toEqual({ ports: 1, pids: 1 });
  return out;
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

async function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function exchange(port: number, request: string, replies = 1): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return (await c.request(request, replies)).toString('latin1');
  } finally {
    c.close();
  }
}

const ready = haveTool(CONF) && haveTool(WRAPPER) && haveTool('perl');
const dirs: string[] = [];
const pids: number[] = [];

afterEach(async () => {
  for (const pid of pids.splice(0)) {
    if (!alive(pid)) continue;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(pid), `pid ${pid} to go`).catch(() => {});
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'wasmcached-debian-'));
  dirs.push(d);
  return d;
}

describe.skipIf(!ready)('Debian\'s memcached.conf and systemd wrapper', () => {
  it('every flag of /etc/memcached.conf as shipped is accepted, and means what it says', () => {
    const words = confFlags(readFileSync(CONF, 'utf8'));
    // The shipped file: daemonize, 64 MB, port 11211, user memcache, 127.0.0.1, a pid file.
    for (const flag of ['-d', '-m', '-p', '-u', '-l', '-P']) expect(words).toContain(flag);
    const cmd = parseSettings(words);
    expect(cmd.action).toBe('run');
    const s = (cmd as { settings: Settings }).settings;
    expect(s).toMatchObject({ daemonize: true, memoryMB: 64, port: 11211, listen: '127.0.0.1', pidFile: '/var/run/memcached/memcached.pid' });
  });

  it('the wrapper reads the file and execs wasmcached, which serves and writes the pid file', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'memcached.pid');
    const portFile = join(dir, 'ports');
    const conf = join(dir, 'memcached.conf');
    writeFileSync(conf, testConf(readFileSync(CONF, 'utf8'), pidFile));
    // wasmcached in the binary's place: a launcher that execs it, so the pid stays the wrapper's.
    const launcher = join(dir, 'memcached');
    writeFileSync(launcher, `#!/bin/sh\nexec '${process.execPath}' '${WASMCACHED_BIN}' "$@"\n`);
    chmodSync(launcher, 0o755);
    let wrapper = readFileSync(WRAPPER, 'utf8');
    expect(wrapper).toContain('my $memcached = "/usr/bin/memcached";');
    wrapper = wrapper.replace('my $memcached = "/usr/bin/memcached";', `my $memcached = "${launcher}";`);
    if (!asRoot) {
      wrapper = wrapper.replace(/^if\(\$> != 0 and \$< != 0\)\n\{[^}]*\}\n/m, '');
      expect(wrapper).not.toContain('Only root wants');
    }
    const wrapperCopy = join(dir, 'systemd-memcached-wrapper');
    writeFileSync(wrapperCopy, wrapper);

    const proc = spawn('perl', [wrapperCopy, conf], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    });
    pids.push(proc.pid!);
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    await waitFor(() => existsSync(portFile) && existsSync(pidFile) || proc.exitCode !== null, 'the port and pid files');
    expect(proc.exitCode, out).toBeNull();
    // The wrapper drops -d (systemd runs the server in the foreground) and
    // execs: the pid file names the process systemd started.
    expect(readFileSync(pidFile, 'utf8')).toBe(`${proc.pid}\n`);
    const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain(WASMCACHED_BIN);
    expect(cmdline).not.toContain('-d');
    expect(cmdline.join(' ')).toContain('-m 64 -p -1 -u memcache -l 127.0.0.1');
    const port = Number(/^TCP INET: (\d+)\n$/.exec(readFileSync(portFile, 'utf8'))![1]);
    expect(await exchange(port, 'set k 0 0 2\r\nhi\r\nget k\r\n', 2)).toBe('STORED\r\nVALUE k 0 2\r\nhi\r\nEND\r\n');
    expect(await exchange(port, 'stats settings\r\n')).toMatch(/^STAT maxbytes 67108864\r\n/);
    // systemd stops the unit with SIGTERM.
    process.kill(proc.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toBe(`listening on 127.0.0.1:${port}\n`);
  });

  it('the file\'s own -d line daemonizes wasmcached, as start scripts that keep it would', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'memcached.pid');
    const portFile = join(dir, 'ports');
    const words = confFlags(testConf(readFileSync(CONF, 'utf8'), pidFile));
    expect(words[0]).toBe('-d');
    const proc = spawn(process.execPath, [WASMCACHED_BIN, ...words], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
    });
    let err = '';
    proc.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
    expect(code, err).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    pids.push(pid);
    const port = Number(/^TCP INET: (\d+)\n$/.exec(readFileSync(portFile, 'utf8'))![1]);
    expect(await exchange(port, 'version\r\n')).toBe('VERSION 1.6.18\r\n');
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !alive(pid), 'the daemon to stop');
    expect(existsSync(pidFile)).toBe(false);
  });
});
