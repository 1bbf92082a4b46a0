// Miss-through while warming (--warm-from), with real processes on both
// engines: gets of keys the bulk copy has not reached yet (it runs at
// -o warm_rate=1 here) read them from a real memcached through the new node,
// over the text, meta and binary protocols and through pylibmc and
// pymemcache, byte-exact with flags and remaining TTL; writes made here win;
// keys deleted here (text delete, md, binary delete) never come back; an old
// node that stalls, dies or answers errors costs a get at most the wait bound
// and never becomes a client error or a stall of other connections.
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { startWasmcached, startMemcached, haveTool, type ServerHandle } from '../support/servers.js';
import { RawClient } from '../support/client.js';
import { frame, parseResponses, OP } from '../support/binary.js';
import { makeItems, fill, fetchAll, stats, waitWarmEnd, matching, type Item } from '../support/warm.js';
import { havePythonModules, runPython } from '../clients/python.js';

const ENGINES = ['wasm', 'js'] as const;
/** The wait bound of src/warm-miss.ts, with room for a busy machine. */
const BOUND_MS = 50;
const SLACK_MS = 1500;
const running: ServerHandle[] = [];
const fakes: Server[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
  for (const f of fakes.splice(0)) await new Promise<void>((r) => f.close(() => r()));
});

async function track(h: Promise<ServerHandle>): Promise<ServerHandle> {
  const s = await h;
  running.push(s);
  return s;
}

/**
 * An old node played by a plain socket server on 127.0.0.1: `answer` gets
 * each line it receives and returns what to send back ('' for nothing).
 * `accepted()` counts the connections it took.
 */
async function fakeOldNode(answer: (line: string) => string): Promise<{ port: number; accepted(): number }> {
  const socks = new Set<Socket>();
  let accepted = 0;
  const srv = createServer((s) => {
    accepted++;
    socks.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const reply = answer(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
        if (reply) s.write(reply);
      }
    });
    s.on('error', () => { /* the new node went away */ });
    s.on('close', () => socks.delete(s));
  });
  const close = srv.close.bind(srv);
  srv.close = ((cb?: (err?: Error) => void) => { for (const s of socks) s.destroy(); return close(cb); }) as typeof srv.close;
  fakes.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as { port: number }).port, accepted: () => accepted };
}

/** Keys of any bytes, set on memcached with meta `ms <base64> b`. */
async function fillBinaryKeys(port: number, n: number): Promise<Map<string, Item>> {
  const items = new Map<string, Item>();
  const c = await RawClient.connect(port);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const key = Buffer.from([i, 0, 32, 13, 10, 0xff, i ^ 0x5a]).toString('latin1');
    const value = Buffer.from(`binary value ${i}\r\n\0`, 'latin1');
    const it = { value, flags: 1000 + i, ttl: i % 2 ? 0 : 900 };
    items.set(key, it);
    parts.push(Buffer.from(`ms ${Buffer.from(key, 'latin1').toString('base64')} ${value.length} b F${it.flags} T${it.ttl}\r\n`), value, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('mn\r\n'));
  await c.send(Buffer.concat(parts));
  const out = (await c.readUntil('MN\r\n')).toString('latin1');
  c.close();
  expect(out).toBe('HD\r\n'.repeat(n) + 'MN\r\n');
  return items;
}

/** Parses `VALUE <key> <flags> <bytes>[ <cas>]` replies up to END. */
function parseValues(buf: Buffer): Map<string, { value: Buffer; flags: number }> {
  const out = new Map<string, { value: Buffer; flags: number }>();
  let at = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', at);
    const line = buf.toString('latin1', at, nl);
    if (line === 'END') return out;
    const m = /^VALUE (\S+) (\d+) (\d+)( \d+)?$/.exec(line);
    if (!m) throw new Error(`unexpected line ${JSON.stringify(line)}`);
    const len = Number(m[3]);
    out.set(m[1], { value: Buffer.from(buf.subarray(nl + 2, nl + 2 + len)), flags: Number(m[2]) });
    at = nl + 2 + len + 2;
  }
}

