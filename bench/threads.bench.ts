// Threads section (-t): throughput and CPU per operation of wasmcached -t 1
// and -t 2 (each engine build) against memcached -t 1, -t 2 and -t 4, without and with
// pipelining, plus an in-process figure of the engine alone: ops/s of 2
// threads executing on one arena against 1.
//
// Nothing is pinned: as in the issue, the server and the generator share
// the machine's cores, so the generator's own CPU is part of the picture
// and is reported beside each figure, with what other processes took. The
// machine is shared and noisy: every contender runs in every round, in an
// order rotated each round, and ratios are medians of per-round ratios.
//
// Generators: memcaslap (libmemcached-tools; what the issue measured with)
// and bench/loadgen.ts (one Node process) at depth 1 and depth 32.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startListening, startMemcached, which, type ServerProcess } from './contenders.js';
import { runChild } from './child.js';
import { runLoad as runLoadgen } from './server.bench.js';
import type { LoadConfig, LoadResult } from './loadgen.js';
import { fmt, median, type BenchContext, type Section, type SectionResult, type Table } from './types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOADGEN_JS = join(ROOT, '.bench', 'loadgen.js');

const MEMORY_MB = 1024;
const CONNECTIONS = 50;
const VALUE_BYTES = 100;
const GET_RATIO = 0.9;
const KEY_PREFIX = 'bench:t:';
/** The issue's memcaslap command line, less the server and the time. */
const MEMCASLAP_ARGS = ['-T', '2', '-c', '64', '-X', String(VALUE_BYTES)];

const WC1 = 'wasmcached -t 1';
const WC2 = 'wasmcached -t 2';
/** The js build, its threads on one SharedArrayBuffer. */
const WCJ1 = 'wasmcached js -t 1';
const WCJ2 = 'wasmcached js -t 2';
const MC1 = 'memcached -t 1';
const MC2 = 'memcached -t 2';
const MC4 = 'memcached -t 4';

interface Contender {
  name: string;
  start(): Promise<ServerProcess>;
}

interface Workload {
  id: string;
  title: string;
  generator: 'memcaslap' | 'loadgen';
  depth: number;
}

const WORKLOADS: Workload[] = [
  { id: 'memcaslap', title: `no pipelining, memcaslap ${MEMCASLAP_ARGS.join(' ')} (90% get)`, generator: 'memcaslap', depth: 1 },
  { id: 'loadgen-1', title: `no pipelining, bench/loadgen.ts, ${CONNECTIONS} connections, 90% get`, generator: 'loadgen', depth: 1 },
  { id: 'loadgen-32', title: `pipeline depth 32, bench/loadgen.ts, ${CONNECTIONS} connections, 90% get`, generator: 'loadgen', depth: 32 },
];

interface Plan {
  /** keys prefilled for bench/loadgen.ts */
  keys: number;
  rounds: number;
  warmupMs: number;
  durationMs: number;
  memcaslapSeconds: number;
  engineSeconds: number;
  engineRounds: number;
  workloads: Workload[];
}

function plan(quick: boolean): Plan {
  // --quick leaves out bench/loadgen.ts at depth 1 (memcaslap covers no
  // pipelining): each of its runs spends seconds building its request ring.
  return quick
    ? { keys: 20_000, rounds: 1, warmupMs: 200, durationMs: 1000, memcaslapSeconds: 1, engineSeconds: 0.4, engineRounds: 1, workloads: WORKLOADS.filter((w) => w.id !== 'loadgen-1') }
    : { keys: 100_000, rounds: 4, warmupMs: 1000, durationMs: 4000, memcaslapSeconds: 5, engineSeconds: 1.5, engineRounds: 5, workloads: WORKLOADS };
}

/** One timed run against one server. */
interface Sample {
  ops: number;
  seconds: number;
  ops_per_s: number;
  /** server user+system CPU seconds over the run (all its threads) */
  server_cpu_s: number;
  /** the generator's CPU over wall time (1 = one core) */
  generator_cpu: number;
  /** CPU busy time of everything else on the machine over wall time (cores) */
  others_cpu: number;
  p99_ms: number;
  /** misses on gets of keys the generator stored (should be 0) */
  misses: number;
  bad_replies: number;
}

