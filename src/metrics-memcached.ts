// memcached's statistics as the community memcached_exporter
// (prometheus/memcached_exporter, pkg/exporter/exporter.go) turns them into
// metrics: the same names, help texts, types and labels, the same arithmetic
// (commands_total{command="set"} is cmd_set less the cas commands memcached
// counts in it; cpu seconds are read from rusage's "<s>.<us>"), and the same
// rule that a stat absent from the reply is skipped while one that does not
// parse sets memcached_up to 0. So Grafana dashboards and alerts written for
// that exporter work unchanged. The extstore and proxy families are left out:
// their stats never appear here (the exporter too emits them only when they
// do). The per-class families from `stats slabs`, which newer exporters can
// turn off, are always on.
import { desc, type Exposition, type MetricDesc, type MetricType } from './prom-text.js';
import type { StatsReport } from './stats-reader.js';

const ns = (name: string) => `memcached_${name}`;
const SLAB = ['slab'];

/** Every family, declared once; the names are the exporter's. */
export const MEMCACHED_METRICS = {
  up: desc(ns('up'), 'Could the memcached server be reached.'),
  uptime: desc(ns('uptime_seconds'), 'Number of seconds since the server started.'),
  time: desc(ns('time_seconds'), 'current UNIX time according to the server.'),
  version: desc(ns('version'), 'The version of this memcached server.', ['version']),
  rusageUser: desc(ns('process_user_cpu_seconds_total'), 'Accumulated user time for this process.'),
  rusageSystem: desc(ns('process_system_cpu_seconds_total'), 'Accumulated system time for this process.'),
  bytesRead: desc(ns('read_bytes_total'), 'Total number of bytes read by this server from network.'),
  bytesWritten: desc(ns('written_bytes_total'), 'Total number of bytes sent by this server to network.'),
  currentConnections: desc(ns('current_connections'), 'Current number of open connections.'),
  maxConnections: desc(ns('max_connections'), 'Maximum number of clients allowed.'),
  connectionsTotal: desc(ns('connections_total'), 'Total number of connections opened since the server started running.'),
  rejectedConnections: desc(ns('connections_rejected_total'),
    "Total number of connections rejected due to hitting the memcached's -c limit in maxconns_fast mode."),
  connsYieldedTotal: desc(ns('connections_yielded_total'),
    "Total number of connections yielded running due to hitting the memcached's -R limit."),
  listenerDisabledTotal: desc(ns('connections_listener_disabled_total'),
    'Number of times that memcached has hit its connections limit and disabled its listener.'),
  currentBytes: desc(ns('current_bytes'), 'Current number of bytes used to store items.'),
  limitBytes: desc(ns('limit_bytes'), 'Number of bytes this server is allowed to use for storage.'),
  commands: desc(ns('commands_total'), 'Total number of all requests broken down by command (get, set, etc.) and status.',
    ['command', 'status']),
  items: desc(ns('current_items'), 'Current number of items stored by this instance.'),
  itemsTotal: desc(ns('items_total'), 'Total number of items stored during the life of this instance.'),
  evictions: desc(ns('items_evicted_total'), 'Total number of valid items removed from cache to free memory for new items.'),
  reclaimed: desc(ns('items_reclaimed_total'), 'Total number of times an entry was stored using memory from an expired entry.'),
  itemStoreTooLarge: desc(ns('item_too_large_total'), 'The number of times an item exceeded the max-item-size when being stored.'),
  itemStoreNoMemory: desc(ns('item_no_memory_total'), 'The number of times an item could not be stored due to no more memory.'),
  directReclaims: desc(ns('direct_reclaims_total'), 'Times worker threads had to directly reclaim or evict items.'),
  lruCrawlerEnabled: desc(ns('lru_crawler_enabled'), 'Whether the LRU crawler is enabled.'),
  lruCrawlerSleep: desc(ns('lru_crawler_sleep'), 'Microseconds to sleep between LRU crawls.'),
  lruCrawlerMaxItems: desc(ns('lru_crawler_to_crawl'), 'Max items to crawl per slab per run.'),
  lruMaintainerThread: desc(ns('lru_crawler_maintainer_thread'), 'Split LRU mode and background threads.'),
  lruHotPercent: desc(ns('lru_crawler_hot_percent'), 'Percent of slab memory reserved for HOT LRU.'),
  lruWarmPercent: desc(ns('lru_crawler_warm_percent'), 'Percent of slab memory reserved for WARM LRU.'),
  lruHotMaxAgeFactor: desc(ns('lru_crawler_hot_max_factor'), 'Set idle age of HOT LRU to COLD age * this'),
  lruWarmMaxAgeFactor: desc(ns('lru_crawler_warm_max_factor'), 'Set idle age of WARM LRU to COLD age * this'),
  lruCrawlerStarts: desc(ns('lru_crawler_starts_total'), 'Times an LRU crawler was started.'),
  lruCrawlerReclaimed: desc(ns('lru_crawler_reclaimed_total'), 'Total items freed by LRU Crawler.'),
  lruCrawlerItemsChecked: desc(ns('lru_crawler_items_checked_total'), 'Total items examined by LRU Crawler.'),
  lruCrawlerMovesToCold: desc(ns('lru_crawler_moves_to_cold_total'), "Total number of items moved from HOT/WARM to COLD LRU's."),
  lruCrawlerMovesToWarm: desc(ns('lru_crawler_moves_to_warm_total'), 'Total number of items moved from COLD to WARM LRU.'),
  lruCrawlerMovesWithinLru: desc(ns('lru_crawler_moves_within_lru_total'), "Total number of items reshuffled within HOT or WARM LRU's."),
  malloced: desc(ns('malloced_bytes'), 'Number of bytes of memory allocated to slab pages.'),
  acceptingConnections: desc(ns('accepting_connections'), 'The Memcached server is currently accepting new connections.'),
  itemsNumber: desc(ns('slab_current_items'), 'Number of items currently stored in this slab class.', SLAB),
  itemsAge: desc(ns('slab_items_age_seconds'), 'Number of seconds the oldest item has been in the slab class.', SLAB),
  itemsCrawlerReclaimed: desc(ns('slab_items_crawler_reclaimed_total'), 'Number of items freed by the LRU Crawler.', SLAB),
  itemsEvicted: desc(ns('slab_items_evicted_total'),
    'Total number of times an item had to be evicted from the LRU before it expired.', SLAB),
  itemsEvictedNonzero: desc(ns('slab_items_evicted_nonzero_total'),
    'Total number of times an item which had an explicit expire time set had to be evicted from the LRU before it expired.', SLAB),
  itemsEvictedTime: desc(ns('slab_items_evicted_time_seconds'),
    'Seconds since the last access for the most recent item evicted from this class.', SLAB),
  itemsEvictedUnfetched: desc(ns('slab_items_evicted_unfetched_total'), 'Total nmber of items evicted and never fetched.', SLAB),
  itemsExpiredUnfetched: desc(ns('slab_items_expired_unfetched_total'),
    'Total number of valid items evicted from the LRU which were never touched after being set.', SLAB),
  itemsOutofmemory: desc(ns('slab_items_outofmemory_total'),
    'Total number of items for this slab class that have triggered an out of memory error.', SLAB),
  itemsReclaimed: desc(ns('slab_items_reclaimed_total'), 'Total number of items reclaimed.', SLAB),
  itemsTailrepairs: desc(ns('slab_items_tailrepairs_total'), 'Total number of times the entries for a particular ID need repairing.', SLAB),
  itemsMovesToCold: desc(ns('slab_items_moves_to_cold'), 'Number of items moved from HOT or WARM into COLD.', SLAB),
  itemsMovesToWarm: desc(ns('slab_items_moves_to_warm'), 'Number of items moves from COLD into WARM.', SLAB),
  itemsMovesWithinLru: desc(ns('slab_items_moves_within_lru'), 'Number of times active items were bumped within HOT or WARM.', SLAB),
  itemsHot: desc(ns('slab_hot_items'), 'Number of items presently stored in the HOT LRU.', SLAB),
  itemsWarm: desc(ns('slab_warm_items'), 'Number of items presently stored in the WARM LRU.', SLAB),
  itemsCold: desc(ns('slab_cold_items'), 'Number of items presently stored in the COLD LRU.', SLAB),
  itemsTemporary: desc(ns('slab_temporary_items'), 'Number of items presently stored in the TEMPORARY LRU.', SLAB),
  itemsAgeOldestHot: desc(ns('slab_hot_age_seconds'), 'Age of the oldest item in HOT LRU.', SLAB),
  // (sic: the exporter's help text for WARM names HOT)
  itemsAgeOldestWarm: desc(ns('slab_warm_age_seconds'), 'Age of the oldest item in HOT LRU.', SLAB),
  itemsLruHits: desc(ns('slab_lru_hits_total'), 'Number of get_hits to the LRU.', ['slab', 'lru']),
  slabsChunkSize: desc(ns('slab_chunk_size_bytes'), 'Number of bytes allocated to each chunk within this slab class.', SLAB),
  slabsChunksPerPage: desc(ns('slab_chunks_per_page'), 'Number of chunks within a single page for this slab class.', SLAB),
  slabsCurrentPages: desc(ns('slab_current_pages'), 'Number of pages allocated to this slab class.', SLAB),
  slabsCurrentChunks: desc(ns('slab_current_chunks'), 'Number of chunks allocated to this slab class.', SLAB),
  slabsChunksUsed: desc(ns('slab_chunks_used'), 'Number of chunks allocated to an item.', SLAB),
  slabsChunksFree: desc(ns('slab_chunks_free'), 'Number of chunks not yet allocated items.', SLAB),
  slabsChunksFreeEnd: desc(ns('slab_chunks_free_end'), 'Number of free chunks at the end of the last allocated page.', SLAB),
  slabsMemRequested: desc(ns('slab_mem_requested_bytes'), 'Number of bytes of memory actual items take up within a slab.', SLAB),
  slabsCommands: desc(ns('slab_commands_total'),
    'Total number of all requests broken down by command (get, set, etc.) and status per slab.', ['slab', 'command', 'status']),
} satisfies Record<string, MetricDesc>;

