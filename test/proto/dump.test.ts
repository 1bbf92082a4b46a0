// `lru_crawler metadump` and `mgdump` over real sockets: metadump's lines
// against memcached 1.6.18's for the same items (sorted, exp and la within a
// second), mgdump's lines (memcached 1.6.18 has no mgdump; its format is
// newer memcached's), and the refusals: BADCLASS, BUSY while another
// connection's dump runs, a dump behind other replies, -X.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { startWasmcached, startMemcached, type ServerHandle } from '../support/servers.js';
import { RawClient, nonReader } from '../support/client.js';


const ITEMS: { key: string; flags: number; exptime: number; value: string; fetch: boolean }[] = [
  { key: 'plain', flags: 0, exptime: 0, value: 'v', fetch: false },
  { key: 'with%percent', flags: 5, exptime: 0, value: 'hello', fetch: true },
  { key: 'q?a=b&c', flags: 0, exptime: 1000, value: 'xyz', fetch: false },
  { key: 'dash-dot.under_tilde~', flags: 4294967295, exptime: 60, value: '12345678', fetch: true },
  { key: 'utf8-\u00e9', flags: 1, exptime: 0, value: 'é', fetch: false },
  // Small enough for class 1 in both: item headers differ, so a larger item
  // can land one class lower here than in memcached.
  { key: 'k'.repeat(30), flags: 0, exptime: 0, value: 'x', fetch: false },
];

async function load(c: RawClient): Promise<void> {
  for (const it of ITEMS) {
    const v = Buffer.from(it.value, 'utf8');
    const r = await c.request(Buffer.concat([Buffer.from(`set ${it.key} ${it.flags} ${it.exptime} ${v.length}\r\n`, 'utf8'), v, Buffer.from('\r\n')]));
    expect(r.toString()).toBe('STORED\r\n');
  }
  for (const it of ITEMS) if (it.fetch) await c.request(Buffer.from(`get ${it.key}\r\n`, 'utf8'));
}

async function dump(port: number, cmd: string, end: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return (await c.readUntilAfterSend(cmd, end)).toString('latin1');
  } finally {
    c.close();
  }
}

declare module '../support/client.js' {
  interface RawClient { readUntilAfterSend(cmd: string, end: string): Promise<Buffer> }
}
RawClient.prototype.readUntilAfterSend = async function (this: RawClient, cmd: string, end: string) {
  await this.send(cmd);
  // Searches only what arrived since the last look: a dump is megabytes.
  const mark = Buffer.from('\n' + end, 'latin1');
  let from = 0;
  return this.readWith((b) => {
    if (b.subarray(0, end.length).toString('latin1') === end) return end.length;
    const i = b.indexOf(mark, from);
    from = Math.max(0, b.length - mark.length);
    return i >= 0 ? i + mark.length : -1;
  }, 60_000);
};

