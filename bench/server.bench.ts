// Server section: end-to-end throughput, latency and server CPU per operation
// of wasmcached (both engine builds) against memcached -t 1, the npm
// memcached-njs server and a Node.js server that stores nothing.
//
// The machine is shared and noisy, so absolute ops/s mean little: every
// contender runs in the same round, in an order rotated each round, and the
// figures quoted are medians of per-round ratios. The server is pinned to
// CPU 0 and the load generator (bench/loadgen.ts, its own process) to CPU 1.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contenders, pinned, which, type Contender, type ServerProcess } from './contenders.js';
import type { LoadConfig, LoadResult } from './loadgen.js';
import { fmt, median, type BenchContext, type Section, type SectionResult, type Table } from './types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, '.bench');

export const SERVER_CPU = 0;
export const LOADGEN_CPU = 1;
const CONNECTIONS = 50;
const KEYS = 100_000;
const GET_RATIO = 0.9;
/** Holds both prefilled key sets (100 B and 4 KiB values) without evicting. */
const MEMORY_MB = 1024;
/** Above this share of a core the generator, not the server, may be the ceiling. */
const GENERATOR_SATURATED = 0.7;
/** Steal time or other processes' time above this share of a CPU makes a run's figures suspect. */
const STEAL_NOTICEABLE = 0.05;
const FOREIGN_NOTICEABLE = 0.1;
const MEMCACHED = 'memcached -t 1';
const WASM = 'wasmcached (wasm)';
const JS = 'wasmcached (js)';
const NULL_SERVER = 'Node do-nothing';

export interface Workload {
  id: string;
  title: string;
  valueSize: number;
  depth: number;
  keyPrefix: string;
}

const WORKLOADS: Workload[] = [
  { id: '100B', title: '100 B values, no pipelining', valueSize: 100, depth: 1, keyPrefix: 'bench:s:' },
  { id: '100B-pipelined-32', title: '100 B values, pipeline depth 32', valueSize: 100, depth: 32, keyPrefix: 'bench:s:' },
  { id: '4KiB', title: '4 KiB values, no pipelining', valueSize: 4096, depth: 1, keyPrefix: 'bench:l:' },
];

interface Plan {
  rounds: number;
  warmupMs: number;
  durationMs: number;
  workloads: Workload[];
}

function plan(quick: boolean): Plan {
  return quick
    ? { rounds: 1, warmupMs: 300, durationMs: 1500, workloads: WORKLOADS.filter((w) => w.id !== '4KiB') }
    : { rounds: 3, warmupMs: 1000, durationMs: 5000, workloads: WORKLOADS };
}

/** The generator and the do-nothing server, bundled by scripts/bench.mjs. */
export const LOADGEN_JS = join(OUT_DIR, 'loadgen.js');
const NULL_SERVER_JS = join(OUT_DIR, 'null-server.js');

export function clockTicks(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && n > 0 ? n : 100;
}

/** Runs the generator as a child process, pinned to `cpu` (null: not
 *  pinned); rejects if it fails or overruns. */
export function runLoad(loadgen: string, cfg: LoadConfig, cpu: number | null = LOADGEN_CPU): Promise<LoadResult> {
  const argv = pinned(cpu, [process.execPath, loadgen, JSON.stringify(cfg)]);
  return new Promise((resolve, reject) => {
    const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    proc.stderr.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-2000); });
    const killer = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, cfg.timeoutMs + 10000);
    proc.once('error', (e) => { clearTimeout(killer); reject(e); });
    proc.once('exit', (code, sig) => {
      clearTimeout(killer);
      try {
        if (code !== 0) throw new Error(`load generator exited (${code ?? sig}): ${err.trim().slice(-300)}`);
        resolve(JSON.parse(out) as LoadResult);
      } catch (e) {
        reject(e);
      }
    });
  });
}

export interface RunRecord {
  round: number;
  workload: Workload;
  contender: string;
  result: LoadResult;
}

/** One running contender, restarted (and prefilled again) once if it dies. */
interface Live {
  contender: Contender;
  server: ServerProcess | null;
  restarts: number;
}

