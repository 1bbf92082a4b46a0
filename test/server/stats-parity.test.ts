// Stats parity with memcached 1.6.18, for the tools that read them
// (memcached-tool, memcstat, Prometheus exporters): the same `stats` and
// `stats items` fields in the same order, numbers where memcached prints
// numbers, and the answers of the admin commands around them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMemcached, startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// memcached with its defaults (the differential pair turns its crawler off).
let pair: { ref: ServerHandle; sut: ServerHandle };
beforeAll(async () => { pair = { ref: await startMemcached([]), sut: await startWasmcached([]) }; });
afterAll(async () => { await Promise.all([pair?.ref.stop(), pair?.sut.stop()]); });

/** [name, value] of each STAT line, in order. */
function statLines(reply: Buffer): [string, string][] {
  return reply.toString('latin1').split('\r\n')
    .filter((l) => l.startsWith('STAT '))
    .map((l) => { const [, name, ...rest] = l.split(' '); return [name, rest.join(' ')]; });
}

async function both(cmd: string, replies = 1): Promise<[Buffer, Buffer]> {
  const [a, b] = await Promise.all([RawClient.connect(pair.ref.port), RawClient.connect(pair.sut.port)]);
  try {
    return await Promise.all([a.request(cmd, replies), b.request(cmd, replies)]);
  } finally {
    a.close();
    b.close();
  }
}

const NUMBER = /^-?\d+(\.\d+)?$/;