/** Lines of a metadump as records; exp and la as numbers. */
function parseMeta(out: string): Record<string, string>[] {
  expect(out.endsWith('END\r\n')).toBe(true);
  const lines = out.slice(0, -5).split('\n').filter((l) => l !== '');
  return lines.map((l) => Object.fromEntries(l.split(' ').map((f) => f.split('=') as [string, string])))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

describe('metadump against memcached 1.6.18', () => {
  let ref: ServerHandle;
  const subjects: Record<string, ServerHandle> = {};
  beforeAll(async () => {
    ref = await startMemcached(['-m', '64']);
    subjects.wasm = await startWasmcached(['-m', '64', '--engine', 'wasm']);
    subjects.js = await startWasmcached(['-m', '64', '--engine', 'js']);
    for (const s of [ref, subjects.wasm, subjects.js]) {
      const c = await RawClient.connect(s.port);
      await load(c);
      c.close();
    }
  }, 60_000);
  afterAll(async () => { await Promise.all([ref?.stop(), subjects.wasm?.stop(), subjects.js?.stop()]); });

  test.each(['wasm', 'js'])('%s engine: the same lines, "\\n"-terminated, then END', async (engine) => {
    for (const arg of ['all', 'hash', '1', '1,2,3']) {
      const want = parseMeta(await dump(ref.port, `lru_crawler metadump ${arg}\r\n`, 'END\r\n'));
      const got = parseMeta(await dump(subjects[engine].port, `lru_crawler metadump ${arg}\r\n`, 'END\r\n'));
      expect(got.map((r) => r.key)).toEqual(want.map((r) => r.key));
      expect(want.length).toBe(ITEMS.length);
      for (let i = 0; i < want.length; i++) {
        const { exp: we, la: wl, ...wrest } = want[i];
        const { exp: ge, la: gl, ...grest } = got[i];
        expect(grest).toEqual(wrest);
        if (we === '-1') expect(ge).toBe('-1'); else expect(Math.abs(Number(ge) - Number(we))).toBeLessThanOrEqual(1);
        expect(Math.abs(Number(gl) - Number(wl))).toBeLessThanOrEqual(1);
      }
    }
  });

  test.each(['wasm', 'js'])('%s engine: the same refusals', async (engine) => {
    const cmds = [
      'lru_crawler metadump 0', 'lru_crawler metadump 64', 'lru_crawler metadump x', 'lru_crawler metadump 1,x',
      'lru_crawler metadump', 'lru_crawler metadump all extra',
    ];
    for (const cmd of cmds) {
      const c = await RawClient.connect(ref.port);
      const r = (await c.request(`${cmd}\r\n`)).toString();
      c.close();
      const s = await RawClient.connect(subjects[engine].port);
      expect((await s.request(`${cmd}\r\n`)).toString(), cmd).toBe(r);
      s.close();
    }
    // behind another reply in the same read, as memcached's t/lru-crawler.t
    for (const port of [ref.port, subjects[engine].port]) {
      const c = await RawClient.connect(port);
      const r = await c.request('mg plain v\r\nlru_crawler metadump all\r\n', 2);
      expect(r.toString()).toBe('VA 1\r\nv\r\nERROR cannot pipeline other commands before metadump\r\n');
      c.close();
    }
  });
});

describe.each(['wasm', 'js'] as const)('key dumps, %s engine', (engine) => {
  let server: ServerHandle;
  beforeAll(async () => { server = await startWasmcached(['-m', '64', '--engine', engine]); });
  afterAll(async () => { await server?.stop(); });

  test('mgdump lists keys, base64 with " b" for keys given in base64, then EN', async () => {
    const c = await RawClient.connect(server.port);
    await c.request('set text-key 0 0 1\r\na\r\n');
    // "\x00\xffbin" in base64
    await c.request('ms AP9iaW4= 1 b\r\nb\r\n');
    c.close();
    const out = await dump(server.port, 'lru_crawler mgdump all\r\n', 'EN\r\n');
    const lines = out.split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines.pop()).toBe('EN');
    expect(lines.sort()).toEqual(['mg AP9iaW4= b', 'mg text-key']);
    expect(parseMeta(await dump(server.port, 'lru_crawler metadump all\r\n', 'END\r\n')).map((r) => r.key))
      .toEqual(['%00%FFbin', 'text-key']);
  });

  test('commands pipelined after a dump run when it ends', async () => {
    const c = await RawClient.connect(server.port);
    await c.send('lru_crawler mgdump all\r\nversion\r\n');
    const out = (await c.readUntil('VERSION 1.6.18\r\n')).toString();
    expect(out).toMatch(/\r\nEN\r\nVERSION 1\.6\.18\r\n$/);
    c.close();
  });

  test('BUSY while another connection dumps; free again once it leaves', async () => {
    const c = await RawClient.connect(server.port);
    // 60,000 lines of 230 bytes: more than the socket buffers take.
    const pad = 'p'.repeat(190);
    for (let i = 0; i < 60_000; i += 1000) {
      let batch = '';
      for (let j = i; j < i + 1000; j++) batch += `set busy:${j}:${pad} 0 0 1 noreply\r\nv\r\n`;
      await c.send(batch);
    }
    await c.requestUntilLine('mn\r\n', 'MN');
    // A reader that never reads keeps its dump running.
    const stalled = await nonReader(server.port, 'lru_crawler metadump all\r\n');
    // `crawl` answers OK until the stalled dump has begun (a busy machine may be slow to start it)
    for (let i = 0; i < 100 && (await c.request('lru_crawler crawl all\r\n')).toString() === 'OK\r\n'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await c.request('lru_crawler metadump all\r\n')).toString()).toBe('BUSY currently processing crawler request\r\n');
    expect((await c.request('lru_crawler mgdump 1\r\n')).toString()).toBe('BUSY currently processing crawler request\r\n');
    expect((await c.request('lru_crawler crawl all\r\n')).toString()).toBe('BUSY currently processing crawler request\r\n');
    stalled.destroy();
    for (let i = 0; i < 100 && (await c.request('lru_crawler crawl all\r\n')).toString() !== 'OK\r\n'; i++) await new Promise((r) => setTimeout(r, 50));
    const out = (await c.readUntilAfterSend('lru_crawler mgdump all\r\n', 'EN\r\n')).toString();
    expect(out.split('\r\n').filter((l) => l.startsWith('mg busy:')).length).toBe(60_000);
    c.close();
    // 60,000 sets and two dumps of them: about 15 s on a loaded 2-core machine.
  }, 90_000);

  test('lru_crawler disable refuses dumps as memcached does', async () => {
    const c = await RawClient.connect(server.port);
    expect((await c.request('lru_crawler disable\r\n')).toString()).toBe('OK\r\n');
    expect((await c.request('lru_crawler metadump all\r\n')).toString()).toBe('CLIENT_ERROR lru crawler disabled\r\n');
    expect((await c.request('lru_crawler enable\r\n')).toString()).toBe('OK\r\n');
    c.close();
  });
});

