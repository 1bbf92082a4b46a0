// Logging and `watch`, against memcached 1.6.18 as the reference: -vv and
// -vvv print the same lines for the same traffic (descriptors normalized),
// `watch` streams the same lines for the same traffic (timestamps, gids,
// ports and descriptors normalized), a watcher that does not read is told
// what it missed and costs bounded memory, and the log_* stats count.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { startMemcached, startWasmcached, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { frame, OP, setExtras, incrExtras, expExtras } from '../support/binary.js';

const running: ServerHandle[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.stop())); });

async function servers(args: string[], engine: 'wasm' | 'js' = 'wasm'): Promise<{ ref: ServerHandle; sut: ServerHandle }> {
  const [ref, sut] = await Promise.all([startMemcached(args), startWasmcached([...args, '--engine', engine])]);
  running.push(ref, sut);
  return { ref, sut };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms for at most `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The lines a server printed for one connection, from its "new
 * auto-negotiating client connection" to its "connection closed.", with its
 * descriptor written as FD. `skip` lines of output come before it.
 */
function connectionLog(output: string, skip: number): string[] {
  const lines = output.split('\n').slice(skip);
  const start = lines.findIndex((l) => /^<\d+ new auto-negotiating client connection$/.test(l));
  if (start < 0) return [];
  const fd = /^<(\d+)/.exec(lines[start])![1];
  const end = lines.indexOf(`<${fd} connection closed.`, start);
  if (end < 0) return [];
  return lines.slice(start, end + 1).map((l) => l.replace(new RegExp(`^([<>])${fd}\\b`), '$1FD').replace(new RegExp(`^${fd}:`), 'FD:'));
}

/** Runs `bytes` on a new connection that ends with quit, and returns that
 *  connection's log lines from each server. */
async function connectionLogs(ref: ServerHandle, sut: ServerHandle, bytes: Buffer, keep: (l: string) => boolean = () => true): Promise<[string[], string[]]> {
  const out: string[][] = [];
  for (const server of [ref, sut]) {
    const skip = server.output().split('\n').length - 1;
    const c = await RawClient.connect(server.port);
    await c.send(bytes);
    expect(await c.waitClosed(15_000)).toBe(true);
    c.close();
    await until(() => connectionLog(server.output(), skip).length > 0, 10_000, `${server.name}'s log of the connection`);
    out.push(connectionLog(server.output(), skip).filter(keep));
  }
  return [out[0], out[1]];
}

const TEXT_TRAFFIC = [
  'set a 0 0 1\r\n1\r\n', 'get a b\r\n', 'gets a\r\n', 'bogus\r\n', 'incr a 1\r\n', 'decr a 5 noreply\r\n',
  'mg a v\r\n', 'ms k 2 T0\r\nhi\r\n', 'mg k s v f t k\r\n', 'md k q\r\n', 'ma k\r\n', 'mg k !\r\n', 'mn\r\n',
  'me a\r\n', 'me zz\r\n', 'delete a\r\n', 'delete a noreply\r\n', 'set b 0 0 1 noreply\r\nx\r\n',
  'append b 0 0 1\r\ny\r\n', 'prepend b 0 0 1\r\nz\r\n', 'add b 0 0 1\r\nw\r\n', 'cas b 0 0 1 999999\r\nq\r\n',
  'cas nob 0 0 1 1\r\nq\r\n', 'replace nob 0 0 1\r\nq\r\n', 'touch b 10\r\n', 'touch nob 10\r\n', 'gat 10 b c\r\n',
  'get b c d e f\r\n', 'incr b 1\r\n', 'incr nob x\r\n', 'set c 0 0 abc\r\n', `get b ${'k'.repeat(251)}\r\n`,
  'set d 0 0 1\r\nabc\r\n', 'verbosity 2\r\n', 'version\r\n', 'flush_all\r\n', 'get b\r\n',
  'verbosity 2 noreply\r\n', 'quit\r\n',
].join('');

