// Warm restarts (-e <file>) with real server processes: what a stop writes
// comes back byte-exact with flags, TTL and CAS into either engine and other
// -m/-I/-f/-n, into the library and back; damaged files are set aside and the
// server starts empty; kill -9 during periodic snapshots keeps the last one.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { createCache } from '../../src/embed/node.js';

const ENGINES = ['wasm', 'js'] as const;
const running: ServerHandle[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'wasmcached-snap-'));
  dirs.push(d);
  return d;
}

async function start(args: string[]): Promise<ServerHandle> {
  const h = await startWasmcached(args);
  running.push(h);
  return h;
}

/** The server's output once it matches `re` (its stderr may trail stdout). */
async function outputMatching(h: ServerHandle, re: RegExp): Promise<string> {
  const deadline = Date.now() + 3000;
  while (!re.test(h.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return h.output();
}

function exited(h: ServerHandle): Promise<number | null> {
  return new Promise((resolve) => {
    if (h.proc.exitCode !== null || h.proc.signalCode !== null) resolve(h.proc.exitCode);
    else h.proc.once('exit', (code) => resolve(code));
  });
}

interface Item { key: string; value: Buffer; flags: number; ttl: number }

/** Items of many sizes with binary values, flags and TTLs (0 = none). */
function makeItems(n: number, seed = 1): Item[] {
  let x = seed;
  const rnd = () => { x = (x * 1103515245 + 12345) >>> 0; return x; };
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    const len = i === 0 ? 300_000 : rnd() % 3000;
    const value = Buffer.alloc(len);
    for (let j = 0; j < len; j++) value[j] = rnd() & 255;
    items.push({ key: `k:${i}:${rnd() % 1000}`, value, flags: rnd(), ttl: i % 3 === 0 ? 0 : 1000 + (rnd() % 5000) });
  }
  return items;
}

async function populate(c: RawClient, items: Item[]): Promise<void> {
  for (const it of items) {
    const r = await c.request(Buffer.concat([Buffer.from(`set ${it.key} ${it.flags} ${it.ttl} ${it.value.length}\r\n`), it.value, Buffer.from('\r\n')]));
    expect(r.toString()).toBe('STORED\r\n');
  }
}

interface Seen { value: Buffer; flags: number; ttl: number; cas: bigint }

/** mg with value, flags, remaining TTL and CAS; undefined on a miss. */
async function fetchItem(c: RawClient, key: string): Promise<Seen | undefined> {
  await c.send(`mg ${key} v f t c\r\n`);
  const head = (await c.readUntil('\r\n')).toString();
  if (head.startsWith('EN')) return undefined;
  const m = /^VA (\d+) (.*)\r\n$/.exec(head);
  if (!m) throw new Error(`unexpected reply ${head}`);
  const body = await c.readExactly(Number(m[1]) + 2);
  const f = Object.fromEntries(m[2].split(' ').map((t) => [t[0], t.slice(1)]));
  return { value: body.subarray(0, body.length - 2), flags: Number(f.f), ttl: Number(f.t), cas: BigInt(f.c) };
}

/** When each snapshotOf() map was taken, for the TTL check. */
const takenAt = new WeakMap<Map<string, Seen>, number>();

async function snapshotOf(c: RawClient, items: Item[]): Promise<Map<string, Seen>> {
  const seen = new Map<string, Seen>();
  takenAt.set(seen, Date.now());
  for (const it of items) seen.set(it.key, (await fetchItem(c, it.key))!);
  return seen;
}

/** Every item is back byte-exact, with its flags and CAS, and a TTL that
 *  went down by the time that passed (±1 s: both are read in whole seconds). */
async function expectSame(c: RawClient, before: Map<string, Seen>): Promise<void> {
  const elapsed = Math.ceil((Date.now() - takenAt.get(before)!) / 1000);
  for (const [key, b] of before) {
    const a = await fetchItem(c, key);
    expect(a, key).toBeDefined();
    expect(a!.value.equals(b.value), key).toBe(true);
    expect(a!.flags).toBe(b.flags);
    if (b.ttl === -1) expect(a!.ttl).toBe(-1);
    else {
      expect(a!.ttl, key).toBeLessThanOrEqual(b.ttl + 1);
      expect(a!.ttl, key).toBeGreaterThanOrEqual(b.ttl - elapsed - 1);
    }
    expect(a!.cas).toBe(b.cas);
  }
}

async function stopBy(h: ServerHandle, how: 'SIGUSR1' | 'SIGTERM' | 'shutdown'): Promise<void> {
  const done = exited(h);
  if (how === 'shutdown') {
    const c = await RawClient.connect(h.port);
    await c.send('shutdown\r\n');
  } else {
    process.kill(h.pid, how);
  }
  expect(await done).toBe(0);
}

describe('warm restarts (-e)', () => {
  const stops = ['SIGUSR1', 'SIGTERM', 'shutdown'] as const;
  for (const [i, engine] of ENGINES.entries()) {
    const how = stops[i];
    const other = ENGINES[1 - i];
    it(`${engine}: a stop by ${how} keeps every item; it loads into the ${other} engine with other -m/-I/-f/-n`, async () => {
      const file = join(tempDir(), 'cache.snap');
      const items = makeItems(300, i + 1);
      const a = await start(['-A', '-e', file, '--engine', engine]);
      const ca = await RawClient.connect(a.port);
      await populate(ca, items);
      const before = await snapshotOf(ca, items);
      ca.close();
      await stopBy(a, how);
      expect(await outputMatching(a, /snapshot: wrote /)).toMatch(/snapshot: wrote /);

      const b = await start(['-A', '-e', file, '--engine', other, '-m', '32', '-I', '512k', '-f', '1.5', '-n', '100']);
      expect(await outputMatching(b, /snapshot: loaded/)).toMatch(/snapshot: loaded 300 of 300 items/);
      const cb = await RawClient.connect(b.port);
      await expectSame(cb, before);
      // gets/cas of a loaded item work, and new uniques are above the loaded ones.
      const maxCas = [...before.values()].reduce((m, s) => (s.cas > m ? s.cas : m), 0n);
      const k = items[1].key;
      expect((await cb.request(`cas ${k} 0 0 1 ${before.get(k)!.cas}\r\nz\r\n`)).toString()).toBe('STORED\r\n');
      expect((await cb.request(`set fresh 0 0 1\r\nf\r\n`)).toString()).toBe('STORED\r\n');
      expect((await fetchItem(cb, 'fresh'))!.cas > maxCas).toBe(true);
      expect((await fetchItem(cb, k))!.cas > maxCas).toBe(true);
      cb.close();
    }, 60_000);
  }

  it('items that expired while the server was down are not loaded', async () => {
    const file = join(tempDir(), 'cache.snap');
    const a = await start(['-e', file]);
    const c = await RawClient.connect(a.port);
    expect((await c.request('set short 0 2 1\r\na\r\nset long 0 100 1\r\nb\r\n', 2)).toString()).toBe('STORED\r\nSTORED\r\n');
    c.close();
    await stopBy(a, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 3000));
    const b = await start(['-e', file]);
    expect(await outputMatching(b, /snapshot: loaded/)).toMatch(/loaded 1 of 2 items/);
    const cb = await RawClient.connect(b.port);
    expect((await cb.request('get short long\r\n', 1)).toString()).toBe('VALUE long 0 1\r\nb\r\nEND\r\n');
    cb.close();
  }, 30_000);

  it('a server snapshot loads into the library, and the library\'s dump into a server', async () => {
    const file = join(tempDir(), 'cache.snap');
    const items = makeItems(50, 7);
    const a = await start(['-e', file, '--engine', 'js']);
    const ca = await RawClient.connect(a.port);
    await populate(ca, items);
    const before = await snapshotOf(ca, items);
    ca.close();
    await stopBy(a, 'SIGTERM');

    const cache = await createCache({ memory: 64 << 20, snapshot: readFileSync(file) });
    for (const it of items) {
      const e = cache.gets(it.key)!;
      expect(Buffer.from(e.value).equals(it.value)).toBe(true);
      expect(e.flags).toBe(it.flags);
      expect(e.cas).toBe(before.get(it.key)!.cas);
    }
    cache.set('from-library', 'yes');
    writeFileSync(file, cache.dump());
    const b = await start(['-e', file]);
    const cb = await RawClient.connect(b.port);
    await expectSame(cb, before);
    expect((await cb.request('get from-library\r\n')).toString()).toBe('VALUE from-library 0 3\r\nyes\r\nEND\r\n');
    cb.close();
  }, 30_000);

  it('the snapshot command writes the file now and answers OK; without -e it answers an error', async () => {
    const file = join(tempDir(), 'cache.snap');
    const a = await start(['-e', file]);
    const c = await RawClient.connect(a.port);
    expect((await c.request('set x 3 0 2\r\nhi\r\nsnapshot\r\nget x\r\n', 3)).toString()).toBe('STORED\r\nOK\r\nVALUE x 3 2\r\nhi\r\nEND\r\n');
    expect(existsSync(file)).toBe(true);
    c.close();
    // kill -9: what the command wrote is what comes back.
    const gone = exited(a);
    process.kill(a.pid, 'SIGKILL');
    await gone;
    const b = await start(['-e', file]);
    const cb = await RawClient.connect(b.port);
    expect((await cb.request('get x\r\n')).toString()).toBe('VALUE x 3 2\r\nhi\r\nEND\r\n');
    cb.close();
    const plain = await start([]);
    const cp = await RawClient.connect(plain.port);
    expect((await cp.request('snapshot\r\n')).toString()).toMatch(/^SERVER_ERROR .*-e/);
    cp.close();
  }, 30_000);

  it('a missing file starts empty with one log line', async () => {
    const file = join(tempDir(), 'none.snap');
    const a = await start(['-e', file]);
    expect(await outputMatching(a, /snapshot:/)).toMatch(/does not exist; starting empty/);
    expect(a.output().match(/snapshot:/g)).toHaveLength(1);
  });
});