function clockTicks(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && n > 0 ? n : 100;
}

/** utime+stime of a process (all its threads), in seconds; NaN if unreadable. */
function procCpu(pid: number, clkTck: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck;
  } catch {
    return NaN;
  }
}

/** user+nice+system seconds of all CPUs so far (as loadgen.ts counts busy time). */
function machineBusy(clkTck: number): number {
  try {
    const f = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).map(Number);
    return (f[1] + f[2] + f[3]) / clkTck;
  } catch {
    return NaN;
  }
}

/**
 * memcaslap for `seconds` against the server. It runs under a shell that
 * prints its PID (so it can be stopped by PID) and, once it has been
 * waited for, the shell's /proc stat, whose cutime/cstime are
 * memcaslap's whole CPU time.
 */
function runMemcaslap(bin: string, server: ServerProcess, seconds: number, clkTck: number): Promise<Sample> {
  const script = '"$@" & echo "started $!"; wait $!; rc=$?; echo "children $(cat /proc/$$/stat)"; exit $rc';
  const argv = [bin, '-s', `127.0.0.1:${server.port}`, ...MEMCASLAP_ARGS, '-t', `${seconds}s`];
  return new Promise((resolve, reject) => {
    const proc = spawn('sh', ['-c', script, 'sh', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let pid = 0;
    let t0 = 0;
    let server0 = NaN;
    let busy0 = NaN;
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^started (\d+)$/m.exec(out);
      if (m && !pid) {
        pid = Number(m[1]);
        t0 = performance.now();
        server0 = procCpu(server.pid, clkTck);
        busy0 = machineBusy(clkTck);
      }
    });
    proc.stderr.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-2000); });
    const killer = setTimeout(() => {
      for (const p of [pid, proc.pid]) if (p) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }, seconds * 1000 + 15000);
    proc.once('error', (e) => { clearTimeout(killer); reject(e); });
    proc.once('exit', (code, sig) => {
      clearTimeout(killer);
      const wall = (performance.now() - t0) / 1000;
      const serverCpu = procCpu(server.pid, clkTck) - server0;
      const busy = machineBusy(clkTck) - busy0;
      const tps = /Run time: ([\d.]+)s Ops: (\d+) TPS: (\d+)/.exec(out);
      const stat = /^children .*\) (.*)$/m.exec(out);
      if (code !== 0 || !tps || !stat || !pid) {
        reject(new Error(`memcaslap exited (${code ?? sig}): ${(err || out).trim().slice(-300)}`));
        return;
      }
      const f = stat[1].split(' ');
      // After "(comm) ": cutime is field 16, cstime 17.
      const generatorCpu = (Number(f[13]) + Number(f[14])) / clkTck;
      const ops = Number(tps[2]);
      resolve({
        ops,
        seconds: Number(tps[1]),
        ops_per_s: Number(tps[3]),
        server_cpu_s: serverCpu,
        generator_cpu: generatorCpu / wall,
        others_cpu: Math.max(0, (busy - serverCpu - generatorCpu) / wall),
        p99_ms: NaN,
        misses: Number(/get_misses: (\d+)/.exec(out)?.[1] ?? 0),
        bad_replies: 0,
      });
    });
  });
}

/** bench/loadgen.ts as a child process, not pinned: server and generator share both cores. */
function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  return runLoadgen(LOADGEN_JS, cfg, null);
}

function loadConfig(p: Plan, port: number, serverPid: number, clkTck: number, mode: 'prefill' | 'run', depth: number, seed: number): LoadConfig {
  const prefill = mode === 'prefill';
  return {
    port, mode, serverPid, clkTck, seed,
    connections: prefill ? 8 : CONNECTIONS,
    depth: prefill ? 64 : depth,
    keys: p.keys,
    keyPrefix: KEY_PREFIX,
    valueSize: VALUE_BYTES,
    getRatio: GET_RATIO,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
    timeoutMs: prefill ? 120_000 : p.warmupMs + p.durationMs + 5000,
    // Far above what this machine can do in the run's time; only a bound.
    maxRequests: 50_000_000,
  };
}

