// pymemcache (the Python client most tutorials use) against the server: the
// tutorial patterns, each asserting what the application would observe.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { startWasmcached, startMemcached, haveTool, type ServerHandle } from '../support/servers.js';
import { havePythonModules, runPython } from './python.js';

const AGAINST_MEMCACHED = process.env.TEST_TARGET === 'memcached';
const WORKERS = 4;
const INCREMENTS = 200;

describe.skipIf(!havePythonModules(['pymemcache']))('pymemcache', () => {
  let server: ServerHandle;
  let secondServer: ServerHandle;
  let clockServer: ServerHandle;
  // Real memcached, for answers that are memcached's quirks rather than rules.
  let reference: ServerHandle | undefined;

  beforeAll(async () => {
    [server, secondServer, clockServer, reference] = await Promise.all([
      startWasmcached(),
      startWasmcached(),
      startWasmcached(['-o', 'debug_time']),
      !AGAINST_MEMCACHED && haveTool('memcached') ? startMemcached() : undefined,
    ]);
  });

  afterAll(async () => {
    await Promise.all([server, secondServer, clockServer, reference].map((s) => s?.stop()));
  });

  test('set/get with bytes and str values, set_many/get_many, delete', async () => {
    const r = await runPython('pymemcache_getset.py', [server.port]);
    expect(r).toEqual({
      set_bytes: true, get_bytes: "b'hello world'",
      set_str: true, get_str: "b'plain text'",
      set_utf8: true, get_utf8: "b'h\\xc3\\xa9llo w\\xc3\\xb6rld'",
      set_binary: true, binary_roundtrip: true,
      set_empty: true, get_empty: "b''",
      get_missing: null,
      set_many_failed: [],
      get_many: { k1: "b'v1'", k2: "b'v2'", k3: "b'v3'" },
      delete_existing: true, delete_missing: false,
      get_many_after_delete: { k1: "b'v1'", k3: "b'v3'" },
      delete_many: true, get_many_after_delete_many: {},
    });
  });

  test('the default client (noreply on writes) stays in step and its writes land', async () => {
    const r = await runPython('pymemcache_noreply.py', [server.port]);
    expect(r).toEqual({
      set: true, add_existing: true, replace: true, append: true, prepend: true,
      get_after_writes: "b'head-two-tail'",
      add_new: true, replace_missing: true,
      get_many: { nr2: "b'added'" },
      set_many_failed: [],
      incr_noreply: null, decr_noreply: null, get_ctr: "b'7'",
      delete: true, touch: true,
      get_many_after: { m2: "b'b'" },
      burst_last: true, burst_count: 200,
    });
  });

  test('cache-aside: the database is read once until an update invalidates the key', async () => {
    const r = await runPython('pymemcache_cache_aside.py', [server.port]);
    const ada = { id: 42, name: 'Ada', visits: 7 };
    const updated = { id: 42, name: 'Ada Lovelace', visits: 8 };
    expect(r).toEqual({
      first_read: ada, loads_after_first: 1,
      second_read: ada, loads_after_second: 1,
      cached_after_update: null,
      read_after_update: updated, loads_after_update: 2,
      read_again: updated, loads_final: 2,
    });
  });

  test('a key set with expire=2 is gone once the clock has moved 3 s', async () => {
    // memcached has no debugtime command, so only there do we really wait.
    const r = await runPython('pymemcache_expiry.py', [clockServer.port, AGAINST_MEMCACHED ? 'sleep' : 'debugtime']);
    const live = { 'long-lived': "b'stays'", 'no-expiry': "b'stays too'" };
    expect(r).toEqual({
      set_short: true, set_long: true, set_forever: true, touch_to_short: true,
      before: { 'short-lived': "b'soon gone'", ...live, touched: "b't'" },
      advance: "b'OK\\r\\n'",
      after: live,
      get_short_after: null,
      add_over_expired: true, get_readded: "b'new life'",
    });
  });

  test('FallbackClient reads fall through to the second server; writes go to the first only', async () => {
    const r = await runPython('pymemcache_fallback.py', [server.port, secondServer.port]);
    expect(r).toEqual({
      get_only_old: "b'from old'", get_only_new: "b'from new'",
      get_both: "b'new copy'", get_neither: null,
      get_many_only_old: { 'only-old': "b'from old'" },
      get_written: "b'via fallback'", new_has_written: "b'via fallback'", old_has_written: null,
      get_after_delete: null, new_after_delete: null,
    });
  });

  test(`gets/cas visitor counter: ${WORKERS} processes x ${INCREMENTS} increments lose no update`, async ({ annotate }) => {
    const r = await runPython<{ final: number; expected: number; retries: number[] }>(
      'pymemcache_visitor_counter.py', [server.port, WORKERS, INCREMENTS], 50_000);
    // Retries show the processes really contended; how many depends on scheduling.
    await annotate(`cas retries per process: ${r.retries.join(', ')}`);
    expect(r.retries).toHaveLength(WORKERS);
    expect(r).toMatchObject({ final: WORKERS * INCREMENTS, expected: WORKERS * INCREMENTS });
  });

  test('incr/decr: clamping at 0, wrap at 2^64, missing keys, in-place space padding', async () => {
    const r = await runPython('pymemcache_incrdecr.py', [server.port]);
    expect(r).toMatchObject({
      incr_5: 15, decr_20: 0, incr_after_padding: 7, incr_grows: 1007, decr_to_99: 99,
      incr_missing: null, decr_missing: null, get_missing_after: null,
      incr_wraps: 0, incr_to_max: '18446744073709551615', incr_big_delta: '18446744073709551615',
      get_word_after: "b'hello'", incr_noreply: null, get_after_incr_noreply: "b'42'",
      // memcached rewrites a shrinking number in place and pads it with spaces.
      get_after_decr_to_0: "b'0 '", get_99: "b'99 '",
    });
    expect(r.incr_non_numeric).toMatchObject({ raised: 'MemcacheClientError' });
    if (reference) expect(r).toEqual(await runPython('pymemcache_incrdecr.py', [reference.port]));
  });
});