function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  return p.then((v) => [v, Date.now() - t0]);
}

describe.skipIf(!haveTool('memcached') || process.env.TEST_TARGET === 'memcached')('miss-through while warming', () => {
  for (const engine of ENGINES) {
    it(`${engine}: text, meta, binary and real clients read keys not copied yet from a memcached`, async () => {
      const old = await track(startMemcached(['-m', '64']));
      const items = makeItems(3000, 11);
      // Values pylibmc and pymemcache hand back as plain bytes: flags 0, ASCII.
      const plain = new Map<string, Item>();
      for (let i = 0; i < 40; i++) plain.set(`plain:${i}`, { value: Buffer.from(`plain value ${i} `.repeat(i + 1)), flags: 0, ttl: 0 });
      const filled = await fill(old.port, new Map([...items, ...plain]));
      const binary = await fillBinaryKeys(old.port, 20);
      const fresh = await track(startWasmcached(['--engine', engine, '--warm-from', `127.0.0.1:${old.port}`, '-o', 'warm_rate=1']));
      const keys = [...items.keys()].filter((k) => !k.includes('%') && !k.includes('é'));
      const c = await RawClient.connect(fresh.port);

      // get: one multiget of 100 keys and two that exist nowhere.
      const multi = keys.slice(0, 100);
      await c.send(`get ${multi.join(' ')} nowhere:1 nowhere:2\r\n`);
      const got = parseValues(await c.readUntil(/(^|\n)END\r\n$/));
      expect([...got.keys()]).toEqual(multi);
      for (const k of multi) {
        expect(got.get(k)!.value.equals(items.get(k)!.value)).toBe(true);
        expect(got.get(k)!.flags).toBe(items.get(k)!.flags);
      }
      // gets and gats: values and flags (the CAS is this node's).
      for (const [cmd, from] of [['gets', 100], ['gat 500', 130], ['gats 600', 160]] as const) {
        const part = keys.slice(from, from + 30);
        await c.send(`${cmd} ${part.join(' ')}\r\n`);
        const r = parseValues(await c.readUntil(/(^|\n)END\r\n$/));
        expect([...r.keys()]).toEqual(part);
        for (const k of part) expect(r.get(k)!.value.equals(items.get(k)!.value)).toBe(true);
      }
      // gat set the TTL of the items it read from the old node.
      await c.send(`mg ${keys[130]} t\r\nmg ${keys[160]} t\r\n`);
      expect((await c.readUntil(/HD t\d+\r\nHD t\d+\r\n/)).toString()).toMatch(/^HD t(500|499)\r\nHD t(600|599)\r\n$/);

      // mg, pipelined: remaining TTLs too (fetchAll reads `VA <n> f<flags> t<ttl>`).
      const metaKeys = keys.slice(200, 500);
      const viaMeta = await fetchAll(fresh.port, metaKeys);
      expect(matching(new Map(metaKeys.map((k) => [k, items.get(k)!])), viaMeta, filled)).toBe(metaKeys.length);

      // Binary keys: mg with base64 keys, and a binary getkq run ended by noop.
      const bkeys = [...binary.keys()];
      await c.send(bkeys.slice(0, 10).map((k) => `mg ${Buffer.from(k, 'latin1').toString('base64')} b v f t\r\n`).join('') + 'mn\r\n');
      const metaOut = await c.readUntil('MN\r\n');
      let at = 0;
      for (const k of bkeys.slice(0, 10)) {
        const it = binary.get(k)!;
        const head = `VA ${it.value.length} f${it.flags} t`;
        expect(metaOut.toString('latin1', at, at + head.length)).toBe(head);
        at = metaOut.indexOf('\r\n', at) + 2;
        expect(metaOut.subarray(at, at + it.value.length).equals(it.value)).toBe(true);
        at += it.value.length + 2;
      }
      c.close();
      const b = await RawClient.connect(fresh.port);
      await b.send(Buffer.concat([...bkeys.slice(10).map((k) => frame({ opcode: OP.GETKQ, key: k })), frame({ opcode: OP.GETKQ, key: 'nowhere' }), frame({ opcode: OP.NOOP })]));
      const bin = await b.readWith((buf) => {
        const { packets, rest } = parseResponses(buf);
        return packets.length > 0 && packets[packets.length - 1].opcode === OP.NOOP ? buf.length - rest.length : -1;
      });
      const packets = parseResponses(bin).packets;
      expect(packets.map((p) => p.key)).toEqual([...bkeys.slice(10), '']);
      for (const p of packets.slice(0, -1)) {
        expect(p.value.equals(binary.get(p.key)!.value)).toBe(true);
        expect(p.extras.readUInt32BE(0)).toBe(binary.get(p.key)!.flags);
      }
      b.close();

      // Real clients: pylibmc (binary get_multi) and pymemcache (text get_many).
      if (havePythonModules(['pylibmc', 'pymemcache'])) {
        const pk = [...plain.keys()];
        const r = await runPython<{ pylibmc_binary: Record<string, string>; pymemcache_text: Record<string, string> }>('warm_miss_through.py', [fresh.port, ...pk]);
        const expected = (ks: string[]) => Object.fromEntries(ks.map((k) => [k, `b'${plain.get(k)!.value.toString()}'`]));
        expect(r.pylibmc_binary).toEqual(expected(pk.slice(0, 20)));
        expect(r.pymemcache_text).toEqual(expected(pk.slice(20)));
      }

      const s = await stats(fresh.port);
      const read = 100 + 90 + metaKeys.length + 20 + 40;
      expect(s.warm_state).toBe('copying');
      // The bulk copy (1 item/s) copied a few of them first.
      const copied = Number(s.warm_keys_copied);
      expect(copied).toBeLessThanOrEqual(Number(s.warm_elapsed) + 2);
      expect(Number(s.warm_miss_hits)).toBeGreaterThanOrEqual(read - copied);
      expect(Number(s.warm_miss_through)).toBeGreaterThanOrEqual(read - copied + 3);
      expect(s.warm_miss_timeouts).toBe('0');
    }, 120_000);

    it(`${engine}: writes here win; keys deleted here by text, meta or binary deletes never come back`, async () => {
      const old = await track(startMemcached());
      const items = makeItems(1500, 12);
      await fill(old.port, items);
      const keys = [...items.keys()].filter((k) => !k.includes('%') && !k.includes('é'));
      const fresh = await track(startWasmcached(['--engine', engine, '--warm-from', `127.0.0.1:${old.port}`, '-o', 'warm_rate=400']));
      const written = keys.slice(0, 30);
      const textDeleted = keys.slice(30, 60);
      const metaDeleted = keys.slice(60, 90);
      const binDeleted = keys.slice(90, 120);
      const readThenDeleted = keys.slice(120, 130);
      const c = await RawClient.connect(fresh.port);
      await c.send(written.map((k) => `set ${k} 5 0 3 noreply\r\nnew\r\n`).join('') + 'mn\r\n');
      await c.readUntil('MN\r\n');
      await c.send(textDeleted.map((k) => `delete ${k}\r\n`).join('') + metaDeleted.map((k) => `md ${k} q\r\n`).join('') + 'mn\r\n');
      // A key not copied yet answers NOT_FOUND / NF (a delete asks nothing of
      // the old node); one the bulk copy already brought, DELETED / HD. Which
      // keys the copy reaches first is up to the old node's listing order
      // and the machine's speed, so either is right here; what matters is
      // below: none of them ever comes back.
      const deleteReplies = (await c.readUntil('MN\r\n')).toString().split('\r\n');
      expect(deleteReplies.slice(0, 30).every((r) => r === 'NOT_FOUND' || r === 'DELETED')).toBe(true);
      expect(deleteReplies.slice(30, 60).every((r) => r === 'NF' || r === 'HD')).toBe(true);
      expect(deleteReplies.slice(60)).toEqual(['MN', '']);
      const b = await RawClient.connect(fresh.port);
      await b.send(Buffer.concat([...binDeleted.map((k) => frame({ opcode: OP.DELETEQ, key: k })), frame({ opcode: OP.NOOP })]));
      const binReplies = parseResponses(await b.readWith((buf) => {
        const { packets, rest } = parseResponses(buf);
        return packets.length > 0 && packets[packets.length - 1].opcode === OP.NOOP ? buf.length - rest.length : -1;
      })).packets;
      // Quiet deletes: only misses answer (1, not found), then the noop.
      expect(binReplies.at(-1)!.opcode).toBe(OP.NOOP);
      expect(binReplies.slice(0, -1).every((p) => p.status === 1)).toBe(true);
      b.close();
      // A read then a delete of the same key in one pipeline: the read sees
      // the old node's value, the delete deletes it.
      await c.send(readThenDeleted.map((k) => `get ${k}\r\ndelete ${k}\r\n`).join('') + 'mn\r\n');
      const rd = (await c.readUntil('MN\r\n')).toString('latin1');
      expect(rd.match(/DELETED\r\n/g)?.length).toBe(10);
      expect(rd.match(/^VALUE /gm)?.length).toBe(10);

      const check = async () => {
        const got = await fetchAll(fresh.port, keys.slice(0, 130));
        for (const k of written) expect(got.get(k)?.value.toString()).toBe('new');
        for (const k of [...textDeleted, ...metaDeleted, ...binDeleted, ...readThenDeleted]) expect(got.has(k)).toBe(false);
      };
      await check();
      const end = await waitWarmEnd(fresh.port, 60_000);
      expect(end.warm_state).toBe('done');
      await check();
      // Everything else arrived, through the bulk copy or miss-through.
      const rest = keys.slice(130);
      const got = await fetchAll(fresh.port, rest);
      expect(rest.filter((k) => got.get(k)?.value.equals(items.get(k)!.value)).length).toBeGreaterThanOrEqual(rest.length - 2);
      c.close();
    }, 120_000);

    it(`${engine}: an old node that accepts and never answers costs a get at most the bound, and nobody else`, async () => {
      const silent = await fakeOldNode(() => '');
      const port = silent.port;
      const fresh = await track(startWasmcached(['--engine', engine, '-v', '--warm-from', `127.0.0.1:${port}`]));
      const a = await RawClient.connect(fresh.port);
      const b = await RawClient.connect(fresh.port);
      await b.send('set here 0 0 2\r\nhi\r\n');
      expect((await b.readUntil('\r\n')).toString()).toBe('STORED\r\n');
      // a waits for the silent node; b, meanwhile, is served.
      const aReply = timed(a.send('get x1 x2 here\r\nset x1 0 0 1\r\n1\r\nget x1\r\n').then(() => a.readUntil('VALUE x1 0 1\r\n1\r\nEND\r\n')));
      const [bReply, bMs] = await timed(b.send('get here\r\n').then(() => b.readUntil('END\r\n')));
      expect(bReply.toString()).toBe('VALUE here 0 2\r\nhi\r\nEND\r\n');
      const [aOut, aMs] = await aReply;
      // In order, and as misses: the silent node is no client error.
      expect(aOut.toString()).toBe('VALUE here 0 2\r\nhi\r\nEND\r\nSTORED\r\nVALUE x1 0 1\r\n1\r\nEND\r\n');
      expect(aMs).toBeLessThan(BOUND_MS + SLACK_MS);
      expect(bMs).toBeLessThan(SLACK_MS);
      // Once the node is behind, gets do not wait for it at all.
      await new Promise((r) => setTimeout(r, 2 * BOUND_MS));
      for (let i = 0; i < 5; i++) {
        const [out, ms] = await timed(a.send(`get y${i}\r\n`).then(() => a.readUntil('END\r\n')));
        expect(out.toString()).toBe('END\r\n');
        expect(ms).toBeLessThan(SLACK_MS);
      }
      expect(fresh.output()).toMatch(/warm: 127\.0\.0\.1:\d+ is more than 50 ms behind; gets answer from here until it catches up/);
      const s = await stats(fresh.port);
      expect(s.warm_state).toBe('copying');
      expect(Number(s.warm_miss_through)).toBe(7);
      expect(Number(s.warm_miss_timeouts)).toBe(7);
      expect(s.warm_miss_hits).toBe('0');
      if (engine === 'wasm') {
        // Still silent 5 s on: the lookup connection is dropped and opened again.
        const opened = silent.accepted();
        await new Promise((r) => setTimeout(r, 5200));
        expect((await a.send('get z1\r\n').then(() => a.readUntil('END\r\n'))).toString()).toBe('END\r\n');
        expect(fresh.output()).toMatch(/warm: no reply from 127\.0\.0\.1:\d+ for 5 s/);
        await new Promise((r) => setTimeout(r, 1100));
        const [out, ms] = await timed(a.send('get z2\r\n').then(() => a.readUntil('END\r\n')));
        expect(out.toString()).toBe('END\r\n');
        expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
        expect(silent.accepted()).toBe(opened + 1);
        expect((await stats(fresh.port)).warm_miss_timeouts).toBe('9');
      }
      a.close();
      b.close();
    }, 60_000);

    it(`${engine}: an old node answering errors, or killed, gives misses at once; the node keeps serving`, async () => {
      // A listing that never ends, and SERVER_ERROR for every mg.
      const { port } = await fakeOldNode((line) => {
        if (line.startsWith('lru_crawler metadump')) return 'key=k1 exp=-1 la=0 cas=1 fetch=no cls=1 size=60\n';
        if (line.startsWith('mg ')) return 'SERVER_ERROR out of memory\r\n';
        return '';
      });
      const refusing = await track(startWasmcached(['--engine', engine, '--warm-from', `127.0.0.1:${port}`]));
      const c = await RawClient.connect(refusing.port);
      const [out, ms] = await timed(c.send('get e1 e2\r\nmg e3 v\r\n').then(() => c.readUntil('END\r\nEN\r\n')));
      expect(out.toString()).toBe('END\r\nEN\r\n');
      expect(ms).toBeLessThan(SLACK_MS);
      c.close();
      const s = await stats(refusing.port);
      expect(s.warm_state).toBe('copying');
      expect(Number(s.warm_errors)).toBeGreaterThanOrEqual(3);
      expect(s.warm_miss_through).toBe('3');
      expect(s.warm_miss_timeouts).toBe('0');

      // A real memcached killed while warming from it.
      const old = await track(startMemcached());
      const items = makeItems(500, 13);
      await fill(old.port, items);
      const keys = [...items.keys()].filter((k) => !k.includes('%') && !k.includes('é'));
      const fresh = await track(startWasmcached(['--engine', engine, '--warm-from', `127.0.0.1:${old.port}`, '-o', 'warm_rate=1']));
      const before = await fetchAll(fresh.port, keys.slice(0, 50));
      expect(before.size).toBe(50);
      old.proc.kill('SIGKILL');
      const d = await RawClient.connect(fresh.port);
      const [after, afterMs] = await timed(d.send(`get ${keys.slice(50, 100).join(' ')}\r\n`).then(() => d.readUntil('END\r\n')));
      // Whatever had been copied by then may be here; nothing is an error.
      expect(after.toString()).toMatch(/^(VALUE [^\r]+\r\n[^]*?\r\n)*END\r\n$/);
      expect(afterMs).toBeLessThan(BOUND_MS + SLACK_MS);
      expect((await waitWarmEnd(fresh.port, 20_000)).warm_state).toBe('failed');
      expect((await (async () => { await d.send('set after 0 0 2\r\nok\r\nget after\r\n'); return d.readUntil('END\r\n'); })()).toString())
        .toBe('STORED\r\nVALUE after 0 2\r\nok\r\nEND\r\n');
      d.close();
      const s2 = await stats(fresh.port);
      expect(Number(s2.warm_miss_hits)).toBeGreaterThanOrEqual(50);
      expect(fresh.output()).toMatch(/warm: failed \(.*\): .*miss-through: \d+ gets of keys not here, \d+ answered from the old node, \d+ timed out/);
    }, 60_000);
  }
});