function binaryTraffic(): Buffer {
  return Buffer.concat([
    frame({ opcode: OP.SET, key: 'a', extras: setExtras(5, 0), value: 'hello' }),
    frame({ opcode: OP.GET, key: 'a' }),
    frame({ opcode: OP.GETK, key: 'a' }),
    frame({ opcode: OP.GET, key: 'nokey' }),
    frame({ opcode: OP.GETK, key: 'nokey' }),
    frame({ opcode: OP.GETQ, key: 'nokey' }),
    frame({ opcode: OP.NOOP }),
    frame({ opcode: OP.INCREMENT, key: 'n', extras: incrExtras(1n, 5n, 0) }),
    frame({ opcode: OP.INCREMENT, key: 'n', extras: incrExtras(3n, 5n, 0) }),
    frame({ opcode: OP.DECREMENT, key: 'n', extras: incrExtras(1n, 0n, 0) }),
    frame({ opcode: OP.INCREMENT, key: 'nn', extras: incrExtras(1n, 0n, 0xffffffff) }),
    frame({ opcode: OP.DELETE, key: 'a' }),
    frame({ opcode: OP.DELETE, key: 'a' }),
    frame({ opcode: OP.SETQ, key: 'q', extras: setExtras(0, 0), value: 'v' }),
    frame({ opcode: OP.ADD, key: 'q', extras: setExtras(0, 0), value: 'v' }),
    frame({ opcode: OP.REPLACE, key: 'q', extras: setExtras(0, 0), value: 'r' }),
    frame({ opcode: OP.TOUCH, key: 'q', extras: expExtras(10) }),
    frame({ opcode: OP.GAT, key: 'q', extras: expExtras(10) }),
    frame({ opcode: OP.TOUCH, key: 'zz', extras: expExtras(10) }),
    frame({ opcode: OP.APPEND, key: 'q', value: 'w' }),
    frame({ opcode: OP.PREPEND, key: 'zz', value: 'w' }),
    frame({ opcode: OP.VERSION }),
    frame({ opcode: 0x55 }),
    frame({ opcode: OP.STAT, key: 'settings' }),
    frame({ opcode: OP.STAT, key: 'bogus' }),
    frame({ opcode: OP.FLUSH }),
    frame({ opcode: OP.GET, key: 'q' }),
    frame({ opcode: OP.QUIT }),
  ]);
}

describe('-vv prints what memcached prints', () => {
  for (const engine of ['wasm', 'js'] as const) {
    it(`a text connection: commands, replies, noreply, errors, multigets (${engine} engine)`, async () => {
      const { ref, sut } = await servers(['-vv'], engine);
      const [want, got] = await connectionLogs(ref, sut, Buffer.from(TEXT_TRAFFIC, 'latin1'));
      expect(want.length).toBeGreaterThan(60);
      expect(got).toEqual(want);
      // What the comparison covers, so that it cannot pass by printing nothing.
      for (const line of ['<FD get a b', '>FD sending key a', '>FD END', '>FD ERROR', '>FD NOREPLY 0', '>FD NOREPLY NOT_FOUND',
        '>FD CLIENT_ERROR invalid flag', '>FD EXISTS', '>FD CLIENT_ERROR bad data chunk']) expect(got).toContain(line);
      expect(got.some((l) => l.startsWith('CAS:  failure: expected '))).toBe(true);
    });
  }

  for (const engine of ['wasm', 'js'] as const) {
    it(`a binary connection: header dumps, command lines, errors (${engine} engine)`, async () => {
      const { ref, sut } = await servers(['-vv'], engine);
      const [want, got] = await connectionLogs(ref, sut, binaryTraffic());
      expect(want.length).toBeGreaterThan(150);
      expect(got).toEqual(want);
      for (const line of ['FD: Client using the binary protocol', '<FD Read binary protocol data:', '>FD Writing bin response:',
        '<FD SET a Value len is 5', 'incr n 3, 5, 0', 'Deleting a', '>FD Writing an error: Not found', '<FD STATS settings']) {
        expect(got).toContain(line);
      }
    });
  }

  it('-vvv adds each item lookup', async () => {
    const { ref, sut } = await servers(['-vvv']);
    // memcached's -vvv also prints its connection state machine, which
    // wasmcached does not have; the rest must match.
    const keep = (l: string) => !/^FD: going from /.test(l);
    const traffic = 'set a 0 0 1\r\n1\r\nget a b\r\nflush_all\r\nget a\r\nincr a 1\r\ndelete b\r\nquit\r\n';
    const [want, got] = await connectionLogs(ref, sut, Buffer.from(traffic), keep);
    expect(got).toEqual(want);
    for (const line of ['> NOT FOUND b', '> FOUND KEY a', '> FOUND KEY a -nuked by flush']) expect(got).toContain(line);
  });

  it('-vv prints the slab class table at start, as memcached does for every class it shares', async () => {
    const { ref, sut } = await servers(['-vv']);
    const table = (out: string) => out.split('\n').filter((l) => l.startsWith('slab class '));
    await until(() => table(ref.output()).length > 0, 5000, 'memcached\'s table');
    const want = table(ref.output());
    const got = table(sut.output());
    // memcached's last class is its slab_chunk_max (512 KiB): wasmcached
    // never splits items into chunks and continues to the page size.
    const shared = want.filter((l) => Number(/chunk size\s+(\d+)/.exec(l)![1]) < 524288);
    expect(shared.length).toBeGreaterThan(30);
    expect(got.slice(0, shared.length)).toEqual(shared);
    expect(got[got.length - 1]).toMatch(/chunk size\s+1048576 perslab\s+1$/);
  });

  it('`verbosity 0` silences it, `verbosity 2` brings it back, as in memcached', async () => {
    const { ref, sut } = await servers(['-vv']);
    const traffic = 'verbosity 0\r\nget quiet\r\nverbosity 2\r\nget loud\r\nquit\r\n';
    const [want, got] = await connectionLogs(ref, sut, Buffer.from(traffic));
    expect(got).toEqual(want);
    expect(got.join('\n')).not.toContain('quiet');
    expect(got).toContain('<FD get loud');
  });
});