describe('damaged snapshot files', () => {
  async function goodSnapshot(): Promise<Uint8Array> {
    const cache = await createCache({ memory: 4 << 20 });
    for (let i = 0; i < 200; i++) cache.set(`key${i}`, `value${i}`.repeat(10), { flags: i });
    return cache.dump();
  }

  const damages: [string, (b: Uint8Array) => Uint8Array | null][] = [
    ['truncated', (b) => b.subarray(0, b.length - 100)],
    ['bit-flipped', (b) => { const c = b.slice(); c[Math.floor(c.length / 2)] ^= 0x10; return c; }],
    ['empty', () => new Uint8Array(0)],
    ['of another format version', (b) => { const c = b.slice(); c[8] = 99; return c; }],
    ['foreign', () => new TextEncoder().encode('this is not a snapshot at all\n')],
    ['unreadable (a directory)', () => null],
  ];
  for (const [what, damage] of damages) {
    it(`${what}: one log line, the server starts empty, the file is set aside`, async () => {
      const dir = tempDir();
      const file = join(dir, 'cache.snap');
      const bytes = damage(await goodSnapshot());
      if (bytes === null) mkdirSync(file); else writeFileSync(file, bytes);
      const a = await start(['-e', file]);
      const lines = (await outputMatching(a, /snapshot:/)).split('\n').filter((l) => l.startsWith('snapshot:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/cannot load .*starting empty/);
      expect(existsSync(file)).toBe(false);
      expect(readdirSync(dir).filter((n) => n.startsWith('cache.snap.bad-'))).toHaveLength(1);
      const c = await RawClient.connect(a.port);
      expect((await c.request('get key1\r\n')).toString()).toBe('END\r\n');
      expect((await c.request('set key1 0 0 1\r\nv\r\n')).toString()).toBe('STORED\r\n');
      c.close();
    });
  }
});

describe('periodic snapshots (-o snapshot_interval)', () => {
  it('SIGTERM during a background snapshot still writes every item', async () => {
    const file = join(tempDir(), 'cache.snap');
    const a = await start(['-e', file, '-o', 'snapshot_interval=1', '--engine', 'js']);
    const c = await RawClient.connect(a.port);
    let req = '';
    for (let i = 0; i < 20000; i++) req += `set k${i} ${i} 0 200 noreply\r\n${'x'.repeat(200)}\r\n`;
    await c.send(req);
    expect((await c.request('mn\r\n')).toString()).toBe('MN\r\n');
    c.close();
    await new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 500)));
    await stopBy(a, 'SIGTERM');
    const b = await start(['-e', file]);
    expect(await outputMatching(b, /snapshot: loaded/)).toMatch(/snapshot: loaded 20000 of 20000 items/);
  }, 60_000);

  it('kill -9 at any moment leaves the previous snapshot loadable', async () => {
    const dir = tempDir();
    const file = join(dir, 'cache.snap');
    const a = await start(['-e', file, '-o', 'snapshot_interval=1', '-m', '128']);
    const c = await RawClient.connect(a.port);
    const value = Buffer.alloc(1000, 'v');
    // Enough data that a snapshot takes a while to write.
    for (let batch = 0; batch < 40; batch++) {
      let req = '';
      for (let i = 0; i < 1000; i++) req += `set key:${batch}:${i} ${batch} 0 ${value.length} noreply\r\n${value.toString()}\r\n`;
      await c.send(req);
    }
    expect((await c.request('mn\r\n')).toString()).toBe('MN\r\n');
    const deadline = Date.now() + 10_000;
    while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(file)).toBe(true);
    // Writes keep coming; kill -9 lands at some point of a later snapshot.
    for (let i = 0; i < 30; i++) await c.request(`set late${i} 0 0 1\r\nx\r\n`);
    await new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 1000)));
    const gone = exited(a);
    process.kill(a.pid, 'SIGKILL');
    await gone;
    c.close();

    const b = await start(['-e', file, '-m', '128']);
    expect(await outputMatching(b, /snapshot: loaded/)).toMatch(/snapshot: loaded (\d+) of \1 items/);
    // A write cut short by the kill is cleaned up.
    expect(readdirSync(dir)).toEqual(['cache.snap']);
    const cb = await RawClient.connect(b.port);
    expect((await cb.request('get key:0:0 key:39:999\r\n')).toString())
      .toBe(`VALUE key:0:0 0 1000\r\n${value}\r\nVALUE key:39:999 39 1000\r\n${value}\r\nEND\r\n`);
    cb.close();
  }, 60_000);
});