export const serverSection: Section = {
  key: 'server',
  title: 'Server: end-to-end throughput and latency',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const p = plan(ctx.quick);
    const notes: string[] = [];
    const tasksetAvailable = which('taskset') !== null;
    ctx.progress('bundling the load generator');
    const loadgen = LOADGEN_JS;
    const nullServer = NULL_SERVER_JS;
    const clkTck = clockTicks();
    const { list, missing } = contenders({ root: ROOT, nullServer, cpu: tasksetAvailable ? SERVER_CPU : null, memoryMb: MEMORY_MB });
    notes.push(...missing);
    const lives: Live[] = list.map((contender) => ({ contender, server: null, restarts: 0 }));
    const records: RunRecord[] = [];
    const started = Date.now();

    const load = (port: number, serverPid: number, w: Workload, mode: 'prefill' | 'run', seed: number): Promise<LoadResult> => {
      const prefill = mode === 'prefill';
      return runLoad(loadgen, {
        port, mode, serverPid, clkTck, seed,
        connections: prefill ? 8 : CONNECTIONS,
        depth: prefill ? 64 : w.depth,
        keys: KEYS,
        keyPrefix: w.keyPrefix,
        valueSize: w.valueSize,
        getRatio: GET_RATIO,
        warmupMs: p.warmupMs,
        durationMs: p.durationMs,
        timeoutMs: prefill ? 120_000 : p.warmupMs + p.durationMs + 5000,
        // Far above what this machine can do in the run's time; only a bound.
        maxRequests: 50_000_000,
      });
    };

    /** Starts a contender and stores every key its workloads read. */
    const bringUp = async (live: Live): Promise<boolean> => {
      const name = live.contender.name;
      try {
        ctx.progress(`starting ${name}`);
        live.server = await live.contender.start();
        if (live.contender.stores) {
          for (const w of new Map(p.workloads.map((w) => [w.keyPrefix, w])).values()) {
            ctx.progress(`prefilling ${name}: ${KEYS.toLocaleString('en-US')} × ${w.valueSize} B`);
            const r = await load(live.server.port, 0, w, 'prefill', 1);
            if (r.ops < KEYS || r.bad_replies || r.failed_connections || r.timed_out) {
              throw new Error(`prefill stored ${r.ops} of ${KEYS} keys (${r.bad_replies} bad replies, ${r.failed_connections} failed connections${r.timed_out ? ', timed out' : ''}); server ${live.server.describeExit()}`);
            }
          }
        }
        return true;
      } catch (e) {
        notes.push(`${name} failed to start: ${(e as Error).message.slice(0, 300)}`);
        await live.server?.stop();
        live.server = null;
        return false;
      }
    };

    try {
      for (const live of lives) await bringUp(live);
      for (let round = 0; round < p.rounds; round++) {
        const order = lives.slice(round % lives.length).concat(lives.slice(0, round % lives.length));
        for (const w of p.workloads) {
          for (const live of order) {
            const name = live.contender.name;
            if (!live.server) continue;
            if (!live.server.alive()) {
              const exit = live.server.describeExit();
              const again = live.restarts++ === 0 && (await bringUp(live));
              notes.push(`${name} died before round ${round + 1}, ${w.title}: ${exit}; ${again ? 'restarted and prefilled again' : 'left out from here on'}`);
              if (!again) { await live.server?.stop(); live.server = null; continue; }
            }
            ctx.progress(`round ${round + 1}/${p.rounds}, ${w.title}: ${name}`);
            try {
              const result = await load(live.server!.port, live.server!.pid, w, 'run', 1000 + round);
              // A run cut short by failed connections or a stall is noted, not averaged in.
              if (!result.failed_connections && !result.timed_out) records.push({ round, workload: w, contender: name, result });
              const trouble = [
                result.bad_replies ? `${result.bad_replies} error replies` : '',
                result.failed_connections ? `${result.failed_connections} connections failed` : '',
                result.timed_out ? 'requests still unanswered at the time limit' : '',
                live.server!.alive() ? '' : `server ${live.server!.describeExit()}`,
              ].filter(Boolean);
              const left = result.failed_connections || result.timed_out ? ' (run left out)' : '';
              if (trouble.length) notes.push(`${name}, ${w.title}, round ${round + 1}: ${trouble.join('; ')}${left}`);
            } catch (e) {
              notes.push(`${name}, ${w.title}, round ${round + 1}: run failed: ${(e as Error).message.slice(0, 300)}`);
            }
          }
        }
      }
    } finally {
      ctx.progress('stopping servers');
      await Promise.all(lives.map((l) => l.server?.stop()));
    }

    return summarize(p, list.map((c) => c.name), records, notes, tasksetAvailable, (Date.now() - started) / 1000);
  },
};

interface Row {
  name: string;
  workload: string;
  value_bytes: number;
  pipeline_depth: number;
  connections: number;
  rounds: number;
  ops_per_s: number;
  ratio_vs_memcached: number | null;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  cpu_us_per_op: number;
  generator_cpu: number;
  hit_ratio: number | null;
  ops_per_s_by_round: number[];
  steal_by_round: number[];
  /** share of the pinned CPUs other processes used during each round's run */
  foreign_cpu_by_round: number[];
}

/**
 * Largest share of the server's or the generator's CPU that went to other
 * processes during the run (only meaningful when both are pinned).
 */
