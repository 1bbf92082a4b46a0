// Stampede control over real sockets: 50 clients miss the same key at once
// with `mg <key> v c N30`. Exactly one is told it won (W) and recomputes;
// every other gets the empty placeholder with Z (a win is already out) until
// the winner's `ms` lands, after which everyone reads the new value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../support/client.js';
import { startWasmcached, type ServerHandle } from '../support/servers.js';

const CLIENTS = 50;

/** Length of one complete `VA <n> ...\r\n<data>\r\n` or `EN`/`HD` reply. */
function metaReplyLength(b: Buffer): number {
  const eol = b.indexOf('\r\n');
  if (eol < 0) return -1;
  const m = /^VA (\d+)/.exec(b.subarray(0, eol).toString('latin1'));
  if (!m) return eol + 2;
  const total = eol + 2 + Number(m[1]) + 2;
  return b.length >= total ? total : -1;
}

describe('stampede control with 50 concurrent clients', () => {
  let server: ServerHandle;
  const clients: RawClient[] = [];
  beforeAll(async () => {
    server = await startWasmcached(['-m', '64']);
    for (let i = 0; i < CLIENTS; i++) clients.push(await RawClient.connect(server.port));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.stop();
  });

  it('hands out exactly one W; the rest see Z until the winner sets the value', async () => {
    const ask = async (c: RawClient) => {
      await c.send('mg hot v c N30\r\n');
      return (await c.readWith(metaReplyLength)).toString('latin1');
    };
    const first = await Promise.all(clients.map(ask));
    const winners = first.filter((r) => / W\r\n/.test(r));
    const waiting = first.filter((r) => / Z\r\n/.test(r));
    expect(winners.length).toBe(1);
    expect(waiting.length).toBe(CLIENTS - 1);
    for (const r of first) expect(r).toMatch(/^VA 0 c\d+ [WZ]\r\n\r\n$/);

    // Until the value is set, a second round still gives nobody a win.
    const second = await Promise.all(clients.map(ask));
    expect(second.filter((r) => / W\r\n/.test(r))).toEqual([]);
    for (const r of second) expect(r).toMatch(/^VA 0 c\d+ Z\r\n\r\n$/);

    const winner = clients[first.findIndex((r) => / W\r\n/.test(r))];
    await winner.send('ms hot 8 T60\r\ncomputed\r\n');
    expect((await winner.readWith(metaReplyLength)).toString('latin1')).toBe('HD\r\n');

    const third = await Promise.all(clients.map(ask));
    for (const r of third) expect(r).toMatch(/^VA 8 c\d+\r\ncomputed\r\n$/);
  });
});
