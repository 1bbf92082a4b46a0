// --warm-from with real processes: a new wasmcached (both engines) copies a
// real memcached's (or another wasmcached's) items byte-exact with flags and
// remaining TTL, never over a write made here while warming, never bringing
// back a key deleted here while warming; the old node dying mid-copy ends
// warming as failed and the new node keeps serving.
import { describe, it, expect, afterEach } from 'vitest';
import { startWasmcached, startMemcached, haveTool, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';

const ENGINES = ['wasm', 'js'] as const;
const running: ServerHandle[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});

async function track(h: Promise<ServerHandle>): Promise<ServerHandle> {
  const s = await h;
  running.push(s);
  return s;
}

interface Item { value: Buffer; flags: number; ttl: number }

/** A deterministic generator (tests must be repeatable). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

/** `n` items of mixed sizes, flags and TTLs (0 = never); some keys need URI-escaping in metadump. */
function makeItems(n: number, seed: number): Map<string, Item> {
  const r = rng(seed);
  const items = new Map<string, Item>();
  for (let i = 0; i < n; i++) {
    const key = i % 97 === 0 ? `ké%y/${i}` : `key:${i}`;
    const big = r() < 0.01;
    const len = big ? 5000 + Math.floor(r() * 45000) : Math.floor(r() * 400);
    const value = Buffer.alloc(len);
    for (let j = 0; j < len; j++) value[j] = Math.floor(r() * 256);
    const flags = r() < 0.5 ? 0 : Math.floor(r() * 4294967296);
    const ttl = r() < 0.4 ? 0 : 300 + Math.floor(r() * 3000);
    items.set(key, { value, flags, ttl });
  }
  return items;
}

/** Resolves to the time the first item was written (TTLs count from then or later). */
async function fill(port: number, items: Map<string, Item>): Promise<number> {
  const started = Date.now();
  const c = await RawClient.connect(port);
  let batch: Buffer[] = [];
  const flush = async () => {
    batch.push(Buffer.from('mn\r\n'));
    await c.send(Buffer.concat(batch));
    await c.readUntil('MN\r\n', 30000);
    batch = [];
  };
  for (const [key, it] of items) {
    batch.push(Buffer.from(`set ${key} ${it.flags} ${it.ttl} ${it.value.length} noreply\r\n`), it.value, Buffer.from('\r\n'));
    if (batch.length >= 1500) await flush();
  }
  await flush();
  c.close();
  return started;
}

interface Got { value: Buffer; flags: number; ttl: number }

/** Fetches every key with pipelined `mg <key> v f t`; missing keys are absent from the result. */
async function fetchAll(port: number, keys: string[]): Promise<Map<string, Got>> {
  const c = await RawClient.connect(port);
  const out = new Map<string, Got>();
  for (let i = 0; i < keys.length; i += 500) {
    const part = keys.slice(i, i + 500);
    await c.send(Buffer.from(part.map((k) => `mg ${k} v f t\r\n`).join('') + 'mn\r\n'));
    const buf = await c.readUntil('MN\r\n', 30000);
    let at = 0;
    for (const key of part) {
      const nl = buf.indexOf('\r\n', at);
      const line = buf.toString('latin1', at, nl);
      if (line === 'EN') { at = nl + 2; continue; }
      const m = /^VA (\d+) f(\d+) t(-?\d+)$/.exec(line);
      if (!m) throw new Error(`unexpected reply ${line} for ${key}`);
      const len = Number(m[1]);
      out.set(key, { value: Buffer.from(buf.subarray(nl + 2, nl + 2 + len)), flags: Number(m[2]), ttl: Number(m[3]) });
      at = nl + 2 + len + 2;
    }
  }
  c.close();
  return out;
}

async function stats(port: number): Promise<Record<string, string>> {
  const c = await RawClient.connect(port);
  await c.send('stats\r\n');
  const text = (await c.readUntil('\r\nEND\r\n')).toString('latin1');
  c.close();
  const s: Record<string, string> = {};
  for (const m of text.matchAll(/^STAT (\S+) (.*)\r$/gm)) s[m[1]] = m[2];
  return s;
}

