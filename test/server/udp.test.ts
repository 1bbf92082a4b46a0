// UDP (-U), black-box with a real dgram client: memcached's frame protocol
// on both engine builds, the same requests compared with memcached 1.6.18
// over UDP, a reply of many datagrams reassembled, the reply bound (the
// amplification limit) and what a client sees past it, frames memcached
// drops, requests cut short, libmemcached's memccp over UDP, and TCP clients
// served while UDP is flooded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMemcached, startWasmcached, haveTool, WASMCACHED_BIN, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { ENGINES } from '../support/engine.js';
import { UdpClient, frame, messages, reassemble, type Datagram } from '../support/udp-client.js';
import { frame as binFrame, parseResponses, setExtras, incrExtras, OP } from '../support/binary.js';
import { UDP_MAX_REPLY_BYTES, UDP_MAX_REPLY_DATAGRAMS } from '../../src/udp.js';
import { startServer } from '../../src/server-api.js';
import { UDP_DATA_SIZE, UDP_MAX_PAYLOAD_SIZE } from '../../src/udp-frame.js';

const AGAINST_MEMCACHED = process.env.TEST_TARGET === 'memcached';
const latin1 = (b: Buffer) => b.toString('latin1');

async function tcpStats(port: number, sub = ''): Promise<Record<string, string>> {
  const c = await RawClient.connect(port);
  try {
    const text = latin1(await c.request(sub ? `stats ${sub}\r\n` : 'stats\r\n'));
    const out: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const m = /^STAT (\S+) (.*)$/.exec(line);
      if (m) out[m[1]] = m[2];
    }
    return out;
  } finally {
    c.close();
  }
}

/** One request over TCP, and its one reply. */
async function tcpRequest(port: number, request: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return latin1(await c.request(request));
  } finally {
    c.close();
  }
}

/** A text value whose `get <key>` reply is exactly `replyBytes` long. */
function valueForReply(key: string, replyBytes: number): string {
  for (let n = replyBytes; n > 0; n--) {
    if (`VALUE ${key} 0 ${n}\r\n`.length + n + '\r\nEND\r\n'.length === replyBytes) return 'v'.repeat(n);
  }
  throw new Error(`no value gives a reply of ${replyBytes} bytes`);
}

/** Every datagram of a wasmcached reply: one message, framed as memcached's protocol.txt says. */
function expectOneMessage(got: Datagram[], id: number): Buffer {
  // Nothing at all for an empty reply (memcached sends an empty datagram for some).
  if (got.length === 0) return Buffer.alloc(0);
  const ms = messages(got);
  expect(ms.length).toBe(1);
  for (const d of got) {
    expect(d.id).toBe(id);
    expect(d.reserved).toBe(0);
    expect(d.raw.length).toBeLessThanOrEqual(UDP_MAX_PAYLOAD_SIZE);
  }
  return reassemble(ms[0]);
}