/** A `watch` connection that collects every line it is sent. */
class Watcher {
  private buf = '';
  private wake: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { this.buf += d; this.wake?.(); });
    socket.on('error', () => { /* the test closes it */ });
  }

  static async open(port: number, kinds: string): Promise<Watcher> {
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const w = new Watcher(socket);
    socket.write(`watch ${kinds}\r\n`);
    await w.waitFor(/^OK\r$/, 1);
    return w;
  }

  /** Lines received so far (without their newline). */
  get lines(): string[] { return this.buf.split('\n').slice(0, -1); }

  /** Waits (at most `ms`) until `count` lines match `re`; all lines so far. */
  async waitFor(re: RegExp, count = 1, ms = 15_000): Promise<string[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const all = this.lines;
      if (all.filter((l) => re.test(l)).length >= count) return all;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${count} watch lines matching ${re}; got:\n${all.slice(-20).join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
      });
    }
  }

  close(): void { this.socket.destroy(); }
}

/** A watch line with the values that differ between runs and servers
 *  (time, gid, client port, descriptor) replaced. */
function normalize(line: string): string {
  return line.replace(/^ts=\d+\.\d+ gid=\d+ /, '').replace(/rport=\d+/, 'rport=P').replace(/cfd=\d+/, 'cfd=F');
}

/** Runs `traffic` on a new connection while a watcher of `kinds` watches;
 *  the watcher's lines once it saw that connection close. */
async function watched(server: ServerHandle, kinds: string, traffic: Buffer): Promise<string[]> {
  const w = await Watcher.open(server.port, kinds);
  const c = await RawClient.connect(server.port);
  await c.send(traffic);
  expect(await c.waitClosed(15_000)).toBe(true);
  const lines = await w.waitFor(/ type=conn_close .* reason=normal /);
  w.close();
  return lines.filter((l) => l.startsWith('ts='));
}

