// Replacing a node of a three-node pool while an application reads: runs the
// example's script (examples/cluster/swap.mjs) with real wasmcached nodes,
// real twemproxy (nutcracker, ketama over the servers' names) and real
// pymemcache HashClient, once with the replacement started with --warm-from
// the old node and once cold, and compares what the application saw. The
// script prints its figures as JSON; each run takes a few seconds.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, haveTool, which } from '../support/servers.js';
import { havePythonModules } from '../clients/python.js';

const SCRIPT = join(ROOT, 'examples', 'cluster', 'swap.mjs');
const KEYS = 6000;
// Debian installs it in /usr/sbin, which a non-root PATH may lack.
const NUTCRACKER = which('nutcracker') ?? '/usr/sbin/nutcracker';

interface Window { gets: number; hits: number; misses: number; errors: number; wrong: number; ratio: number | null }
interface SwapResult {
  loaded: number;
  placement: Record<string, number>;
  warm: { state: string; copied: number } | null;
  sweep: { replaced: { keys: number; hits: number }; others: { keys: number; hits: number } };
  beforeSwap: Window;
  firstSecond: Window;
  afterCopy: Window;
  afterSwitch: Window;
  switchErrors: number;
  seconds: (Window & { second: number })[];
}

const running = new Set<ChildProcess>();

afterEach(async () => {
  // A script still running (a failed assertion timed out) stops its own processes on SIGTERM.
  for (const proc of running) {
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(proc.pid!, 'SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  }
  running.clear();
});

/** Runs swap.mjs --json with `args`; resolves to its result. */
function swap(args: string[]): Promise<SwapResult> {
  const proc = spawn(process.execPath, [SCRIPT, '--json', '--keys', String(KEYS), '--rate', '1500',
    '--before', '1', '--after', '2', '--timeout', '50', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b) => { out += b; });
  proc.stderr!.on('data', (b) => { err += b; });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      running.delete(proc);
      if (code !== 0) { reject(new Error(`swap.mjs ${args.join(' ')} exited ${code}:\n${err}\n${out}`)); return; }
      try { resolve(JSON.parse(out) as SwapResult); } catch { reject(new Error(`swap.mjs printed no JSON:\n${out}\n${err}`)); }
    });
  });
}

const share = (x: { keys: number; hits: number }) => x.hits / x.keys;

/** What must hold of any swap, warm or cold. */
function checkCommon(r: SwapResult): void {
  expect(r.loaded).toBe(KEYS);
  const counts = Object.values(r.placement);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(KEYS);
  for (const n of counts) expect(n).toBeGreaterThan(KEYS * 0.15);
  // The pool places keys by name: the other two nodes' keys are all still found.
  expect(r.sweep.others.hits).toBe(r.sweep.others.keys);
  expect(r.sweep.replaced.keys + r.sweep.others.keys).toBe(KEYS);
  expect(r.beforeSwap.ratio!).toBeGreaterThanOrEqual(0.99);
  // Enough reads after the switch to measure, served (not failing), and never a wrong value.
  expect(r.firstSecond.gets).toBeGreaterThanOrEqual(100);
  expect(r.afterSwitch.hits + r.afterSwitch.misses).toBeGreaterThan(r.afterSwitch.gets * 0.9);
  for (const s of r.seconds) expect(s.wrong).toBe(0);
}

/** Warm keeps the replaced node's keys and the hit ratio; cold loses both. */
function compare(warm: SwapResult, cold: SwapResult): void {
  checkCommon(warm);
  checkCommon(cold);
  expect(warm.warm?.state).toBe('done');
  expect(share(warm.sweep.replaced)).toBeGreaterThanOrEqual(0.99);
  // Cold: only the keys the reader happened to miss and write back are there.
  expect(share(cold.sweep.replaced)).toBeLessThanOrEqual(0.4);
  // The pool switches before the copy ends, so reads of keys not copied yet
  // miss in the first second (how many depends on the machine's speed); once
  // the copy is over, everything hits. A cold node's third of the keys miss.
  expect(warm.firstSecond.ratio! - cold.firstSecond.ratio!).toBeGreaterThanOrEqual(0.05);
  expect(warm.firstSecond.ratio!).toBeGreaterThanOrEqual(0.75);
  expect(warm.afterCopy.gets).toBeGreaterThanOrEqual(100);
  expect(warm.afterCopy.ratio!).toBeGreaterThanOrEqual(0.98);
  expect(cold.afterCopy.ratio!).toBeLessThanOrEqual(0.8);
}

describe.skipIf(!haveTool(NUTCRACKER))('node swap behind twemproxy', () => {
  it('--warm-from keeps the replaced node\'s keys and the hit ratio; a cold node loses a third', async () => {
    const warm = await swap(['--client', 'twemproxy']);
    const cold = await swap(['--client', 'twemproxy', '--cold']);
    compare(warm, cold);
  }, 60_000);
});

describe.skipIf(!havePythonModules(['pymemcache']))('node swap with pymemcache HashClient', () => {
  it('--warm-from keeps the replaced node\'s keys and the hit ratio; a cold node loses a third', async () => {
    const warm = await swap(['--client', 'hashclient']);
    const cold = await swap(['--client', 'hashclient', '--cold']);
    compare(warm, cold);
    // No proxy to restart: no read fails.
    expect(warm.switchErrors + cold.switchErrors).toBe(0);
  }, 60_000);
});