async function waitWarmEnd(port: number, timeoutMs = 120_000): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(port);
    if (s.warm_state === 'done' || s.warm_state === 'failed') return s;
    if (Date.now() > deadline) throw new Error(`warming did not end: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Keys present here byte-exact with flags and TTL ±2 s, over all of `items`
 *  (written from `filled` on: the seconds since then have run off the TTL). */
function matching(items: Map<string, Item>, got: Map<string, Got>, filled: number): number {
  const spent = (Date.now() - filled) / 1000;
  let ok = 0;
  for (const [key, it] of items) {
    const g = got.get(key);
    if (!g || !g.value.equals(it.value) || g.flags !== it.flags) continue;
    if (it.ttl === 0 ? g.ttl !== -1 : g.ttl > it.ttl + 2 || g.ttl < it.ttl - spent - 2) continue;
    ok++;
  }
  return ok;
}

describe.skipIf(!haveTool('memcached') || process.env.TEST_TARGET === 'memcached')('--warm-from', () => {
  for (const engine of ENGINES) {
    it(`${engine}: copies 20,000 items of a memcached byte-exact with flags and TTL; stats show it`, async () => {
      const old = await track(startMemcached(['-m', '128']));
      const items = makeItems(20_000, 1);
      const filled = await fill(old.port, items);
      const fresh = await track(startWasmcached(['--engine', engine, '-m', '128', '--warm-from', `127.0.0.1:${old.port}`]));
      const end = await waitWarmEnd(fresh.port);
      expect(end.warm_state).toBe('done');
      expect(Number(end.warm_keys_copied)).toBeGreaterThanOrEqual(19_980);
      expect(end.warm_errors).toBe('0');
      const got = await fetchAll(fresh.port, [...items.keys()]);
      expect(matching(items, got, filled)).toBeGreaterThanOrEqual(Math.ceil(items.size * 0.999));
      expect(fresh.output()).toMatch(/warm: copying items from 127\.0\.0\.1:\d+/);
      expect(fresh.output()).toMatch(/warm: done \(copy complete after \d listings?\): \d+ items copied/);
    }, 180_000);

    it(`${engine}: a key written or deleted here while warming keeps what happened here`, async () => {
      const old = await track(startMemcached());
      const items = makeItems(4000, 2);
      const filled = await fill(old.port, items);
      const fresh = await track(startWasmcached(['--engine', engine, '--warm-from', `127.0.0.1:${old.port}`, '-o', 'warm_rate=1000']));
      const keys = [...items.keys()];
      const written = keys.filter((_, i) => i % 40 === 1);
      const deleted = keys.filter((_, i) => i % 40 === 2);
      const metaDeleted = keys.filter((_, i) => i % 40 === 3);
      const c = await RawClient.connect(fresh.port);
      const req = [
        ...written.map((k) => `set ${k} 7 0 3 noreply\r\nnew\r\n`),
        ...deleted.map((k) => `delete ${k} noreply\r\n`),
        ...metaDeleted.map((k) => `md ${k} q\r\n`),
        'mn\r\n',
      ].join('');
      await c.send(Buffer.from(req));
      await c.readUntil('MN\r\n');
      c.close();
      const during = await stats(fresh.port);
      // Most of them were not copied yet: the race is what is tested.
      expect(during.warm_state).toBe('copying');
      expect(Number(during.warm_keys_copied)).toBeLessThan(2000);
      const end = await waitWarmEnd(fresh.port);
      expect(end.warm_state).toBe('done');
      const got = await fetchAll(fresh.port, keys);
      for (const k of written) expect(got.get(k)?.value.toString()).toBe('new');
      for (const k of [...deleted, ...metaDeleted]) expect(got.has(k)).toBe(false);
      const untouched = new Map([...items].filter(([k]) => !written.includes(k) && !deleted.includes(k) && !metaDeleted.includes(k)));
      expect(matching(untouched, got, filled)).toBeGreaterThanOrEqual(Math.ceil(untouched.size * 0.999));
    }, 120_000);

    it(`${engine}: the old node killed mid-copy ends warming as failed; the node keeps serving`, async () => {
      const old = await track(startMemcached());
      await fill(old.port, makeItems(4000, 3));
      const fresh = await track(startWasmcached(['--engine', engine, '--warm-from', `127.0.0.1:${old.port}`, '-o', 'warm_rate=1000']));
      await new Promise((r) => setTimeout(r, 700));
      old.proc.kill('SIGKILL');
      const end = await waitWarmEnd(fresh.port, 20_000);
      expect(end.warm_state).toBe('failed');
      expect(Number(end.warm_keys_copied)).toBeGreaterThan(0);
      expect(Number(end.warm_keys_copied)).toBeLessThan(4000);
      const c = await RawClient.connect(fresh.port);
      expect((await c.request('set after 0 0 2\r\nok\r\nget after\r\n', 2)).toString()).toBe('STORED\r\nVALUE after 0 2\r\nok\r\nEND\r\n');
      c.close();
      expect(fresh.output()).toMatch(/warm: failed \(.*\): \d+ items copied/);
    }, 60_000);
  }

  it('warms from another wasmcached; an unreachable old node fails at once', async () => {
    const old = await track(startWasmcached(['--engine', 'js']));
    const items = makeItems(3000, 4);
    const filled = await fill(old.port, items);
    const fresh = await track(startWasmcached(['--warm-from', `127.0.0.1:${old.port}`]));
    const end = await waitWarmEnd(fresh.port);
    expect(end.warm_state).toBe('done');
    const got = await fetchAll(fresh.port, [...items.keys()]);
    expect(matching(items, got, filled)).toBe(items.size);

    // A port nothing listens on: the old node is gone before warming starts.
    const gone = old.port;
    await old.stop();
    const lone = await track(startWasmcached(['--warm-from', `127.0.0.1:${gone}`]));
    expect((await waitWarmEnd(lone.port, 10_000)).warm_state).toBe('failed');
  }, 120_000);

  it('without --warm-from stats has no warm_* lines', async () => {
    const h = await track(startWasmcached());
    expect(Object.keys(await stats(h.port)).filter((k) => k.startsWith('warm_'))).toEqual([]);
  });
});
