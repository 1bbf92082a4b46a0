// -o metrics_port: a real server on both engines serves /metrics over HTTP in
// the Prometheus text format, under the community memcached_exporter's names
// (its README's HELP and TYPE lines are the reference) with the values
// `stats`, `stats settings`, `stats slabs` and `stats items` give, plus
// wasmcached_* families; only GET/HEAD /metrics is served, bad requests are
// answered and closed, and the endpoint stops with the server.
import { describe, it, expect, afterEach } from 'vitest';
import { request as httpRequest } from 'node:http';
import { createServer, connect, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWasmcached, WASMCACHED_BIN, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { parseExposition, valueOf, type MetricFamily } from '../support/exposition.js';
import { parseSettings, SettingsError } from '../../src/settings.js';

const ENGINES = ['wasm', 'js'] as const;
const running: ServerHandle[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(args: string[]): Promise<ServerHandle> {
  const h = await startWasmcached(args);
  running.push(h);
  return h;
}

/** The port from the `metrics on http://127.0.0.1:<port>/metrics` line. */
function metricsPort(h: ServerHandle): number {
  const m = /^metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics$/m.exec(h.output());
  if (!m) throw new Error(`no metrics line in:\n${h.output()}`);
  return Number(m[1]);
}

interface HttpReply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function http(port: number, method = 'GET', path = '/metrics', headers: Record<string, string> = {}, body?: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { Connection: 'close', ...headers }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function scrape(port: number): Promise<Map<string, MetricFamily>> {
  const r = await http(port);
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(r.body);
}

interface Stats {
  stats: Map<string, string>;
  settings: Map<string, string>;
  /** `stats slabs` by class, with its class-less lines under class 0 */
  slabs: Map<number, Map<string, string>>;
  items: Map<number, Map<string, string>>;
}

async function statsOf(c: RawClient): Promise<Stats> {
  const read = async (cmd: string) => (await c.request(`${cmd}\r\n`)).toString('latin1').split('\r\n')
    .filter((l) => l.startsWith('STAT ')).map((l) => l.split(' ') as [string, string, string]);
  const byClass = (lines: [string, string, string][], prefix: string) => {
    const out = new Map<number, Map<string, string>>();
    for (const [, name, value] of lines) {
      const m = new RegExp(`^${prefix}(\\d+):(.+)$`).exec(name);
      const id = m ? Number(m[1]) : 0;
      if (!out.has(id)) out.set(id, new Map());
      out.get(id)!.set(m ? m[2] : name, value);
    }
    return out;
  };
  return {
    stats: new Map((await read('stats')).map(([, n, v]) => [n, v])),
    settings: new Map((await read('stats settings')).map(([, n, v]) => [n, v])),
    slabs: byClass(await read('stats slabs'), ''),
    items: byClass(await read('stats items'), 'items:'),
  };
}

const num = (m: Map<string, string> | undefined, key: string): number => {
  const v = m?.get(key);
  if (v === undefined) throw new Error(`stat ${key} missing`);
  return Number(v);
};
/** rusage_user "1.002003" in seconds. */
const seconds = (m: Map<string, string>, key: string): number => {
  const [s, us] = m.get(key)!.split('.');
  return Number(s) + Number(us) / 1e6;
};

/** A scraped value must be what stats said: equal when both reads agree,
 *  between them when the stat moved (uptime, bytes read, cpu). */
function expectBetween(what: string, scraped: number, before: number, after: number): void {
  const lo = Math.min(before, after);
  const hi = Math.max(before, after);
  if (!(scraped >= lo && scraped <= hi)) throw new Error(`${what}: scraped ${scraped}, stats said ${before} then ${after}`);
}

/** Every memcached_* series this test derives itself from the stats, as
 *  [family, labels, value from one stats read]. */
function expectedFromStats(s: Stats): [string, Record<string, string>, number][] {
  const g = s.stats;
  const out: [string, Record<string, string>, number][] = [
    ['memcached_uptime_seconds', {}, num(g, 'uptime')],
    ['memcached_time_seconds', {}, num(g, 'time')],
    ['memcached_current_bytes', {}, num(g, 'bytes')],
    ['memcached_limit_bytes', {}, num(g, 'limit_maxbytes')],
    ['memcached_current_items', {}, num(g, 'curr_items')],
    ['memcached_items_total', {}, num(g, 'total_items')],
    ['memcached_read_bytes_total', {}, num(g, 'bytes_read')],
    ['memcached_written_bytes_total', {}, num(g, 'bytes_written')],
    ['memcached_current_connections', {}, num(g, 'curr_connections')],
    ['memcached_connections_total', {}, num(g, 'total_connections')],
    ['memcached_items_evicted_total', {}, num(g, 'evictions')],
    ['memcached_items_reclaimed_total', {}, num(g, 'reclaimed')],
    ['memcached_malloced_bytes', {}, num(s.slabs.get(0), 'total_malloced')],
    ['memcached_max_connections', {}, num(s.settings, 'maxconns')],
    ['memcached_process_user_cpu_seconds_total', {}, seconds(g, 'rusage_user')],
    ['memcached_process_system_cpu_seconds_total', {}, seconds(g, 'rusage_system')],
    ['memcached_commands_total', { command: 'cas', status: 'badval' }, num(g, 'cas_badval')],
    ['memcached_commands_total', { command: 'flush', status: 'hit' }, num(g, 'cmd_flush')],
    // memcached counts cas commands in cmd_set too
    ['memcached_commands_total', { command: 'set', status: 'hit' },
      num(g, 'cmd_set') - num(g, 'cas_misses') - num(g, 'cas_hits') - num(g, 'cas_badval')],
  ];
  for (const op of ['get', 'delete', 'incr', 'decr', 'cas', 'touch']) {
    out.push(['memcached_commands_total', { command: op, status: 'hit' }, num(g, `${op}_hits`)]);
    out.push(['memcached_commands_total', { command: op, status: 'miss' }, num(g, `${op}_misses`)]);
  }
  for (const [id, c] of s.items) {
    const slab = String(id);
    out.push(['memcached_slab_current_items', { slab }, num(c, 'number')]);
    out.push(['memcached_slab_items_age_seconds', { slab }, num(c, 'age')]);
    out.push(['memcached_slab_mem_requested_bytes', { slab }, num(c, 'mem_requested')]);
    out.push(['memcached_slab_items_evicted_total', { slab }, num(c, 'evicted')]);
    out.push(['memcached_slab_lru_hits_total', { slab, lru: 'cold' }, num(c, 'hits_to_cold')]);
  }
  for (const [id, c] of s.slabs) {
    if (id === 0) continue;
    const slab = String(id);
    out.push(['memcached_slab_chunk_size_bytes', { slab }, num(c, 'chunk_size')]);
    out.push(['memcached_slab_current_pages', { slab }, num(c, 'total_pages')]);
    out.push(['memcached_slab_current_chunks', { slab }, num(c, 'total_chunks')]);
    out.push(['memcached_slab_chunks_used', { slab }, num(c, 'used_chunks')]);
    out.push(['memcached_slab_chunks_free', { slab }, num(c, 'free_chunks')]);
    out.push(['memcached_slab_commands_total', { slab, command: 'get', status: 'hit' }, num(c, 'get_hits')]);
    out.push(['memcached_slab_commands_total', { slab, command: 'cas', status: 'badval' }, num(c, 'cas_badval')]);
    out.push(['memcached_slab_commands_total', { slab, command: 'set', status: 'hit' },
      num(c, 'cmd_set') - num(c, 'cas_hits') - num(c, 'cas_badval')]);
  }
  return out;
}

/** Scrapes between two stats reads and checks every derived series. */
async function checkAgainstStats(c: RawClient, port: number): Promise<Map<string, MetricFamily>> {
  const before = await statsOf(c);
  const families = await scrape(port);
  const after = await statsOf(c);
  const b = expectedFromStats(before);
  const a = expectedFromStats(after);
  expect(a.map(([f, l]) => f + JSON.stringify(l))).toEqual(b.map(([f, l]) => f + JSON.stringify(l)));
  for (let i = 0; i < b.length; i++) {
    const [family, labels, v] = b[i];
    expectBetween(`${family}${JSON.stringify(labels)}`, valueOf(families, family, labels), v, a[i][2]);
  }
  // Per-class families list exactly the classes stats lists.
  const classesOf = (f: string) => [...new Set(families.get(f)!.samples.map((x) => Number(x.labels.slab)))].sort((x, y) => x - y);
  expect(classesOf('memcached_slab_current_items')).toEqual([...after.items.keys()].sort((x, y) => x - y));
  expect(classesOf('memcached_slab_current_chunks')).toEqual([...after.slabs.keys()].filter((k) => k !== 0).sort((x, y) => x - y));
  expect(valueOf(families, 'memcached_up')).toBe(1);
  expect(valueOf(families, 'memcached_version', { version: after.stats.get('version')! })).toBe(1);
  return families;
}

/**
 * The collectors listed in prometheus/memcached_exporter's README, as it
 * prints them, with two lines as its exporter.go now writes them:
 * memcached_slab_mem_requested_bytes is a counter for servers (memcached 1.6
 * and this one) that report mem_requested in `stats items` rather than
 * `stats slabs` (the exporter types it by its source), and the help of
 * memcached_slab_items_crawler_reclaimed_total no longer starts "Total".
 */
const EXPORTER_README = `
# HELP memcached_commands_total Total number of all requests broken down by command (get, set, etc.) and status.
# TYPE memcached_commands_total counter
# HELP memcached_connections_total Total number of connections opened since the server started running.
# TYPE memcached_connections_total counter
# HELP memcached_current_bytes Current number of bytes used to store items.
# TYPE memcached_current_bytes gauge
# HELP memcached_current_connections Current number of open connections.
# TYPE memcached_current_connections gauge
# HELP memcached_current_items Current number of items stored by this instance.
# TYPE memcached_current_items gauge
# HELP memcached_items_evicted_total Total number of valid items removed from cache to free memory for new items.
# TYPE memcached_items_evicted_total counter
# HELP memcached_items_reclaimed_total Total number of times an entry was stored using memory from an expired entry.
# TYPE memcached_items_reclaimed_total counter
# HELP memcached_items_total Total number of items stored during the life of this instance.
# TYPE memcached_items_total counter
# HELP memcached_limit_bytes Number of bytes this server is allowed to use for storage.
# TYPE memcached_limit_bytes gauge
# HELP memcached_malloced_bytes Number of bytes of memory allocated to slab pages.
# TYPE memcached_malloced_bytes gauge
# HELP memcached_read_bytes_total Total number of bytes read by this server from network.
# TYPE memcached_read_bytes_total counter
# HELP memcached_slab_chunk_size_bytes Number of bytes allocated to each chunk within this slab class.
# TYPE memcached_slab_chunk_size_bytes gauge
# HELP memcached_slab_chunks_free Number of chunks not yet allocated items.
# TYPE memcached_slab_chunks_free gauge
# HELP memcached_slab_chunks_free_end Number of free chunks at the end of the last allocated page.
# TYPE memcached_slab_chunks_free_end gauge
# HELP memcached_slab_chunks_per_page Number of chunks within a single page for this slab class.
# TYPE memcached_slab_chunks_per_page gauge
# HELP memcached_slab_chunks_used Number of chunks allocated to an item.
# TYPE memcached_slab_chunks_used gauge
# HELP memcached_slab_commands_total Total number of all requests broken down by command (get, set, etc.) and status per slab.
# TYPE memcached_slab_commands_total counter
# HELP memcached_slab_current_chunks Number of chunks allocated to this slab class.
# TYPE memcached_slab_current_chunks gauge
# HELP memcached_slab_current_items Number of items currently stored in this slab class.
# TYPE memcached_slab_current_items gauge
# HELP memcached_slab_current_pages Number of pages allocated to this slab class.
# TYPE memcached_slab_current_pages gauge
# HELP memcached_slab_items_age_seconds Number of seconds the oldest item has been in the slab class.
# TYPE memcached_slab_items_age_seconds gauge
# HELP memcached_slab_items_crawler_reclaimed_total Number of items freed by the LRU Crawler.
# TYPE memcached_slab_items_crawler_reclaimed_total counter
# HELP memcached_slab_items_evicted_nonzero_total Total number of times an item which had an explicit expire time set had to be evicted from the LRU before it expired.
# TYPE memcached_slab_items_evicted_nonzero_total counter
# HELP memcached_slab_items_evicted_time_seconds Seconds since the last access for the most recent item evicted from this class.
# TYPE memcached_slab_items_evicted_time_seconds counter
# HELP memcached_slab_items_evicted_total Total number of times an item had to be evicted from the LRU before it expired.
# TYPE memcached_slab_items_evicted_total counter
# HELP memcached_slab_items_evicted_unfetched_total Total nmber of items evicted and never fetched.
# TYPE memcached_slab_items_evicted_unfetched_total counter
# HELP memcached_slab_items_expired_unfetched_total Total number of valid items evicted from the LRU which were never touched after being set.
# TYPE memcached_slab_items_expired_unfetched_total counter
# HELP memcached_slab_items_outofmemory_total Total number of items for this slab class that have triggered an out of memory error.
# TYPE memcached_slab_items_outofmemory_total counter
# HELP memcached_slab_items_reclaimed_total Total number of items reclaimed.
# TYPE memcached_slab_items_reclaimed_total counter
# HELP memcached_slab_items_tailrepairs_total Total number of times the entries for a particular ID need repairing.
# TYPE memcached_slab_items_tailrepairs_total counter
# HELP memcached_slab_mem_requested_bytes Number of bytes of memory actual items take up within a slab.
# TYPE memcached_slab_mem_requested_bytes counter
# HELP memcached_up Could the memcached server be reached.
# TYPE memcached_up gauge
# HELP memcached_uptime_seconds Number of seconds since the server started.
# TYPE memcached_uptime_seconds counter
# HELP memcached_version The version of this memcached server.
# TYPE memcached_version gauge
# HELP memcached_written_bytes_total Total number of bytes sent by this server to network.
# TYPE memcached_written_bytes_total counter
`.trim().split('\n');

/** memcached_exporter's acceptance test: its traffic (after `stats reset`). */
async function exporterWarmUp(c: RawClient): Promise<void> {
  expect((await c.request('stats reset\r\n')).toString()).toBe('RESET\r\n');
  expect((await c.request('set foo 0 0 3\r\nbar\r\nset foo 0 0 3\r\nbar\r\n', 2)).toString()).toBe('STORED\r\nSTORED\r\n');
  expect((await c.request('gets foo\r\n')).toString()).toMatch(/^VALUE foo 0 3 \d+\r\nbar\r\nEND\r\n$/);
  expect((await c.request('gets qux\r\n')).toString()).toBe('END\r\n');
  const got = (await c.request('gets foo\r\n')).toString();
  const cas = /^VALUE foo 0 3 (\d+)\r\n/.exec(got)![1];
  expect((await c.request(`cas foo 0 0 6 ${cas}\r\nbanana\r\n`)).toString()).toBe('STORED\r\n');
  expect((await c.request(`set large 0 0 130\r\n${'.'.repeat(130)}\r\n`)).toString()).toBe('STORED\r\n');
}

describe.each(ENGINES)('metrics endpoint (--engine %s)', (engine) => {
  it("serves memcached_exporter's families with the values stats gives, and wasmcached's own", async () => {
    const h = await start(['-o', 'metrics_port=0', '--engine', engine]);
    const port = metricsPort(h);
    const c = await RawClient.connect(h.port);
    try {
      const settings = (await statsOf(c)).settings;
      expect(num(settings, 'metrics_port')).toBe(port);
      expect(num(settings, 'tcpport')).toBe(h.port);

      await exporterWarmUp(c);
      let families = await checkAgainstStats(c, port);
      // The exporter's own acceptance expectations for this traffic (those
      // that do not depend on memcached's item sizes).
      expect(valueOf(families, 'memcached_commands_total', { command: 'get', status: 'hit' })).toBe(2);
      expect(valueOf(families, 'memcached_commands_total', { command: 'get', status: 'miss' })).toBe(1);
      expect(valueOf(families, 'memcached_commands_total', { command: 'set', status: 'hit' })).toBe(3);
      expect(valueOf(families, 'memcached_commands_total', { command: 'cas', status: 'hit' })).toBe(1);
      expect(valueOf(families, 'memcached_max_connections')).toBe(1024);
      expect(valueOf(families, 'memcached_current_items')).toBe(2);
      expect(valueOf(families, 'memcached_items_total')).toBe(4);
      expect(valueOf(families, 'memcached_slab_current_chunks', { slab: '1' })).toBe(10922);
      expect(valueOf(families, 'memcached_slab_commands_total', { slab: '1', command: 'set', status: 'hit' })).toBe(2);
      expect(valueOf(families, 'memcached_slab_commands_total', { slab: '1', command: 'cas', status: 'hit' })).toBe(1);

      // Every command and status the exporter derives, moved off zero.
      const more = [
        ['incr n 1\r\n', 'NOT_FOUND'], ['set n 0 0 1\r\n5\r\n', 'STORED'], ['incr n 2\r\n', '7'], ['decr n 1\r\n', '6'],
        ['decr none 1\r\n', 'NOT_FOUND'], ['touch n 100\r\n', 'TOUCHED'], ['touch none 1\r\n', 'NOT_FOUND'],
        ['delete foo\r\n', 'DELETED'], ['delete foo\r\n', 'NOT_FOUND'], ['cas large 0 0 1 999999\r\nx\r\n', 'EXISTS'],
        ['cas none 0 0 1 1\r\nx\r\n', 'NOT_FOUND'], [`set big 0 0 ${20000}\r\n${'b'.repeat(20000)}\r\n`, 'STORED'],
        // Delayed, so the items stay for the checks below (cmd_flush counts it now).
        ['flush_all 3600\r\n', 'OK'],
      ];
      for (const [cmd, answer] of more) expect((await c.request(cmd)).toString()).toBe(`${answer}\r\n`);
      families = await checkAgainstStats(c, port);
      for (const [command, status] of [['incr', 'hit'], ['incr', 'miss'], ['decr', 'hit'], ['decr', 'miss'], ['touch', 'hit'],
        ['touch', 'miss'], ['delete', 'hit'], ['delete', 'miss'], ['cas', 'badval'], ['cas', 'miss'], ['flush', 'hit']]) {
        expect(valueOf(families, 'memcached_commands_total', { command, status }), `${command} ${status}`).toBe(1);
      }

      // The exporter's names, help texts and types, as its README lists them.
      const text = (await http(port)).body.split('\n');
      for (const line of EXPORTER_README) expect(text, line).toContain(line);
      for (const [name, f] of families) {
        expect(name).toMatch(/^(memcached|wasmcached)_/);
        expect(f.help.length, name).toBeGreaterThan(0);
      }
      // Values as the exporter's Go client writes them.
      expect(text).toContain('memcached_limit_bytes 6.7108864e+07');
      expect(text).toContain('memcached_lru_crawler_enabled 1');

      // wasmcached's own.
      expect(families.get('wasmcached_engine_info')!.samples).toEqual([{ labels: { engine }, value: 1, text: '1' }]);
      const stats = await statsOf(c);
      const slabPages = [...stats.slabs].filter(([id]) => id !== 0).reduce((n, [, cl]) => n + num(cl, 'total_pages'), 0);
      expect(valueOf(families, 'wasmcached_arena_pages', { state: 'slab' })).toBe(slabPages);
      expect(valueOf(families, 'wasmcached_arena_pages', { state: 'pool' })).toBe(num(stats.stats, 'slab_global_page_pool'));
      expect(valueOf(families, 'wasmcached_arena_page_size_bytes')).toBe(num(stats.settings, 'slab_chunk_max'));
      // The store spans at least -m of pages; the engine's memory holds it.
      expect(valueOf(families, 'wasmcached_arena_bytes')).toBeGreaterThan(num(stats.stats, 'limit_maxbytes'));
      expect(valueOf(families, 'wasmcached_engine_memory_bytes')).toBeGreaterThanOrEqual(valueOf(families, 'wasmcached_arena_bytes'));
      // RSS as the OS reports it for the server's PID (pages of 4 KiB).
      const rss = Number(readFileSync(`/proc/${h.pid}/statm`, 'utf8').split(' ')[1]) * 4096;
      const scrapedRss = valueOf(families, 'wasmcached_host_resident_memory_bytes');
      expect(Math.abs(scrapedRss - rss)).toBeLessThan(Math.max(0.25 * rss, 16 << 20));
      expect(valueOf(families, 'wasmcached_host_heap_used_bytes'))
        .toBeLessThanOrEqual(valueOf(families, 'wasmcached_host_heap_total_bytes'));
      // No --warm-from: no warm_* stats, so no warm families.
      expect([...families.keys()].filter((n) => n.startsWith('wasmcached_warm_'))).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('scrapes past -Y authentication, which guards clients only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    tempDirs.push(dir);
    const file = join(dir, 'auth');
    writeFileSync(file, 'user:secret\n');
    const h = await start(['-Y', file, '-o', 'metrics_port=0', '--engine', engine]);
    const c = await RawClient.connect(h.port);
    try {
      // An unauthenticated client is refused stats...
      expect((await c.request('stats\r\n')).toString()).toMatch(/^CLIENT_ERROR/);
      expect((await c.request('set a 0 0 11\r\nuser secret\r\n')).toString()).toBe('STORED\r\n');
      expect((await c.request('set k 0 0 1\r\nv\r\n')).toString()).toBe('STORED\r\n');
      // ...the scrape is not.
      const families = await checkAgainstStats(c, metricsPort(h));
      expect(valueOf(families, 'memcached_current_items')).toBe(1);
    } finally {
      c.close();
    }
  });

  it('reports --warm-from progress as wasmcached_warm_*', async () => {
    const old = await start(['--engine', engine]);
    const feed = await RawClient.connect(old.port);
    const keys = 300;
    let batch = '';
    for (let i = 0; i < keys; i++) batch += `set key:${i} 0 0 5 noreply\r\nv${String(i).padStart(4, '0')}\r\n`;
    await feed.send(batch + 'mn\r\n');
    await feed.readUntil('MN\r\n');
    feed.close();
    const h = await start(['--warm-from', `127.0.0.1:${old.port}`, '-o', 'metrics_port=0', '--engine', engine]);
    const c = await RawClient.connect(h.port);
    try {
      let state = '';
      for (let i = 0; i < 200 && state !== 'done'; i++) {
        state = (await statsOf(c)).stats.get('warm_state') ?? '';
        if (state !== 'done') await new Promise((r) => setTimeout(r, 50));
      }
      expect(state).toBe('done');
      const families = await scrape(metricsPort(h));
      const stats = (await statsOf(c)).stats;
      for (const s of ['idle', 'copying', 'done', 'failed']) {
        expect(valueOf(families, 'wasmcached_warm_state', { state: s }), s).toBe(s === 'done' ? 1 : 0);
      }
      expect(num(stats, 'warm_keys_copied')).toBe(keys);
      expect(valueOf(families, 'wasmcached_warm_keys_copied_total')).toBe(keys);
      expect(valueOf(families, 'wasmcached_warm_keys_skipped_total')).toBe(num(stats, 'warm_keys_skipped'));
      expect(valueOf(families, 'wasmcached_warm_errors_total')).toBe(num(stats, 'warm_errors'));
      expect(valueOf(families, 'wasmcached_warm_elapsed_seconds')).toBe(num(stats, 'warm_elapsed'));
    } finally {
      c.close();
    }
  });
});

describe('metrics endpoint over HTTP', () => {
  it('serves only GET and HEAD /metrics; bad requests are answered and closed', async () => {
    const h = await start(['-o', 'metrics_port=0']);
    const port = metricsPort(h);
    expect((await http(port, 'GET', '/')).status).toBe(404);
    expect((await http(port, 'GET', '/metricsx')).status).toBe(404);
    expect((await http(port, 'GET', '/metrics/')).status).toBe(404);
    const post = await http(port, 'POST', '/metrics', {}, 'x');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    // Prometheus may add query parameters to a scrape.
    expect((await http(port, 'GET', '/metrics?collect=all')).status).toBe(200);
    const head = await http(port, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);
    expect((await http(port, 'GET', '/metrics', { 'Content-Length': '6' }, 'a body')).status).toBe(400);

    // Headers over the bound: 431, then the server hangs up.
    const big = await RawClient.connect(port);
    await big.send(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    expect(await big.waitClosed(5000)).toBe(true);
    expect(big.pending.toString('latin1')).toMatch(/^HTTP\/1\.1 431 /);
    // Not HTTP at all: 400, then the server hangs up.
    const junk = await RawClient.connect(port);
    await junk.send('get foo\r\n\r\n');
    expect(await junk.waitClosed(5000)).toBe(true);
    expect(junk.pending.toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
    // Still serving.
    expect(valueOf(await scrape(port), 'memcached_up')).toBe(1);
  });

  it('stops with the server (SIGTERM)', async () => {
    const h = await start(['-o', 'metrics_port=0']);
    const port = metricsPort(h);
    expect(valueOf(await scrape(port), 'memcached_up')).toBe(1);
    await h.stop();
    expect(h.proc.exitCode).toBe(0);
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve('connected'); });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('exits with 71 and says why when the metrics port is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const taken = (busy.address() as AddressInfo).port;
    try {
      const proc = spawn(process.execPath, [WASMCACHED_BIN, '-p', '0', '-o', `metrics_port=${taken}`],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      proc.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
      const code = await new Promise<number | null>((resolve) => {
        const t = setTimeout(() => { process.kill(proc.pid!, 'SIGKILL'); resolve(null); }, 15_000);
        proc.once('exit', (c) => { clearTimeout(t); resolve(c); });
      });
      expect(code).toBe(71);
      expect(err).toMatch(new RegExp(`failed to listen for metrics on 127\\.0\\.0\\.1:${taken}`));
    } finally {
      busy.close();
    }
  });

  it('takes metrics_port and metrics_listen as -o options', () => {
    const run = (argv: string[]) => {
      const cmd = parseSettings(argv);
      if (cmd.action !== 'run') throw new Error('not a run');
      return cmd.settings;
    };
    expect(run([]).metricsPort).toBe(null);
    expect(run(['-o', 'metrics_port=9150'])).toMatchObject({ metricsPort: 9150, metricsListen: '127.0.0.1' });
    expect(run(['-o', 'slab_automove=1,metrics_port=0,metrics_listen=::1'])).toMatchObject({ metricsPort: 0, metricsListen: '::1' });
    const bads = ['metrics_port', 'metrics_port=65536', 'metrics_port=-1', 'metrics_port=x', 'metrics_listen', 'metrics_listen=10.0.0.1'];
    for (const bad of bads) {
      expect(() => run(['-o', bad]), bad).toThrow(SettingsError);
    }
  });
});
