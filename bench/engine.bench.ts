// engine: the store in-process, no sockets. Four contenders get the same
// command bytes — the WebAssembly build, the pure-JS build of the same source,
// and the idiomatic Node baseline (bench/baseline.ts) in front of a Map and of
// an lru-cache — once per socket read (1000 pipelined commands per call) and
// once per command. All run in one process, interleaved in small chunks with
// the order rotated, timed in CPU time: on a shared, noisy host wall-clock
// runs in separate processes flipped the order between runs.
import { loadWasmEngine } from '../src/engine/wasm.js';
import { loadJsEngine } from '../src/engine/js.js';
import { Store } from '../src/engine/store.js';
import type { EngineBuild } from '../src/engine/types.js';
import { ST_OK, ST_OUT_FULL } from '../assembly/abi.js';
import { mapBaseline, lruBaseline, type TextBaseline } from './baseline.js';
import { prng, key, value, setCmd, getCmd, fillBatches } from './workload.js';
import { fmt, median, type BenchContext, type Section, type SectionResult, type Table } from './types.js';

const NOW = 1_700_000_000;
const VALUE_BYTES = 100;
const PER_READ = 1000;

interface Contender {
  readonly name: string;
  /** Runs the commands in `input` (complete ones only); returns the replies. */
  run(input: Buffer): Buffer;
}

function engineContender(name: string, build: EngineBuild, memoryMB: number): Contender {
  const store = Store.create(build, { memoryMB, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 }, NOW);
  return {
    name,
    run(input) {
      // What a connection does per socket read (src/conn.ts): copy in, one
      // call, copy the output out; when the output region fills (a get needs
      // room for a whole -I item), again with the rest of the input.
      let parts: Buffer[] | undefined;
      let rest = input;
      for (;;) {
        store.input().set(rest);
        const st = store.execute(rest.length, NOW);
        const o = Buffer.from(store.output());
        if (st === ST_OK && store.consumed === rest.length) {
          if (!parts) return o;
          parts.push(o);
          return Buffer.concat(parts);
        }
        if (st !== ST_OUT_FULL) throw new Error(`${name}: execute returned ${st} after ${store.consumed} of ${rest.length} bytes`);
        (parts ??= []).push(o);
        rest = rest.subarray(store.consumed);
      }
    },
  };
}

function baselineContender(name: string, b: TextBaseline): Contender {
  return { name, run: (input) => b.execute(input).out };
}

interface Workload {
  readonly name: string;
  readonly json: string;
  /** Chance that a command is a set (else a get of a stored key). */
  readonly setShare: number;
}

const WORKLOADS: Workload[] = [
  { name: 'mixed 90% get / 10% set', json: 'mixed_90_10', setShare: 0.1 },
  { name: 'all set', json: 'set', setShare: 1 },
  { name: 'all get (hits)', json: 'get', setShare: 0 },
];

/** `count` commands over keys [0, keys), each its own Buffer. */
function commands(w: Workload, keys: number, count: number, seed: number): Buffer[] {
  const rnd = prng(seed);
  const values = [0, 1, 2, 3].map((s) => value(VALUE_BYTES, s + 1));
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const k = key(Math.floor(rnd() * keys));
    out.push(Buffer.from(rnd() < w.setShare ? setCmd(k, values[i & 3]) : getCmd(k), 'latin1'));
  }
  return out;
}

interface Measured {
  /** ops/s (CPU time) per contender, median over rounds */
  opsPerS: Record<string, number>;
  /** per-round ratios of the first contender to each other one, median */
  ratio: Record<string, number>;
}

/**
 * Each round runs `chunks` chunks per contender; a chunk is `perChunk` units
 * (a unit = one call of `run`), in an order rotated every chunk.
 */
async function interleave(ctx: BenchContext, label: string, cs: Contender[], units: Buffer[], opsPerUnit: number,
  perChunk: number, chunks: number, rounds: number): Promise<Measured> {
  const perRound: Record<string, number>[] = [];
  const next = new Map(cs.map((c) => [c.name, 0]));
  for (let r = 0; r < rounds; r++) {
    ctx.progress(`${label}, round ${r + 1}/${rounds}`);
    const cpu = new Map(cs.map((c) => [c.name, 0]));
    for (let k = 0; k < chunks; k++) {
      const rot = (r * chunks + k) % cs.length;
      for (const c of [...cs.slice(rot), ...cs.slice(0, rot)]) {
        // Every contender walks the same sequence of units, so their states
        // (and so their replies) stay identical.
        let u = next.get(c.name)!;
        const t0 = process.cpuUsage();
        for (let i = 0; i < perChunk; i++) {
          c.run(units[u]);
          if (++u === units.length) u = 0;
        }
        const t = process.cpuUsage(t0);
        cpu.set(c.name, cpu.get(c.name)! + t.user + t.system);
        next.set(c.name, u);
      }
      // Let progress output and timers through between chunks.
      await new Promise((res) => setImmediate(res));
    }
    perRound.push(Object.fromEntries(cs.map((c) => [c.name, (perChunk * chunks * opsPerUnit) / (cpu.get(c.name)! / 1e6)])));
  }
  const first = cs[0].name;
  return {
    opsPerS: Object.fromEntries(cs.map((c) => [c.name, median(perRound.map((p) => p[c.name]))])),
    ratio: Object.fromEntries(cs.slice(1).map((c) => [c.name, median(perRound.map((p) => p[first] / p[c.name]))])),
  };
}