const M = MEMCACHED_METRICS;

/** The commands whose <op>_hits and <op>_misses stats become commands_total. */
const HIT_MISS_COMMANDS = ['get', 'delete', 'incr', 'decr', 'cas', 'touch'];

/** `stats items` fields that are counters per class (the exporter's table). */
const ITEMS_COUNTERS: [string, MetricDesc][] = [
  ['crawler_reclaimed', M.itemsCrawlerReclaimed],
  ['evicted', M.itemsEvicted],
  ['evicted_nonzero', M.itemsEvictedNonzero],
  ['evicted_time', M.itemsEvictedTime],
  ['evicted_unfetched', M.itemsEvictedUnfetched],
  ['expired_unfetched', M.itemsExpiredUnfetched],
  ['outofmemory', M.itemsOutofmemory],
  ['reclaimed', M.itemsReclaimed],
  ['tailrepairs', M.itemsTailrepairs],
  ['mem_requested', M.slabsMemRequested],
  ['moves_to_cold', M.itemsMovesToCold],
  ['moves_to_warm', M.itemsMovesToWarm],
  ['moves_within_lru', M.itemsMovesWithinLru],
];

/** `stats items` fields that are gauges per class. */
const ITEMS_GAUGES: [string, MetricDesc][] = [
  ['number_hot', M.itemsHot],
  ['number_warm', M.itemsWarm],
  ['number_cold', M.itemsCold],
  ['number_temp', M.itemsTemporary],
  ['age_hot', M.itemsAgeOldestHot],
  ['age_warm', M.itemsAgeOldestWarm],
];

