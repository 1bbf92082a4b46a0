// TLS section: what -Z costs. wasmcached (wasm engine) over plain TCP and
// over TLS, beside memcached -t 1 plain and with -Z, all in the same rounds:
// throughput, latency and server CPU per operation, without pipelining and
// with 32 requests in flight per connection. The load generator speaks TLS
// through node:tls (bench/loadgen.ts with `tls`), one handshake per
// connection before the timed window.
//
// As in the server section, the machine is shared: contenders run in an
// order rotated each round and the ratios quoted are medians of per-round
// ratios. The server is pinned to CPU 0, the generator to CPU 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, which, startListening, startMemcached, type ServerProcess } from './contenders.js';
import { runLoad, clockTicks, cpuPerOp, medianRatio, SERVER_CPU } from './server.bench.js';
import type { LoadResult } from './loadgen.js';
import { fmt, median, type BenchContext, type Section, type SectionResult, type Table } from './types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOADGEN_JS = join(ROOT, '.bench', 'loadgen.js');
const CONNECTIONS = 50;
const KEYS = 100_000;
const GET_RATIO = 0.9;
const VALUE_SIZE = 100;
const MEMORY_MB = 256;
const KEY_PREFIX = 'bench:tls:';
const GENERATOR_SATURATED = 0.7;

interface TlsContender {
  name: string;
  /** the same server over plain TCP, for the "× plain" column */
  plainOf: string | null;
  tls: boolean;
  start(): Promise<ServerProcess>;
}

interface Workload {
  id: string;
  title: string;
  depth: number;
}

const WORKLOADS: Workload[] = [
  { id: 'unpipelined', title: '100 B values, no pipelining', depth: 1 },
  { id: 'pipelined-32', title: '100 B values, pipeline depth 32', depth: 32 },
];

interface RunRecord {
  round: number;
  workload: Workload;
  contender: string;
  result: LoadResult;
}

/** A self-signed certificate for 127.0.0.1 made with the openssl command line. */
function makeCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  writeFileSync(join(dir, 'san.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=IP:127.0.0.1\n');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=wasmcached bench', '-config', join(dir, 'san.cnf'), '-extensions', 'ext'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl could not make the bench certificate: ${r.stderr}`);
  return { cert, key };
}

function contenders(cert: { cert: string; key: string }, cpu: number | null, notes: string[]): TlsContender[] {
  const node = process.execPath;
  const bin = join(ROOT, 'bin', 'wasmcached.js');
  const ssl = `ssl_chain_cert=${cert.cert},ssl_key=${cert.key}`;
  const wasm = (tls: boolean) => () => startListening(
    pinned(cpu, [node, bin, '-p', '0', '-m', String(MEMORY_MB), '-c', '4096', ...(tls ? ['-Z', '-o', ssl] : [])]),
    `wasmcached${tls ? ' -Z' : ''}`);
  const list: TlsContender[] = [
    { name: 'wasmcached', plainOf: null, tls: false, start: wasm(false) },
    { name: 'wasmcached -Z', plainOf: 'wasmcached', tls: true, start: wasm(true) },
  ];
  const mc = which('memcached');
  if (mc) {
    const args = ['-t', '1', '-m', String(MEMORY_MB), '-c', '4096'];
    list.push(
      { name: 'memcached -t 1', plainOf: null, tls: false, start: () => startMemcached(mc, args, cpu) },
      { name: 'memcached -t 1 -Z', plainOf: 'memcached -t 1', tls: true, start: () => startMemcached(mc, [...args, '-Z', '-o', ssl], cpu) },
    );
  } else {
    notes.push('memcached is not installed (apt-get install -y memcached): no memcached rows');
  }
  return list;
}