function foreignLoad(r: LoadResult): number {
  const onServerCpu = (r.cpu_busy[SERVER_CPU] ?? NaN) - (r.server_cpu_s >= 0 ? r.server_cpu_s / r.seconds : NaN);
  const onGeneratorCpu = (r.cpu_busy[LOADGEN_CPU] ?? NaN) - r.generator_cpu;
  const x = Math.max(onServerCpu, onGeneratorCpu);
  return Number.isFinite(x) ? Math.max(0, x) : NaN;
}

export const cpuPerOp = (r: LoadResult) => (r.server_cpu_s >= 0 && r.ops ? (r.server_cpu_s * 1e6) / r.ops : NaN);

/** Median over rounds of a / b, both taken in the same round. */
export function medianRatio<W>(records: { round: number; workload: W; contender: string; result: LoadResult }[], a: string, b: string, w: W,
  f: (r: LoadResult) => number): number {
  const ratios: number[] = [];
  for (const ra of records) {
    if (ra.contender !== a || ra.workload !== w) continue;
    const rb = records.find((x) => x.contender === b && x.workload === w && x.round === ra.round);
    if (rb && f(rb.result) > 0 && Number.isFinite(f(ra.result))) ratios.push(f(ra.result) / f(rb.result));
  }
  return ratios.length ? median(ratios) : NaN;
}

function summarize(p: Plan, names: string[], records: RunRecord[], notes: string[], taskset: boolean, seconds: number): SectionResult {
  const rows: Row[] = [];
  const tables: Table[] = [];
  const has = (name: string, w: Workload) => records.some((r) => r.contender === name && r.workload === w);
  for (const w of p.workloads) {
    const table: Table = {
      title: `${w.title}: 90% get / 10% set, ${KEYS.toLocaleString('en-US')} keys, ${CONNECTIONS} connections${p.rounds > 1 ? `, median of ${p.rounds} rounds` : ''}`,
      headers: ['server', 'ops/s', `× ${MEMCACHED}`, 'p50 ms', 'p99 ms', 'p99.9 ms', 'server CPU µs/op', 'generator CPU %', 'get hits %'],
      rows: [],
    };
    for (const name of names) {
      const mine = records.filter((r) => r.contender === name && r.workload === w).map((r) => r.result);
      if (!mine.length) continue;
      const ratio = has(MEMCACHED, w) ? medianRatio(records, name, MEMCACHED, w, (r) => r.ops_per_s) : NaN;
      const hits = mine.map((r) => r.hit_ratio).filter(Number.isFinite);
      const row: Row = {
        name,
        workload: w.id,
        value_bytes: w.valueSize,
        pipeline_depth: w.depth,
        connections: CONNECTIONS,
        rounds: mine.length,
        ops_per_s: median(mine.map((r) => r.ops_per_s)),
        ratio_vs_memcached: Number.isFinite(ratio) ? ratio : null,
        p50_ms: median(mine.map((r) => r.p50_ms)),
        p99_ms: median(mine.map((r) => r.p99_ms)),
        p999_ms: median(mine.map((r) => r.p999_ms)),
        cpu_us_per_op: median(mine.map(cpuPerOp)),
        generator_cpu: median(mine.map((r) => r.generator_cpu)),
        hit_ratio: hits.length ? median(hits) : null,
        ops_per_s_by_round: mine.map((r) => Math.round(r.ops_per_s)),
        steal_by_round: mine.map((r) => Math.round(r.steal * 1000) / 1000),
        foreign_cpu_by_round: mine.map((r) => Math.round(foreignLoad(r) * 1000) / 1000),
      };
      rows.push(row);
      table.rows.push([
        name,
        fmt(row.ops_per_s),
        row.ratio_vs_memcached === null ? '-' : fmt(row.ratio_vs_memcached),
        fmt(row.p50_ms),
        fmt(row.p99_ms),
        fmt(row.p999_ms),
        Number.isFinite(row.cpu_us_per_op) ? row.cpu_us_per_op.toFixed(1) : '-',
        (row.generator_cpu * 100).toFixed(0),
        name === NULL_SERVER || row.hit_ratio === null ? '-' : (row.hit_ratio * 100).toFixed(1),
      ]);
    }
    tables.push(table);
  }

  notes.push(...targetNotes(p, records));
  const saturated = records.filter((r) => r.result.generator_cpu > GENERATOR_SATURATED);
  if (saturated.length) {
    notes.push(`load generator above ${GENERATOR_SATURATED * 100}% of a core in ${saturated.length} run(s) (${[...new Set(saturated.map((r) => `${r.contender}, ${r.workload.title}`))].join('; ')}): there the generator may be the ceiling, not the server`);
  }
  const stolen = records.filter((r) => r.result.steal > STEAL_NOTICEABLE);
  if (stolen.length) {
    notes.push(`the hypervisor took more than ${STEAL_NOTICEABLE * 100}% of a CPU (steal time) in ${stolen.length} of ${records.length} runs, up to ${(Math.max(...stolen.map((r) => r.result.steal)) * 100).toFixed(0)}% (${stolen.map((r) => `${r.contender}, ${r.workload.id}, round ${r.round + 1}`).join('; ')})`);
  }
  const crowded = taskset ? records.filter((r) => foreignLoad(r.result) > FOREIGN_NOTICEABLE) : [];
  if (crowded.length) {
    notes.push(`other processes used more than ${FOREIGN_NOTICEABLE * 100}% of the server's or the generator's CPU in ${crowded.length} of ${records.length} runs, up to ${(Math.max(...crowded.map((r) => foreignLoad(r.result))) * 100).toFixed(0)}%: those runs' figures are depressed, and the per-round ratios less certain (per run: JSON foreign_cpu_by_round)`);
  }
  const lowHits = rows.filter((r) => r.name !== NULL_SERVER && r.hit_ratio !== null && r.hit_ratio < 0.99);
  for (const r of lowHits) notes.push(`${r.name}, ${r.workload}: only ${(r.hit_ratio! * 100).toFixed(1)}% of gets hit`);
  if (names.includes('memcached-njs')) {
    const njs = rows.find((r) => r.name === 'memcached-njs' && r.pipeline_depth === 1);
    notes.push(`memcached-njs: started from its src/ (its main points to a dist/ it does not ship), bound to 127.0.0.1 through its port option, with a silent logger (its default prints a line per get); it leaves Nagle on and writes each reply in pieces${njs ? `, so p50 without pipelining is ${fmt(njs.p50_ms)} ms (the delayed-ACK interval)` : ''}. It has no socket error handler, so a client reset kills it: the generator drains every reply before closing.`);
  }
  if (p.rounds === 1) notes.push('--quick: 1 round of 1.5 s per server and workload, 4 KiB workload skipped; figures are indicative only');
  notes.push(`${taskset ? `servers pinned to CPU ${SERVER_CPU}, load generator to CPU ${LOADGEN_CPU} (taskset)` : 'taskset not found: nothing pinned, server and generator share the CPUs'}; ${p.warmupMs / 1000} s warm-up + ${p.durationMs / 1000} s measured per run; server CPU from /proc/<pid>/stat; section took ${seconds.toFixed(0)} s`);
  return { tables, json: rows, notes };
}