describe('watch streams what memcached streams', () => {
  for (const engine of ['wasm', 'js'] as const) {
    it(`fetchers, mutations and connevents for text and binary traffic (${engine} engine)`, async () => {
      const { ref, sut } = await servers([], engine);
      // Every storage path, lookups of all kinds; no value over -I (memcached
      // 1.6.18 logs garbage class and descriptor fields for those).
      const text = 'set a 0 0 1\r\n1\r\nget a b\r\nincr a 1\r\ndecr a 1\r\nmg a v\r\nmg zz v\r\ndelete a\r\n' +
        'set b 0 0 1 noreply\r\nx\r\ngets b\r\ntouch b 10\r\ngat 10 b\r\nappend b 0 0 1\r\ny\r\nprepend b 0 0 1\r\ny\r\n' +
        'add b 0 0 1\r\nz\r\ncas b 0 0 1 99\r\nq\r\nreplace nob 0 0 1\r\nq\r\nset t 0 100 1\r\nx\r\nms k 2 T0\r\nhi\r\n' +
        'md k q\r\nma k\r\nms n 1 MA\r\n1\r\nma n N0 J5\r\nme k\r\nmg v1 N30 v\r\nflush_all\r\nget b\r\nquit\r\n';
      const binary = Buffer.concat([
        frame({ opcode: OP.SET, key: 'bin', extras: setExtras(0, 0), value: 'abc' }),
        frame({ opcode: OP.GETK, key: 'bin' }),
        frame({ opcode: OP.DECREMENT, key: 'cnt', extras: incrExtras(1n, 5n, 0) }),
        frame({ opcode: OP.DECREMENT, key: 'cnt', extras: incrExtras(1n, 5n, 0) }),
        frame({ opcode: OP.DELETE, key: 'cnt' }),
        frame({ opcode: OP.APPEND, key: 'zz', value: 'x' }),
        frame({ opcode: OP.QUIT }),
      ]);
      const got: string[][] = [];
      for (const server of [ref, sut]) {
        const w = await Watcher.open(server.port, 'fetchers mutations evictions connevents');
        // one connection speaks text, the next binary
        for (const [i, part] of [Buffer.from(text), binary].entries()) {
          const c = await RawClient.connect(server.port);
          await c.send(part);
          expect(await c.waitClosed(15_000)).toBe(true);
          c.close();
          // memcached's logger thread collects each worker thread's lines
          // in turn: until this connection's last line has arrived, the
          // next connection's lines (on another worker) may come first.
          await w.waitFor(/ type=conn_close /, i + 1);
        }
        got.push((await w.waitFor(/ type=conn_close /, 2)).filter((l) => l.startsWith('ts=')));
        w.close();
      }
      const [ref1, sut1] = got;
      expect(ref1.length).toBeGreaterThan(50);
      // A new connection's conn_new is logged when the server accepts it,
      // which may come after another connection's traffic (memcached's
      // accept thread and ours race the client alike): compared apart.
      const isNew = (l: string) => / type=conn_new /.test(l);
      expect(sut1.filter((l) => !isNew(l)).map(normalize)).toEqual(ref1.filter((l) => !isNew(l)).map(normalize));
      expect(sut1.filter(isNew).map(normalize)).toEqual(ref1.filter(isNew).map(normalize));
      // gids count up from the watcher's start
      const gids = sut1.map((l) => Number(/gid=(\d+)/.exec(l)![1]));
      for (let i = 1; i < gids.length; i++) expect(gids[i]).toBeGreaterThan(gids[i - 1]);
      expect(sut1[0]).toMatch(/^ts=\d+\.\d{1,6} gid=\d+ type=conn_new rip=127\.0\.0\.1 rport=\d+ transport=tcp cfd=\d+$/);
    });
  }

  it('conn_close says why: quit, reset, junk, idle timeout', async () => {
    const { ref, sut } = await servers(['-o', 'idle_timeout=1']);
    const got: string[][] = [];
    for (const server of [ref, sut]) {
      const w = await Watcher.open(server.port, 'connevents');
      const quit = await RawClient.connect(server.port);
      await quit.send('quit\r\n');
      await quit.waitClosed();
      await w.waitFor(/reason=normal/);
      const reset = connect({ port: server.port, host: '127.0.0.1' });
      reset.on('error', () => { /* reset on purpose */ });
      await new Promise((resolve) => reset.once('connect', resolve));
      reset.write('version\r\n');
      await new Promise((resolve) => reset.once('data', resolve));
      reset.resetAndDestroy();
      await w.waitFor(/reason=error/);
      const junk = await RawClient.connect(server.port);
      await junk.send('x'.repeat(3000));
      await junk.waitClosed();
      await w.waitFor(/reason=error/, 2);
      const idle = await RawClient.connect(server.port);
      await idle.waitClosed(10_000);
      got.push((await w.waitFor(/reason=idle_timeout/)).filter((l) => l.startsWith('ts=')).map(normalize));
      w.close();
    }
    expect(got[1]).toEqual(got[0]);
    expect(got[1].filter((l) => l.startsWith('type=conn_close')).map((l) => /reason=(\w+)/.exec(l)![1]))
      .toEqual(['normal', 'error', 'error', 'idle_timeout']);
  });

  it('evictions carry memcached\'s fields', async () => {
    const { ref, sut } = await servers(['-m', '2']);
    const value = 'v'.repeat(3000);
    let sets = '';
    for (let i = 0; i < 1500; i++) sets += `set key${i} 0 ${i % 2 ? 0 : 1000} 3000 noreply\r\n${value}\r\n`;
    const fields: string[][] = [];
    for (const server of [ref, sut]) {
      const lines = await watched(server, 'evictions connevents', Buffer.from(sets + 'quit\r\n'));
      const evictions = lines.filter((l) => l.includes(' type=eviction '));
      expect(evictions.length).toBeGreaterThan(100);
      fields.push(evictions[0].split(' ').map((f) => f.split('=')[0]));
      expect(evictions[0]).toMatch(/ type=eviction key=key\d+ fetch=no ttl=(-1|\d+) la=\d+ clsid=\d+ size=3000$/);
    }
    expect(fields[1]).toEqual(fields[0]);
  });

  it('deletions (newer memcached\'s kind; 1.6.18 refuses it)', async () => {
    const { ref, sut } = await servers([]);
    const old = await RawClient.connect(ref.port);
    expect((await old.request('watch deletions\r\n')).toString()).toBe('ERROR\r\n');
    old.close();
    const lines = await watched(sut, 'deletions connevents',
      Buffer.from('set vfoo 0 0 4\r\nvbar\r\ndelete vfoo\r\nset vfoo 0 0 4\r\nvbar\r\nmd vfoo\r\ndelete vfoo\r\nquit\r\n'));
    const deleted = lines.filter((l) => l.includes(' type=deleted '));
    expect(deleted.map(normalize)).toEqual([
      'type=deleted key=vfoo cmd=delete clsid=1 size=4',
      'type=deleted key=vfoo cmd=md clsid=1 size=4',
    ]);
  });

  it('a store refused before it had an item logs class 0 and its own descriptor', async () => {
    // memcached 1.6.18 passes its arguments shifted here: its clsid is the
    // descriptor and its cfd garbage.
    const sut = await startWasmcached(['-I', '1k']);
    running.push(sut);
    const lines = await watched(sut, 'mutations fetchers connevents',
      Buffer.from(`set big 0 0 2000\r\n${'v'.repeat(2000)}\r\nms big 2000 T0\r\n${'v'.repeat(2000)}\r\nquit\r\n`));
    const fd = /type=conn_new .* cfd=(\d+)$/.exec(lines[0])![1];
    expect(lines.slice(1, -1).map((l) => l.replace(/^ts=\d+\.\d+ gid=\d+ /, ''))).toEqual([
      `type=item_store key=big status=too_large cmd=set ttl=0 clsid=0 cfd=${fd} size=0`,
      `type=item_get key=big status=not_found clsid=0 cfd=${fd} size=0`,
      `type=item_store key=big status=too_large cmd=set ttl=0 clsid=0 cfd=${fd} size=0`,
      `type=item_get key=big status=not_found clsid=0 cfd=${fd} size=0`,
    ]);
  });

  it('refusals are memcached\'s: pipelined, unknown kind, -W, more than 20 watchers', async () => {
    const { ref, sut } = await servers([]);
    for (const server of [ref, sut]) {
      const c = await RawClient.connect(server.port);
      expect((await c.request('version\r\nwatch\r\n', 2)).toString()).toBe('VERSION 1.6.18\r\nERROR cannot pipeline other commands before watch\r\n');
      expect((await c.request('watch fetchers bogus\r\n')).toString()).toBe('ERROR\r\n');
      c.close();
      const watchers: Watcher[] = [];
      for (let i = 0; i < 20; i++) watchers.push(await Watcher.open(server.port, ''));
      const extra = await RawClient.connect(server.port);
      expect((await extra.request('watch\r\n')).toString()).toBe('WATCHER_TOO_MANY log watcher limit reached\r\n');
      // still an ordinary connection
      expect((await extra.request('version\r\n')).toString()).toBe('VERSION 1.6.18\r\n');
      extra.close();
      for (const w of watchers) w.close();
    }
    const [refW, sutW] = [await startMemcached(['-W']), await startWasmcached(['-W'])];
    running.push(refW, sutW);
    for (const server of [refW, sutW]) {
      const c = await RawClient.connect(server.port);
      expect((await c.request('watch\r\n')).toString()).toBe('CLIENT_ERROR watch commands not allowed\r\n');
      c.close();
    }
  });
});

