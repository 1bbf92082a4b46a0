// What hostile clients can make the server hold, measured from /proc on real
// server processes (both engines), against the bounds the README states:
//  - half-sent values live in their items inside -m, not in host buffers;
//  - a client that never reads its replies costs the host at most 256 KiB,
//    and other clients keep being answered meanwhile;
//  - memory the host used for them goes back once they have left.
// The bench (npm run bench -- --only hostmem) reports the same shapes next
// to memcached; these tests hold the bounds with some margin for the noise of
// a shared machine.
import { afterEach, describe, expect, it } from 'vitest';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { settledRss, halfSentValues, stalledReaders, startProbe } from '../support/loadshapes.js';

const MB = 1024 * 1024;

async function usedChunks(port: number): Promise<number> {
  const c = await RawClient.connect(port);
  const out = (await c.request('stats slabs\r\n', 1)).toString('latin1');
  c.close();
  return [...out.matchAll(/STAT \d+:used_chunks (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

describe.each(['wasm', 'js'] as const)('host memory under hostile clients (%s engine)', (engine) => {
  let server: ServerHandle | undefined;
  afterEach(async () => { await server?.stop(); server = undefined; });

  it('1000 connections with half-sent 1 MB values: the values sit in -m, the host adds little, and closing frees them', async () => {
    server = await startWasmcached(['--engine', engine, '-m', '64', '-c', '4096']);
    const before = await settledRss(server.pid);
    const chunksBefore = await usedChunks(server.port);
    const half = await halfSentValues(server.port, 1000, 1_000_000);
    try {
      const grown = (await settledRss(server.pid)) - before;
      // -m 64 holds 63 or 64 one-page values; the rest were refused (out of
      // memory) and are being swallowed.
      const chunks = await usedChunks(server.port) - chunksBefore;
      expect(chunks).toBeGreaterThanOrEqual(60);
      expect(chunks).toBeLessThanOrEqual(64);
      // 64 MB of pages, plus the connections themselves (Node's sockets cost
      // about 8 KB each: README, "Memory outside -m")
      expect(grown).toBeLessThan((64 + 40) * MB);
    } finally {
      await half.close();
    }
    // the items of the values that never completed are free again
    for (let i = 0; i < 50 && (await usedChunks(server.port)) > chunksBefore; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await usedChunks(server.port)).toBe(chunksBefore);
    const c = await RawClient.connect(server.port);
    expect((await c.request(`set after 0 0 1000000\r\n${'a'.repeat(1_000_000)}\r\n`, 1)).toString()).toBe('STORED\r\n');
    c.close();
  }, 180_000);

  it('200 clients that never read their replies hold under 256 KiB each, others are answered, and the memory comes back', async () => {
    server = await startWasmcached(['--engine', engine, '-m', '64', '-c', '4096']);
    const before = await settledRss(server.pid);
    const probe = await startProbe(server.port, { intervalMs: 20 });
    const readers = await stalledReaders(server.port, 200, { keys: 16, valueBytes: 100_000, requests: 32 });
    let perReader = 0;
    try {
      // each asked for 51 MB of replies it will never read
      expect(readers.requestedBytesPerReader).toBe(51_200_000);
      const during = await settledRss(server.pid);
      // minus the 1.6 MB of values the readers ask for, inside -m
      perReader = (during - before - 1.6 * MB) / 200;
      expect(perReader).toBeLessThan(256 * 1024);
    } finally {
      await readers.close();
    }
    const seen = await probe.stop();
    expect(seen.samples).toBeGreaterThan(10);
    expect(seen.unanswered).toBe(false);
    expect(seen.maxMs).toBeLessThan(5000);
    // reply buffers go back to the OS within two ticks of the last reader
    await new Promise((r) => setTimeout(r, 2500));
    const after = await settledRss(server.pid);
    expect(after - before).toBeLessThan(32 * MB);
  }, 180_000);
});
