// --warm-from with real processes: a new wasmcached (both engines) copies a
// real memcached's (or another wasmcached's) items byte-exact with flags and
// remaining TTL, never over a write made here while warming, never bringing
// back a key deleted here while warming; the old node dying mid-copy ends
// warming as failed and the new node keeps serving.
import { describe, it, expect, afterEach } from 'vitest';
import { startWasmcached, startMemcached, haveTool, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { makeItems, fill, fetchAll, stats, waitWarmEnd, matching } from '../support/warm.js';

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

describe.skipIf(!haveTool('memcached') || process.env.TEST_TARGET === 'memcached')('--warm-from', () => {
  for (const engine of ENGINES) {
    it(`${engine}: copies 100,000 items of a memcached byte-exact with flags and TTL; stats show it`, async () => {
      const old = await track(startMemcached(['-m', '128']));
      const items = makeItems(100_000, 1);
      const filled = await fill(old.port, items);
      const fresh = await track(startWasmcached(['--engine', engine, '-m', '128', '--warm-from', `127.0.0.1:${old.port}`]));
      const end = await waitWarmEnd(fresh.port);
      expect(end.warm_state).toBe('done');
      expect(Number(end.warm_keys_copied)).toBeGreaterThanOrEqual(99_900);
      expect(end.warm_errors).toBe('0');
      const c = await RawClient.connect(fresh.port);
      expect((await c.request('stats settings\r\n')).toString()).toContain(`STAT warm_from 127.0.0.1:${old.port}\r\n`);
      c.close();
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
