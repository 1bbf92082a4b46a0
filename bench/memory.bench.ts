// memory: bytes per stored item (16-byte keys; 10-, 100- and 1000-byte
// values). Each figure comes from a fresh process, so one measurement's heap
// and allocator state never leaks into another: wasmcached's engine, Map and
// lru-cache behind the Node baseline (bench/memory-child.ts), and Debian's
// memcached filled over a socket with pipelined noreply sets.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startMemcached, which } from '../test/support/servers.js';
import { runChild } from './child.js';
import { fillBatches, key } from './workload.js';
import { fmt, type Section, type SectionResult } from './types.js';

const VALUE_SIZES = [10, 100, 1000];

interface WasmFigures { rss_growth: number; curr_items: number; evictions: number; bytes: number; total_malloced: number; hash_bytes: number; io_bytes: number }
interface NodeFigures { rss_growth: number; heap_external_growth: number; curr_items: number }
interface MemcachedFigures { rss_growth: number; curr_items: number; evictions: number }

function vmRss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** Sends `data`, resolves with everything received once `until` matches. */
function exchange(sock: net.Socket, data: string, until: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const t = setTimeout(() => { sock.off('data', onData); reject(new Error(`memcached: no reply to ${JSON.stringify(data.slice(0, 40))}`)); }, timeoutMs);
    const onData = (b: Buffer) => {
      got += b.toString('latin1');
      if (until.test(got)) { clearTimeout(t); sock.off('data', onData); resolve(got); }
    };
    sock.on('data', onData);
    sock.write(data);
  });
}

async function memcached(valueBytes: number, items: number, timeoutMs: number): Promise<MemcachedFigures> {
  const srv = await startMemcached(['-m', '2048', '-t', '1']);
  try {
    const sock = net.connect(srv.port, '127.0.0.1');
    await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    const rss0 = vmRss(srv.pid);
    const deadline = Date.now() + timeoutMs;
    for (const b of fillBatches(0, items, valueBytes, 1000, true)) {
      if (Date.now() > deadline) throw new Error(`memcached fill of ${items} items did not finish within ${timeoutMs / 1000} s`);
      // A copy: the socket may still hold it when the next batch is written.
      if (!sock.write(Buffer.from(b))) await new Promise((r) => sock.once('drain', r));
    }
    // A reply after the last noreply set: everything before it is stored.
    await exchange(sock, `get ${key(items - 1)}\r\n`, /END\r\n$/, Math.max(1000, deadline - Date.now()));
    const rss1 = vmRss(srv.pid);
    const stats = await exchange(sock, 'stats\r\n', /END\r\n$/, 5000);
    const stat = (k: string) => Number(new RegExp(`STAT ${k} (\\d+)`).exec(stats)?.[1] ?? NaN);
    sock.destroy();
    return { rss_growth: rss1 - rss0, curr_items: stat('curr_items'), evictions: stat('evictions') };
  } finally {
    await srv.stop();
  }
}

const perItem = (bytes: number, items: number) => bytes / items;