function fromLoadgen(r: LoadResult): Sample {
  const busy = r.cpu_busy.reduce((a, b) => a + b, 0);
  const server = r.server_cpu_s >= 0 ? r.server_cpu_s / r.seconds : NaN;
  return {
    ops: r.ops,
    seconds: r.seconds,
    ops_per_s: r.ops_per_s,
    server_cpu_s: r.server_cpu_s >= 0 ? r.server_cpu_s : NaN,
    generator_cpu: r.generator_cpu,
    others_cpu: r.cpu_busy.length ? Math.max(0, busy - server - r.generator_cpu) : NaN,
    p99_ms: r.p99_ms,
    misses: Number.isFinite(r.hit_ratio) ? Math.round((1 - r.hit_ratio) * r.ops * GET_RATIO) : 0,
    bad_replies: r.bad_replies,
  };
}

interface RunRecord {
  round: number;
  workload: string;
  contender: string;
  sample: Sample;
}

interface EngineFigures {
  seconds: number;
  rounds: number;
  plain_1: EngineConfig;
  shared_1: EngineConfig;
  shared_2: EngineConfig;
  two_over_one: number;
  two_over_one_per_cpu_s: number;
  shared_over_plain: number;
}

interface EngineConfig {
  ops_per_s: number;
  ops_per_cpu_s: number;
  cpu_cores: number;
  waits_per_call: number;
  wait_share: number;
  held_share: number;
  bad: number;
  ops_per_s_by_round: number[];
}

function contenderList(notes: string[]): Contender[] {
  const wasmcached = join(ROOT, 'bin', 'wasmcached.js');
  const list: Contender[] = [];
  for (const engine of ['wasm', 'js']) {
    for (const t of [1, 2]) {
      const name = engine === 'wasm' ? `wasmcached -t ${t}` : `wasmcached js -t ${t}`;
      list.push({
        name,
        start: () => startListening([process.execPath, wasmcached, '-p', '0', '-l', '127.0.0.1', '-t', String(t), '--engine', engine,
          '-m', String(MEMORY_MB), '-c', '4096'], name),
      });
    }
  }
  const mc = which('memcached');
  if (mc) {
    for (const t of [1, 2, 4]) list.push({ name: `memcached -t ${t}`, start: () => startMemcached(mc, ['-t', String(t), '-m', String(MEMORY_MB), '-c', '4096'], null) });
  } else {
    notes.push('memcached is not installed (apt-get install -y memcached): no memcached rows, no ratios against it');
  }
  return list;
}

const cpuPerOp = (s: Sample) => (Number.isFinite(s.server_cpu_s) && s.ops ? (s.server_cpu_s * 1e6) / s.ops : NaN);
const opsPerS = (s: Sample) => s.ops_per_s;

/** Median over rounds of f(a) / f(b), both taken in the same round. */
function medianRatio(records: RunRecord[], a: string, b: string, w: string, f: (s: Sample) => number): number {
  const ratios: number[] = [];
  for (const ra of records) {
    if (ra.contender !== a || ra.workload !== w) continue;
    const rb = records.find((x) => x.contender === b && x.workload === w && x.round === ra.round);
    if (rb && f(rb.sample) > 0 && Number.isFinite(f(ra.sample))) ratios.push(f(ra.sample) / f(rb.sample));
  }
  return ratios.length ? median(ratios) : NaN;
}

