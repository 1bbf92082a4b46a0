// Replies are copied out of the engine once (src/output-pool.ts): small ones
// to clients that keep up into a staging buffer that is reused as soon as
// everything copied into it has been written, large ones into pooled slots.
// Reuse must never overwrite a reply a slow client has not been sent yet.
import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import { OutputPool } from '../../src/output-pool.js';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';

/** Bytes that say which copy they are and where in it. */
function pattern(id: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (id * 31 + i * 7) & 0xff;
  return b;
}

describe('OutputPool', () => {
  type Step = { kind: 'copy'; n: number; soon: boolean } | { kind: 'release'; pick: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('copy' as const), n: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 16_000, max: 70_000 })), soon: fc.boolean() }),
    fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  );

  it('a copy keeps its bytes until it is released, whatever is copied or released meanwhile', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
      const pool = new OutputPool(64 * 1024);
      const live: { id: number; buf: Uint8Array; release: (() => void) | null }[] = [];
      let next = 0;
      for (const s of steps) {
        if (s.kind === 'copy') {
          const id = next++;
          const buf = pool.copy(pattern(id, s.n), s.soon);
          live.push({ id, buf, release: pool.release });
        } else if (live.length > 0) {
          const [gone] = live.splice(s.pick % live.length, 1);
          gone.release?.();
        }
        for (const c of live) expect(Buffer.compare(c.buf, pattern(c.id, c.buf.length))).toBe(0);
      }
      for (const c of live) c.release?.();
      return true;
    }), { numRuns: 200 });
  });

  it('stages small replies only when they will likely be written at once, and reuses the stage', () => {
    const pool = new OutputPool(64 * 1024);
    const a = pool.copy(pattern(1, 100), true);
    const releaseA = pool.release;
    expect(releaseA).not.toBeNull();
    pool.copy(pattern(2, 100), false);
    // Not staged: an ordinary Buffer the caller may keep, nothing to release.
    expect(pool.release).toBeNull();
    releaseA!();
    const b = pool.copy(pattern(3, 100), true);
    // Everything staged was released: the stage starts over.
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset);
    pool.release!();
  });
});

describe('staged replies to a slow client (server)', () => {
  let server: ServerHandle | undefined;
  afterEach(async () => { await server?.stop(); server = undefined; });

  it('a client that stops reading gets every reply intact while others churn the stage', async () => {
    server = await startWasmcached(['-t', '1']);
    const port = server.port;
    // Replies of about 3.6 KB: each is staged when the socket is empty.
    const KEYS = 64;
    const values = Array.from({ length: KEYS }, (_, i) => Buffer.from(pattern(i, 3500)).toString('base64').slice(0, 3500));
    const setter = await RawClient.connect(port);
    await setter.send(values.map((v, i) => `set k${i} 0 0 ${v.length} noreply\r\n${v}\r\n`).join('') + 'mn\r\n');
    await setter.readUntil('MN\r\n');
    setter.close();

    // The slow client asks one get at a time without reading, until the
    // kernel's buffers are full and the server's writes to it wait in libuv.
    const slow = await RawClient.connect(port);
    slow.pause();
    const asked: number[] = [];
    const busy = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(port)));
    let churning = true;
    const churn = Promise.all(busy.map(async (c, j) => {
      let n = 0;
      while (churning) {
        const i = (n++ * 7 + j) % KEYS;
        expect((await c.request(`get k${i}\r\n`)).toString()).toBe(`VALUE k${i} 0 ${values[i].length}\r\n${values[i]}\r\nEND\r\n`);
      }
    }));
    const deadline = Date.now() + 20_000;
    for (let n = 0; n < 6000 && Date.now() < deadline; n++) {
      const i = (n * 13) % KEYS;
      asked.push(i);
      await slow.send(`get k${i}\r\n`);
      if (n % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await slow.send('mn\r\n');
    churning = false;
    await churn;
    slow.resume();
    const want = asked.map((i) => `VALUE k${i} 0 ${values[i].length}\r\n${values[i]}\r\nEND\r\n`).join('') + 'MN\r\n';
    const got = await slow.readUntil('MN\r\n', 60_000);
    expect(got.length).toBe(want.length);
    expect(got.toString() === want).toBe(true);
    for (const c of [slow, ...busy]) c.close();
  }, 90_000);
});
