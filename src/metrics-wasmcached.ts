// wasmcached's own metrics, beside the memcached_exporter families: which
// engine build serves the cache, the arena (the store's range of linear
// memory and its slab pages), the Node host's memory, and the progress of
// --warm-from while its warm_* stats are shown. Page counts and warm figures
// come from the same `stats` reply as the memcached_* families.
import { desc, type Exposition, type MetricDesc } from './prom-text.js';
import type { StatsReport } from './stats-reader.js';
import type { Store } from './engine/store.js';
import type { ThreadShared } from './threads.js';
import { HS_CURR_CONNECTIONS, HS_TOTAL_CONNECTIONS } from '../assembly/abi.js';

const ns = (name: string) => `wasmcached_${name}`;

/** The states `stats` reports as warm_state (src/warm.ts). */
const WARM_STATES = ['idle', 'copying', 'done', 'failed'];

export const WASMCACHED_METRICS = {
  engineInfo: desc(ns('engine_info'),
    'The engine build serving the cache: wasm (WebAssembly) or js (the same engine compiled to JavaScript).', ['engine']),
  arenaBytes: desc(ns('arena_bytes'),
    "Bytes of linear memory the store spans, from its header to its last slab page (that of the largest memory limit set so far)."),
  engineMemoryBytes: desc(ns('engine_memory_bytes'),
    "Size of the engine's linear memory (the JS build reserves it as one buffer whose pages the OS commits when first used)."),
  arenaPageBytes: desc(ns('arena_page_size_bytes'), 'Bytes of one slab page (1 MiB, or -I when larger).'),
  arenaPages: desc(ns('arena_pages'),
    'Slab pages by state: slab (assigned to a class, in stats slabs total_pages) or pool (free in the global page pool).', ['state']),
  hostResident: desc(ns('host_resident_memory_bytes'), "Resident set size of the server's process."),
  hostHeapTotal: desc(ns('host_heap_total_bytes'), "Size of the host's JavaScript heap."),
  hostHeapUsed: desc(ns('host_heap_used_bytes'), "Bytes in use in the host's JavaScript heap."),
  hostExternal: desc(ns('host_external_memory_bytes'),
    "Memory of objects outside the host's JavaScript heap: buffers, and the engine's linear memory."),
  hostArrayBuffers: desc(ns('host_array_buffers_bytes'), 'Memory of ArrayBuffers and Buffers, part of the external memory.'),
  hostReplyPool: desc(ns('host_reply_pool_bytes'), 'Bytes of the pooled reply buffers (stats response_obj_bytes).'),
  warmState: desc(ns('warm_state'), 'Whether --warm-from warming is in this state (1) or not (0).', ['state']),
  warmCopied: desc(ns('warm_keys_copied_total'), 'Items warming stored here from the old node (stats warm_keys_copied).'),
  warmSkipped: desc(ns('warm_keys_skipped_total'),
    'Items warming listed but did not store: newer here, deleted here, gone there, too large (stats warm_keys_skipped).'),
  warmErrors: desc(ns('warm_errors_total'), 'Error replies from the old node and items this node could not store (stats warm_errors).'),
  warmElapsed: desc(ns('warm_elapsed_seconds'), 'Seconds since warming began, frozen when it ends (stats warm_elapsed).'),
  threadConnections: desc(ns('thread_connections'), 'Open connections served by each -t thread (0: the main thread).', ['thread']),
  threadConnectionsTotal: desc(ns('thread_connections_total'),
    'Each -t thread\'s share of stats total_connections (thread 0\'s counts the listening socket, as memcached does).', ['thread']),
} satisfies Record<string, MetricDesc>;

const W = WASMCACHED_METRICS;

/** Adds the wasmcached_* series; `report` null (stats unreadable) leaves
 *  out those read from stats. */
export function collectWasmcached(store: Store, report: StatsReport | null, out: Exposition, threads: ThreadShared | null = null): void {
  out.add(W.engineInfo, 'gauge', 1, store.build.kind);
  if (threads !== null) {
    const open = threads.perThread(HS_CURR_CONNECTIONS);
    const total = threads.perThread(HS_TOTAL_CONNECTIONS);
    for (let t = 0; t < open.length; t++) {
      out.add(W.threadConnections, 'gauge', open[t], String(t));
      out.add(W.threadConnectionsTotal, 'counter', total[t], String(t));
    }
  }
  out.add(W.arenaBytes, 'gauge', store.storeBytes);
  out.add(W.engineMemoryBytes, 'gauge', store.build.buffer().byteLength);
  const mem = process.memoryUsage();
  out.add(W.hostResident, 'gauge', mem.rss);
  out.add(W.hostHeapTotal, 'gauge', mem.heapTotal);
  out.add(W.hostHeapUsed, 'gauge', mem.heapUsed);
  out.add(W.hostExternal, 'gauge', mem.external);
  out.add(W.hostArrayBuffers, 'gauge', mem.arrayBuffers);
  if (report === null) return;
  const s = report.stats;
  const n = (key: string, m: Map<string, string> = s): number | null => {
    const v = m.get(key);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  const pageSize = n('slab_chunk_max', report.settings);
  if (pageSize !== null) out.add(W.arenaPageBytes, 'gauge', pageSize);
  let slabPages = 0;
  for (const cls of report.slabs.values()) slabPages += n('total_pages', cls) ?? 0;
  out.add(W.arenaPages, 'gauge', slabPages, 'slab');
  const pool = n('slab_global_page_pool');
  if (pool !== null) out.add(W.arenaPages, 'gauge', pool, 'pool');
  const replyPool = n('response_obj_bytes');
  if (replyPool !== null) out.add(W.hostReplyPool, 'gauge', replyPool);
  const warm = s.get('warm_state');
  if (warm !== undefined) {
    for (const state of WARM_STATES) out.add(W.warmState, 'gauge', state === warm ? 1 : 0, state);
    const warmStats: [string, MetricDesc, 'counter' | 'gauge'][] = [
      ['warm_keys_copied', W.warmCopied, 'counter'],
      ['warm_keys_skipped', W.warmSkipped, 'counter'],
      ['warm_errors', W.warmErrors, 'counter'],
      ['warm_elapsed', W.warmElapsed, 'gauge'],
    ];
    for (const [key, d, type] of warmStats) {
      const v = n(key);
      if (v !== null) out.add(d, type, v);
    }
  }
}