export const tlsSection: Section = {
  key: 'tls',
  title: 'TLS (-Z): plain TCP against TLS, wasmcached and memcached',
  async run(ctx: BenchContext): Promise<SectionResult> {
    const rounds = ctx.quick ? 1 : 3;
    const warmupMs = ctx.quick ? 300 : 1000;
    const durationMs = ctx.quick ? 1500 : 5000;
    const notes: string[] = [];
    if (!which('openssl')) return { tables: [], json: null, notes: ['openssl is not installed: no TLS section'] };
    const taskset = which('taskset') !== null;
    const clkTck = clockTicks();
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-tls-bench-'));
    const list = contenders(makeCert(dir), taskset ? SERVER_CPU : null, notes);
    const servers = new Map<string, ServerProcess>();
    const records: RunRecord[] = [];
    const started = Date.now();

    const load = (c: TlsContender, server: ServerProcess, mode: 'prefill' | 'run', depth: number, seed: number) => runLoad(LOADGEN_JS, {
      port: server.port, mode, serverPid: mode === 'run' ? server.pid : 0, clkTck, seed, tls: c.tls,
      connections: mode === 'prefill' ? 8 : CONNECTIONS,
      depth: mode === 'prefill' ? 64 : depth,
      keys: KEYS, keyPrefix: KEY_PREFIX, valueSize: VALUE_SIZE, getRatio: GET_RATIO,
      warmupMs, durationMs,
      timeoutMs: mode === 'prefill' ? 120_000 : warmupMs + durationMs + 5000,
      maxRequests: 50_000_000,
    });

    try {
      for (const c of list) {
        try {
          ctx.progress(`starting and prefilling ${c.name}`);
          const server = await c.start();
          servers.set(c.name, server);
          const r = await load(c, server, 'prefill', 64, 1);
          if (r.ops < KEYS || r.bad_replies || r.failed_connections) throw new Error(`prefill stored ${r.ops} of ${KEYS} keys; server ${server.describeExit()}`);
        } catch (e) {
          notes.push(`${c.name} left out: ${(e as Error).message.slice(0, 300)}`);
          await servers.get(c.name)?.stop();
          servers.delete(c.name);
        }
      }
      for (let round = 0; round < rounds; round++) {
        const order = list.slice(round % list.length).concat(list.slice(0, round % list.length));
        for (const w of WORKLOADS) {
          for (const c of order) {
            const server = servers.get(c.name);
            if (!server?.alive()) continue;
            ctx.progress(`round ${round + 1}/${rounds}, ${w.title}: ${c.name}`);
            try {
              const result = await load(c, server, 'run', w.depth, 1000 + round);
              if (result.failed_connections || result.timed_out || result.bad_replies) {
                notes.push(`${c.name}, ${w.title}, round ${round + 1}: ${result.failed_connections} failed connections, ${result.bad_replies} error replies${result.timed_out ? ', timed out' : ''} (run left out)`);
                continue;
              }
              records.push({ round, workload: w, contender: c.name, result });
            } catch (e) {
              notes.push(`${c.name}, ${w.title}, round ${round + 1}: run failed: ${(e as Error).message.slice(0, 300)}`);
            }
          }
        }
      }
    } finally {
      ctx.progress('stopping servers');
      await Promise.all([...servers.values()].map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
    return summarize(list, records, notes, { rounds, warmupMs, durationMs, taskset, seconds: (Date.now() - started) / 1000 });
  },
};

function summarize(list: TlsContender[], records: RunRecord[], notes: string[],
  o: { rounds: number; warmupMs: number; durationMs: number; taskset: boolean; seconds: number }): SectionResult {
  const tables: Table[] = [];
  const json: Record<string, unknown>[] = [];
  const show = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
  for (const w of WORKLOADS) {
    const table: Table = {
      title: `${w.title}: 90% get / 10% set, ${KEYS.toLocaleString('en-US')} keys, ${CONNECTIONS} connections${o.rounds > 1 ? `, median of ${o.rounds} rounds` : ''}`,
      headers: ['server', 'ops/s', 'ops/s × plain', 'server CPU µs/op', 'CPU/op × plain', 'p50 ms', 'p99 ms', '× memcached (same transport)', 'generator CPU %'],
      rows: [],
    };
    for (const c of list) {
      const mine = records.filter((r) => r.contender === c.name && r.workload === w).map((r) => r.result);
      if (!mine.length) continue;
      const versusPlain = c.plainOf ? medianRatio(records, c.name, c.plainOf, w, (r) => r.ops_per_s) : NaN;
      const cpuVersusPlain = c.plainOf ? medianRatio(records, c.name, c.plainOf, w, cpuPerOp) : NaN;
      const memcachedTwin = c.name.startsWith('wasmcached') ? `memcached -t 1${c.tls ? ' -Z' : ''}` : null;
      const versusMemcached = memcachedTwin ? medianRatio(records, c.name, memcachedTwin, w, (r) => r.ops_per_s) : NaN;
      const row = {
        name: c.name, workload: w.id, tls: c.tls, rounds: mine.length,
        ops_per_s: median(mine.map((r) => r.ops_per_s)),
        ops_ratio_vs_plain: Number.isFinite(versusPlain) ? versusPlain : null,
        cpu_us_per_op: median(mine.map(cpuPerOp)),
        cpu_ratio_vs_plain: Number.isFinite(cpuVersusPlain) ? cpuVersusPlain : null,
        ops_ratio_vs_memcached: Number.isFinite(versusMemcached) ? versusMemcached : null,
        p50_ms: median(mine.map((r) => r.p50_ms)),
        p99_ms: median(mine.map((r) => r.p99_ms)),
        generator_cpu: median(mine.map((r) => r.generator_cpu)),
        ops_per_s_by_round: mine.map((r) => Math.round(r.ops_per_s)),
      };
      json.push(row);
      table.rows.push([
        c.name, fmt(row.ops_per_s), c.plainOf ? show(versusPlain) : '1', show(row.cpu_us_per_op, 1),
        c.plainOf ? show(cpuVersusPlain) : '1', fmt(row.p50_ms), fmt(row.p99_ms),
        memcachedTwin ? show(versusMemcached) : '-', (row.generator_cpu * 100).toFixed(0),
      ]);
    }
    tables.push(table);
  }
  const saturated = records.filter((r) => r.result.generator_cpu > GENERATOR_SATURATED);
  if (saturated.length) {
    notes.push(`load generator above ${GENERATOR_SATURATED * 100}% of a core in ${saturated.length} run(s) (${[...new Set(saturated.map((r) => `${r.contender}, ${r.workload.id}`))].join('; ')}): there it may be the ceiling, not the server (TLS costs the generator too)`);
  }
  notes.push(`ratios are medians of per-round ratios (each pair measured in the same round); ${o.taskset ? `servers pinned to CPU ${SERVER_CPU}, generator to the other (taskset)` : 'nothing pinned (no taskset)'}; ${o.warmupMs / 1000} s warm-up + ${o.durationMs / 1000} s measured per run; TLS 1.3, one handshake per connection before the window; server CPU from /proc/<pid>/stat; section took ${o.seconds.toFixed(0)} s`);
  return { tables, json, notes };
}
