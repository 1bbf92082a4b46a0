// Host section (`--only host`): what the socket host costs per operation.
// wasmcached on Node.js (node:net, the default), on Bun (Bun.listen, the
// default under Bun) and memcached -t 1, 100 B values, 90% get / 10% set,
// without pipelining and at depth 32. Same method as the server section:
// server pinned to CPU 0, generator to CPU 1, contenders rotated each round,
// server CPU per operation from /proc/<pid>/stat, ratios medians of
// per-round ratios.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { pinned, startListening, startMemcached, which, type Contender, type ServerProcess } from './contenders.js';
import { clockTicks, cpuPerOp, LOADGEN_JS, medianRatio, runLoad, type RunRecord, type Workload } from './server.bench.js';
import type { LoadResult } from './loadgen.js';
import { fmt, median, type BenchContext, type Section, type SectionResult, type Table } from './types.js';
import { ROOT } from '../test/support/servers.js';

const SERVER_CPU = 0;
const CONNECTIONS = 50;
const KEYS = 100_000;
const MEMORY_MB = 256;
const MEMCACHED = 'memcached -t 1';
const NODE_HOST = 'wasmcached (node)';
const BUN_HOST = 'wasmcached (bun)';
/** The issue's target: unpipelined server CPU per operation within this factor of memcached's. */
const CPU_TARGET = 1.2;

const WORKLOADS: Workload[] = [
  { id: '100B', title: '100 B values, no pipelining', valueSize: 100, depth: 1, keyPrefix: 'bench:h:' },
  { id: '100B-pipelined-32', title: '100 B values, pipeline depth 32', valueSize: 100, depth: 32, keyPrefix: 'bench:h:' },
];

function hostContenders(cpu: number | null): { list: Contender[]; missing: string[] } {
  const wasmcached = join(ROOT, 'bin', 'wasmcached.js');
  const bun = join(ROOT, 'node_modules', '.bin', 'bun');
  const args = ['-p', '0', '-m', String(MEMORY_MB), '-c', '4096'];
  const list: Contender[] = [
    { name: NODE_HOST, stores: true, start: () => startListening(pinned(cpu, [process.execPath, wasmcached, ...args]), NODE_HOST) },
  ];
  const missing: string[] = [];
  if (existsSync(bun)) list.push({ name: BUN_HOST, stores: true, start: () => startListening(pinned(cpu, [bun, wasmcached, ...args]), BUN_HOST) });
  else missing.push('bun is not installed (the devDependency): no Bun host row');
  const mc = which('memcached');
  if (mc) list.push({ name: MEMCACHED, stores: true, start: () => startMemcached(mc, ['-t', '1', '-m', String(MEMORY_MB), '-c', '4096'], cpu) });
  else missing.push('memcached is not installed: no ratios');
  return { list, missing };
}