describe('-X disables key dumps as memcached does', () => {
  const servers: ServerHandle[] = [];
  beforeAll(async () => {
    servers.push(await startMemcached(['-X']), await startWasmcached(['-X']), await startWasmcached(['-X', '--engine', 'js']));
  });
  afterAll(async () => { await Promise.all(servers.map((s) => s.stop())); });

  test('the same answers from memcached and both engines', async () => {
    const answers: string[] = [];
    for (const s of servers) {
      const c = await RawClient.connect(s.port);
      let a = '';
      for (const cmd of ['stats cachedump 1 0', 'lru_crawler metadump all', 'lru_crawler metadump 0']) a += (await c.request(`${cmd}\r\n`)).toString();
      const settings = (await c.request('stats settings\r\n')).toString();
      a += /STAT dump_enabled \w+\r\n/.exec(settings)![0];
      c.close();
      answers.push(a);
    }
    expect(answers[0]).toBe('CLIENT_ERROR stats cachedump not allowed\r\nERROR metadump not allowed\r\nERROR metadump not allowed\r\nSTAT dump_enabled no\r\n');
    expect(answers[1]).toBe(answers[0]);
    expect(answers[2]).toBe(answers[0]);
    // mgdump (newer than 1.6.18) answers as newer memcached does
    const c = await RawClient.connect(servers[1].port);
    expect((await c.request('lru_crawler mgdump all\r\n')).toString()).toBe('ERROR key dump not allowed\r\n');
    c.close();
  });
});

