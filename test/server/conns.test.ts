// Connection handling, black-box over real sockets: the -c limit, idle kicks,
// pipelined input cut at every possible point, large values trickling in,
// backpressure against a client that does not read, and clients that vanish
// mid-command. Each test also passes against memcached (TEST_TARGET=memcached).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { prng } from '../support/prng.js';

const AGAINST_MEMCACHED = process.env.TEST_TARGET === 'memcached';

/** A raw text-protocol client that collects every byte it receives. */
class RawClient {
  private chunks: Buffer[] = [];
  private received = 0;
  private wakeups: Array<() => void> = [];
  ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (b: Buffer) => { this.chunks.push(b); this.received += b.length; this.wake(); });
    socket.on('error', () => { /* a reset shows up as 'close' */ });
    this.closed = new Promise((resolve) => socket.once('close', () => { this.ended = true; this.wake(); resolve(); }));
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true });
      s.once('connect', () => { s.off('error', reject); resolve(new RawClient(s)); });
      s.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.wakeups.splice(0)) w();
  }

  get length(): number { return this.received; }

  /** Everything received so far, and forgets it. */
  take(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [];
    this.received = 0;
    return all;
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits until `done(received)` holds, the socket closes, or the time is up. */
  async waitFor(done: (received: Buffer) => boolean, timeoutMs = 30_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = Buffer.concat(this.chunks);
      this.chunks = [all];
      if (done(all) || this.ended) return all;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received ${all.length} bytes, ending ${JSON.stringify(all.subarray(-80).toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wakeups.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Sends a request and returns the reply once it ends with `suffix`. */
  async request(data: string | Buffer, suffix: string, timeoutMs?: number): Promise<string> {
    this.take();
    await this.send(data);
    const reply = await this.waitFor((b) => b.toString('latin1').endsWith(suffix), timeoutMs);
    this.take();
    return reply.toString('latin1');
  }

  /** Sends a request and returns exactly `length` reply bytes (for values that may contain END). */
  async requestBytes(data: string | Buffer, length: number, timeoutMs?: number): Promise<Buffer> {
    this.take();
    await this.send(data);
    const reply = await this.waitFor((b) => b.length >= length, timeoutMs);
    this.take();
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

const VERSION_REPLY = 'VERSION 1.6.18\r\n';


function randomBytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  // Make sure the value itself contains protocol-looking bytes.
  b.write('\r\nEND\r\n', 1000, 'latin1');
  return b;
}

function vmRssKB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

function statValue(stats: string, name: string): string | undefined {
  return new RegExp(`^STAT ${name} (\\S+)\\r$`, 'm').exec(stats)?.[1];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('-c: max connections', () => {
  let server: ServerHandle;
  // memcached counts its own descriptors (listener, thread pipes, reserved
  // fds) against -c and sets RLIMIT_NOFILE to it; with one thread, -c 14
  // leaves room for exactly two clients, as -c 2 does for wasmcached.
  const limitArgs = AGAINST_MEMCACHED ? ['-t', '1', '-c', '14'] : ['-c', '2'];
  beforeAll(async () => { server = await startWasmcached(limitArgs); });
  afterAll(async () => { await server?.stop(); });

  it('a connection over the limit gets the error and is closed; the others keep working', async () => {
    const a = await RawClient.open(server.port);
    const b = await RawClient.open(server.port);
    try {
      expect(await a.request('version\r\n', '\r\n')).toBe(VERSION_REPLY);
      expect(await b.request('version\r\n', '\r\n')).toBe(VERSION_REPLY);

      const c = await RawClient.open(server.port);
      await c.closed;
      expect(c.take().toString('latin1')).toBe('ERROR Too many open connections\r\n');

      expect(await a.request('set k 0 0 1\r\nx\r\n', '\r\n')).toBe('STORED\r\n');
      expect(await b.request('get k\r\n', 'END\r\n')).toBe('VALUE k 0 1\r\nx\r\nEND\r\n');
      const stats = await a.request('stats\r\n', 'END\r\n');
      expect(statValue(stats, 'rejected_connections')).toBe('1');
      expect(statValue(stats, 'curr_connections')).toBe('2');

      // A freed slot is usable again.
      a.close();
      await a.closed;
      let d: RawClient | null = null;
      for (let attempt = 0; attempt < 50 && !d; attempt++) {
        const candidate = await RawClient.open(server.port);
        await candidate.send('version\r\n');
        const reply = (await candidate.waitFor((r) => r.includes('\r\n'), 10_000)).toString('latin1');
        if (reply === VERSION_REPLY) d = candidate;
        else { candidate.close(); await sleep(100); } // the server may not have seen the close yet
      }
      expect(d).not.toBeNull();
      d!.close();
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('-o idle_timeout', () => {
  let server: ServerHandle;
  beforeAll(async () => { server = await startWasmcached(['-o', 'idle_timeout=2']); });
  afterAll(async () => { await server?.stop(); });

  it('closes a silent connection and keeps a chatty one', async () => {
    const silent = await RawClient.open(server.port);
    const chatty = await RawClient.open(server.port);
    try {
      // Whole seconds on a one-second clock (memcached checks even less often): be generous.
      const deadline = Date.now() + 25_000;
      while (!silent.ended && Date.now() < deadline) {
        expect(await chatty.request('version\r\n', '\r\n')).toBe(VERSION_REPLY);
        await sleep(500);
      }
      expect(silent.ended).toBe(true);
      expect(silent.take().length).toBe(0);
      expect(chatty.ended).toBe(false);
      const stats = await chatty.request('stats\r\n', 'END\r\n');
      expect(Number(statValue(stats, 'idle_kicks'))).toBeGreaterThanOrEqual(1);
    } finally {
      silent.close();
      chatty.close();
    }
  });
});

describe('input split at any point', () => {
  let server: ServerHandle;
  beforeAll(async () => { server = await startWasmcached(); });
  afterAll(async () => { await server?.stop(); });

  // 500 sets and 500 gets over 50 keys, interleaved, and their expected replies.
  function pipeline(prefix: string): { request: Buffer; expected: string } {
    const req: string[] = [];
    const exp: string[] = [];
    const values = new Map<string, string>();
    for (let i = 0; i < 500; i++) {
      const key = `${prefix}${i % 50}`;
      const value = `v${i}-${'x'.repeat(i % 37)}`;
      req.push(`set ${key} ${i} 0 ${value.length}\r\n${value}\r\n`);
      exp.push('STORED\r\n');
      values.set(key, `${i} ${value.length}\r\n${value}`);
      const probe = `${prefix}${(i * 7) % 50}`;
      req.push(`get ${probe}\r\n`);
      const v = values.get(probe);
      exp.push(v ? `VALUE ${probe} ${v}\r\nEND\r\n` : 'END\r\n');
    }
    req.push('version\r\n');
    exp.push(VERSION_REPLY);
    return { request: Buffer.from(req.join(''), 'latin1'), expected: exp.join('') };
  }

  async function exchange(pieces: Buffer[], expectedLength: number): Promise<string> {
    const c = await RawClient.open(server.port);
    try {
      for (const p of pieces) await c.send(p);
      const reply = await c.waitFor((r) => r.length >= expectedLength && r.toString('latin1').endsWith(VERSION_REPLY), 60_000);
      return reply.toString('latin1');
    } finally {
      c.close();
    }
  }

  it('1000 commands in one write, one byte at a time, and in random splits give identical replies', async () => {
    // Fresh keys (a prefix per run), so every run starts from the same state.
    const whole = pipeline('a');
    const oneWrite = await exchange([whole.request], whole.expected.length);
    expect(oneWrite).toBe(whole.expected);

    const bytes = pipeline('b');
    const single: Buffer[] = [];
    for (let i = 0; i < bytes.request.length; i++) single.push(bytes.request.subarray(i, i + 1));
    const oneByte = await exchange(single, bytes.expected.length);
    expect(oneByte).toBe(bytes.expected);

    const seed = 0x5eed;
    const r = prng(seed);
    const random = pipeline('c');
    const pieces: Buffer[] = [];
    for (let at = 0; at < random.request.length;) {
      const n = 1 + Math.floor(r() * 300);
      pieces.push(random.request.subarray(at, at + n));
      at += n;
    }
    const randomSplits = await exchange(pieces, random.expected.length);
    expect(randomSplits, `split seed ${seed}`).toBe(random.expected);

    const unprefixed = (reply: string) => reply.replace(/^VALUE [abc]/gm, 'VALUE _');
    expect(unprefixed(oneByte)).toBe(unprefixed(oneWrite));
    expect(unprefixed(randomSplits)).toBe(unprefixed(oneWrite));
  });

  it('a 500 KB value sent in 1 KB pieces is stored and read back byte-exact', async () => {
    const value = randomBytes(500_000, 7);
    const c = await RawClient.open(server.port);
    try {
      const msg = Buffer.concat([Buffer.from(`set trickle 3 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]);
      for (let at = 0; at < msg.length; at += 1024) {
        await c.send(msg.subarray(at, at + 1024));
        if ((at / 1024) % 16 === 0) await sleep(1); // let the pieces arrive separately
      }
      await c.waitFor((b) => b.includes('\r\n'));
      expect(c.take().toString('latin1')).toBe('STORED\r\n');

      await c.send('get trickle\r\n');
      const header = Buffer.from(`VALUE trickle 3 ${value.length}\r\n`);
      const expected = Buffer.concat([header, value, Buffer.from('\r\nEND\r\n')]);
      const got = await c.waitFor((b) => b.length >= expected.length);
      expect(got.length).toBe(expected.length);
      expect(got.equals(expected)).toBe(true);
    } finally {
      c.close();
    }
  });
  it('a value over -I sent in pieces is swallowed and the connection goes on', async () => {
    const c = await RawClient.open(server.port);
    try {
      const size = 2 * 1024 * 1024;
      const msg = Buffer.concat([Buffer.from(`set huge 0 0 ${size}\r\n`), Buffer.alloc(size, 'x'), Buffer.from('\r\nversion\r\n')]);
      for (let at = 0; at < msg.length; at += 4096) {
        await c.send(msg.subarray(at, at + 4096));
        if ((at / 4096) % 16 === 0) await sleep(1);
      }
      const reply = await c.waitFor((b) => b.toString('latin1').endsWith(VERSION_REPLY));
      expect(reply.toString('latin1')).toBe(`SERVER_ERROR object too large for cache\r\n${VERSION_REPLY}`);
      expect(await c.request('get huge\r\n', 'END\r\n')).toBe('END\r\n');
    } finally {
      c.close();
    }
  });

  it('a client that half-closes after pipelining gets every reply, then the server closes', async () => {
    const c = await RawClient.open(server.port);
    try {
      c.socket.end('set hc 0 0 1\r\n1\r\nget hc\r\nversion\r\n');
      await c.closed;
      expect(c.take().toString('latin1')).toBe(`STORED\r\nVALUE hc 0 1\r\n1\r\nEND\r\n${VERSION_REPLY}`);
    } finally {
      c.close();
    }
  });
});

describe('backpressure', () => {
  let server: ServerHandle;
  const value = randomBytes(500_000, 11);
  const valueReply = Buffer.concat([Buffer.from(`VALUE big 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]);
  beforeAll(async () => {
    server = await startWasmcached(['-m', '128']);
    const setup = await RawClient.open(server.port);
    expect(await setup.request(Buffer.concat([Buffer.from(`set big 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]), '\r\n'))
      .toBe('STORED\r\n');
    expect(await setup.request('set small1 1 0 1\r\na\r\nset small2 2 0 1\r\nb\r\n', 'STORED\r\nSTORED\r\n'))
      .toBe('STORED\r\nSTORED\r\n');
    setup.close();
  });
  afterAll(async () => { await server?.stop(); });

  /**
   * Sends `request` on a client that does not read; for a while checks that
   * another client is served (including a multiget of its own) and samples
   * the server's RSS; then reads everything and checks it is `unit` × count
   * followed by `tail`, byte for byte.
   */
  async function hogAndDrain(request: string, unit: Buffer, count: number, tail: Buffer): Promise<void> {
    const hog = await RawClient.open(server.port);
    const other = await RawClient.open(server.port);
    try {
      hog.socket.pause(); // do not read
      await hog.send(request);

      let peakKB = 0;
      for (let i = 0; i < 6; i++) {
        await sleep(500);
        peakKB = Math.max(peakKB, vmRssKB(server.pid));
        expect(await other.request('version\r\n', '\r\n')).toBe(VERSION_REPLY);
        expect(await other.request('get small1 nothing small2\r\n', 'END\r\n'))
          .toBe('VALUE small1 1 1\r\na\r\nVALUE small2 2 1\r\nb\r\nEND\r\n');
      }
      const big = Buffer.concat([valueReply, Buffer.from('END\r\n')]);
      const got = await other.requestBytes('get big\r\n', big.length);
      expect(got.equals(big)).toBe(true);
      // The replies are hundreds of MB; the server may buffer only a bounded part.
      expect(peakKB).toBeLessThan(600 * 1024);

      const expectedTotal = unit.length * count + tail.length;
      let total = 0;
      let mismatch = -1;
      hog.socket.removeAllListeners('data');
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read only ${total} of ${expectedTotal} bytes`)), 150_000);
        hog.socket.on('data', (b: Buffer) => {
          for (let at = 0; at < b.length && mismatch < 0;) {
            const pos = total + at;
            const inUnits = pos < unit.length * count;
            const ref = inUnits ? unit : tail;
            const offset = inUnits ? pos % unit.length : pos - unit.length * count;
            const n = Math.min(b.length - at, ref.length - offset);
            if (n <= 0 || !b.subarray(at, at + n).equals(ref.subarray(offset, offset + n))) { mismatch = pos; break; }
            at += n;
          }
          total += b.length;
          if (total >= expectedTotal || mismatch >= 0) { clearTimeout(timer); resolve(); }
        });
        hog.socket.on('close', () => { clearTimeout(timer); resolve(); });
      });
      hog.socket.resume();
      await done;
      peakKB = Math.max(peakKB, vmRssKB(server.pid));
      expect(mismatch, `first wrong byte at ${mismatch}`).toBe(-1);
      expect(total).toBe(expectedTotal);
      expect(peakKB).toBeLessThan(600 * 1024);
      expect(await other.request('version\r\n', '\r\n')).toBe(VERSION_REPLY);
    } finally {
      hog.close();
      other.close();
    }
  }

  it('a client pipelining 2000 gets of 500 KB without reading holds bounded memory, and others are served', async () => {
    const reply = Buffer.concat([valueReply, Buffer.from('END\r\n')]);
    await hogAndDrain('get big\r\n'.repeat(2000), reply, 2000, Buffer.alloc(0));
  }, 240_000);

  it('one multiget of 2000 values of 500 KB is bounded too, and resumes exactly where it stopped', async () => {
    await hogAndDrain(`get ${Array(2000).fill('big').join(' ')}\r\n`, valueReply, 2000, Buffer.from('END\r\n'));
  }, 240_000);
});

describe('clients that vanish', () => {
  let server: ServerHandle;
  beforeAll(async () => { server = await startWasmcached(); });
  afterAll(async () => { await server?.stop(); });

  it('a reset in the middle of a command disturbs no one else', async () => {
    const steady = await RawClient.open(server.port);
    try {
      expect(await steady.request('set steady 0 0 2\r\nok\r\n', '\r\n')).toBe('STORED\r\n');
      for (let round = 0; round < 20; round++) {
        const flaky = await RawClient.open(server.port);
        await flaky.send(round % 2 ? 'set half 0 0 10\r\nhello' : 'get stea');
        flaky.socket.resetAndDestroy();
        await flaky.closed;
        expect(await steady.request('get steady\r\n', 'END\r\n')).toBe('VALUE steady 0 2\r\nok\r\nEND\r\n');
      }
      // The half-sent value was never stored.
      expect(await steady.request('get half\r\n', 'END\r\n')).toBe('END\r\n');
    } finally {
      steady.close();
    }
  });

  it('a client that resets while replies are queued disturbs no one else', async () => {
    const steady = await RawClient.open(server.port);
    try {
      const value = randomBytes(200_000, 3);
      expect(await steady.request(Buffer.concat([Buffer.from(`set wide 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]), '\r\n'))
        .toBe('STORED\r\n');
      for (let round = 0; round < 5; round++) {
        const flaky = await RawClient.open(server.port);
        flaky.socket.pause();
        await flaky.send('get wide\r\n'.repeat(200));
        await sleep(100);
        flaky.socket.resetAndDestroy();
        await flaky.closed;
        expect(await steady.request('version\r\n', '\r\n')).toBe(VERSION_REPLY);
      }
      // Every reset connection is eventually forgotten.
      let current = '';
      for (let attempt = 0; attempt < 100 && current !== '1'; attempt++) {
        if (attempt) await sleep(100);
        current = statValue(await steady.request('stats\r\n', 'END\r\n'), 'curr_connections') ?? '';
      }
      expect(current).toBe('1');
      expect(server.proc.exitCode).toBeNull();
    } finally {
      steady.close();
    }
  });
});
