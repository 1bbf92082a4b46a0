// A dump of 200,000 keys streams in bounded steps: another client's round
// trips stay short while it runs, and a dump client that never reads makes
// the server hold no more than one connection's bounded output.
import { afterEach, describe, expect, it } from 'vitest';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient, nonReader } from '../support/client.js';
import { connect } from 'node:net';

import { settledRss, startProbe } from '../support/loadshapes.js';

const MB = 1024 * 1024;
const N = 200_000;

/** Sends `cmd` and collects the reply through `end` in chunks (a growing
 *  Buffer would make this process, and so the probe beside it, the slow part). */
function streamed(port: number, cmd: string, end: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let tail = '';
    s.on('data', (b: Buffer) => {
      chunks.push(b);
      tail = (tail + b.toString('latin1', Math.max(0, b.length - end.length))).slice(-end.length);
      if (tail === end) { s.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); }
    });
    s.on('error', reject);
    s.write(cmd);
  });
}

async function fill(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  for (let i = 0; i < N; i += 5000) {
    let batch = '';
    for (let j = i; j < i + 5000; j++) batch += `set load:${j}:${'p'.repeat(60)} 0 0 8 noreply\r\nvalue---\r\n`;
    await c.send(batch);
  }
  await c.requestUntilLine('mn\r\n', 'MN', 60_000);
  c.close();
}

describe.each(['wasm', 'js'] as const)('dumping 200,000 keys (%s engine)', (engine) => {
  let server: ServerHandle | undefined;
  afterEach(async () => { await server?.stop(); server = undefined; });

  it('lists each key once while another client stays answered; a stalled dump reader holds bounded memory', async () => {
    server = await startWasmcached(['--engine', engine, '-m', '128']);
    await fill(server.port);

    const probe = await startProbe(server.port, { intervalMs: 5 });
    const out = await streamed(server.port, 'lru_crawler metadump all\r\n', '\nEND\r\n');
    const seen = await probe.stop();
    const keys = out.split('\n').filter((l) => l.startsWith('key='));
    expect(keys.length).toBe(N);
    expect(new Set(keys.map((l) => l.split(' ')[0])).size).toBe(N);
    expect(seen.unanswered).toBe(false);
    expect(seen.samples).toBeGreaterThan(0);
    // A liveness bound, not a latency target (that is `npm run bench -- --only warm`):
    // a dump done in one go would hold the probe for the whole dump.
    expect(seen.maxMs).toBeLessThan(3000);

    const before = await settledRss(server.pid);
    const stalled = await nonReader(server.port, 'lru_crawler metadump all\r\n');
    const during = await settledRss(server.pid);
    // one connection's bounded output (README: at most 200 KiB), with room
    // for the noise of a shared machine; the whole dump is about 20 MB
    expect(during - before).toBeLessThan(4 * MB);
    const other = await RawClient.connect(server.port);
    expect((await other.request('lru_crawler mgdump all\r\n')).toString()).toBe('BUSY currently processing crawler request\r\n');
    expect((await other.request('version\r\n')).toString()).toBe('VERSION 1.6.18\r\n');
    stalled.destroy();
    // the server sees the close a moment later; until then `crawl` is BUSY
    for (let i = 0; i < 100 && (await other.request('lru_crawler crawl all\r\n')).toString() !== 'OK\r\n'; i++) await new Promise((r) => setTimeout(r, 50));
    const mg = await streamed(server.port, 'lru_crawler mgdump all\r\n', '\r\nEN\r\n');
    expect(mg.split('\r\n').filter((l) => l.startsWith('mg load:')).length).toBe(N);
    other.close();
  }, 240_000);
});
