// embedded: the library as an in-process cache, through its public API
// (createCache, engines 'wasm' and 'js'), against lru-cache (max entries)
// and a Map: get/set ops/s, bytes per item and GC pauses at millions of
// entries of 100-byte values, and GC pauses while a full cache churns. Each
// measurement runs in its own process (bench/embedded-child.ts), bounded in
// operations and in seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runChild } from './child.js';
import { fmt, type Section, type SectionResult } from './types.js';

interface Gc { gc_count: number; gc_total_ms: number; gc_max_ms: number }
interface Mix extends Gc { ops: number; seconds: number; ops_per_s: number }
interface OpsFigures {
  entries: number; filled: number; items: number; fill_seconds: number; fill_sets_per_s: number; fill_gc: Gc;
  rss_growth: number; heap_external_growth: number; set: Mix; get: Mix; mixed: Mix;
}
interface ChurnFigures extends Gc { capacity: number; keys: string; sets: number; seconds: number; sets_per_s: number; items: number }

const CONTENDERS = ['wasm', 'js', 'lru-cache', 'map'] as const;
/**
 * Churn runs: the store with keys written into one reused Uint8Array (the
 * caller allocates nothing, so every pause is the store's: the target's
 * row), then with a string key made per op as lru-cache must be used, and
 * those string keys made and dropped with no cache at all (the caller's
 * share of the pauses).
 */
const CHURNERS = [
  { id: 'wasm-bytes', kind: 'wasm', keys: 'bytes', label: 'createCache (wasm), byte keys' },
  { id: 'wasm', kind: 'wasm', keys: 'strings', label: 'createCache (wasm), string keys' },
  { id: 'lru-cache', kind: 'lru-cache', keys: 'strings', label: 'lru-cache, string keys' },
  { id: 'keys-alone', kind: 'none', keys: 'strings', label: 'string keys alone, no cache' },
] as const;
const LABEL: Record<string, string> = { wasm: 'createCache (wasm)', js: 'createCache (js)', 'lru-cache': 'lru-cache', map: 'Map' };
/** Targets: the store's memory at most this fraction of lru-cache's; no GC pause above MAX_PAUSE_MS while churning. */
const MEMORY_RATIO = 0.5;
const MAX_PAUSE_MS = 5;

const n = (x: number) => x.toLocaleString('en-US');

interface RowFigures { ops: number; cpu_ops_per_s: number; wall_ops_per_s: number }

/** One contender filled in its own process (embedded-child.js speed), measuring rows on request. */
class SpeedChild {
  private readonly proc: ChildProcess;
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly early: string[] = [];
  private err = '';
  rows: string[] = [];

  private constructor(readonly kind: string, entries: number) {
    const script = new URL('./embedded-child.js', import.meta.url);
    this.proc = spawn(process.execPath, ['--expose-gc', script.pathname, 'speed', kind, String(entries)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (b: Buffer) => { this.err += b.toString(); });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line); else this.early.push(line);
    });
    this.proc.once('exit', (code) => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: `exited with ${code}: ${this.err.trim().slice(-500)}` }));
    });
  }

  private next(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.kill(); reject(new Error(`embedded-child speed ${this.kind}: no answer within ${timeoutMs / 1000} s`)); }, timeoutMs);
      const take = (line: string) => {
        clearTimeout(timer);
        const r = JSON.parse(line) as Record<string, unknown>;
        if (r.error) reject(new Error(`embedded-child speed ${this.kind} ${String(r.error)}`)); else resolve(r);
      };
      const line = this.early.shift();
      if (line !== undefined) take(line); else this.waiting.push(take);
    });
  }

  static async start(kind: string, entries: number, timeoutMs: number): Promise<SpeedChild> {
    const c = new SpeedChild(kind, entries);
    const r = await c.next(timeoutMs);
    c.rows = r.rows as string[];
    return c;
  }

  async measure(row: string, seconds: number, timeoutMs: number): Promise<RowFigures> {
    this.proc.stdin!.write(`${row} ${seconds}\n`);
    return (await this.next(timeoutMs)) as unknown as RowFigures;
  }

  end(): void { this.proc.stdin!.end('end\n'); }

  kill(): void { try { process.kill(this.proc.pid!, 'SIGKILL'); } catch { /* already gone */ } }
}