export const memorySection: Section = {
  key: 'memory',
  title: 'memory per item',
  async run(ctx): Promise<SectionResult> {
    const items = ctx.quick ? 200_000 : 1_000_000;
    const timeoutMs = ctx.quick ? 30_000 : 180_000;
    const haveMemcached = which('memcached') !== null;
    const notes: string[] = [];
    const json: Record<string, unknown> = { items, key_bytes: 16 };
    const figures: Record<number, { wasm: WasmFigures; memcached?: MemcachedFigures; map: NodeFigures; lru: NodeFigures }> = {};

    for (const v of VALUE_SIZES) {
      const at = `${v} B values, ${items.toLocaleString('en-US')} items`;
      ctx.progress(`wasmcached, ${at}`);
      const wasm = await runChild<WasmFigures>('memory-child', ['wasm', v, items], timeoutMs);
      let mc: MemcachedFigures | undefined;
      if (haveMemcached) {
        ctx.progress(`memcached, ${at}`);
        mc = await memcached(v, items, timeoutMs);
      }
      ctx.progress(`Map, ${at}`);
      const map = await runChild<NodeFigures>('memory-child', ['map', v, items], timeoutMs);
      ctx.progress(`lru-cache, ${at}`);
      const lru = await runChild<NodeFigures>('memory-child', ['lru-cache', v, items], timeoutMs);
      figures[v] = { wasm, memcached: mc, map, lru };
      for (const [name, f] of [['wasmcached', wasm], ['memcached', mc], ['Map', map], ['lru-cache', lru]] as const) {
        if (f && f.curr_items !== items) notes.push(`${name} at ${v} B values kept ${f.curr_items.toLocaleString('en-US')} of ${items.toLocaleString('en-US')} items`);
      }
      json[`value_${v}`] = {
        wasmcached: {
          rss_bytes_per_item: perItem(wasm.rss_growth, items),
          arena_bytes_per_item: perItem(wasm.total_malloced + wasm.hash_bytes, items),
          total_malloced_per_item: perItem(wasm.total_malloced, items),
          stats_bytes_per_item: perItem(wasm.bytes, items),
          curr_items: wasm.curr_items, evictions: wasm.evictions,
        },
        memcached: mc ? { rss_bytes_per_item: perItem(mc.rss_growth, items), curr_items: mc.curr_items, evictions: mc.evictions } : null,
        map: { rss_bytes_per_item: perItem(map.rss_growth, items), heap_external_bytes_per_item: perItem(map.heap_external_growth, items) },
        lru_cache: { rss_bytes_per_item: perItem(lru.rss_growth, items), heap_external_bytes_per_item: perItem(lru.heap_external_growth, items) },
      };
    }

    const row = (label: string, f: (v: number) => number | undefined) =>
      [label, ...VALUE_SIZES.map((v) => { const x = f(v); return x === undefined ? '-' : fmt(x / items); })];
    const rows = [
      row('wasmcached: RSS growth', (v) => figures[v].wasm.rss_growth),
      row('wasmcached: arena (slab pages + hash table)', (v) => figures[v].wasm.total_malloced + figures[v].wasm.hash_bytes),
      row('wasmcached: stats total_malloced', (v) => figures[v].wasm.total_malloced),
      row('wasmcached: stats bytes', (v) => figures[v].wasm.bytes),
      row('memcached -t 1: RSS growth', (v) => figures[v].memcached?.rss_growth),
      row('Map: RSS growth', (v) => figures[v].map.rss_growth),
      row('Map: heapUsed + external', (v) => figures[v].map.heap_external_growth),
      row('lru-cache: RSS growth', (v) => figures[v].lru.rss_growth),
      row('lru-cache: heapUsed + external', (v) => figures[v].lru.heap_external_growth),
    ];

    const w = figures[100].wasm.rss_growth / items;
    const m = figures[100].memcached ? figures[100].memcached.rss_growth / items : undefined;
    const map = figures[100].map.rss_growth / items;
    const vsMemcached = m !== undefined && w <= m;
    const vsMap = map >= 2 * w;
    json.targets = { rss_at_most_memcached: m === undefined ? null : vsMemcached, map_at_least_2x: vsMap };
    notes.unshift(
      m === undefined
        ? 'memcached is not installed: its column is empty and the target against it was not checked'
        : `target RSS bytes/item at 100 B values <= memcached's: ${vsMemcached ? 'met' : 'NOT met'} (${fmt(w)} vs ${fmt(m)})`,
      `target Map uses >= 2x the RSS per item at 100 B values: ${vsMap ? 'met' : 'NOT met'} (${fmt(map)} vs ${fmt(w)}, ${fmt(map / w)}x)`,
      'Map and lru-cache hold what the Node baseline parser stores: a string key and { flags, Buffer.from(value) }',
    );
    const w100 = figures[100].wasm;
    notes.push(`wasmcached's RSS growth exceeds its arena by ${fmt((w100.rss_growth - w100.total_malloced - w100.hash_bytes) / items)} B/item at 100 B values: ` +
      `the input and output regions (${fmt(w100.io_bytes / 1048576)} MB together), the previous hash table (left resident after the table doubled) and Node's own growth`);
    if (ctx.quick) notes.push(`quick mode: ${items.toLocaleString('en-US')} items (full: 1,000,000); fixed costs (hash table, I/O regions, Node's own growth) weigh more per item`);
    return {
      tables: [{ title: `memory: bytes per item, ${items.toLocaleString('en-US')} items, 16 B keys, by value size`, headers: ['contender: measure', ...VALUE_SIZES.map((v) => `${v} B`)], rows }],
      json,
      notes,
    };
  },
};
