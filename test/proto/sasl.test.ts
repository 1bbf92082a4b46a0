// Authentication. -S: binary protocol only, SASL PLAIN against a file of
// `user:password` lines; -Y: text protocol only, the first command a `set`
// whose data is "user pass". A failed or aborted exchange always leaves the
// connection unauthenticated (memcached's CVE-2013-7239 was a bypass after a
// failed one). In-process on both builds, then over TCP: wasmcached -S / -Y,
// and Debian's memcached -S for the refusals (its Cyrus SASL has no user
// database here, so it can only refuse, which is what is compared).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES, makeStore, type Harness } from '../support/engine.js';
import { RawClient } from '../support/client.js';
import { startMemcached, startWasmcached, haveTool, type ServerHandle } from '../support/servers.js';
import { OP, frame, setExtras, parseResponses, describe as show, type Request } from '../support/binary.js';
import { OPT_SASL, OPT_AUTH_FILE } from '../../assembly/abi.js';

const USERS = 'alice:secret\r\nbob:hunter2\n\nnocolon\n';
const AUTH_OK = 'op=21 st=0 cas=0 ext= key="" val="Authenticated"';
const AUTH_FAIL = (op: number) => `op=${op.toString(16)} st=20 cas=0 ext= key="" val="Auth failure."`;
const plain = (s: string, opcode: number = OP.SASL_AUTH): Request => ({ opcode, key: 'PLAIN', value: s });

function send(h: Harness, ...reqs: Request[]): string[] {
  const { packets, rest } = parseResponses(h.send(Buffer.concat(reqs.map(frame))));
  return [...packets.map(show), ...(rest.length ? [`rest=${rest.toString('latin1')}`] : []), ...(h.closed ? ['closed'] : [])];
}

function reconnect(h: Harness): void {
  h.closed = false;
  h.reset();
}

