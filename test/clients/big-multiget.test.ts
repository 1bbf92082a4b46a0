// Multigets of any length through real clients (issue: big multigets closed
// the connection). pymemcache's get_many and pylibmc's get_multi send every
// key in one request: a 50,000-key line, and 6,000 keys of 240 bytes (a
// 1.4 MB line, what PHP's getMulti and Perl's get_multi sent when they
// failed). Over text and binary (getkq runs), on both engine builds.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { havePythonModules, runPython } from './python.js';
import { RawClient } from '../support/client.js';

interface Outcome { failed_sets: number; hits: number; stored: number; wrong: number; extra: number }

describe.each(['wasm', 'js'] as const)('big multigets, %s engine', (engine) => {
  let server: ServerHandle;
  beforeAll(async () => { server = await startWasmcached(['--engine', engine, '-m', '256']); });
  afterAll(async () => { await server?.stop(); });

  const clients = havePythonModules(['pymemcache', 'pylibmc']) ? ['pymemcache', 'pylibmc-text', 'pylibmc-binary'] : [];
  test.each(clients)('%s: 50,000 keys, then 6,000 keys of 240 bytes', async (client) => {
    const many = await runPython<Outcome>('big_multiget.py', [server.port, client, 50_000, 12, 3], 120_000);
    expect(many).toEqual({ failed_sets: 0, hits: 16_667, stored: 16_667, wrong: 0, extra: 0 });
    const long = await runPython<Outcome>('big_multiget.py', [server.port, client, 6000, 240, 2], 120_000);
    expect(long).toEqual({ failed_sets: 0, hits: 3000, stored: 3000, wrong: 0, extra: 0 });
  }, 300_000);

  test('raw socket: a 1.4 MB gets line in one write is answered and the connection stays open', async () => {
    const c = await RawClient.connect(server.port);
    const keys = Array.from({ length: 6000 }, (_, i) => `raw${i}:`.padEnd(240, 'y'));
    await c.send(keys.filter((_, i) => i % 10 === 0).map((k) => `set ${k} 7 0 2\r\nok\r\n`).join(''));
    await c.readWith((b) => ((b.toString('latin1').match(/STORED\r\n/g) ?? []).length === 600 ? b.length : -1), 60_000);
    await c.send(`gets ${keys.join(' ')}\r\nversion\r\n`);
    const reply = (await c.readUntil('END\r\nVERSION 1.6.18\r\n', 60_000)).toString('latin1');
    expect(reply.match(/^VALUE raw\d+:y+ 7 2 \d+\r\nok\r\n/gm)?.length).toBe(600);
    expect(c.isClosed).toBe(false);
    c.close();
  }, 120_000);
});