export const threadsSection: Section = {
  key: 'threads',
  title: 'Threads (-t): wasmcached -t 1/-t 2 (both engines) against memcached -t 1/2/4, server and generator sharing the cores',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const p = plan(ctx.quick);
    const notes: string[] = [];
    const clkTck = clockTicks();
    const started = Date.now();
    const memcaslap = which('memcaslap');
    const workloads = p.workloads.filter((w) => w.generator !== 'memcaslap' || memcaslap);
    if (!memcaslap) notes.push('memcaslap is not installed (apt-get install -y libmemcached-tools): the issue\'s generator is left out, bench/loadgen.ts only');
    const list = contenderList(notes);
    const servers = new Map<string, ServerProcess | null>();
    const restarted = new Set<string>();
    const records: RunRecord[] = [];

    const bringUp = async (c: Contender): Promise<void> => {
      let server: ServerProcess | null = null;
      try {
        ctx.progress(`starting ${c.name}`);
        server = await c.start();
        ctx.progress(`prefilling ${c.name}: ${p.keys.toLocaleString('en-US')} × ${VALUE_BYTES} B`);
        const r = await runLoad(loadConfig(p, server.port, 0, clkTck, 'prefill', 64, 1));
        if (r.ops < p.keys || r.bad_replies || r.failed_connections || r.timed_out) {
          throw new Error(`prefill stored ${r.ops} of ${p.keys} keys (${r.bad_replies} bad replies, ${r.failed_connections} failed connections${r.timed_out ? ', timed out' : ''}); server ${server.describeExit()}`);
        }
        servers.set(c.name, server);
      } catch (e) {
        notes.push(`${c.name} failed to start: ${(e as Error).message.slice(0, 300)}`);
        await server?.stop();
        servers.set(c.name, null);
      }
    };

    let engine: EngineFigures | null = null;
    try {
      for (const c of list) await bringUp(c);
      for (let round = 0; round < p.rounds; round++) {
        const order = list.slice(round % list.length).concat(list.slice(0, round % list.length));
        for (const w of workloads) {
          for (const c of order) {
            let server = servers.get(c.name);
            if (!server) continue;
            if (!server.alive()) {
              const exit = server.describeExit();
              const again = !restarted.has(c.name);
              restarted.add(c.name);
              if (again) await bringUp(c);
              server = servers.get(c.name) ?? null;
              notes.push(`${c.name} died before round ${round + 1}, ${w.id}: ${exit}; ${again && server ? 'restarted and prefilled again' : 'left out from here on'}`);
              if (!server || !again) { await server?.stop(); servers.set(c.name, null); continue; }
            }
            ctx.progress(`round ${round + 1}/${p.rounds}, ${w.id}: ${c.name}`);
            try {
              const sample = w.generator === 'memcaslap'
                ? await runMemcaslap(memcaslap!, server, p.memcaslapSeconds, clkTck)
                : await (async () => {
                  const r = await runLoad(loadConfig(p, server.port, server.pid, clkTck, 'run', w.depth, 1000 + round));
                  const trouble = [
                    r.failed_connections ? `${r.failed_connections} connections failed` : '',
                    r.timed_out ? 'requests still unanswered at the time limit' : '',
                  ].filter(Boolean);
                  if (trouble.length) throw new Error(trouble.join('; '));
                  return fromLoadgen(r);
                })();
              records.push({ round, workload: w.id, contender: c.name, sample });
              if (sample.bad_replies || sample.misses) notes.push(`${c.name}, ${w.id}, round ${round + 1}: ${sample.bad_replies} error replies, ${sample.misses} get misses on stored keys`);
            } catch (e) {
              notes.push(`${c.name}, ${w.id}, round ${round + 1}: run left out: ${(e as Error).message.slice(0, 300)}; server ${server.describeExit()}`);
            }
          }
        }
      }
    } finally {
      ctx.progress('stopping servers');
      await Promise.all([...servers.values()].map((s) => s?.stop()));
    }

    ctx.progress('in-process engine: 1 and 2 threads on one arena');
    try {
      engine = await runChild<EngineFigures>('threads-engine', [p.engineSeconds, p.engineRounds], (p.engineSeconds * 3 * p.engineRounds + 60) * 1000);
    } catch (e) {
      notes.push(`in-process engine figure failed: ${(e as Error).message.slice(0, 300)}`);
    }

    return summarize(p, list.map((c) => c.name), workloads, records, engine, notes, (Date.now() - started) / 1000);
  },
};

interface Row {
  name: string;
  workload: string;
  rounds: number;
  ops_per_s: number;
  over_memcached_t1: number | null;
  over_own_t1: number | null;
  cpu_us_per_op: number;
  server_cpu_cores: number;
  generator_cpu: number;
  others_cpu: number;
  p99_ms: number | null;
  ops_per_s_by_round: number[];
  generator_cpu_by_round: number[];
  others_cpu_by_round: number[];
}

