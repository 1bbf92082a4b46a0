// Regression: the test client read each PREFIX line of a `stats detail
// dump` as a reply of its own. The stats-parity test that runs a script on
// memcached and wasmcached side by side then took the rest of a dump as the
// replies to its next commands, without waiting for them (both servers
// print the same dump, so the comparison still passed), and closed its
// connection with `stats detail off` and `stats reset` still on their way.
// Those reached wasmcached during the next test, which now and then found
// `stats detail` off again and its prefixes gone (about 1 run in 80 under
// load): a flaky test, not a server bug.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, textReplyLength, textRepliesLength } from '../support/client.js';
import { startWasmcached, type ServerHandle } from '../support/servers.js';

const DUMP = 'PREFIX a get 1 hit 1 set 1 del 0\r\nPREFIX foo get 1 hit 0 set 1 del 0\r\nEND\r\n';

describe('a `stats detail dump` is one reply to the test client', () => {
  it('PREFIX lines run on to END', () => {
    const buf = Buffer.from(`${DUMP}OK\r\n`, 'latin1');
    expect(textReplyLength(buf)).toBe(DUMP.length);
    expect(textRepliesLength(buf, 2)).toBe(buf.length);
    // Not complete until END has come.
    expect(textReplyLength(Buffer.from(DUMP.slice(0, -5), 'latin1'))).toBe(-1);
  });

  let sut: ServerHandle;
  beforeAll(async () => { sut = await startWasmcached(['-t', '2']); });
  afterAll(async () => { await sut?.stop(); });

  it('each request waits for its own reply: `stats detail off` has run when its OK is read', async () => {
    const c = await RawClient.connect(sut.port);
    try {
      expect((await c.request('stats detail on\r\n')).toString('latin1')).toBe('OK\r\n');
      expect((await c.request('get a:1 b:2 c:3\r\n')).toString('latin1')).toBe('END\r\n');
      const dump = (await c.request('stats detail dump\r\n')).toString('latin1');
      expect(dump.split('\r\n').filter((l) => l.startsWith('PREFIX ')).length).toBe(3);
      expect(dump.endsWith('END\r\n')).toBe(true);
      expect((await c.request('stats detail off\r\n')).toString('latin1')).toBe('OK\r\n');
      // Another connection (maybe on the other thread) sees it off at once.
      const d = await RawClient.connect(sut.port);
      try {
        const settings = (await d.request('stats settings\r\n')).toString('latin1');
        expect(settings).toContain('STAT detail_enabled no\r\n');
      } finally {
        d.close();
      }
    } finally {
      c.close();
    }
  });
});