describe('stats parity with memcached', () => {
  it('`stats`: the same fields in the same order, numbers where memcached has numbers', async () => {
    const [ref, sut] = await both('stats\r\n');
    const r = statLines(ref);
    const s = statLines(sut);
    expect(s.map(([n]) => n)).toEqual(r.map(([n]) => n));
    const textual = new Set(['version', 'libevent']);
    for (let i = 0; i < r.length; i++) {
      if (textual.has(r[i][0])) continue;
      if (NUMBER.test(r[i][1])) expect(`${s[i][0]} ${s[i][1]}`).toMatch(new RegExp(`^${s[i][0]} -?\\d+(\\.\\d+)?$`));
    }
  });

  it('`stats items` lists the same fields, and only classes that hold items', async () => {
    const sets = [10, 500, 5000].map((n, i) => `set parity${i} 0 0 ${n}\r\n${'v'.repeat(n)}\r\n`).join('');
    await both(sets, 3);
    const [ref, sut] = await both('stats items\r\n');
    expect(statLines(sut).map(([n]) => n)).toEqual(statLines(ref).map(([n]) => n));
    expect(statLines(sut).filter(([n]) => n.endsWith(':number')).length).toBe(3);

    // Deleted down to nothing, a class drops out of the list though it keeps its page.
    await both('delete parity1\r\n');
    const [ref2, sut2] = await both('stats items\r\n');
    expect(statLines(sut2).map(([n]) => n)).toEqual(statLines(ref2).map(([n]) => n));
    expect(statLines(sut2).filter(([n]) => n.endsWith(':number')).length).toBe(2);
    await both('delete parity0\r\ndelete parity2\r\n', 2);
  });

  it('`lru_crawler crawl` refuses a bad class list with BADCLASS, as memcached', async () => {
    for (const arg of ['0', '64', 'abc', '1,99', 'hash']) {
      const [ref, sut] = await both(`lru_crawler crawl ${arg}\r\n`);
      expect(sut.toString('latin1')).toBe(ref.toString('latin1'));
      expect(sut.toString('latin1')).not.toBe('OK\r\n');
    }
  });

  it('`lru_crawler crawl all` is counted in lru_crawler_starts', async () => {
    const starts = async () => Number(new Map(statLines((await both('stats\r\n'))[1])).get('lru_crawler_starts'));
    const before = await starts();
    const [, sut] = await both('lru_crawler crawl all\r\n');
    expect(sut.toString('latin1')).toBe('OK\r\n');
    expect(await starts()).toBeGreaterThan(before);
  });

  it('`stats detail`: the same PREFIX lines, in the same order, as memcached', async () => {
    const [a, b] = await Promise.all([RawClient.connect(pair.ref.port), RawClient.connect(pair.sut.port)]);
    try {
      const script = [
        'stats detail on\r\n',
        'set a:b 0 0 1\r\n1\r\n', 'get a:b\r\n', 'get x:y z\r\n', 'delete a:b\r\n', 'delete nope\r\n',
        'set foo:1 0 0 1\r\n1\r\n', 'gets q:1 w:2 e:3 r:4 t:5 y:6 u:7 i:8 o:9 p:0\r\n', 'gat 0 foo:1\r\n',
        `set big:1 0 0 1048577\r\n${'v'.repeat(1048577)}\r\n`, // too large: still counted as a set
        'stats detail dump\r\n', 'stats detail off\r\n', 'get a:c\r\n', 'stats detail dump\r\n',
        'stats reset\r\n', 'stats detail dump\r\n',
      ];
      for (const line of script) {
        const [ra, rb] = await Promise.all([a.request(line), b.request(line)]);
        expect(rb.toString('latin1'), line.slice(0, 40)).toBe(ra.toString('latin1'));
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('`stats detail` holds a bounded number of prefixes; later ones go uncounted', async () => {
    const c = await RawClient.connect(pair.sut.port);
    try {
      await c.request('stats reset\r\n');
      await c.request('stats detail on\r\n');
      const gets = Array.from({ length: 300 }, (_, i) => `p${i}:k`).join(' ');
      await c.request(`get ${gets}\r\n`);
      await c.send('stats detail dump\r\n');
      const dump = (await c.readUntil(/END\r\n$/)).toString('latin1');
      expect(dump.split('\r\n').filter((l) => l.startsWith('PREFIX ')).length).toBe(256);
      await c.request('stats detail off\r\n');
      await c.request('stats reset\r\n');
    } finally {
      c.close();
    }
  });

  it('`stats conns` lists the listener and each connection as memcached does', async () => {
    const idle = await RawClient.connect(pair.sut.port);
    const c = await RawClient.connect(pair.sut.port);
    try {
      await idle.request('version\r\n');
      const out = (await c.request('stats conns\r\n')).toString('latin1');
      const lines = out.split('\r\n').filter((l) => l.startsWith('STAT '));
      const listen = `tcp:127.0.0.1:${pair.sut.port}`;
      expect(lines.some((l) => new RegExp(`^STAT \\d+:addr ${listen}$`).test(l))).toBe(true);
      expect(lines.filter((l) => / conn_listening$/.test(l)).length).toBe(1);
      expect(lines.filter((l) => l.endsWith(`:listen_addr ${listen}`)).length).toBeGreaterThanOrEqual(2);
      expect(lines.filter((l) => / conn_parse_cmd$/.test(l)).length).toBe(1);
      for (const l of lines) expect(l).toMatch(/^STAT \d+:(addr|listen_addr|state|secs_since_last_cmd) \S+$/);
      const ref = (await (async () => {
        const r = await RawClient.connect(pair.ref.port);
        try { return await r.request('stats conns\r\n'); } finally { r.close(); }
      })()).toString('latin1');
      const shape = (t: string) => [...new Set(t.split('\r\n').filter((l) => l.startsWith('STAT ')).map((l) => l.split(' ')[1].split(':')[1]))].sort();
      expect(shape(out)).toEqual(shape(ref));
    } finally {
      idle.close();
      c.close();
    }
  });
});

describe('stats settings: the strings only the host knows', () => {
  it('inter, num_napi_ids and memory_file as memcached prints them for the same command line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-settings-'));
    const servers: ServerHandle[] = [];
    try {
      // Each its own file: memcached's is a memory-mapped arena, ours a snapshot.
      const files = [join(dir, 'memcached'), join(dir, 'wasmcached')];
      // memcached -N closes every connection whose NAPI id it cannot read
      // (loopback has none): its -N is left out, ours is shown.
      servers.push(await startMemcached(['-m', '64', '-l', '127.0.0.1', '-e', files[0]]));
      servers.push(await startWasmcached(['-m', '64', '-l', '127.0.0.1', '-N', '2', '-e', files[1]]));
      const pick = (reply: Buffer) => statLines(reply).filter(([n]) => /^(inter|num_napi_ids|memory_file)$/.test(n));
      const replies = await Promise.all(servers.map(async (s) => {
        const c = await RawClient.connect(s.port);
        try { return pick(await c.request('stats settings\r\n')); } finally { c.close(); }
      }));
      expect(replies[0]).toEqual([['inter', '127.0.0.1'], ['num_napi_ids', '(null)'], ['memory_file', files[0]]]);
      expect(replies[1]).toEqual([['inter', '127.0.0.1'], ['num_napi_ids', '2'], ['memory_file', files[1]]]);
      // Without them: memcached's NULL and (null) words; wasmcached's default -l is 127.0.0.1.
      const plain = await both('stats settings\r\n');
      expect(pick(plain[1])).toEqual([['inter', '127.0.0.1'], ['num_napi_ids', '(null)'], ['memory_file', '(null)']]);
      expect(pick(plain[0]).slice(1)).toEqual(pick(plain[1]).slice(1));
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