const median = (a: number[]) => { const b = [...a].sort((x, y) => x - y); return b.length % 2 ? b[b.length >> 1] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2; };

export const embeddedSection: Section = {
  key: 'embedded',
  title: 'embedded cache (library API)',
  async run(ctx): Promise<SectionResult> {
    const sizes = ctx.quick ? [200_000] : [1_000_000, 5_000_000];
    const fillSeconds = ctx.quick ? 5 : 60;
    const mixSeconds = ctx.quick ? 0.4 : 2;
    const capacity = ctx.quick ? 200_000 : 2_000_000;
    const churnSets = 3 * capacity;
    const churnSeconds = ctx.quick ? 1.5 : 30;
    const notes: string[] = [];

    const ops: Record<number, Record<string, OpsFigures>> = {};
    for (const entries of sizes) {
      ops[entries] = {};
      for (const c of CONTENDERS) {
        ctx.progress(`${LABEL[c]}: ${n(entries)} entries, fill (cap ${fillSeconds} s) then ${mixSeconds} s per mix`);
        const r = await runChild<OpsFigures>('embedded-child', ['ops', c, entries, fillSeconds, mixSeconds], (fillSeconds + 3 * mixSeconds + 60) * 1000);
        ops[entries][c] = r;
        if (r.filled < entries) notes.push(`${LABEL[c]} was stopped at the ${fillSeconds} s fill cap after ${n(r.filled)} of ${n(entries)} entries (per-item figures are over what it holds)`);
        else if (r.items < entries) notes.push(`${LABEL[c]} at ${n(entries)} entries kept ${n(r.items)} (evicted ${n(entries - r.items)})`);
      }
    }
    const churn: Record<string, ChurnFigures> = {};
    for (const c of CHURNERS) {
      ctx.progress(`${c.label}: churn at capacity ${n(capacity)}, up to ${n(churnSets)} sets or ${churnSeconds} s`);
      churn[c.id] = await runChild<ChurnFigures>('embedded-child', ['churn', c.kind, capacity, churnSets, churnSeconds, c.keys], (churnSeconds + 60) * 1000);
      if (churn[c.id].sets < churnSets) notes.push(`${c.label}: churn was stopped at the ${churnSeconds} s cap after ${n(churn[c.id].sets)} of ${n(churnSets)} sets`);
    }

    // get/set side by side: one process per contender, rows asked in turn.
    const speedEntries = ctx.quick ? 100_000 : 1_000_000;
    const rounds = ctx.quick ? 3 : 5;
    const roundSeconds = ctx.quick ? 0.15 : 0.5;
    const children: SpeedChild[] = [];
    const speed: Record<string, Record<string, { cpu: number[]; wall: number[] }>> = {};
    try {
      for (const c of CONTENDERS) {
        ctx.progress(`side by side: filling ${LABEL[c]} with ${n(speedEntries)} entries`);
        children.push(await SpeedChild.start(c, speedEntries, (fillSeconds + 60) * 1000));
      }
      const rowList = children.flatMap((ch) => ch.rows.map((row) => ({ ch, row })));
      for (const { ch, row } of rowList) (speed[ch.kind] ??= {})[row] = { cpu: [], wall: [] };
      for (let round = 0; round < rounds; round++) {
        // Each round starts one row later: no row always follows the same one.
        for (let i = 0; i < rowList.length; i++) {
          const { ch, row } = rowList[(round + i) % rowList.length];
          ctx.progress(`side by side: round ${round + 1}/${rounds}, ${LABEL[ch.kind]} ${row}`);
          const f = await ch.measure(row, roundSeconds, (roundSeconds + 60) * 1000);
          speed[ch.kind][row].cpu.push(f.cpu_ops_per_s);
          speed[ch.kind][row].wall.push(f.wall_ops_per_s);
        }
      }
    } finally {
      for (const ch of children) ch.end();
    }
    const speedMedian: Record<string, Record<string, { cpu_ops_per_s: number; wall_ops_per_s: number; rounds_cpu_ops_per_s: number[] }>> = {};
    for (const [c, rows] of Object.entries(speed)) {
      speedMedian[c] = {};
      for (const [row, f] of Object.entries(rows)) speedMedian[c][row] = { cpu_ops_per_s: median(f.cpu), wall_ops_per_s: median(f.wall), rounds_cpu_ops_per_s: f.cpu };
    }
    const lruGet = speedMedian['lru-cache'].get.cpu_ops_per_s;
    const lruSet = speedMedian['lru-cache'].set.cpu_ops_per_s;
    const speedRows: (string | number)[][] = [];
    for (const [c, rows] of Object.entries(speedMedian)) {
      for (const [row, f] of Object.entries(rows)) {
        const vs = row.startsWith('set') ? lruSet : lruGet;
        speedRows.push([LABEL[c], row, fmt(f.cpu_ops_per_s), fmt(f.wall_ops_per_s), `${fmt(f.cpu_ops_per_s / vs)}x`]);
      }
    }
    const getRatio = speedMedian.wasm.get.cpu_ops_per_s / lruGet;
    const setRatio = speedMedian.wasm.set.cpu_ops_per_s / lruSet;

    const opsRows: (string | number)[][] = [];
    const memRows: (string | number)[][] = [];
    for (const entries of sizes) {
      for (const c of CONTENDERS) {
        const r = ops[entries][c];
        const held = Math.max(1, r.items);
        opsRows.push([`${LABEL[c]} @ ${n(entries)}`, n(r.filled), fmt(r.fill_sets_per_s), fmt(r.set.ops_per_s), fmt(r.get.ops_per_s), fmt(r.mixed.ops_per_s)]);
        memRows.push([
          `${LABEL[c]} @ ${n(entries)}`, fmt(r.rss_growth / held), fmt(r.heap_external_growth / held),
          r.fill_gc.gc_count, fmt(r.fill_gc.gc_max_ms), fmt(r.fill_gc.gc_total_ms),
          fmt(Math.max(r.set.gc_max_ms, r.get.gc_max_ms, r.mixed.gc_max_ms)), fmt(r.set.gc_total_ms + r.get.gc_total_ms + r.mixed.gc_total_ms),
        ]);
      }
    }
    const churnRows = CHURNERS.map((c) => {
      const r = churn[c.id];
      return [c.label, `${n(r.sets)} / ${n(churnSets)}`, fmt(r.seconds), fmt(r.sets_per_s), n(r.items), r.gc_count, fmt(r.gc_total_ms), fmt(r.gc_max_ms)];
    });

    const at = sizes[0];
    const perItem = (c: string) => ops[at][c].rss_growth / Math.max(1, ops[at][c].items);
    const ratio = perItem('wasm') / perItem('lru-cache');
    const memMet = ratio <= MEMORY_RATIO;
    const pauseMet = churn['wasm-bytes'].gc_max_ms <= MAX_PAUSE_MS;
    notes.unshift(
      `target: get ops/s >= lru-cache: ${getRatio >= 1 ? 'met' : 'NOT met'} (createCache (wasm) get ${fmt(speedMedian.wasm.get.cpu_ops_per_s)} vs lru-cache ${fmt(lruGet)} ops/s, ${fmt(getRatio)}x; ` +
      `getView ${fmt(speedMedian.wasm.getView.cpu_ops_per_s / lruGet)}x, getMany ${fmt(speedMedian.wasm[`getMany(100)`].cpu_ops_per_s / lruGet)}x)`,
      `set ops/s >= lru-cache: ${setRatio >= 1 ? 'met' : 'NOT met'} (createCache (wasm) set ${fmt(speedMedian.wasm.set.cpu_ops_per_s)} vs lru-cache ${fmt(lruSet)} ops/s, ${fmt(setRatio)}x)`,
      `side by side: each contender filled with ${n(speedEntries)} entries in a process of its own, then every row measured for ${roundSeconds} s in turn, ` +
      `${rounds} rounds (each starting one row later), a full GC (untimed) before each; ops/s of the process's CPU time (GC threads included), median of the rounds; ` +
      'random present keys made per op as below; getMany/setMany count each key as an op; get copies the value out, getView returns a view valid until the next call',
      `target at ${n(at)} entries of 100 B values the store uses <= ${MEMORY_RATIO}x lru-cache's memory (RSS growth per item): ${memMet ? 'met' : 'NOT met'} ` +
      `(${fmt(perItem('wasm'))} vs ${fmt(perItem('lru-cache'))} B/item, ${fmt(ratio)}x)`,
      `target no GC pause over ${MAX_PAUSE_MS} ms while ${n(capacity)} entries churn (createCache, wasm, byte keys: the store's own pauses): ${pauseMet ? 'met' : 'NOT met'} ` +
      `(max ${fmt(churn['wasm-bytes'].gc_max_ms)} ms; with a string key made per op ${fmt(churn.wasm.gc_max_ms)} ms, ` +
      `those string keys alone with no cache ${fmt(churn['keys-alone'].gc_max_ms)} ms; lru-cache max ${fmt(churn['lru-cache'].gc_max_ms)} ms)`,
      'keys are 16-byte strings made per op (the same work for every contender; the churn\'s byte-key row writes them into one reused Uint8Array instead); values are one 100-byte Uint8Array: the cache copies it into its arena, ' +
      'lru-cache and Map store a copy each; get from the cache returns a fresh copy, from lru-cache and Map the stored object',
      'work runs in batches of 1000 ops per event-loop turn; GC pauses are every pause the process recorded (scavenges included); wall-clock on a shared host',
    );
    if (ctx.quick) notes.push(`quick mode: ${n(at)} entries (full: 1,000,000 and 5,000,000), churn at capacity ${n(capacity)} for ${churnSeconds} s (full: 2,000,000, 30 s); fixed costs weigh more per item`);
    return {
      tables: [
        {
          title: `embedded: get/set side by side (${n(speedEntries)} entries, ops/s of CPU time, median of ${rounds} interleaved rounds)`,
          headers: ['contender', 'call', 'ops/s (CPU)', 'ops/s (wall)', 'vs lru-cache'],
          rows: speedRows,
        },
        { title: 'embedded: ops/s through the API (16 B keys, 100 B values, random present keys)', headers: ['contender @ entries', 'filled', 'fill sets/s', 'all-set ops/s', 'all-get ops/s', '90/10 get/set ops/s'], rows: opsRows },
        { title: 'embedded: bytes per item and GC pauses', headers: ['contender @ entries', 'RSS B/item', 'heapUsed+external B/item', 'fill GCs', 'fill GC max ms', 'fill GC total ms', 'ops GC max ms', 'ops GC total ms'], rows: memRows },
        { title: `embedded: churn at capacity ${n(capacity)} (random sets over ${n(2 * capacity)} keys)`, headers: ['contender', 'sets done', 's', 'sets/s', 'items', 'GCs', 'GC total ms', 'GC max ms'], rows: churnRows },
      ],
      json: {
        side_by_side: { entries: speedEntries, rounds, round_seconds: roundSeconds, ops: speedMedian },
        sizes, fill_seconds_cap: fillSeconds, mix_seconds: mixSeconds, ops, churn: { capacity, sets_target: churnSets, seconds_cap: churnSeconds, ...churn },
        targets: { get_at_least_lru: getRatio >= 1, get_ratio: getRatio, set_at_least_lru: setRatio >= 1, set_ratio: setRatio, memory_at_most_half_lru: memMet, memory_ratio: ratio, churn_gc_max_under_5ms: pauseMet },
      },
      notes,
    };
  },
};
