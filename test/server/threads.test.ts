// -t N: N event loops on one shared arena. Many clients on every thread at
// once must see one cache with exact counters, whole values, one memory
// limit, flushes and expiry everywhere; bad input on any thread must leave
// the others serving; SIGTERM under load must stop cleanly with the cache
// kept (-e). The per-thread connection counts of /metrics show that every
// thread took part.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, textRepliesLength } from '../support/client.js';
import { startWasmcached, type ServerHandle } from '../support/servers.js';
import { prng } from '../support/prng.js';

// Each engine build's turn sets these (see the describe.each below).
let THREADS = 4;
let ENGINE = 'wasm';
let server: ServerHandle | null = null;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = null;
});

async function start(args: string[] = []): Promise<ServerHandle> {
  server = await startWasmcached(['-t', String(THREADS), '--engine', ENGINE, '-o', 'metrics_port=0', ...args]);
  return server;
}

function metricsUrl(s: ServerHandle): string {
  const m = /metrics on (http:\/\/\S+)/.exec(s.output());
  if (!m) throw new Error(`no metrics line in:\n${s.output()}`);
  return m[1];
}

/** Open connections per thread, from /metrics. */
async function perThread(s: ServerHandle): Promise<number[]> {
  const text = await (await fetch(metricsUrl(s))).text();
  const open: number[] = [];
  for (const m of text.matchAll(/^wasmcached_thread_connections\{thread="(\d+)"\} (\d+)$/gm)) open[Number(m[1])] = Number(m[2]);
  return open;
}

/** Connects until every thread serves at least `each` of the connections
 *  (the kernel hands each to one thread); bounded in count and time. */
async function connectAcrossThreads(s: ServerHandle, each = 2): Promise<RawClient[]> {
  const deadline = Date.now() + 20_000;
  for (let round = 0; round < 50 && Date.now() < deadline; round++) {
    for (let i = 0; i < 8; i++) clients.push(await RawClient.connect(s.port));
    // Every connection answers once before it is counted: accepted, not queued.
    await Promise.all(clients.map((c) => c.request('version\r\n')));
    const open = await perThread(s);
    if (open.length === THREADS && open.every((n) => n >= each)) return [...clients];
  }
  throw new Error(`connections did not reach every thread: ${JSON.stringify(await perThread(s))}`);
}

function stat(reply: Buffer, name: string): number {
  const m = new RegExp(`STAT ${name} (\\d+)`).exec(reply.toString('latin1'));
  if (!m) throw new Error(`no ${name} in ${reply.toString('latin1').slice(0, 300)}`);
  return Number(m[1]);
}

async function stats(c: RawClient): Promise<Buffer> {
  return c.request('stats\r\n');
}

