// pauses: garbage-collection pauses and event-loop delay while a cache of
// millions of items churns (random sets over twice its capacity, so it fills
// and then evicts): the WebAssembly store, whose items live in the arena and
// are invisible to the GC, against lru-cache holding a string key and a
// Buffer per item. Each runs in its own process (bench/pauses-child.ts),
// bounded in sets and in seconds.
import { runChild } from './child.js';
import { fmt, type Section, type SectionResult } from './types.js';

interface ChurnFigures {
  sets: number; seconds: number; sets_per_s: number; items: number;
  gc_count: number; gc_major_count: number; gc_total_ms: number; gc_max_ms: number; gc_p999_ms: number;
  eld_p99_ms: number; eld_p999_ms: number; eld_max_ms: number;
}

/** The target: no GC pause of the WebAssembly store's process above this. */
const MAX_PAUSE_MS = 5;

export const pausesSection: Section = {
  key: 'pauses',
  title: 'GC pauses under churn',
  async run(ctx): Promise<SectionResult> {
    const capacity = ctx.quick ? 300_000 : 2_000_000;
    const keyspace = 2 * capacity;
    const sets = 3 * capacity;
    const seconds = ctx.quick ? 10 : 60;
    const results: Record<string, ChurnFigures> = {};
    for (const mode of ['wasm', 'lru-cache']) {
      ctx.progress(`${mode}: up to ${sets.toLocaleString('en-US')} sets or ${seconds} s, capacity ${capacity.toLocaleString('en-US')}`);
      results[mode] = await runChild<ChurnFigures>('pauses-child', [mode, capacity, keyspace, sets, seconds], (seconds + 60) * 1000);
    }

    const rows = Object.entries(results).map(([mode, r]) => [
      mode === 'wasm' ? 'WASM store' : 'lru-cache',
      `${r.sets.toLocaleString('en-US')} / ${sets.toLocaleString('en-US')}`,
      fmt(r.seconds), fmt(r.sets_per_s), r.items.toLocaleString('en-US'),
      r.gc_count, r.gc_major_count, fmt(r.gc_total_ms), fmt(r.gc_max_ms), fmt(r.gc_p999_ms),
      fmt(r.eld_p99_ms), fmt(r.eld_max_ms),
    ]);
    const w = results.wasm;
    const l = results['lru-cache'];
    const met = w.gc_max_ms <= MAX_PAUSE_MS;
    const notes = [
      `target no GC pause over ${MAX_PAUSE_MS} ms for the WASM store: ${met ? 'met' : 'NOT met'} (max ${fmt(w.gc_max_ms)} ms; lru-cache max ${fmt(l.gc_max_ms)} ms)`,
      `random sets of 100 B values over ${keyspace.toLocaleString('en-US')} keys, 1000 per batch (one event-loop turn each), wall-clock on a shared host; ` +
      'event-loop delay includes each batch\'s own run time',
    ];
    if (l.sets < sets) notes.push(`lru-cache was stopped at the ${seconds} s cap after ${l.sets.toLocaleString('en-US')} of ${sets.toLocaleString('en-US')} sets`);
    if (w.sets < sets) notes.push(`the WASM store was stopped at the ${seconds} s cap after ${w.sets.toLocaleString('en-US')} of ${sets.toLocaleString('en-US')} sets`);
    if (ctx.quick) notes.push(`quick mode: capacity ${capacity.toLocaleString('en-US')} items (full: 2,000,000), ${seconds} s cap (full: 60 s)`);
    return {
      tables: [{
        title: `pauses: churn at capacity ${capacity.toLocaleString('en-US')} items (16 B keys, 100 B values)`,
        headers: ['contender', 'sets done', 's', 'sets/s', 'items', 'GCs', 'major', 'GC total ms', 'GC max ms', 'GC p99.9 ms', 'loop delay p99 ms', 'loop delay max ms'],
        rows,
      }],
      json: { capacity, keyspace, sets_target: sets, seconds_cap: seconds, wasm: w, lru_cache: l, targets: { wasm_gc_max_under_5ms: met } },
      notes,
    };
  },
};