export const hostSection: Section = {
  key: 'host',
  title: 'Host: server CPU per operation, Node.js and Bun hosts against memcached',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const quick = ctx.quick;
    const rounds = quick ? 1 : 3;
    const warmupMs = quick ? 300 : 1000;
    const durationMs = quick ? 1500 : 4000;
    const notes: string[] = [];
    const taskset = which('taskset') !== null;
    const clkTck = clockTicks();
    const { list, missing } = hostContenders(taskset ? SERVER_CPU : null);
    notes.push(...missing);
    const started = Date.now();
    const load = (port: number, pid: number, w: Workload, mode: 'prefill' | 'run', seed: number): Promise<LoadResult> => runLoad(LOADGEN_JS, {
      port, mode, serverPid: pid, clkTck, seed,
      connections: mode === 'prefill' ? 8 : CONNECTIONS,
      depth: mode === 'prefill' ? 64 : w.depth,
      keys: KEYS, keyPrefix: w.keyPrefix, valueSize: w.valueSize, getRatio: 0.9,
      warmupMs, durationMs,
      timeoutMs: mode === 'prefill' ? 120_000 : warmupMs + durationMs + 5000,
      maxRequests: 50_000_000,
    });
    const servers = new Map<string, ServerProcess>();
    const records: RunRecord[] = [];
    try {
      for (const c of list) {
        try {
          ctx.progress(`starting and prefilling ${c.name}`);
          const s = await c.start();
          servers.set(c.name, s);
          const r = await load(s.port, 0, WORKLOADS[0], 'prefill', 1);
          if (r.ops < KEYS) throw new Error(`prefill stored ${r.ops} of ${KEYS} keys`);
        } catch (e) {
          notes.push(`${c.name} failed to start: ${(e as Error).message.slice(0, 300)}`);
          await servers.get(c.name)?.stop();
          servers.delete(c.name);
        }
      }
      const names = list.map((c) => c.name).filter((n) => servers.has(n));
      for (let round = 0; round < rounds; round++) {
        const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
        for (const w of WORKLOADS) {
          for (const name of order) {
            const s = servers.get(name)!;
            if (!s.alive()) continue;
            ctx.progress(`round ${round + 1}/${rounds}, ${w.title}: ${name}`);
            try {
              const result = await load(s.port, s.pid, w, 'run', 2000 + round);
              if (!result.failed_connections && !result.timed_out) records.push({ round, workload: w, contender: name, result });
              else notes.push(`${name}, ${w.title}, round ${round + 1}: run left out (${result.failed_connections} failed connections${result.timed_out ? ', timed out' : ''})`);
              if (result.bad_replies) notes.push(`${name}, ${w.title}, round ${round + 1}: ${result.bad_replies} error replies`);
            } catch (e) {
              notes.push(`${name}, ${w.title}, round ${round + 1}: run failed: ${(e as Error).message.slice(0, 300)}`);
            }
          }
        }
      }
    } finally {
      ctx.progress('stopping servers');
      await Promise.all([...servers.values()].map((s) => s.stop()));
    }

    const tables: Table[] = [];
    const json: Record<string, unknown>[] = [];
    for (const w of WORKLOADS) {
      const table: Table = {
        title: `host: ${w.title}, 90% get / 10% set, ${CONNECTIONS} connections${rounds > 1 ? `, median of ${rounds} rounds` : ''}`,
        headers: ['server', 'ops/s', 'server CPU µs/op', `CPU/op × ${MEMCACHED}`, 'p99 ms', 'generator CPU %'],
        rows: [],
      };
      for (const c of list) {
        const mine = records.filter((r) => r.contender === c.name && r.workload === w).map((r) => r.result);
        if (!mine.length) continue;
        const ratio = medianRatio(records, c.name, MEMCACHED, w, cpuPerOp);
        const row = {
          name: c.name, workload: w.id, pipeline_depth: w.depth, rounds: mine.length,
          ops_per_s: median(mine.map((r) => r.ops_per_s)),
          cpu_us_per_op: median(mine.map(cpuPerOp)),
          cpu_ratio_vs_memcached: Number.isFinite(ratio) ? ratio : null,
          p99_ms: median(mine.map((r) => r.p99_ms)),
          generator_cpu: median(mine.map((r) => r.generator_cpu)),
          cpu_us_per_op_by_round: mine.map((r) => Math.round(cpuPerOp(r) * 100) / 100),
        };
        json.push(row);
        table.rows.push([
          c.name, fmt(row.ops_per_s), Number.isFinite(row.cpu_us_per_op) ? row.cpu_us_per_op.toFixed(2) : '-',
          row.cpu_ratio_vs_memcached === null ? '-' : fmt(row.cpu_ratio_vs_memcached), fmt(row.p99_ms), (row.generator_cpu * 100).toFixed(0),
        ]);
      }
      tables.push(table);
    }
    const plain = WORKLOADS[0];
    for (const name of [NODE_HOST, BUN_HOST]) {
      const r = medianRatio(records, name, MEMCACHED, plain, cpuPerOp);
      if (Number.isFinite(r)) notes.push(`target: unpipelined CPU/op within ${CPU_TARGET}x memcached, ${name}: ${r <= CPU_TARGET ? 'met' : 'NOT met'} (${fmt(r)}x)`);
    }
    const bunVsNode = WORKLOADS.map((w) => [w, medianRatio(records, BUN_HOST, NODE_HOST, w, cpuPerOp)] as const).filter(([, r]) => Number.isFinite(r));
    if (bunVsNode.length) notes.push(`Bun host CPU/op over Node host's: ${bunVsNode.map(([w, r]) => `${fmt(r)}x ${w.title}`).join(', ')}`);
    notes.push(`${taskset ? `servers pinned to CPU ${SERVER_CPU}, load generator to CPU 1` : 'taskset not found: nothing pinned'}; ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s measured per run; section took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return { tables, json, notes };
  },
};