const num = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
const show = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

function summarize(p: Plan, names: string[], workloads: Workload[], records: RunRecord[], engine: EngineFigures | null, notes: string[], seconds: number): SectionResult {
  const tables: Table[] = [];
  const rows: Row[] = [];
  for (const w of workloads) {
    const table: Table = {
      title: `${w.title}${p.rounds > 1 ? `, median of ${p.rounds} rounds` : ''}`,
      headers: ['server', 'ops/s', `× ${MC1}`, '× its -t 1', 'server CPU µs/op', 'server CPU (cores)', 'generator CPU (cores)', 'others (cores)', 'p99 ms'],
      rows: [],
    };
    for (const name of names) {
      const mine = records.filter((r) => r.contender === name && r.workload === w.id).map((r) => r.sample);
      if (!mine.length) continue;
      const own = name.startsWith('wasmcached js') ? WCJ1 : name.startsWith('wasmcached') ? WC1 : MC1;
      const row: Row = {
        name,
        workload: w.id,
        rounds: mine.length,
        ops_per_s: median(mine.map(opsPerS)),
        over_memcached_t1: name === MC1 ? null : num(medianRatio(records, name, MC1, w.id, opsPerS)),
        over_own_t1: name === own ? null : num(medianRatio(records, name, own, w.id, opsPerS)),
        cpu_us_per_op: median(mine.map(cpuPerOp)),
        server_cpu_cores: median(mine.map((s) => s.server_cpu_s / s.seconds)),
        generator_cpu: median(mine.map((s) => s.generator_cpu)),
        others_cpu: median(mine.map((s) => s.others_cpu)),
        p99_ms: num(median(mine.map((s) => s.p99_ms))),
        ops_per_s_by_round: mine.map((s) => Math.round(s.ops_per_s)),
        generator_cpu_by_round: mine.map((s) => Math.round(s.generator_cpu * 100) / 100),
        others_cpu_by_round: mine.map((s) => Math.round(s.others_cpu * 100) / 100),
      };
      rows.push(row);
      table.rows.push([
        name, fmt(row.ops_per_s), show(row.over_memcached_t1), show(row.over_own_t1), show(row.cpu_us_per_op, 1),
        show(row.server_cpu_cores), show(row.generator_cpu), show(row.others_cpu), show(row.p99_ms),
      ]);
    }
    tables.push(table);
  }

  // The issue's ratios, per workload, each a median of per-round ratios.
  const ratioDefs: { label: string; a: string; b: string; f: (s: Sample) => number; target?: { op: '≥' | '≤'; value: number }; unpipelinedOnly?: boolean }[] = [
    { label: `ops/s ${WC2} / ${WC1}`, a: WC2, b: WC1, f: opsPerS, target: { op: '≥', value: 1.25 } },
    { label: `ops/s ${WC2} / ${MC2}`, a: WC2, b: MC2, f: opsPerS, target: { op: '≥', value: 0.8 } },
    { label: `ops/s ${MC2} / ${MC1} (reference)`, a: MC2, b: MC1, f: opsPerS },
    { label: `ops/s ${MC4} / ${MC1} (reference)`, a: MC4, b: MC1, f: opsPerS },
    { label: `ops/s ${WC1} / ${MC1} (reference)`, a: WC1, b: MC1, f: opsPerS },
    { label: `ops/s ${WCJ2} / ${WCJ1} (reference)`, a: WCJ2, b: WCJ1, f: opsPerS },
    { label: `server CPU/op ${WC1} / ${MC1}`, a: WC1, b: MC1, f: cpuPerOp, target: { op: '≤', value: 1.2 }, unpipelinedOnly: true },
    { label: `server CPU/op ${WC2} / ${MC2} (reference)`, a: WC2, b: MC2, f: cpuPerOp },
    { label: `server CPU/op ${WC2} / ${WC1} (reference)`, a: WC2, b: WC1, f: cpuPerOp },
  ];
  const ratioJson: Record<string, Record<string, number | null>> = {};
  const ratioTable: Table = {
    title: `Ratios, median of per-round ratios${p.rounds > 1 ? ` (${p.rounds} rounds)` : ''}`,
    headers: ['ratio', ...workloads.map((w) => w.id), 'target'],
    rows: [],
  };
  const targets: string[] = [];
  for (const d of ratioDefs) {
    const values = workloads.map((w) => medianRatio(records, d.a, d.b, w.id, d.f));
    ratioJson[d.label] = Object.fromEntries(workloads.map((w, i) => [w.id, num(values[i])]));
    ratioTable.rows.push([d.label, ...values.map((v) => show(v)), d.target ? `${d.target.op} ${d.target.value}${d.unpipelinedOnly ? ' (no pipelining)' : ''}` : '-']);
    if (!d.target) continue;
    workloads.forEach((w, i) => {
      if (d.unpipelinedOnly && w.depth > 1) return;
      const v = values[i];
      if (!Number.isFinite(v)) return;
      const ok = d.target!.op === '≥' ? v >= d.target!.value : v <= d.target!.value;
      targets.push(`target ${d.label} ${d.target!.op} ${d.target!.value}, ${w.id}: ${ok ? 'met' : 'NOT met'} (${fmt(v)})`);
    });
  }
  tables.push(ratioTable);

  if (engine) {
    const base = engine.shared_1.ops_per_s;
    const cfg = (label: string, threads: number, c: EngineConfig): (string | number)[] => [
      label, threads, fmt(c.ops_per_s), show(c.ops_per_s / base), fmt(c.ops_per_cpu_s), show(c.cpu_cores),
      threads > 1 || label.includes('shared') ? show(c.waits_per_call * 100, 1) : '-',
      threads > 1 || label.includes('shared') ? show(c.wait_share * 100, 1) : '-',
      threads > 1 || label.includes('shared') ? show(c.held_share * 100, 1) : '-',
    ];
    tables.push({
      title: `In-process engine, no sockets: batches of 32 commands (90% get, 100 B values) per call, ${engine.seconds} s per run, median of ${engine.rounds} round(s)`,
      headers: ['configuration', 'threads', 'engine ops/s', '× 1 thread shared', 'ops per CPU-second', 'CPU (cores)', 'calls finding the lock held %', 'time waiting for the lock %', 'lock held, % of wall time'],
      rows: [
        cfg('-t 1 build, no lock', 1, engine.plain_1),
        cfg('shared build, one arena, lock', 1, engine.shared_1),
        cfg('shared build, one arena, lock', 2, engine.shared_2),
      ],
    });
    targets.push(`in-process engine: 2 threads on one arena give ${fmt(engine.two_over_one)}× the ops/s of 1 (${fmt(engine.two_over_one_per_cpu_s)}× per CPU-second); the shared build with its lock and context swap gives ${fmt(engine.shared_over_plain)}× the -t 1 build's ops/s on one thread (medians of per-round ratios; no target); one thread holds the lock ${(engine.shared_1.held_share * 100).toFixed(0)}% of its time, so however many cores, threads on one arena can give at most ${fmt(1 / engine.shared_1.held_share)}× in this loop`);
    const bad = engine.plain_1.bad + engine.shared_1.bad + engine.shared_2.bad;
    if (bad) notes.push(`in-process engine: ${bad} batches did not execute completely (status or consumed bytes wrong)`);
  }

  notes.push(...targets);
  notes.push(`nothing pinned: servers, generators and whatever else runs on this machine share its cores; "generator CPU" is the generator process's own CPU over wall time (memcaslap runs 2 threads), "others" is the machine's busy time less the server's and the generator's; server CPU from /proc/<pid>/stat (all of a server's threads); ${p.warmupMs / 1000} s warm-up + ${p.durationMs / 1000} s measured per bench/loadgen.ts run, memcaslap -t ${p.memcaslapSeconds}s (its whole run measured, no p99); section took ${seconds.toFixed(0)} s`);
  if (p.rounds === 1) notes.push('--quick: 1 round of short runs, no bench/loadgen.ts run at depth 1; figures are indicative only');
  return { tables, json: { rows, ratios: ratioJson, engine, records: records.map((r) => ({ round: r.round, workload: r.workload, contender: r.contender, ...r.sample })) }, notes };
}
