// warm: how long a cache takes to come back. Snapshot save (a `snapshot`
// while serving, and the blocking write at SIGTERM), the largest round trip
// another client saw during the background snapshot, and load time (spawn to
// `listening` with the file present) for wasmcached on both engines;
// memcached's own -e memory-file restart (SIGUSR1, then restart) for
// comparison; the copy rate of --warm-from from a memcached and from a
// wasmcached; and what miss-through adds to a get of a key not copied yet.
// Each measurement runs in its own process (bench/warm-child.ts). Then the
// hit ratio while one node of a pool is replaced, warm against cold
// (bench/node-swap.ts).
import { which } from './contenders.js';
import { runChild } from './child.js';
import type { McRestartFigures, MissThroughFigures, SnapshotFigures, WarmFromFigures, WarmPlan } from './warm-child.js';
import { fmt, type Section, type SectionResult } from './types.js';
import { runNodeSwaps, swapPlan } from './node-swap.js';

function plan(quick: boolean): WarmPlan {
  return quick
    ? { items: 100_000, warmItems: 20_000, valueBytes: 100, memoryMB: 128, warmRate: 10_000_000, missGets: 500, mcRestartPauseMs: 2000, timeoutMs: 30_000 }
    : { items: 1_000_000, warmItems: 100_000, valueBytes: 100, memoryMB: 512, warmRate: 10_000_000, missGets: 2000, mcRestartPauseMs: 2000, timeoutMs: 120_000 };
}