describe.each(ENGINES)('SASL PLAIN, -S (%s engine)', (engine) => {
  const withSasl = () => {
    const h = makeStore({ engine, opts: OPT_SASL });
    h.store.setAuth(Buffer.from(USERS));
    return h;
  };

  it('before authenticating only VERSION and the SASL commands are served', () => {
    const h = withSasl();
    expect(send(h, { opcode: OP.VERSION }, { opcode: OP.SASL_LIST_MECHS })).toEqual([
      'op=b st=0 cas=0 ext= key="" val="1.6.18"', 'op=20 st=0 cas=0 ext= key="" val="PLAIN"']);
    expect(send(h, { opcode: OP.GET, key: 'k' }, { opcode: OP.NOOP })).toEqual([AUTH_FAIL(OP.GET), 'closed']);
  });

  it('the right password authenticates; the connection then serves everything', () => {
    const h = withSasl();
    expect(send(h, plain('\0alice\0secret'), { opcode: OP.SET, key: 'k', extras: setExtras(0, 0), value: 'v' },
      { opcode: OP.GET, key: 'k' })).toEqual([
      AUTH_OK, 'op=1 st=0 cas=1 ext= key="" val=""', 'op=0 st=0 cas=1 ext=00000000 key="" val="v"']);
    // only this connection: a new one starts unauthenticated
    reconnect(h);
    expect(send(h, { opcode: OP.GET, key: 'k' })).toEqual([AUTH_FAIL(OP.GET), 'closed']);
    reconnect(h);
    expect(send(h, plain('bob\0bob\0hunter2'), { opcode: OP.NOOP })).toEqual([AUTH_OK, 'op=a st=0 cas=0 ext= key="" val=""']);
  });

  it('wrong, malformed or aborted exchanges fail and leave the connection unauthenticated', () => {
    const h = withSasl();
    for (const bad of [
      plain('\0alice\0wrong'), plain('\0alice\0secret\0'), plain('alicesecret'), plain('bob\0alice\0secret'),
      plain('\0carol\0x'), plain('\0nocolon\0'), plain('\0alice\0secret', OP.SASL_STEP),
      { opcode: OP.SASL_AUTH, key: 'CRAM-MD5', value: '\0alice\0secret' },
    ]) {
      reconnect(h);
      expect(send(h, bad, { opcode: OP.NOOP })).toEqual([AUTH_FAIL(bad.opcode), AUTH_FAIL(OP.NOOP), 'closed']);
    }
    // a failure after a success drops the authentication again (CVE-2013-7239)
    reconnect(h);
    expect(send(h, plain('\0alice\0secret'), plain('\0alice\0bad'), { opcode: OP.NOOP })).toEqual([
      AUTH_OK, AUTH_FAIL(OP.SASL_AUTH), AUTH_FAIL(OP.NOOP), 'closed']);
    // as does an exchange begun and then abandoned for another mechanism
    reconnect(h);
    expect(send(h, plain('\0alice\0secret'), plain(''), { opcode: OP.NOOP })).toEqual([
      AUTH_OK, 'op=21 st=21 cas=0 ext= key="" val=""', AUTH_FAIL(OP.NOOP), 'closed']);
  });

  it('PLAIN with no initial data continues (0x21) and completes with SASL_STEP', () => {
    const h = withSasl();
    expect(send(h, plain(''), plain('\0alice\0secret', OP.SASL_STEP), { opcode: OP.NOOP })).toEqual([
      'op=21 st=21 cas=0 ext= key="" val=""', 'op=22 st=0 cas=0 ext= key="" val="Authenticated"', 'op=a st=0 cas=0 ext= key="" val=""']);
  });

  it('a mechanism name over 32 bytes is Invalid arguments; bad lengths close', () => {
    const h = withSasl();
    expect(send(h, { opcode: OP.SASL_AUTH, key: 'X'.repeat(40), value: 'x' }, { opcode: OP.VERSION })).toEqual([
      'op=21 st=4 cas=0 ext= key="" val="Invalid arguments"', 'op=b st=0 cas=0 ext= key="" val="1.6.18"']);
    expect(send(h, { opcode: OP.SASL_AUTH, key: 'PLAIN', value: '\0alice\0secret', bodylen: 3 })).toEqual([
      'op=21 st=81 cas=0 ext= key="" val="Unknown command"', 'closed']);
  });

  it('SASL data too large for an item is refused and swallowed, not buffered', () => {
    const h = withSasl();
    const head = frame({ opcode: OP.SASL_AUTH, key: 'PLAIN', bodylen: 5 + 8 * 1024 * 1024 });
    expect(parseResponses(h.send(head)).packets.map(show)).toEqual(['op=21 st=82 cas=0 ext= key="" val="Out of memory"']);
    // the 8 MiB that follow are dropped as they arrive; then packets parse again
    h.send(Buffer.alloc(8 * 1024 * 1024, 0x41));
    expect(send(h, { opcode: OP.VERSION })).toEqual(['op=b st=0 cas=0 ext= key="" val="1.6.18"']);
  });

  it('text bytes are not a protocol here: the connection is closed', () => {
    const h = withSasl();
    expect(h.cmd('get k\r\nget k\r\nget k\r\nget k\r\n')).toBe('');
    expect(h.closed).toBe(true);
  });

  it('counts auth_cmds and auth_errors', () => {
    const h = withSasl();
    send(h, plain('\0alice\0wrong'), plain('\0alice\0secret'), plain('\0bob\0hunter2'));
    const stats = parseResponses(h.send(frame({ opcode: OP.STAT }))).packets;
    const stat = (name: string) => stats.find((p) => p.key === name)?.value.toString();
    expect([stat('auth_cmds'), stat('auth_errors')]).toEqual(['3', '1']);
  });
});

describe.each(ENGINES)('text-protocol authentication, -Y (%s engine)', (engine) => {
  const withTokens = () => {
    const h = makeStore({ engine, opts: OPT_AUTH_FILE });
    h.store.setAuth(Buffer.from(USERS));
    return h;
  };

  it('only the auth set is accepted first; then the connection is an ordinary one', () => {
    const h = withTokens();
    expect(h.cmd('get k\r\n')).toBe('CLIENT_ERROR unauthenticated\r\n');
    expect(h.cmd('set x 0 0 11\r\nalice wrong\r\n')).toBe('CLIENT_ERROR authentication failure\r\n');
    expect(h.cmd('set x 0 0 5\r\nalice\r\n')).toBe('CLIENT_ERROR bad authentication token format\r\n');
    expect(h.cmd('set x 0 0 12\r\nalice secretXX')).toBe('CLIENT_ERROR bad command line termination\r\n');
    expect(h.cmd('set x 0 0 12\r\nalice sec')).toBe('');
    expect(h.cmd('ret\r\nset k 0 0 1\r\nv\r\nget k\r\n')).toBe('STORED\r\nSTORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n');
    reconnect(h);
    expect(h.cmd('get k\r\n')).toBe('CLIENT_ERROR unauthenticated\r\n');
    expect(h.cmd('set x 0 0 11 noreply\r\nbob hunter2\r\nget k\r\n')).toBe('STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n');
  });

  it('binary bytes are not a protocol here', () => {
    const h = withTokens();
    expect(h.send(frame({ opcode: OP.GET, key: 'k' })).toString('latin1')).toBe('');
    expect(h.cmd('x'.repeat(3000))).toBe('');
    expect(h.closed).toBe(true);
  });
});

