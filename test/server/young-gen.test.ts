// The server keeps V8's young generation at its starting size
// (src/young-gen.ts): a burst of accepted connections used to double it
// again and again, and the RSS it grew to stayed. Read from V8's own
// report of each collection (--trace-gc-verbose: "New space, ...
// committed: N KB") on the real server, after a burst of real connections.
// The same burst against a plain node:net server that keeps its sockets
// shows that the burst is one that makes the young generation grow.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { WASMCACHED_BIN } from '../support/servers.js';

const BURST = 3000;
const AT_ONCE = 100;
/** V8's starting young generation on 64-bit Node.js 20: two 1 MiB semi-spaces. */
const STARTING_KB = 2048;

/** A do-nothing server that keeps every socket it accepts (node:net). */
const PLAIN_SERVER = `
const net = require('node:net'); const kept = [];
const s = net.createServer((c) => { kept.push(c); c.on('data', () => c.write('VERSION 0\\r\\n')); c.on('error', () => {}); });
s.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + s.address().port));`;

interface Traced { proc: ChildProcess; port: number; output: () => string }

async function startTraced(args: string[]): Promise<Traced> {
  const proc = spawn(process.execPath, ['--trace-gc-verbose', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port within 15 s:\n${out.slice(-2000)}`)), 15_000);
    const look = () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); proc.stdout!.off('data', look); resolve(Number(m[1])); }
    };
    proc.stdout!.on('data', look);
    proc.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`exited (${code ?? sig}) before listening:\n${out.slice(-2000)}`)); });
  });
  return { proc, port, output: () => out };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(proc.pid!, 'SIGKILL');
  await exited;
}

/** Opens BURST connections, AT_ONCE at a time, each asking `version` once
 *  (so that its session and reply objects exist too), and keeps them. */
async function burst(port: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < BURST && Date.now() < deadline; i += AT_ONCE) {
    await Promise.all(Array.from({ length: AT_ONCE }, () => new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      sockets.push(s);
      s.once('error', reject);
      s.once('connect', () => s.write('version\r\n'));
      s.once('data', () => resolve());
    })));
  }
  expect(sockets.length).toBe(BURST);
  return sockets;
}

/** Every young-generation size V8 reported, KB. */
function youngSizes(output: string): number[] {
  return [...output.matchAll(/New space,.*committed:\s+(\d+) KB/g)].map((m) => Number(m[1]));
}

async function youngAfterBurst(args: string[]): Promise<number[]> {
  const server = await startTraced(args);
  try {
    const sockets = await burst(server.port);
    // The collections of the burst are reported by now; give the last a moment.
    await new Promise((r) => setTimeout(r, 300));
    for (const s of sockets) s.destroy();
    return youngSizes(server.output());
  } finally {
    await stop(server.proc);
  }
}

describe('the young generation after a burst of connections', () => {
  it('grows on a plain node:net server (the burst is one that makes it grow)', async () => {
    const sizes = await youngAfterBurst(['-e', PLAIN_SERVER]);
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeGreaterThan(STARTING_KB);
  });

  it.each(['-t 1', '-t 2', '-t 4', '-t 1 --engine js'])('stays at its starting size on wasmcached %s', async (flagText) => {
    const flags = flagText.split(' ');
    const sizes = await youngAfterBurst([WASMCACHED_BIN, '-p', '0', '-l', '127.0.0.1', '-c', String(BURST + 100), ...flags]);
    // Collections did run while the burst was served: the size was seen.
    expect(sizes.length).toBeGreaterThan(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(STARTING_KB);
  });
});