export const warmSection: Section = {
  key: 'warm',
  title: 'warm restarts and warming',
  async run(ctx): Promise<SectionResult> {
    const p = plan(ctx.quick);
    const notes: string[] = [];
    const bound = 6 * p.timeoutMs + 30_000;
    const haveMc = !!which('memcached');
    if (!haveMc) notes.push('memcached is not installed (apt-get install -y memcached): no memcached rows');

    const snaps: SnapshotFigures[] = [];
    for (const engine of ['wasm', 'js']) {
      ctx.progress(`wasmcached --engine ${engine}: ${p.items.toLocaleString('en-US')} items, snapshot, stop, load`);
      try {
        snaps.push(await runChild<SnapshotFigures>('warm-child', ['snapshot', engine, JSON.stringify(p)], bound));
      } catch (e) {
        notes.push(`snapshot, --engine ${engine}: ${(e as Error).message.slice(0, 300)}`);
      }
    }
    let mc: McRestartFigures | null = null;
    if (haveMc) {
      ctx.progress(`memcached -e: ${p.items.toLocaleString('en-US')} items, SIGUSR1, restart`);
      try {
        mc = await runChild<McRestartFigures>('warm-child', ['mc-restart', '-', JSON.stringify(p)], bound);
      } catch (e) {
        notes.push(`memcached -e restart: ${(e as Error).message.slice(0, 300)}`);
      }
    }
    const warms: WarmFromFigures[] = [];
    for (const from of haveMc ? ['memcached', 'wasmcached'] : ['wasmcached']) {
      ctx.progress(`--warm-from ${from}: ${p.warmItems.toLocaleString('en-US')} items`);
      try {
        warms.push(await runChild<WarmFromFigures>('warm-child', ['warm-from', from, JSON.stringify(p)], bound));
      } catch (e) {
        notes.push(`--warm-from ${from}: ${(e as Error).message.slice(0, 300)}`);
      }
    }

    const misses: MissThroughFigures[] = [];
    if (haveMc) {
      for (const engine of ['wasm', 'js']) {
        ctx.progress(`miss-through, --engine ${engine}: ${p.missGets} gets of each kind`);
        try {
          misses.push(await runChild<MissThroughFigures>('warm-child', ['miss-through', engine, JSON.stringify(p)], bound));
        } catch (e) {
          notes.push(`miss-through, --engine ${engine}: ${(e as Error).message.slice(0, 300)}`);
        }
      }
    }

    const MB = 1e6;
    const mcOk = mc?.measurable ? mc : null;
    const cols = [...snaps.map((s) => `wasmcached (${s.engine})`), ...(mc ? ['memcached -e'] : [])];
    const cell = (x: number | undefined | null, scale = 1) => (x === undefined || x === null ? '-' : fmt(x / scale));
    const row = (label: string, s: (f: SnapshotFigures) => string, m: string) => [label, ...snaps.map(s), ...(mc ? [m] : [])];
    const restartRows = [
      row('items restored', (f) => f.loaded_items.toLocaleString('en-US'), mcOk ? mcOk.restored_items!.toLocaleString('en-US') : '-'),
      row('file size, MB', (f) => cell(f.file_bytes, MB), mcOk ? `${cell(mcOk.memory_file_bytes, MB)} (-m)` : '-'),
      row('background snapshot while serving, ms', (f) => cell(f.background_ms), 'n/a'),
      row('  probe round trip max during it, ms', (f) => cell(f.probe.maxMs), 'n/a'),
      row('  probe round trip p99 during it, ms', (f) => cell(f.probe.p99Ms), 'n/a'),
      row('  probe round trips', (f) => String(f.probe.samples), 'n/a'),
      row('stop with save (SIGTERM / SIGUSR1 to exit), ms', (f) => cell(f.stop_ms), cell(mcOk?.stop_ms)),
      row('start with the file: spawn to listening, ms', (f) => cell(f.load_ms), cell(mcOk?.restart_ms)),
      row('  the server\'s own load figure, ms', (f) => cell(f.load_logged_ms), '-'),
      row('start without a file: spawn to listening, ms', (f) => cell(f.cold_start_ms), cell(mcOk?.cold_start_ms)),
      row('RSS once filled, MB', (f) => cell(f.rss_filled, MB), '-'),
    ];
    const warmRows = warms.map((w) => [
      `from ${w.from}`, w.items.toLocaleString('en-US'), w.state, w.copied.toLocaleString('en-US'), w.skipped.toLocaleString('en-US'),
      String(w.errors), String(w.elapsed_s), fmt(w.wall_ms), fmt(w.copy_ms), fmt(w.copied / (w.copy_ms / 1000)),
    ]);

    const lat = (l: { p50: number; p99: number; mean: number }) => `${fmt(l.p50)} / ${fmt(l.p99)} / ${fmt(l.mean)}`;
    const missRows = misses.map((m) => [
      `wasmcached (${m.engine})`, lat(m.here), lat(m.through), lat(m.nowhere), lat(m.old_node),
      fmt(m.through.p50 - m.here.p50), `${fmt(m.multiget_through_ms)} / ${fmt(m.multiget_here_ms)}`,
    ]);

    if (mc && !mc.measurable) notes.push(`memcached -e restart not measurable here: ${mc.why}`);
    notes.push(`${p.items.toLocaleString('en-US')} items of ${p.valueBytes} B values (keys key:<i>) written with pipelined noreply sets, -m ${p.memoryMB}; ` +
      'the probe is another connection sending mn every 5 ms from the bench process during the `snapshot` command (200 ms either side), ' +
      'so its round trips include that process\'s own delays; start times include Node\'s (or memcached\'s) process start');
    if (mcOk) {
      notes.push(`memcached -t 1 -e <file in the temp directory> (here a disk-backed file, memcached mmaps it as its slab memory; /dev/shm is the usual place): ` +
        'stop is SIGUSR1 to exit (memcached writes <file>.meta), start is spawn to its port file (polled every 20 ms); memcached has no background snapshot, ' +
        `its restart needs the same -m and settings and the memory file itself, so it is not a portable file; restarted ${p.mcRestartPauseMs / 1000} s after it exited, because ` +
        'started again at once it refused the file here (restart incompatible due to setting for [stop_time]) and came up empty');
    }
    notes.push(`--warm-from: a new wasmcached -m ${p.memoryMB} -o warm_rate=${p.warmRate} copies from an old node holding ${p.warmItems.toLocaleString('en-US')} items; ` +
      'wall is spawn of the new node to the first stats (polled every 25 ms) with warm_state no longer copying; copy is wall less spawn to listening, ' +
      'and copied/s is copied over copy; warm_elapsed is whole seconds; ' +
      'the listing repeats until a pass finds nothing new, so the end includes one or more listings that copy nothing');
    if (misses.length > 0) {
      notes.push(`miss-through: a new wasmcached --warm-from a memcached -t 1 holding key:<i> (${p.valueBytes} B values) copies at -o warm_rate=1, ` +
        'so the keys read are not copied yet; one connection sends single gets, one at a time, of a key here, a key only on the old node ' +
        '(read through it: one round trip to it, then the add), a key on neither (asked, a miss), then the same get straight to the memcached, ' +
        `interleaved ${p.missGets} times; p50 / p99 / mean of the client's round trips; added is through p50 less here p50; ` +
        'the multiget is 100 keys in one get line (one pipelined lookup of 100 keys) against 100 keys here; ' +
        `copied by the bulk copy meanwhile: ${misses.map((m) => `${m.engine} ${m.stats.warm_keys_copied}`).join(', ')}; ` +
        `warm_miss_hits ${misses.map((m) => `${m.engine} ${m.stats.warm_miss_hits}`).join(', ')}`);
    }
    if (ctx.quick) notes.push(`quick mode: ${p.items.toLocaleString('en-US')} items and ${p.warmItems.toLocaleString('en-US')} to warm (full: 1,000,000 and 100,000)`);
    const swaps = await runNodeSwaps(ctx, swapPlan(ctx.quick));
    notes.push(...swaps.notes);

    return {
      tables: [
        {
          title: `warm restarts: ${p.items.toLocaleString('en-US')} items of ${p.valueBytes} B values`,
          headers: ['measure', ...cols],
          rows: restartRows,
        },
        {
          title: `warming a new wasmcached with --warm-from (${p.warmItems.toLocaleString('en-US')} items)`,
          headers: ['old node', 'items', 'warm_state', 'copied', 'skipped', 'errors', 'warm_elapsed s', 'wall ms', 'copy ms', 'copied/s'],
          rows: warmRows,
        },
        ...(missRows.length > 0 ? [{
          title: `miss-through while warming: round trip of one get, ms (p50 / p99 / mean)`,
          headers: ['new node', 'key here', 'key read through', 'key on neither', 'the memcached itself', 'added, p50', '100-key multiget through / here'],
          rows: missRows,
        }] : []),
        swaps.table,
      ],
      json: { plan: p, snapshot: snaps, memcached_restart: mc, warm_from: warms, miss_through: misses, node_swap: swaps.json },
      notes,
    };
  },
};