// The WebAssembly build on one shared WebAssembly.Memory, and the js build
// on one SharedArrayBuffer (src/engine/shared.ts).
describe.each([
  { engine: 'wasm', threads: 4 },
  { engine: 'js', threads: 2 },
])('--engine $engine -t $threads: threads sharing one arena', ({ engine, threads }) => {
  beforeAll(() => { ENGINE = engine; THREADS = threads; });

  it('every thread serves connections, and all of them see one cache', async () => {
    const s = await start();
    const cs = await connectAcrossThreads(s);
    expect((await perThread(s)).length).toBe(THREADS);
    await Promise.all(cs.map((c, i) => c.request(`set own${i} ${i} 0 ${String(i).length}\r\n${i}\r\n`)));
    const keys = cs.map((_, i) => `own${i}`).join(' ');
    const expected = cs.map((_, i) => `VALUE own${i} ${i} ${String(i).length}\r\n${i}\r\n`).join('') + 'END\r\n';
    const replies = await Promise.all(cs.map((c) => c.request(`get ${keys}\r\n`)));
    for (const r of replies) expect(r.toString('latin1')).toBe(expected);
    const st = await stats(cs[0]);
    expect(stat(st, 'threads')).toBe(THREADS);
    expect(stat(st, 'curr_connections')).toBe(cs.length);
    expect(stat(st, 'cmd_set')).toBe(cs.length);
    expect(stat(st, 'get_hits')).toBe(cs.length * cs.length);
  }, 60_000);

  it('incr from every thread at once ends exact', async () => {
    const s = await start();
    const cs = await connectAcrossThreads(s);
    await cs[0].request('set ctr 0 0 1\r\n0\r\n');
    const PER = 400;
    await Promise.all(cs.map((c) => c.request('incr ctr 1\r\n'.repeat(PER), PER, 30_000)));
    expect((await cs[1].request('get ctr\r\n')).toString('latin1')).toBe(`VALUE ctr 0 ${String(cs.length * PER).length}\r\n${cs.length * PER}\r\nEND\r\n`);
  }, 60_000);

  it('gets/cas retry loops on one key from every thread end exact: no lost update, no CAS given twice', async () => {
    const s = await start();
    const cs = await connectAcrossThreads(s);
    await cs[0].request('set casctr 0 0 1\r\n0\r\n');
    const PER = 40;
    const casSeen = new Set<string>();
    let retries = 0;
    await Promise.all(cs.map(async (c) => {
      for (let done = 0; done < PER;) {
        const r = (await c.request('gets casctr\r\n')).toString('latin1');
        const m = /^VALUE casctr 0 \d+ (\d+)\r\n(\d+)\r\nEND\r\n$/.exec(r);
        if (!m) throw new Error(`bad gets reply ${r}`);
        const next = String(Number(m[2]) + 1);
        const a = (await c.request(`cas casctr 0 0 ${next.length} ${m[1]}\r\n${next}\r\n`)).toString('latin1');
        if (a === 'STORED\r\n') {
          // A unique that two clients both stored over would be a lost update.
          expect(casSeen.has(m[1])).toBe(false);
          casSeen.add(m[1]);
          done++;
        } else if (a === 'EXISTS\r\n') retries++;
        else throw new Error(`cas answered ${a}`);
      }
    }));
    const total = cs.length * PER;
    expect((await cs[0].request('get casctr\r\n')).toString('latin1')).toBe(`VALUE casctr 0 ${String(total).length}\r\n${total}\r\nEND\r\n`);
    // The loops really did race (threads interleaved their updates).
    expect(retries).toBeGreaterThan(0);
  }, 120_000);

  it('concurrent set/get/append/add/delete of the same keys: no torn or misplaced value', async () => {
    const s = await start();
    const cs = await connectAcrossThreads(s);
    // Client i writes values of its own length, in byte 65 + i % 26: a value
    // read back is whole if its length is a client's and its bytes are all
    // that client's byte.
    const lengthOf = (i: number) => 1000 + i * 7919;
    const byteOf = (i: number) => 65 + (i % 26);
    const writerOfLength = new Map(cs.map((_, i) => [lengthOf(i), i]));
    await cs[0].request('set log 0 0 0\r\n\r\n');
    const ROUNDS = 30;
    let reads = 0;
    const counts = await Promise.all(cs.map(async (c, i) => {
      const v = String.fromCharCode(byteOf(i)).repeat(lengthOf(i));
      let stored = 0;
      let deleted = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const batch = `set shared 0 0 ${v.length}\r\n${v}\r\nget shared\r\nappend log 0 0 ${`${i}:${r};`.length}\r\n${i}:${r};\r\n` +
          `add tok${i % 3} 0 0 1\r\nx\r\ndelete tok${i % 3}\r\n`;
        await c.send(batch);
        const reply = await c.readWith((b) => textRepliesLength(b, 5), 30_000);
        const text = reply.toString('latin1');
        expect(text.startsWith('STORED\r\n')).toBe(true);
        // Nothing deletes `shared`: the get hits, with someone's whole value.
        const m = /^STORED\r\nVALUE shared 0 (\d+)\r\n/.exec(text);
        expect(m).not.toBeNull();
        const len = Number(m![1]);
        const writer = writerOfLength.get(len);
        expect(writer).toBeDefined();
        const at = m![0].length;
        expect(reply.subarray(at, at + len).every((b) => b === byteOf(writer!))).toBe(true);
        expect(text.slice(at + len, at + len + 7)).toBe('\r\nEND\r\n');
        reads++;
        const [appended, added, del] = text.slice(at + len + 7).split('\r\n');
        expect(appended).toBe('STORED');
        if (added === 'STORED') stored++; else expect(added).toBe('NOT_STORED');
        if (del === 'DELETED') deleted++; else expect(del).toBe('NOT_FOUND');
      }
      return { stored, deleted };
    }));
    expect(reads).toBe(cs.length * ROUNDS);
    // add/delete races: each token is here exactly when its adds outnumber its deletes.
    for (let t = 0; t < 3; t++) {
      let net = 0;
      counts.forEach((k, i) => { if (i % 3 === t) net += k.stored - k.deleted; });
      const here = (await cs[0].request(`get tok${t}\r\n`)).toString('latin1') !== 'END\r\n';
      expect(net).toBe(here ? 1 : 0);
    }
    // Every append landed exactly once, whole.
    const log = (await cs[0].request('get log\r\n')).toString('latin1');
    const body = /^VALUE log 0 \d+\r\n(.*)\r\nEND\r\n$/s.exec(log)![1];
    const tokens = body.split(';').filter((t) => t !== '');
    expect(tokens.length).toBe(cs.length * ROUNDS);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const t of tokens) expect(t).toMatch(/^\d+:\d+$/);
  }, 120_000);

  it('one memory limit (-m) holds for all threads, and every client is answered', async () => {
    const s = await start(['-m', '8']);
    const cs = await connectAcrossThreads(s, 1);
    const v = 'z'.repeat(20_000);
    const PER = 120;
    await Promise.all(cs.map((c, i) => {
      let batch = '';
      for (let k = 0; k < PER; k++) batch += `set m${i}_${k} 0 0 ${v.length} noreply\r\n${v}\r\n`;
      return c.send(batch + 'mn\r\n').then(() => c.readUntil('MN\r\n', 60_000));
    }));
    const st = await stats(cs[0]);
    expect(stat(st, 'bytes')).toBeLessThanOrEqual(stat(st, 'limit_maxbytes'));
    expect(stat(st, 'evictions')).toBeGreaterThan(0);
    expect(stat(st, 'total_items')).toBe(cs.length * PER);
    // What is left is whole, whichever thread stored it and evicted around it.
    let hits = 0;
    for (const [i, c] of cs.entries()) {
      const keys = Array.from({ length: PER }, (_, k) => `m${i}_${k}`).join(' ');
      const r = (await c.request(`get ${keys}\r\n`, 1, 30_000)).toString('latin1');
      for (const m of r.matchAll(/VALUE m\d+_\d+ 0 (\d+)\r\n(z*)\r\n/g)) {
        expect(Number(m[1])).toBe(v.length);
        expect(m[2].length).toBe(v.length);
        hits++;
      }
    }
    expect(hits).toBe(stat(await stats(cs[0]), 'curr_items'));
    expect(hits * v.length).toBeLessThanOrEqual(8 * 1024 * 1024);
  }, 120_000);

  it('flush_all and expiry on one thread are seen by every thread', async () => {
    const s = await start();
    const cs = await connectAcrossThreads(s);
    // e<i> lives 60 s: with 1 s (as it was) the clock's next whole second
    // could expire it before the get below, on a loaded machine (CI, once).
    await Promise.all(cs.map((c, i) => c.request(`set f${i} 0 0 1\r\n${i % 10}\r\nset e${i} 0 60 1\r\nx\r\n`, 2)));
    expect((await cs[cs.length - 1].request(`get f0 e0\r\n`)).toString('latin1')).toContain('VALUE e0');
    await cs[0].request('flush_all\r\n');
    const keys = cs.map((_, i) => `f${i}`).join(' ');
    for (const c of cs) expect((await c.request(`get ${keys}\r\n`)).toString('latin1')).toBe('END\r\n');
    await Promise.all(cs.map((c, i) => c.request(`set x${i} 0 1 1\r\nx\r\n`)));
    await new Promise((r) => setTimeout(r, 2_200));
    const xs = cs.map((_, i) => `x${i}`).join(' ');
    for (const c of cs) expect((await c.request(`get ${xs}\r\n`)).toString('latin1')).toBe('END\r\n');
  }, 60_000);

  it('bad input on every thread closes only those connections; the rest and the cache are intact', async () => {
    const s = await start();
    const cs = await connectAcrossThreads(s, 2);
    await cs[0].request('set sentinel 7 0 5\r\nhello\r\n');
    const rnd = prng(20261130);
    // Half the connections get junk: random bytes, over-long lines, bad
    // binary headers, values longer than announced.
    const bad = cs.filter((_, i) => i % 2 === 0);
    const good = cs.filter((_, i) => i % 2 === 1);
    await Promise.all(bad.map(async (c, i) => {
      const kind = i % 4;
      let junk: Buffer;
      if (kind === 0) junk = Buffer.from(Array.from({ length: 20_000 }, () => Math.floor(rnd() * 256)));
      else if (kind === 1) junk = Buffer.from('get ' + 'k'.repeat(5000) + '\r\n' + 'x'.repeat(4000));
      else if (kind === 2) junk = Buffer.concat([Buffer.from([0x80, 0x01, 0xff, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(100, 7)]);
      else junk = Buffer.from('set v 0 0 3\r\nabcdefgh\r\nset ' + '\x00'.repeat(300) + '\r\n');
      await c.send(junk).catch(() => {});
    }));
    // The good ones keep being served on every thread, and the sentinel is whole.
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(good.map((c) => c.request('get sentinel\r\n')));
      for (const r of rs) expect(r.toString('latin1')).toBe('VALUE sentinel 7 5\r\nhello\r\nEND\r\n');
    }
    const fresh = await RawClient.connect(s.port);
    clients.push(fresh);
    expect((await fresh.request('version\r\n')).toString('latin1')).toMatch(/^VERSION /);
    expect(s.proc.exitCode).toBeNull();
  }, 60_000);

  it('SIGTERM under load from every thread exits 0, and -e keeps the cache for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-threads-'));
    try {
      const file = join(dir, 'cache.snap');
      const s = await start(['-e', file]);
      const cs = await connectAcrossThreads(s, 1);
      await cs[0].request('set kept 3 0 4\r\nkept\r\n');
      const v = 'q'.repeat(3000);
      let stop = false;
      const load = cs.map(async (c, i) => {
        for (let n = 0; !stop && n < 2000; n++) {
          await c.send(`set l${i}_${n % 50} 0 0 ${v.length} noreply\r\n${v}\r\nget kept\r\n`).catch(() => { stop = true; });
          await c.readUntil('END\r\n', 5_000).catch(() => { stop = true; });
        }
      });
      await new Promise((r) => setTimeout(r, 500));
      const exited = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
      process.kill(s.pid, 'SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
      stop = true;
      await Promise.allSettled(load);
      expect(code).toBe(0);
      for (const c of clients.splice(0)) c.close();
      server = null;
      const again = await start(['-e', file]);
      const c = await RawClient.connect(again.port);
      clients.push(c);
      expect((await c.request('get kept\r\n')).toString('latin1')).toBe('VALUE kept 3 4\r\nkept\r\nEND\r\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a watcher sees every thread\'s mutations; stats conns lists every thread\'s connections', async () => {
    const s = await start();
    const cs = await connectAcrossThreads(s);
    const watcher = await RawClient.connect(s.port);
    clients.push(watcher);
    expect((await watcher.request('watch mutations\r\n')).toString()).toBe('OK\r\n');
    await Promise.all(cs.map((c, i) => c.request(`set w${i} 0 0 1\r\nx\r\n`)));
    const lines = await watcher.readWith((b) => {
      const n = b.toString('latin1').split('\n').filter((l) => l.includes('type=item_store')).length;
      return n >= cs.length ? b.length : -1;
    }, 10_000);
    const stores = lines.toString('latin1').split('\n').filter((l) => l.includes('type=item_store'));
    expect(stores.map((l) => /key=(w\d+)/.exec(l)![1]).sort()).toEqual(cs.map((_, i) => `w${i}`).sort());
    // One gid sequence for all threads: no number given twice.
    const gids = stores.map((l) => Number(/gid=(\d+)/.exec(l)![1]));
    expect(new Set(gids).size).toBe(gids.length);
    const listing = (await cs[0].request('stats conns\r\n', 1, 10_000)).toString('latin1');
    const socks = new Set([...listing.matchAll(/^STAT (\d+):addr tcp:127\.0\.0\.1:\d+\r$/gm)].map((m) => m[1]));
    const listeners = [...listing.matchAll(/^STAT \d+:state conn_listening\r$/gm)].length;
    expect(listeners).toBe(1);
    // Every client and the watcher (conn_watch), whichever thread serves them.
    expect(socks.size).toBe(cs.length + 1 + 1);
    expect(listing).toContain('conn_watch');
  }, 60_000);

  // The watch relay between threads is the host's, the same for both builds:
  // tried on the wasm build only (it takes tens of seconds).
  if (engine === 'wasm') {
    it('a watcher that stops reading holds bounded memory on every thread, and is told what it skipped', async () => {
      const s = await start();
      const cs = await connectAcrossThreads(s);
      const watcher = await RawClient.connect(s.port);
      clients.push(watcher);
      expect((await watcher.request('watch fetchers\r\n')).toString()).toBe('OK\r\n');
      const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${s.pid}/status`, 'utf8'))![1]) * 1024;
      // Gets per client per burst: enough that three bursts make over 100 MB
      // (six, over 200 MB)
      // of lines however many clients it took to reach every thread.
      const PER = Math.max(8_000, Math.ceil((110 * 1024 * 1024) / (cs.length * 3 * 330)));
      // Long keys make long lines (about 330 bytes): what would be kept if
      // lines were held stands out from the threads' heaps settling.
      const key = 'k'.repeat(240);
      const burst = () => Promise.all(cs.map((c) => c.send(`get ${key}\r\n`.repeat(PER) + 'mn\r\n').then(() => c.readUntil('MN\r\n', 60_000))));
      // The watcher's socket is never read during the bursts: lines for it
      // pile up in the kernel, then are skipped, on its thread and in transit.
      // Four threads' JavaScript heaps grow under this garbage before they
      // settle (measured by hand: RSS climbs by about 30 MB a burst for ten
      // bursts, to a plateau near 440 MB with 24 clients), so this only tells
      // held lines from heap growth: held lines would grow RSS by what the
      // bursts make, linearly, while the heaps' growth slows and stops. So
      // after a warm-up, six bursts make over 200 MB of lines, and RSS must
      // grow by less than that (with four bursts and then three, the heaps'
      // growth came within 20 % of the lines made). The bound that holds is
      // in transit: 256 KiB per thread (ThreadShared.relayReserve), and the
      // watcher's own queue.
      for (let i = 0; i < 4; i++) await burst();
      const settled = rss();
      for (let i = 0; i < 6; i++) await burst();
      const made = cs.length * PER * 6 * 330;
      expect(made).toBeGreaterThan(200 * 1024 * 1024);
      expect(rss() - settled).toBeLessThan(made);
      const st = (await stats(cs[0])).toString('latin1');
      expect(stat(Buffer.from(st), 'log_watcher_skipped')).toBeGreaterThan(0);
      // Reading again: every line made is either received or counted in a
      // notice, which comes before the next line the watcher gets: one more
      // get from each thread's clients now and then brings the last ones.
      let extra = 0;
      const counted = (b: Buffer) => {
        let n = 0;
        for (const l of b.toString('latin1').split('\n')) {
          if (l.startsWith('ts=')) n++;
          else if (l.startsWith('skipped=')) n += Number(l.slice(8));
        }
        return n;
      };
      const deadline = Date.now() + 30_000;
      let seen = 0;
      while (Date.now() < deadline) {
        seen = counted(watcher.pending);
        if (seen >= cs.length * PER * 10 + extra) break;
        await Promise.all(cs.map((c) => c.request('get after\r\n')));
        extra += cs.length;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(seen).toBe(cs.length * PER * 10 + extra);
    }, 120_000);
  }

  it('-t 1 is one event loop', async () => {
    server = await startWasmcached(['-t', '1', '--engine', ENGINE]);
    const c = await RawClient.connect(server.port);
    clients.push(c);
    expect(stat(await stats(c), 'threads')).toBe(1);
  }, 60_000);
});

describe.each(['wasm', 'js'])('--engine %s -t 2: a thread that traps', (engine) => {
  it('takes the server down with exit code 70 and says why', async () => {
    const s = await startWasmcached(['-t', '2', '--engine', engine], { env: { WASMCACHED_TEST_TRAP_WORKER: '1' } });
    server = s;
    const exited = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
    // Connections land on either thread; the first on the worker traps it.
    for (let i = 0; i < 200 && s.proc.exitCode === null; i++) {
      const c = await RawClient.connect(s.port).catch(() => null);
      if (c === null) break;
      clients.push(c);
      await c.request('version\r\n', 1, 2_000).catch(() => null);
    }
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(code).toBe(70);
    expect(s.output()).toMatch(/engine trap: RuntimeError: unreachable \(injected/);
    expect(s.output()).toContain('the cache can no longer be trusted; exiting');
  }, 60_000);
});