/** Every contender answers `unit` with the same bytes (run once per workload). */
function checkSame(cs: Contender[], unit: Buffer, what: string): void {
  const outs = cs.map((c) => c.run(unit));
  for (let i = 1; i < cs.length; i++) {
    if (!outs[i].equals(outs[0])) {
      throw new Error(`${what}: ${cs[i].name} replied differently from ${cs[0].name}: ` +
        `${JSON.stringify(outs[i].subarray(0, 80).toString('latin1'))} vs ${JSON.stringify(outs[0].subarray(0, 80).toString('latin1'))}`);
    }
  }
  if (outs[0].length === 0) throw new Error(`${what}: empty reply`);
}

export const engineSection: Section = {
  key: 'engine',
  title: 'engine (in-process, CPU time)',
  async run(ctx): Promise<SectionResult> {
    const keys = ctx.quick ? 100_000 : 1_000_000;
    const rounds = ctx.quick ? 3 : 5;
    const memoryMB = ctx.quick ? 128 : 512;
    const cs: Contender[] = [
      engineContender('wasm', loadWasmEngine(), memoryMB),
      engineContender('js', loadJsEngine(), memoryMB),
      baselineContender('map', mapBaseline()),
      baselineContender('lru-cache', lruBaseline(keys * 2)),
    ];

    ctx.progress(`prefilling ${keys.toLocaleString('en-US')} keys`);
    for (const batch of fillBatches(0, keys, VALUE_BYTES, PER_READ)) {
      for (const c of cs) c.run(batch);
    }
    globalThis.gc?.();

    const tables: Table[] = [];
    const json: Record<string, unknown> = { keys, key_bytes: 16, value_bytes: VALUE_BYTES, commands_per_read: PER_READ, rounds };
    const notes: string[] = [];

    for (const path of ['per_read', 'per_op'] as const) {
      const rows: (string | number)[][] = [];
      const pathJson: Record<string, unknown> = {};
      for (const w of WORKLOADS) {
        const cmds = commands(w, keys, path === 'per_read' ? 50 * PER_READ : 20_000, w.json.length * 7919 + keys);
        let units: Buffer[];
        if (path === 'per_read') {
          units = [];
          for (let i = 0; i < cmds.length; i += PER_READ) units.push(Buffer.concat(cmds.slice(i, i + PER_READ)));
        } else {
          units = cmds;
        }
        const label = `${path === 'per_read' ? 'per read' : 'per command'}: ${w.name}`;
        checkSame(cs, units[0], label);
        // Roughly 10k commands per chunk: long enough to time, short enough
        // that noise hits every contender alike.
        const perChunk = path === 'per_read' ? 10 : 10_000;
        const chunks = ctx.quick ? 4 : 8;
        const m = await interleave(ctx, label, cs, units, path === 'per_read' ? PER_READ : 1, perChunk, chunks, rounds);
        globalThis.gc?.();
        rows.push([w.name, fmt(m.opsPerS.wasm), fmt(m.opsPerS.js), fmt(m.opsPerS.map), fmt(m.opsPerS['lru-cache']),
          fmt(m.ratio.js), fmt(m.ratio.map), fmt(m.ratio['lru-cache'])]);
        pathJson[w.json] = {
          wasm_ops_per_s: Math.round(m.opsPerS.wasm), js_ops_per_s: Math.round(m.opsPerS.js),
          map_ops_per_s: Math.round(m.opsPerS.map), lru_cache_ops_per_s: Math.round(m.opsPerS['lru-cache']),
          wasm_over_js: m.ratio.js, wasm_over_map: m.ratio.map, wasm_over_lru_cache: m.ratio['lru-cache'],
        };
      }
      json[path] = pathJson;
      tables.push({
        title: path === 'per_read'
          ? `engine per read: ${PER_READ} pipelined commands per execute call, ops/s of CPU time (${keys.toLocaleString('en-US')} keys, 16 B keys, ${VALUE_BYTES} B values)`
          : 'engine per command: one command per execute call, ops/s of CPU time',
        headers: ['workload', 'WASM', 'JS build', 'Map', 'lru-cache', 'WASM/JS', 'WASM/Map', 'WASM/lru'],
        rows,
      });
    }

    const head = (json.per_read as Record<string, Record<string, number>>).mixed_90_10;
    json.wasm_ops_per_s = head.wasm_ops_per_s;
    json.js_ops_per_s = head.js_ops_per_s;
    const vsJs = head.wasm_over_js >= 1.5;
    const vsBase = head.wasm_over_map >= 5 && head.wasm_over_lru_cache >= 5;
    json.targets = { wasm_over_js_1_5: vsJs, wasm_over_baselines_5: vsBase };
    notes.push(`target per read (mixed 90/10) WASM >= 1.5x JS build: ${vsJs ? 'met' : 'NOT met'} (${fmt(head.wasm_over_js)}x)`);
    notes.push(`target per read (mixed 90/10) WASM >= 5x Map and lru-cache behind a Node parser: ${vsBase ? 'met' : 'NOT met'} ` +
      `(${fmt(head.wasm_over_map)}x, ${fmt(head.wasm_over_lru_cache)}x)`);
    notes.push(`ratios are medians of per-round ratios over ${rounds} rounds; replies of all four contenders were checked byte-equal once per workload`);
    if (ctx.quick) notes.push(`quick mode: ${keys.toLocaleString('en-US')} keys (full: 1,000,000), fewer chunks and rounds`);
    return { tables, json, notes };
  },
};
