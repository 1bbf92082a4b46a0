// Part of the warm section: the hit ratio an application sees while one node
// of a three-node pool is replaced, warm (--warm-from the old node) against
// cold. Each variant is one run of the cluster example's script
// (examples/cluster/swap.mjs --json: real wasmcached nodes behind real
// twemproxy, or pymemcache's HashClient), which stops its own processes.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, which } from '../test/support/servers.js';
import type { BenchContext, Table } from './types.js';

const SCRIPT = join(ROOT, 'examples', 'cluster', 'swap.mjs');
const PYTHON = '/usr/bin/python3';

export interface SwapPlan { keys: number; rate: number; before: number; after: number; full: boolean }

interface Window { gets: number; hits: number; misses: number; errors: number; wrong: number; ratio: number | null }
interface SwapResult {
  options: { keys: number; rate: number; after: number };
  placement: Record<string, number>;
  marks: Record<string, number>;
  warm: { state: string; copied: number } | null;
  sweep: { replaced: { keys: number; hits: number }; others: { keys: number; hits: number } };
  afterSwitch: Window;
  switchErrors: number;
  seconds: (Window & { second: number })[];
}

interface Variant { label: string; args: string[]; needs: 'nutcracker' | 'pymemcache' }

const VARIANTS: Variant[] = [
  { label: 'twemproxy, warm: switch, then copy (default)', args: ['--client', 'twemproxy'], needs: 'nutcracker' },
  { label: 'twemproxy, cold (empty node)', args: ['--client', 'twemproxy', '--cold'], needs: 'nutcracker' },
  { label: 'twemproxy, warm: copy, then switch (--warm-first)', args: ['--client', 'twemproxy', '--warm-first'], needs: 'nutcracker' },
  { label: 'twemproxy, warm, nutcracker restarted in place', args: ['--client', 'twemproxy', '--proxy-switch', 'in-place'], needs: 'nutcracker' },
  { label: 'HashClient, warm: switch, then copy', args: ['--client', 'hashclient'], needs: 'pymemcache' },
  { label: 'HashClient, cold (empty node)', args: ['--client', 'hashclient', '--cold'], needs: 'pymemcache' },
];

export function swapPlan(quick: boolean): SwapPlan {
  return quick
    ? { keys: 10_000, rate: 2000, before: 1, after: 3, full: false }
    : { keys: 100_000, rate: 2000, before: 2, after: 10, full: true };
}

/** Runs swap.mjs --json; SIGTERM (the script then stops its processes) and SIGKILL when over `timeoutMs`. */
function runSwap(args: string[], timeoutMs: number): Promise<SwapResult> {
  const proc = spawn(process.execPath, [SCRIPT, '--json', '--timeout', String(Math.ceil(timeoutMs / 1000)), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  proc.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const term = setTimeout(() => { try { process.kill(proc.pid!, 'SIGTERM'); } catch { /* gone */ } }, timeoutMs + 5000);
  const kill = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs + 15_000);
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      if (code !== 0) { reject(new Error(`swap.mjs ${args.join(' ')} exited ${code}: ${err.trim().slice(-400)}`)); return; }
      try { resolve(JSON.parse(out) as SwapResult); } catch { reject(new Error(`swap.mjs printed no JSON: ${out.slice(-300)} ${err.slice(-300)}`)); }
    });
  });
}

function available(needs: Variant['needs']): boolean {
  if (needs === 'nutcracker') return !!(which('nutcracker') ?? which('/usr/sbin/nutcracker'));
  return !!which(PYTHON);
}

export async function runNodeSwaps(ctx: BenchContext, p: SwapPlan): Promise<{ table: Table; json: unknown; notes: string[] }> {
  const notes: string[] = [];
  const runs: { label: string; result: SwapResult }[] = [];
  const variants = p.full ? VARIANTS : VARIANTS.slice(0, 2);
  for (const v of variants) {
    if (!available(v.needs)) {
      notes.push(`${v.label}: skipped, ${v.needs === 'nutcracker' ? 'nutcracker is not installed (apt-get install -y nutcracker)' : `${PYTHON} is missing`}`);
      continue;
    }
    ctx.progress(`node swap: ${v.label}, ${p.keys.toLocaleString('en-US')} keys`);
    try {
      const result = await runSwap([...v.args, '--keys', String(p.keys), '--rate', String(p.rate),
        '--before', String(p.before), '--after', String(p.after)], 120_000);
      runs.push({ label: v.label, result });
    } catch (e) {
      notes.push(`${v.label}: ${(e as Error).message.slice(0, 300)}`);
    }
  }

  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)} %`);
  const shown = Math.min(5, p.after);
  const rows = runs.map(({ label, result: r }) => {
    const perSecond = Array.from({ length: shown }, (_, s) => pct(r.seconds.find((x) => x.second === s)?.ratio));
    const gets = r.afterSwitch.gets / p.after;
    return [
      label,
      `${pct(r.sweep.replaced.hits / r.sweep.replaced.keys)} of ${r.sweep.replaced.keys.toLocaleString('en-US')}`,
      ...perSecond,
      pct(r.afterSwitch.ratio),
      String(r.switchErrors),
      String(r.marks.switched - r.marks.switching),
      r.marks.warmed === undefined ? '-' : r.marks.warmed < 0 ? 'before it' : (r.marks.warmed / 1000).toFixed(1),
      Math.round(gets).toLocaleString('en-US'),
    ];
  });
  notes.push(`node swap: three wasmcached -m 64 nodes, ${p.keys.toLocaleString('en-US')} keys of 100 B loaded through the pool, then a reader ` +
    `asking for ${p.rate} random keys per second (at most 16 in flight behind twemproxy, one at a time with HashClient) that writes each miss back ` +
    `(cache-aside); mc2 is replaced by a node started with --warm-from it (default -o warm_rate=20000) or empty, which takes mc2's name in the pool. ` +
    '"read back" is one get of every key through the pool once the copy has ended (cold: right after the switch); seconds count from the moment ' +
    'the pool has switched; the hit ratio leaves out failed reads, counted apart from the swap\'s start to a second after the switch; ' +
    '"copy ended" is when warm_state left copying, in seconds after the switch. Each row is one run of examples/cluster/swap.mjs');
  if (!p.full) notes.push('quick mode: twemproxy warm and cold only (full: also --warm-first, nutcracker restarted in place, and HashClient)');
  return {
    table: {
      title: `hit ratio while replacing one of three nodes (${p.keys.toLocaleString('en-US')} keys, reads at ${p.rate}/s)`,
      headers: ['pool, replacement', 'replaced node\'s keys read back', ...Array.from({ length: shown }, (_, s) => `${s}–${s + 1} s`),
        `0–${p.after} s`, 'failed reads', 'switch ms', 'copy ended, s', 'gets/s'],
      rows,
    },
    json: runs.map(({ label, result }) => ({ label, ...result })),
    notes,
  };
}