/** `stats` fields with one series each: [stat, family, type]. */
const SERVER_STATS: [string, MetricDesc, MetricType][] = [
  ['bytes', M.currentBytes, 'gauge'],
  ['limit_maxbytes', M.limitBytes, 'gauge'],
  ['curr_items', M.items, 'gauge'],
  ['total_items', M.itemsTotal, 'counter'],
  ['bytes_read', M.bytesRead, 'counter'],
  ['bytes_written', M.bytesWritten, 'counter'],
  ['curr_connections', M.currentConnections, 'gauge'],
  ['total_connections', M.connectionsTotal, 'counter'],
  ['rejected_connections', M.rejectedConnections, 'counter'],
  ['conn_yields', M.connsYieldedTotal, 'counter'],
  ['listen_disabled_num', M.listenerDisabledTotal, 'counter'],
  ['evictions', M.evictions, 'counter'],
  ['reclaimed', M.reclaimed, 'counter'],
  ['store_too_large', M.itemStoreTooLarge, 'counter'],
  ['store_no_memory', M.itemStoreNoMemory, 'counter'],
  ['lru_crawler_starts', M.lruCrawlerStarts, 'counter'],
  ['direct_reclaims', M.directReclaims, 'counter'],
  ['crawler_items_checked', M.lruCrawlerItemsChecked, 'counter'],
  ['crawler_reclaimed', M.lruCrawlerReclaimed, 'counter'],
  ['moves_to_cold', M.lruCrawlerMovesToCold, 'counter'],
  ['moves_to_warm', M.lruCrawlerMovesToWarm, 'counter'],
  ['moves_within_lru', M.lruCrawlerMovesWithinLru, 'counter'],
  ['total_malloced', M.malloced, 'gauge'],
  ['accepting_conns', M.acceptingConnections, 'gauge'],
];