/** The issue's targets for the default (wasm) engine, with the js build alongside. */
function targetNotes(p: Plan, records: RunRecord[]): string[] {
  const out: string[] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const byId = (id: string) => p.workloads.find((w) => w.id === id);
  const pipelined = byId('100B-pipelined-32');
  if (pipelined) {
    for (const name of [WASM, JS]) {
      const vsMc = medianRatio(records, name, MEMCACHED, pipelined, (r) => r.ops_per_s);
      const vsNull = medianRatio(records, name, NULL_SERVER, pipelined, (r) => r.ops_per_s);
      const parts: string[] = [];
      if (Number.isFinite(vsMc)) parts.push(`${fmt(vsMc)}× ${MEMCACHED} ops/s${name === WASM ? ` (target ≥ 3: ${verdict(vsMc >= 3)})` : ''}`);
      if (Number.isFinite(vsNull)) parts.push(`${(vsNull * 100).toFixed(0)}% of the do-nothing server${name === WASM ? ` (target ≥ 50%: ${verdict(vsNull >= 0.5)})` : ''}`);
      if (parts.length) out.push(`pipelined (depth 32), ${name}: ${parts.join(', ')}`);
    }
  }
  const plain = byId('100B');
  if (plain) {
    for (const name of [WASM, JS]) {
      const cpu = medianRatio(records, name, MEMCACHED, plain, cpuPerOp);
      const p99 = medianRatio(records, name, MEMCACHED, plain, (r) => r.p99_ms);
      const parts: string[] = [];
      if (Number.isFinite(cpu)) parts.push(`server CPU/op ${fmt(cpu)}× ${MEMCACHED}'s${name === WASM ? ` (target ≤ 1.2: ${verdict(cpu <= 1.2)})` : ''}`);
      if (Number.isFinite(p99)) parts.push(`p99 ${fmt(p99)}× ${MEMCACHED}'s${name === WASM ? ` (target: no worse, ≤ 1: ${verdict(p99 <= 1)})` : ''}`);
      if (parts.length) out.push(`no pipelining, ${name}: ${parts.join(', ')}`);
    }
    // Parsing and socket I/O alone set a floor under any Node.js server's CPU per operation.
    const floor = medianRatio(records, NULL_SERVER, MEMCACHED, plain, cpuPerOp);
    if (Number.isFinite(floor)) out.push(`no pipelining, for scale: the do-nothing Node server uses ${fmt(floor)}× ${MEMCACHED}'s CPU per operation`);
  }
  return out;
}