describe.skipIf(AGAINST_MEMCACHED).each(ENGINES)('UDP on the %s build', (engine) => {
  let server: ServerHandle;
  let udp: UdpClient;
  let port: number;

  beforeAll(async () => {
    server = await startWasmcached(['--engine', engine, '-U', '-1']);
    port = server.udpPort;
    udp = await UdpClient.open();
    // Each test may read foo, whichever run first.
    expect(await tcpRequest(server.port, 'set foo 0 0 6\r\nfooval\r\n')).toBe('STORED\r\n');
  });
  afterAll(async () => {
    udp?.close();
    await server?.stop();
  });

  it('listens on the port it reports in the port file and in stats settings', async () => {
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(server.port);
    expect((await tcpStats(server.port, 'settings')).udpport).toBe(String(port));
    // ...and prints after its `listening on` line.
    const printed = `listening on 127.0.0.1:${server.port}\nUDP on 127.0.0.1:${port}\n`;
    for (const deadline = Date.now() + 5000; !server.output().includes(printed) && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.output()).toContain(printed);
  });

  // memcached's t/udp.t, in its own order: request ids, a multi-datagram
  // value, then set/get/miss/incr/decr/delete in text and binary.
  it('echoes each request id, and answers text and binary requests as over TCP', async () => {
    expect(latin1(await udp.reply(port, 'set foo 0 0 6\r\nfooval\r\n', { id: 5 }))).toBe('STORED\r\n');
    for (const id of [161, 161, 162, 0, 65535]) {
      const got = await udp.request(port, 'get foo\r\n', { id });
      expect(got.map((d) => [d.id, d.seq, d.total])).toEqual([[id, 0, 1]]);
      expect(latin1(got[0].data)).toBe('VALUE foo 0 6\r\nfooval\r\nEND\r\n');
    }
    expect(latin1(await udp.reply(port, 'set aval0 0 0 1\r\n1\r\n', { id: 45 }))).toBe('STORED\r\n');
    expect(latin1(await udp.reply(port, `set bval0 0 0 4096\r\n${'abcd'.repeat(1024)}\r\n`))).toBe('STORED\r\n');
    expect(latin1(await udp.reply(port, 'get 4040\r\n'))).toBe('END\r\n');
    expect(latin1(await udp.reply(port, 'incr aval0 1\r\n'))).toBe('2\r\n');
    expect(latin1(await udp.reply(port, 'decr aval0 1\r\n'))).toBe('1\r\n');
    expect(latin1(await udp.reply(port, 'delete aval0\r\n'))).toBe('DELETED\r\n');

    const bin = async (req: Buffer) => parseResponses(await udp.reply(port, req, { id: 45 })).packets;
    const [set] = await bin(binFrame({ opcode: OP.SET, key: 'aval1', extras: setExtras(0, 0), value: '1', opaque: 7 }));
    expect([set.status, set.opaque]).toEqual([0, 7]);
    const [get] = await bin(binFrame({ opcode: OP.GET, key: 'aval1' }));
    expect([get.status, latin1(get.value)]).toEqual([0, '1']);
    const [miss] = await bin(binFrame({ opcode: OP.GET, key: '4041' }));
    expect(miss.status).toBe(1);
    const [incr] = await bin(binFrame({ opcode: OP.INCREMENT, key: 'aval1', extras: incrExtras(1n, 0n, 0) }));
    expect([incr.status, incr.value.readBigUInt64BE(0)]).toEqual([0, 2n]);
    const [del] = await bin(binFrame({ opcode: OP.DELETE, key: 'aval1' }));
    expect(del.status).toBe(0);
  });

  it('runs every command of a datagram and answers them in one message', async () => {
    const got = await udp.request(port, 'set m1 0 0 2\r\nm1\r\nset m2 3 0 2\r\nm2\r\nget m1 m2 nope\r\nmn\r\n', { id: 9 });
    expect(latin1(expectOneMessage(got, 9))).toBe('STORED\r\nSTORED\r\nVALUE m1 0 2\r\nm1\r\nVALUE m2 3 2\r\nm2\r\nEND\r\nMN\r\n');
  });

  it('cuts a 20000-byte value into 15 datagrams that reassemble by sequence number', async () => {
    const value = Array.from({ length: 20000 }, (_, i) => String.fromCharCode(67 + ((i * 7919) % 24))).join('');
    expect(await tcpRequest(server.port, `set bigvalue 0 0 20000\r\n${value}\r\n`)).toBe('STORED\r\n');
    const got = await udp.request(port, 'get bigvalue\r\n', { id: 53 });
    expect(got.length).toBe(15);
    expect(got.map((d) => d.total)).toEqual(Array(15).fill(15));
    // All but the last are full: memcached's 1400-byte datagrams.
    for (const d of got.slice(0, -1)) expect(d.raw.length).toBe(UDP_MAX_PAYLOAD_SIZE);
    // Order does not matter to the client: reassemble a shuffled copy.
    const shuffled = got.map((d, i) => ({ d, k: (i * 11) % got.length })).sort((a, b) => a.k - b.k).map((x) => x.d);
    expect(shuffled.map((d) => d.seq)).not.toEqual(got.map((d) => d.seq));
    expect(latin1(reassemble(shuffled))).toBe(`VALUE bigvalue 0 20000\r\n${value}\r\nEND\r\n`);
  });

  it(`bounds a reply at ${UDP_MAX_REPLY_DATAGRAMS} datagrams and answers one short error past it`, async () => {
    // The bound the README states.
    expect([UDP_MAX_REPLY_DATAGRAMS, UDP_MAX_REPLY_BYTES]).toEqual([16, 16 * UDP_DATA_SIZE]);
    const fits = valueForReply('cap', UDP_MAX_REPLY_BYTES);
    expect(await tcpRequest(server.port, `set cap 0 0 ${fits.length}\r\n${fits}\r\n`)).toBe('STORED\r\n');
    const whole = await udp.request(port, 'get cap\r\n', { id: 77 });
    expect(whole.length).toBe(UDP_MAX_REPLY_DATAGRAMS);
    expect(latin1(expectOneMessage(whole, 77))).toBe(`VALUE cap 0 ${fits.length}\r\n${fits}\r\nEND\r\n`);

    const over = fits + 'v';
    expect(await tcpRequest(server.port, `set over 0 0 ${over.length}\r\n${over}\r\n`)).toBe('STORED\r\n');
    const refused = await udp.request(port, 'get over\r\n', { id: 78 });
    expect(refused.map((d) => [d.id, d.seq, d.total, latin1(d.data)])).toEqual([[78, 0, 1, 'SERVER_ERROR reply too large for UDP\r\n']]);
    // The same for a reply made of many small ones, and in binary (E2BIG, the first request's opaque).
    const keys = Array.from({ length: 40 }, () => 'cap').join(' ');
    expect(latin1(await udp.reply(port, `get ${keys}\r\n`))).toBe('SERVER_ERROR reply too large for UDP\r\n');
    const [big] = parseResponses(await udp.reply(port, binFrame({ opcode: OP.GET, key: 'over', opaque: 0x1234 }))).packets;
    expect([big.opcode, big.status, big.opaque, latin1(big.value)]).toEqual([OP.GET, 3, 0x1234, 'Too large.']);
    // A key dump past the bound is refused too, and ends: TCP's next dump is not BUSY.
    const sets = Array.from({ length: 400 }, (_, i) => `set dumpkey${i} 0 0 1 noreply\r\nd\r\n`).join('');
    expect(await tcpRequest(server.port, `${sets}mn\r\n`)).toBe('MN\r\n');
    expect(latin1(await udp.reply(port, 'lru_crawler metadump all\r\n'))).toBe('SERVER_ERROR reply too large for UDP\r\n');
    expect(await tcpRequest(server.port, 'lru_crawler metadump 1\r\n')).toMatch(/^key=/);
    // The reply is replaced, not the effects: commands before the one that crossed the bound ran.
    expect(latin1(await udp.reply(port, 'set before 0 0 1\r\nb\r\nget over\r\n'))).toBe('SERVER_ERROR reply too large for UDP\r\n');
    expect(await tcpRequest(server.port, 'get before over\r\n')).toBe(`VALUE before 0 1\r\nb\r\nVALUE over 0 ${over.length}\r\n${over}\r\nEND\r\n`);
  });

  it('drops datagrams without a request or that belong to a multi-datagram request, as memcached does', async () => {
    for (const raw of [Buffer.alloc(0), Buffer.from([0, 1, 0, 0, 0, 1, 0]), frame({}, ''),
      frame({ total: 2 }, 'get foo\r\n'), frame({ total: 0 }, 'get foo\r\n'), frame({ seq: 1, total: 2 }, 'get foo\r\n')]) {
      expect(await udp.exchange(port, raw)).toEqual([]);
    }
    // Like memcached, the sequence number and reserved word of a request are not checked.
    expect(latin1(await udp.reply(port, 'get foo\r\n', { seq: 3, reserved: 9 }))).toBe('VALUE foo 0 6\r\nfooval\r\nEND\r\n');
  });

  it('answers a request cut short with an error, stores nothing of it, and serves the next one', async () => {
    const before = await tcpStats(server.port);
    expect(latin1(await udp.reply(port, 'get foo\r\nget fo'))).toBe('VALUE foo 0 6\r\nfooval\r\nEND\r\nCLIENT_ERROR incomplete command\r\n');
    expect(latin1(await udp.reply(port, 'set cut 0 0 10\r\nabc'))).toBe('CLIENT_ERROR bad data chunk\r\n');
    const [cut] = parseResponses(await udp.reply(port, binFrame({ opcode: OP.SET, key: 'cutb', extras: setExtras(0, 0), value: 'vvvv', opaque: 99 }).subarray(0, 30))).packets;
    expect([cut.opcode, cut.status, cut.opaque, latin1(cut.value)]).toEqual([OP.SET, 4, 99, 'Invalid arguments']);
    expect(latin1(await udp.reply(port, 'get cut cutb foo\r\n'))).toBe('VALUE foo 0 6\r\nfooval\r\nEND\r\n');
    // The items that received the cut values went back to their slab class.
    const after = await tcpStats(server.port);
    expect(after.curr_items).toBe(before.curr_items);
    const slabs = await tcpStats(server.port, 'slabs');
    const used = Object.entries(slabs).filter(([k]) => /^\d+:used_chunks$/.test(k)).reduce((n, [, v]) => n + Number(v), 0);
    expect(used).toBe(Number(after.curr_items));
  });

  it('answers `snapshot` with an error over UDP and goes on', async () => {
    expect(latin1(await udp.reply(port, 'snapshot\r\nget foo\r\n'))).toBe('SERVER_ERROR snapshot is not available over UDP\r\nVALUE foo 0 6\r\nfooval\r\nEND\r\n');
  });

  it('keeps TCP clients served while UDP is flooded with big, bad and cut requests', async () => {
    const flood = createSocket('udp4');
    await new Promise<void>((r) => flood.bind(0, '127.0.0.1', () => r()));
    flood.on('message', () => { /* replies are dropped */ });
    const kinds = [frame({}, 'get over\r\n'), frame({}, 'get bigvalue\r\n'), frame({}, 'get foo'), frame({ total: 3 }, 'get foo\r\n'),
      Buffer.alloc(5), frame({}, 'set leak 0 0 100\r\nabc'), frame({}, binFrame({ opcode: OP.GET, key: 'foo' })), frame({}, 'bogus\r\n')];
    let stop = false;
    let sent = 0;
    const deadline = Date.now() + 4000;
    const flooding = (async () => {
      while (!stop && sent < 20_000 && Date.now() < deadline) {
        for (let i = 0; i < 50; i++, sent++) flood.send(kinds[sent % kinds.length], port, '127.0.0.1');
        await new Promise((r) => setImmediate(r));
      }
    })();
    const tcp = await RawClient.connect(server.port);
    try {
      let slowest = 0;
      for (let i = 0; i < 100; i++) {
        const t0 = Date.now();
        expect(latin1(await tcp.request(`set t${i} 0 0 ${String(i).length}\r\n${i}\r\n`))).toBe('STORED\r\n');
        expect(latin1(await tcp.request(`get t${i}\r\n`))).toBe(`VALUE t${i} 0 ${String(i).length}\r\n${i}\r\nEND\r\n`);
        slowest = Math.max(slowest, Date.now() - t0);
      }
      expect(slowest).toBeLessThan(3000);
    } finally {
      stop = true;
      await flooding;
      tcp.close();
      flood.close();
    }
    expect(sent).toBeGreaterThan(0);
    // The flood may still fill the server's receive queue, where the kernel
    // drops what does not fit (UDP is lossy): wait until a probe is
    // answered, then check.
    for (let i = 0; i < 15; i++) {
      const answered = await udp.exchange(port, frame({ id: 7 }, 'mn\r\n'), 2_000).then(() => true, () => false);
      if (answered) break;
    }
    // Still answering UDP, and nothing of the cut sets was kept.
    expect(latin1(await udp.reply(port, 'get foo leak\r\n'))).toBe('VALUE foo 0 6\r\nfooval\r\nEND\r\n');
    const stats = await tcpStats(server.port);
    const slabs = await tcpStats(server.port, 'slabs');
    const used = Object.entries(slabs).filter(([k]) => /^\d+:used_chunks$/.test(k)).reduce((n, [, v]) => n + Number(v), 0);
    expect(used).toBe(Number(stats.curr_items));
  });

  it.skipIf(!haveTool('memccp'))('stores what libmemcached\'s memccp --udp sends, text and binary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memccp-'));
    try {
      for (const [name, extra] of [['udptext', []], ['udpbinary', ['--binary']]] as const) {
        writeFileSync(join(dir, name), `contents of ${name}`);
        const r = spawnSync('memccp', [`--servers=127.0.0.1:${port}`, '--udp', ...extra, name], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
        expect(r.status, r.stderr).toBe(0);
      }
      // memccp sends noreply: look over TCP once a later UDP reply shows both were handled.
      expect(latin1(await udp.reply(port, 'mn\r\n'))).toBe('MN\r\n');
      const block = (name: string) => `VALUE ${name} 0 ${`contents of ${name}`.length}\r\ncontents of ${name}\r\n`;
      expect(await tcpRequest(server.port, 'get udptext udpbinary\r\n')).toBe(`${block('udptext')}${block('udpbinary')}END\r\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(AGAINST_MEMCACHED)('UDP settings', () => {
  it('is off by default: no UDP socket, udpport 0, no extra connections', async () => {
    const s = await startWasmcached();
    try {
      expect(s.udpPort).toBe(0);
      const settings = await tcpStats(s.port, 'settings');
      expect(settings.udpport).toBe('0');
      // The settings connection may close on another thread a moment later.
      let curr = (await tcpStats(s.port)).curr_connections;
      for (let i = 0; i < 20 && curr !== '1'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        curr = (await tcpStats(s.port)).curr_connections;
      }
      expect(curr).toBe('1');
    } finally {
      await s.stop();
    }
  });

  it('startServer (wasmcached/server) serves UDP with -U and reports its port', async () => {
    const s = await startServer({ args: ['-U', '-1'] });
    const udp = await UdpClient.open();
    try {
      expect(s.udpPort).toBeGreaterThan(0);
      expect(latin1(await udp.reply(s.udpPort, 'version\r\n'))).toMatch(/^VERSION 1\.6\.18\r\n$/);
    } finally {
      udp.close();
      await s.close();
    }
    // close() released the UDP port too.
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => { again.once('error', reject); again.bind(s.udpPort, '127.0.0.1', () => resolve()); });
    again.close();
  });

  it('exits 71 (memcached\'s EX_OSERR) when the UDP port is taken', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    try {
      const taken = holder.address().port;
      await expect(startWasmcached(['-U', String(taken)])).rejects.toThrow(
        new RegExp(`exited \\(71\\) before listening:\\n.*failed to listen on UDP 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`));
    } finally {
      holder.close();
    }
  });

  it('writes MEMCACHED_PORT_FILENAME as memcached does: TCP, then UDP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portfile-'));
    const file = join(dir, 'ports');
    const s = await startWasmcached(['-U', '-1'], { env: { MEMCACHED_PORT_FILENAME: file } });
    try {
      expect(readFileSync(file, 'latin1')).toBe(`TCP INET: ${s.port}\nUDP INET: ${s.udpPort}\n`);
      expect(existsSync(`${file}.lck`)).toBe(false);
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // memcached 1.6's rule (its t/issue_67.t, which needs fixed ports): with
  // -U and no -p, TCP listens on the UDP port. Started without the -p that
  // startWasmcached adds.
  it('-U without -p: TCP takes the UDP port, and -U -1 a free one, not 11211', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portfile-'));
    const file = join(dir, 'ports');
    const ports = async (udp: string): Promise<Record<string, number>> => {
      rmSync(file, { force: true });
      const proc = spawn(process.execPath, [WASMCACHED_BIN, '-l', '127.0.0.1', '-U', udp], { stdio: 'ignore', env: { ...process.env, MEMCACHED_PORT_FILENAME: file } });
      // Made now: a server that cannot bind (the number taken meanwhile)
      // has exited before the finally below, and waiting for an 'exit'
      // that has already happened hung the test until its timeout.
      const exited = new Promise((r) => proc.once('exit', r));
      try {
        for (let i = 0; i < 200 && !existsSync(file) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
        const out: Record<string, number> = {};
        for (const line of readFileSync(file, 'latin1').trim().split('\n')) {
          const [kind, port] = line.split(': ');
          out[kind] = Number(port);
        }
        return out;
      } finally {
        proc.kill();
        await exited;
      }
    };
    try {
      const free = await ports('-1');
      expect(free['UDP INET']).toBeGreaterThan(0);
      expect(free['TCP INET']).toBeGreaterThan(0);
      expect(free['TCP INET']).not.toBe(11211);
      // A number the OS just gave out for both: free on TCP and UDP alike,
      // unless another process takes it in between. Released, it is an
      // ephemeral port again, and a test running beside this one may get it
      // as a connection's local port and keep it for seconds (CI, with the
      // burst tests: three tries of one number all failed). So each try
      // asks the OS for a new number.
      let chosen = free['UDP INET'];
      let same: Record<string, number> | null = null;
      for (let attempt = 0; attempt < 8 && same === null; attempt++) {
        if (attempt > 0) chosen = (await ports('-1'))['UDP INET'];
        const r = await ports(String(chosen)).catch(() => null);
        if (r !== null && r['UDP INET'] === chosen) same = r;
      }
      expect(same).toEqual({ 'TCP INET': chosen, 'UDP INET': chosen });
      // A number taken on UDP: the server exits at once (EX_OSERR, as
      // memcached), and the helper says so rather than wait for an exit
      // already past (the hang this test once timed out on under load).
      const holder = createSocket('udp4');
      await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
      try {
        await expect(ports(String(holder.address().port))).rejects.toThrow(/ENOENT/);
      } finally {
        holder.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`shutdown` over UDP stops a server started with -A', async () => {
    const s = await startWasmcached(['-A', '-U', '-1']);
    const exited = new Promise<number | null>((r) => s.proc.once('exit', (code) => r(code)));
    const udp = await UdpClient.open();
    try {
      await udp.sendRaw(s.udpPort, frame({}, 'shutdown\r\n'));
      expect(await exited).toBe(0);
    } finally {
      udp.close();
      await s.stop();
    }
  });
});

// The same requests to memcached 1.6.18 (-t 1: one thread reads the UDP
// socket, so replies come in request order) and to wasmcached. memcached
// starts a new message for each command and each key of a multiget; the
// data of all its messages, concatenated, must equal wasmcached's one message.
describe.skipIf(AGAINST_MEMCACHED || !haveTool('memcached'))('UDP against memcached 1.6.18', () => {
  const value20k = 'z'.repeat(20000);
  const REQUESTS: Array<[string, Buffer | string]> = [
    ['set', 'set a 0 0 1\r\n1\r\n'], ['set flags', 'set b 5 0 2\r\nbb\r\n'], ['get hit', 'get a\r\n'], ['get miss', 'get zz\r\n'],
    ['multiget', 'get a b zz\r\n'], ['gets', 'gets a b\r\n'], ['two commands', 'get a\r\nget b\r\n'],
    ['set then get', 'set c 0 0 1\r\nc\r\nget c\r\n'], ['big set', `set big 0 0 20000\r\n${value20k}\r\n`],
    ['big get', 'get big\r\n'], ['big in a multiget', 'get a big b\r\n'], ['add exists', 'add a 0 0 1\r\nx\r\n'],
    ['replace', 'replace b 0 0 1\r\nr\r\n'], ['append prepend', 'append b 0 0 1\r\n>\r\nprepend b 0 0 1\r\n<\r\nget b\r\n'],
    ['cas', 'gets a\r\ncas a 0 0 1 999\r\nz\r\n'], ['incr decr', 'set n 0 0 1\r\n5\r\nincr n 3\r\ndecr n 10\r\nincr zz 1\r\n'],
    ['touch gat', 'touch a 100\r\ngat 100 a\r\ntouch zz 1\r\n'], ['delete', 'delete c\r\ndelete c\r\n'],
    ['noreply', 'set q 0 0 1 noreply\r\nq\r\nget q\r\n'], ['meta', 'ms m 2 T0\r\nhi\r\nmg m v f t\r\nmg zz v q\r\nmn\r\nma n N0 J5\r\nmd m\r\nmd m q\r\nmn\r\n'],
    // One error per request: memcached drops the replies before a get's
    // CLIENT_ERROR that were not sent yet, on TCP too.
    ['unknown command', 'bogus\r\nGET a\r\n'], ['long key', `get ${'k'.repeat(251)}\r\n`], ['bad line', 'set k 0 0 abc\r\n'], ['version verbosity', 'version\r\nverbosity 1\r\nverbosity 0\r\n'],
    ['shutdown without -A', 'shutdown\r\n'], ['quit', 'quit\r\nget a\r\n'], ['http', 'GET / HTTP/1.1\r\n'],
    ['binary set get', Buffer.concat([binFrame({ opcode: OP.SET, key: 'bk', extras: setExtras(3, 0), value: 'vv', opaque: 1 }),
      binFrame({ opcode: OP.GETK, key: 'bk', opaque: 2 }), binFrame({ opcode: OP.GET, key: 'zz', opaque: 3 })])],
    ['binary quiet', Buffer.concat([binFrame({ opcode: OP.GETQ, key: 'zz' }), binFrame({ opcode: OP.GETKQ, key: 'bk' }), binFrame({ opcode: OP.NOOP })])],
    ['binary incr delete version', Buffer.concat([binFrame({ opcode: OP.INCREMENT, key: 'bn', extras: incrExtras(2n, 10n, 0) }),
      binFrame({ opcode: OP.INCREMENT, key: 'bn', extras: incrExtras(2n, 10n, 0) }), binFrame({ opcode: OP.DELETE, key: 'bn' }),
      binFrame({ opcode: OP.VERSION })])],
    ['binary big get', binFrame({ opcode: OP.GET, key: 'big', opaque: 5 })],
    ['flush_all', 'flush_all\r\nget a\r\n'],
  ];
  const FRAMES: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)], ['header only', frame({}, '')], ['total 2', frame({ total: 2 }, 'version\r\n')],
    ['total 0', frame({ total: 0 }, 'version\r\n')], ['sequence 3, reserved 7', frame({ seq: 3, reserved: 7 }, 'version\r\n')],
  ];

  let ref: ServerHandle;
  const subjects: ServerHandle[] = [];
  let udp: UdpClient;

  beforeAll(async () => {
    ref = await startMemcached(['-U', '-1', '-t', '1']);
    for (const engine of ENGINES) subjects.push(await startWasmcached(['--engine', engine, '-U', '-1']));
    udp = await UdpClient.open();
  });
  afterAll(async () => {
    udp?.close();
    await ref?.stop();
    for (const s of subjects) await s.stop();
  });

  it('gives the same data for the same requests', async () => {
    let id = 100;
    for (const [name, payload] of REQUESTS) {
      id++;
      const expected = messages(await udp.request(ref.udpPort, payload, { id })).map(reassemble);
      for (const s of subjects) {
        const got = expectOneMessage(await udp.request(s.udpPort, payload, { id }), id);
        expect(latin1(got), `${name} on ${s.udpPort}`).toBe(latin1(Buffer.concat(expected)));
      }
    }
  });

  it('answers or drops the same frames', async () => {
    for (const [name, raw] of FRAMES) {
      const expected = (await udp.exchange(ref.udpPort, raw)).map((d) => [d.id, d.seq, d.total, latin1(d.data)]);
      for (const s of subjects) {
        const got = (await udp.exchange(s.udpPort, raw)).map((d) => [d.id, d.seq, d.total, latin1(d.data)]);
        expect(got, name).toEqual(expected);
      }
    }
  });

  it('reports UDP in stats settings and counts its connections as memcached does', async () => {
    const refStats = await tcpStats(ref.port);
    for (const s of subjects) {
      expect((await tcpStats(s.port, 'settings')).udpport).toBe(String(s.udpPort));
      // One TCP client plus memcached's one UDP connection per worker thread
      // (-t 1 for the reference here; the subjects' own -t, in `threads`).
      // A connection an earlier test closed may take a moment to be counted out.
      let st = await tcpStats(s.port);
      for (let i = 0; i < 20 && st.curr_connections !== String(1 + Number(st.threads)); i++) {
        await new Promise((r) => setTimeout(r, 100));
        st = await tcpStats(s.port);
      }
      expect(Number(refStats.curr_connections)).toBe(2);
      expect(st.curr_connections).toBe(String(1 + Number(st.threads)));
    }
  });
});