/** `stats settings` fields shown while the LRU crawler is on. */
const CRAWLER_SETTINGS: [string, MetricDesc, 'number' | 'bool'][] = [
  ['lru_crawler', M.lruCrawlerEnabled, 'bool'],
  ['lru_crawler_sleep', M.lruCrawlerSleep, 'number'],
  ['lru_crawler_tocrawl', M.lruCrawlerMaxItems, 'number'],
  ['lru_maintainer_thread', M.lruMaintainerThread, 'bool'],
  ['hot_lru_pct', M.lruHotPercent, 'number'],
  ['warm_lru_pct', M.lruWarmPercent, 'number'],
  ['hot_max_factor', M.lruHotMaxAgeFactor, 'number'],
  ['warm_max_factor', M.lruWarmMaxAgeFactor, 'number'],
];

/** A stat that is absent: skipped without error. */
const ABSENT = Symbol('absent');
/** A stat that is present but does not parse: memcached_up becomes 0. */
const INVALID = Symbol('invalid');
type Parsed = number | typeof ABSENT | typeof INVALID;

/** Go's strconv.ParseFloat for what stats print: decimal numbers, inf, nan. */
function parseFloatText(v: string): number | typeof INVALID {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return Number(v);
  if (/^[+-]?(inf|infinity)$/i.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(v)) return NaN;
  return INVALID;
}

function parseNumber(stats: Map<string, string>, key: string): Parsed {
  const v = stats.get(key);
  return v === undefined ? ABSENT : parseFloatText(v);
}

function parseBool(stats: Map<string, string>, key: string): Parsed {
  const v = stats.get(key);
  if (v === undefined) return ABSENT;
  return v === 'yes' ? 1 : v === 'no' ? 0 : INVALID;
}

/** rusage_user "0.163692": seconds, then microseconds (as the exporter
 *  reads it, "3.5" is 3 s and 5 µs). */
function parseTimeval(stats: Map<string, string>, key: string): Parsed {
  const v = stats.get(key);
  if (v === undefined) return ABSENT;
  const parts = v.split('.');
  if (parts.length !== 2) return INVALID;
  const seconds = parseFloatText(parts[0]);
  const micros = parseFloatText(parts[1]);
  if (seconds === INVALID || micros === INVALID) return INVALID;
  return seconds + micros / (1000.0 * 1000.0);
}

/** The sum of several stats; any one absent counts as an error, as in the exporter. */
function sum(stats: Map<string, string>, ...keys: string[]): number | null {
  let s = 0;
  for (const k of keys) {
    const v = parseNumber(stats, k);
    if (typeof v !== 'number') return null;
    s += v;
  }
  return s;
}

/** Adds the series of one scrape; `failed` once any stat did not parse. */
class Collector {
  failed = false;
  constructor(private readonly out: Exposition) {}

  put(v: Parsed, d: MetricDesc, type: MetricType, labels: string[]): void {
    if (v === ABSENT) return;
    if (v === INVALID) { this.failed = true; return; }
    this.out.add(d, type, v, ...labels);
  }

  number(stats: Map<string, string>, key: string, d: MetricDesc, type: MetricType, ...labels: string[]): void {
    this.put(parseNumber(stats, key), d, type, labels);
  }

  /** commands_total{command="set"}: cmd_set less the cas commands counted in it. */
  setCommands(stats: Map<string, string>, casKeys: string[], d: MetricDesc, ...labels: string[]): void {
    const set = parseNumber(stats, 'cmd_set');
    const cas = sum(stats, ...casKeys);
    if (typeof set !== 'number' || cas === null) { this.failed = true; return; }
    this.out.add(d, 'counter', set - cas, ...labels);
  }
}