// Skipped when the suite targets memcached itself: it has no PLAIN user
// database here, so it cannot play the part of the server under test.
describe.skipIf(process.env.TEST_TARGET === 'memcached')('-S and -Y over TCP', () => {
  let dir: string;
  let sasl: ServerHandle;
  let tokens: ServerHandle;
  let reference: ServerHandle | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-'));
    writeFileSync(join(dir, 'users'), USERS);
    // Cyrus SASL reads memcached.conf from SASL_CONF_PATH.
    writeFileSync(join(dir, 'memcached.conf'), 'mech_list: plain\n');
    [sasl, tokens, reference] = await Promise.all([
      startWasmcached(['-S'], { env: { MEMCACHED_SASL_PWDB: join(dir, 'users') } }),
      startWasmcached(['-Y', join(dir, 'users')]),
      haveTool('memcached') ? startMemcached(['-S'], { env: { SASL_CONF_PATH: dir } }) : undefined,
    ]);
  });
  afterAll(async () => {
    await Promise.all([sasl, tokens, reference].map((s) => s?.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function exchange(port: number, data: Buffer | string): Promise<string> {
    const c = await RawClient.connect(port);
    try {
      await c.send(data);
      const got = await c.readAvailable(150, 3000);
      const closed = await c.waitClosed(100);
      if (typeof data === 'string') return got.toString('latin1') + (closed ? '<closed>' : '');
      return [...parseResponses(got).packets.map(show), ...(closed ? ['closed'] : [])].join('\n');
    } finally {
      c.close();
    }
  }

  it('-S: a client authenticates with PLAIN and works; others are refused', async () => {
    expect(await exchange(sasl.port, Buffer.concat([plain('\0alice\0secret'),
      { opcode: OP.SET, key: 'k', extras: setExtras(0, 0), value: 'v' }, { opcode: OP.GETK, key: 'k' }].map((r) => (Buffer.isBuffer(r) ? r : frame(r))))))
      .toBe([AUTH_OK, 'op=1 st=0 cas=1 ext= key="" val=""', 'op=c st=0 cas=1 ext=00000000 key="k" val="v"'].join('\n'));
    expect(await exchange(sasl.port, frame({ opcode: OP.GET, key: 'k' }))).toBe(`${AUTH_FAIL(OP.GET)}\nclosed`);
  });

  it('-S: refusals are the same bytes as memcached -S', async (ctx) => {
    if (!reference) return ctx.skip();
    const cases: Buffer[] = [
      frame({ opcode: OP.SASL_LIST_MECHS }),
      frame({ opcode: OP.GET, key: 'k' }),
      frame({ opcode: OP.VERSION }),
      Buffer.concat([frame(plain('\0carol\0nope')), frame({ opcode: OP.GET, key: 'k' })]),
      Buffer.concat([frame(plain('\0carol\0nope', OP.SASL_STEP)), frame({ opcode: OP.NOOP })]),
      Buffer.concat([frame({ opcode: OP.SASL_AUTH, key: 'X'.repeat(40) }), frame({ opcode: OP.NOOP })]),
      Buffer.concat([frame(plain('')), frame({ opcode: OP.NOOP })]),
      frame({ opcode: OP.SASL_AUTH, key: 'PLAIN', extras: Buffer.alloc(4), value: 'x' }),
      frame({ opcode: OP.SASL_AUTH, value: 'x' }),
    ];
    for (const c of cases) expect(await exchange(sasl.port, c)).toBe(await exchange(reference.port, c));
  });

  it('-Y: the auth set, then ordinary commands', async () => {
    expect(await exchange(tokens.port, 'get k\r\n')).toBe('CLIENT_ERROR unauthenticated\r\n');
    expect(await exchange(tokens.port, 'set a 0 0 12\r\nalice secret\r\nset k 0 0 1\r\nv\r\nget k\r\n'))
      .toBe('STORED\r\nSTORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n');
  });
});