/** Resident memory of a process, bytes (Linux). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

async function statsOf(port: number): Promise<Map<string, string>> {
  const c = await RawClient.connect(port);
  const reply = (await c.request('stats\r\n')).toString('latin1');
  c.close();
  return new Map(reply.split('\r\n').filter((l) => l.startsWith('STAT ')).map((l) => {
    const [, name, value] = l.split(' ');
    return [name, value];
  }));
}

/** Sends `batches` x 1000 lines of ten missing keys and waits for all the ENDs. */
async function gets(c: RawClient, batches: number): Promise<void> {
  const batch = Buffer.from('get k1 k2 k3 k4 k5 k6 k7 k8 k9 k10\r\n'.repeat(1000));
  for (let i = 0; i < batches; i++) {
    await c.send(batch);
    await c.readExactly(5000, 60_000);
  }
}

describe('a watcher that does not read', () => {
  it('costs bounded memory, and is told how many lines it skipped', async () => {
    // One thread: the watcher's own queue is what is measured here; across
    // threads (lines in transit) it is test/server/threads.test.ts's.
    const sut = await startWasmcached(['-t', '1']);
    running.push(sut);
    const c = await RawClient.connect(sut.port);
    await gets(c, 50); // warm up, nobody watching

    const w = await Watcher.open(sut.port, 'fetchers');
    w.socket.pause();
    // V8's heap settles at some size under the load; what matters is that
    // it stops there: 750,000 more lines (about 70 MB) must not add to it.
    await gets(c, 25);
    const settled = rss(sut.pid);
    await gets(c, 75);
    const grown = rss(sut.pid) - settled;
    const stats = await statsOf(sut.port);
    expect(Number(stats.get('log_worker_written'))).toBeGreaterThanOrEqual(1_000_000);
    expect(Number(stats.get('log_watcher_skipped'))).toBeGreaterThan(750_000);
    expect(stats.get('log_watchers')).toBe('1');
    // the host queues at most 256 KiB for it (the kernel holds more)
    expect(grown).toBeLessThan(16 * 1024 * 1024);

    // Once it reads again it is sent what fits, then a notice and new lines.
    w.socket.resume();
    let tries = 0;
    const deadline = Date.now() + 30_000;
    while (!w.lines.some((l) => / key=after /.test(l))) {
      if (Date.now() > deadline) throw new Error('the watcher never got a new line');
      await c.request('get after\r\n');
      tries++;
      await sleep(200);
    }
    let lines = w.lines;
    for (let quiet = 0; quiet < 3; quiet = w.lines.length === lines.length ? quiet + 1 : 0) {
      lines = w.lines;
      await sleep(200);
    }
    const notices = lines.filter((l) => /^skipped=\d+$/.test(l));
    expect(notices.length).toBeGreaterThan(0);
    // every line it missed is counted in a notice, and nothing else is lost
    const told = notices.reduce((n, l) => n + Number(l.slice('skipped='.length)), 0);
    const got = lines.filter((l) => l.startsWith('ts=')).length;
    expect(told + got).toBe(1_000_000 + tries);
    c.close();
    w.close();
  });
});