describe('stats cachedump streams a large class', () => {
  const N = 100_000;
  const servers: Record<string, ServerHandle> = {};
  beforeAll(async () => {
    for (const engine of ['wasm', 'js']) {
      servers[engine] = await startWasmcached(['-m', '64', '--engine', engine]);
      const c = await RawClient.connect(servers[engine].port);
      for (let b = 0; b < N; b += 10_000) {
        let batch = '';
        for (let i = b; i < b + 10_000; i++) batch += `set ck:${i} 0 ${i % 2 ? 0 : 3600} 1 noreply\r\nv\r\n`;
        await c.send(batch);
      }
      expect((await c.request('mn\r\n')).toString()).toBe('MN\r\n');
      c.close();
    }
  }, 60_000);
  afterAll(async () => { await Promise.all(Object.values(servers).map((s) => s.stop())); });

  async function classOf(port: number): Promise<number> {
    const c = await RawClient.connect(port);
    const out = (await c.request('stats items\r\n')).toString();
    c.close();
    const m = [...out.matchAll(/STAT items:(\d+):number (\d+)\r\n/g)].filter((x) => Number(x[2]) === N);
    expect(m.length).toBe(1);
    return Number(m[0][1]);
  }

  test.each(['wasm', 'js'])('%s engine: limit 0 lists all 100,000 items, a limit caps the count', async (engine) => {
    const port = servers[engine].port;
    const cls = await classOf(port);
    const out = await dump(port, `stats cachedump ${cls} 0\r\n`, 'END\r\n');
    expect(out.endsWith('\r\nEND\r\n')).toBe(true);
    const lines = out.slice(0, -5).split('\r\n').filter((l) => l !== '');
    expect(lines.length).toBe(N);
    const keys = new Set<string>();
    for (const l of lines) {
      const m = /^ITEM (ck:(\d+)) \[1 b; (\d+) s\]$/.exec(l)!;
      expect(m).not.toBeNull();
      keys.add(m[1]);
      if (Number(m[2]) % 2) expect(m[3]).toBe('0'); else expect(Number(m[3])).toBeGreaterThan(Date.now() / 1000);
    }
    expect(keys.size).toBe(N);
    // A limit, and a dump pipelined between other commands: replies in order.
    const c = await RawClient.connect(port);
    await c.send(`get ck:1\r\nstats cachedump ${cls} 70000\r\nmn\r\n`);
    const r = (await c.readWith((b) => (b.toString('latin1').endsWith('MN\r\n') ? b.length : -1), 30_000)).toString('latin1');
    c.close();
    expect(r.slice(0, 29)).toBe('VALUE ck:1 0 1\r\nv\r\nEND\r\nITEM ');
    expect(r.endsWith('\r\nEND\r\nMN\r\n')).toBe(true);
    expect(r.split('\r\n').filter((l) => l.startsWith('ITEM ')).length).toBe(70000);
  }, 60_000);

  test.each(['wasm', 'js'])('%s engine: items deleted and added while it runs', async (engine) => {
    const port = servers[engine].port;
    const cls = await classOf(port);
    const reader = await RawClient.connect(port);
    const writer = await RawClient.connect(port);
    await reader.send(`stats cachedump ${cls} 0\r\n`);
    let churn = '';
    for (let i = 0; i < N; i += 7) churn += `delete ck:${i} noreply\r\nset ck:${i} 0 0 1 noreply\r\nw\r\n`;
    await writer.send(churn);
    expect((await writer.request('mn\r\n')).toString()).toBe('MN\r\n');
    const out = (await reader.readWith((b) => (b.toString('latin1').endsWith('\r\nEND\r\n') ? b.length : -1), 30_000)).toString('latin1');
    reader.close();
    writer.close();
    const lines = out.slice(0, -5).split('\r\n').filter((l) => l !== '');
    for (const l of lines) expect(l).toMatch(/^ITEM ck:\d+ \[1 b; \d+ s\]$/);
    // Items never touched are all there; no key appears more than twice.
    const seen = new Map<string, number>();
    for (const l of lines) { const k = l.split(' ')[1]; seen.set(k, (seen.get(k) ?? 0) + 1); }
    for (let i = 1; i < N; i++) if (i % 7) expect(seen.get(`ck:${i}`)).toBe(1);
    for (const n of seen.values()) expect(n).toBeLessThanOrEqual(2);
  }, 60_000);
});