/**
 * Adds every memcached_* series for `report` to `out`; `report` null means
 * the stats could not be read, which leaves only memcached_up 0.
 */
export function collectMemcached(report: StatsReport | null, out: Exposition): void {
  const c = new Collector(out);
  if (report !== null) {
    collectServer(c, out, report);
    collectItems(c, report.items);
    collectSlabs(c, report.slabs);
    collectSettings(c, report.settings);
  }
  out.add(M.up, 'gauge', report === null || c.failed ? 0 : 1);
}

function collectServer(c: Collector, out: Exposition, report: StatsReport): void {
  const s = report.stats;
  out.add(M.version, 'gauge', 1, s.get('version') ?? '');
  for (const op of HIT_MISS_COMMANDS) {
    c.number(s, `${op}_hits`, M.commands, 'counter', op, 'hit');
    c.number(s, `${op}_misses`, M.commands, 'counter', op, 'miss');
  }
  c.number(s, 'uptime', M.uptime, 'counter');
  c.number(s, 'time', M.time, 'gauge');
  c.number(s, 'cas_badval', M.commands, 'counter', 'cas', 'badval');
  c.number(s, 'cmd_flush', M.commands, 'counter', 'flush', 'hit');
  c.setCommands(s, ['cas_misses', 'cas_hits', 'cas_badval'], M.commands, 'set', 'hit');
  c.put(parseTimeval(s, 'rusage_user'), M.rusageUser, 'counter', []);
  c.put(parseTimeval(s, 'rusage_system'), M.rusageSystem, 'counter', []);
  for (const [key, d, type] of SERVER_STATS) c.number(s, key, d, type);
}

function collectItems(c: Collector, items: Map<number, Map<string, string>>): void {
  for (const [id, u] of items) {
    const slab = String(id);
    c.number(u, 'number', M.itemsNumber, 'gauge', slab);
    c.number(u, 'age', M.itemsAge, 'gauge', slab);
    c.number(u, 'hits_to_hot', M.itemsLruHits, 'counter', slab, 'hot');
    c.number(u, 'hits_to_warm', M.itemsLruHits, 'counter', slab, 'warm');
    c.number(u, 'hits_to_cold', M.itemsLruHits, 'counter', slab, 'cold');
    c.number(u, 'hits_to_temp', M.itemsLruHits, 'counter', slab, 'temporary');
    for (const [key, d] of ITEMS_COUNTERS) c.number(u, key, d, 'counter', slab);
    for (const [key, d] of ITEMS_GAUGES) c.number(u, key, d, 'gauge', slab);
  }
}

function collectSlabs(c: Collector, slabs: Map<number, Map<string, string>>): void {
  for (const [id, v] of slabs) {
    const slab = String(id);
    for (const op of HIT_MISS_COMMANDS) c.number(v, `${op}_hits`, M.slabsCommands, 'counter', slab, op, 'hit');
    c.number(v, 'cas_badval', M.slabsCommands, 'counter', slab, 'cas', 'badval');
    // Per class memcached counts no cas misses (a miss has no class).
    c.setCommands(v, ['cas_hits', 'cas_badval'], M.slabsCommands, slab, 'set', 'hit');
    c.number(v, 'chunk_size', M.slabsChunkSize, 'gauge', slab);
    c.number(v, 'chunks_per_page', M.slabsChunksPerPage, 'gauge', slab);
    c.number(v, 'total_pages', M.slabsCurrentPages, 'gauge', slab);
    c.number(v, 'total_chunks', M.slabsCurrentChunks, 'gauge', slab);
    c.number(v, 'used_chunks', M.slabsChunksUsed, 'gauge', slab);
    c.number(v, 'free_chunks', M.slabsChunksFree, 'gauge', slab);
    c.number(v, 'free_chunks_end', M.slabsChunksFreeEnd, 'gauge', slab);
    c.number(v, 'mem_requested', M.slabsMemRequested, 'gauge', slab);
  }
}

function collectSettings(c: Collector, settings: Map<string, string>): void {
  c.number(settings, 'maxconns', M.maxConnections, 'gauge');
  if (settings.get('lru_crawler') !== 'yes') return;
  for (const [key, d, kind] of CRAWLER_SETTINGS) {
    c.put(kind === 'bool' ? parseBool(settings, key) : parseNumber(settings, key), d, 'gauge', []);
  }
}