describe('stats', () => {
  it('log_* counters move with watchers and reset with `stats reset`', async () => {
    const sut = await startWasmcached([]);
    running.push(sut);
    const zero = await statsOf(sut.port);
    for (const name of ['log_worker_written', 'log_watcher_sent', 'log_watchers']) expect(zero.get(name)).toBe('0');
    const w = await Watcher.open(sut.port, 'fetchers mutations');
    const c = await RawClient.connect(sut.port);
    await c.request('set x 0 0 1\r\n1\r\nget x y\r\n', 2);
    await w.waitFor(/key=y /);
    const s = await statsOf(sut.port);
    const conns = (await c.request('stats conns\r\n')).toString('latin1');
    expect(conns).toMatch(/^STAT \d+:state conn_watch\r$/m);
    expect(Number(s.get('log_worker_written'))).toBe(4);
    expect(Number(s.get('log_watcher_sent'))).toBe(4);
    expect(s.get('log_watchers')).toBe('1');
    expect(s.get('log_worker_dropped')).toBe('0');
    await c.request('stats reset\r\n');
    const r = await statsOf(sut.port);
    expect(r.get('log_worker_written')).toBe('0');
    expect(r.get('log_watchers')).toBe('1');
    w.close();
    const deadline = Date.now() + 5000;
    while ((await statsOf(sut.port)).get('log_watchers') !== '0' && Date.now() < deadline) await sleep(50);
    expect((await statsOf(sut.port)).get('log_watchers')).toBe('0');
    c.close();
  });
});
