// The scenario every JavaScript runtime runs against the library (Node,
// Chromium, Deno, Bun, workerd): set/get, byte-exact binary values, TTL on an
// injected clock, eviction at the byte budget, and fetch coalescing. Plain
// ESM with no imports, so each runtime loads it as it is. `make(options)`
// returns a cache (createCache, or createCacheSync with a compiled module).
// The result is a flat object the caller compares with EXPECTED.

export const EXPECTED = {
  set: true,
  get: 'v1',
  missing: null,
  utf8: 'héllo ☃',
  bytesEqual: true,
  ttlBefore: 'x',
  ttlAfter: null,
  evicted: true,
  withinBudget: true,
  newestKept: true,
  fetchLoaderCalls: 1,
  fetchAllLoaded: true,
  fetchErrorReachedAll: true,
  fetchErrorStoredNothing: true,
  independent: true,
};

export async function runScenario(make) {
  let now = 1_700_000_000;
  const budget = 8 * 1024 * 1024;
  const cache = await make({ memory: budget, maxItemSize: 1024 * 1024, now: () => now });
  const r = {};

  r.set = cache.set('k', 'v1');
  r.get = cache.getString('k');
  r.missing = cache.getString('nope') ?? null;
  cache.set('u', 'héllo ☃');
  r.utf8 = cache.getString('u');

  // Every byte value, CR LF and NUL included, comes back unchanged.
  const bytes = new Uint8Array(256 * 64);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 255;
  cache.set(new Uint8Array([0, 13, 10, 255]), bytes);
  const back = cache.get(new Uint8Array([0, 13, 10, 255]));
  r.bytesEqual = !!back && back.length === bytes.length && back.every((b, i) => b === bytes[i]);

  cache.set('t', 'x', { ttl: 10 });
  now += 9;
  r.ttlBefore = cache.getString('t') ?? null;
  now += 1;
  r.ttlAfter = cache.getString('t') ?? null;

  // Twice the budget in 1000-byte values: the oldest go, the newest stay.
  const v = 'e'.repeat(1000);
  for (let i = 0; i < 16000; i++) cache.set('e' + i, v);
  const st = cache.stats();
  r.evicted = st.evictions > 0;
  r.withinBudget = st.bytes <= budget && st.limitBytes === budget;
  r.newestKept = cache.getString('e15999') === v;

  // 50 concurrent misses of one key: one loader call, everyone gets its value.
  let calls = 0;
  const loader = async () => { calls++; await new Promise((res) => setTimeout(res, 20)); return 'loaded'; };
  const got = await Promise.all(Array.from({ length: 50 }, () => cache.fetch('f', loader, { ttl: 60 })));
  r.fetchLoaderCalls = calls;
  const dec = new TextDecoder();
  r.fetchAllLoaded = got.every((g) => dec.decode(g) === 'loaded') && cache.getString('f') === 'loaded';

  // A failing loader: every waiter sees the error, nothing is stored.
  const failing = async () => { await new Promise((res) => setTimeout(res, 10)); throw new Error('db down'); };
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => cache.fetch('bad', failing)));
  r.fetchErrorReachedAll = outcomes.every((o) => o.status === 'rejected' && o.reason.message === 'db down');
  r.fetchErrorStoredNothing = cache.getString('bad') === undefined;

  // A second cache is independent of the first.
  const other = await make({ memory: budget, now: () => now });
  cache.set('mine', 'first');
  other.set('mine', 'other');
  r.independent = other.getString('mine') === 'other' && cache.getString('mine') === 'first';
  return r;
}
