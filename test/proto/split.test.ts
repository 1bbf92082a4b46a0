// One fixed pipelined script, delivered whole, one byte per write, and in
// seeded random pieces: the replies must not depend on how TCP cuts the
// stream, and must equal memcached's replies to the whole script.
//
// Every delivery goes to a freshly started server, so CAS uniques (counted
// from 1) and memory reuse are the same each time. The script avoids what
// makes memcached itself depend on timing: no incr/decr of a key after a
// get of it (an unsent get reply keeps memcached from rewriting the number
// in place), and the too-long-key get directly follows a get.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, readThroughSync, show, splitTextReplies, syncRequest } from '../support/client.js';
import { startReference, startSubject } from '../support/reference.js';
import type { ServerHandle } from '../support/servers.js';
import { prng } from '../support/prng.js';

const LONG_KEY = 'K'.repeat(251);
const KEY_250 = 'L'.repeat(250);
/** A well-formed storage command; the byte count is the value's length. */
const st = (cmd: string, key: string, flags: number, value: string, extra = '') =>
  `${cmd} ${key} ${flags} 0 ${Buffer.byteLength(value, 'latin1')}${extra}\r\n${value}\r\n`;
const MANY_KEYS = Array.from({ length: 30 }, (_, i) => `m${i % 7}`).join(' ');

const SCRIPT = Buffer.from([
  // The first store on a fresh server gets CAS unique 1.
  st('set', 'c', 0, 'x'),
  'cas c 0 0 1 1\r\ny\r\n',
  // Numbers next, on memory no earlier item used: incr wraps at 2^64,
  // decr stops at 0, a shorter result is padded with spaces.
  st('set', 'big', 0, '18446744073709551615'),
  'incr big 1\r\n',
  st('set', 'big2', 0, '18446744073709551614'),
  'incr big2 1\r\n',
  st('set', 'n', 0, '100'),
  'decr n 1\r\n',
  'decr n 1000\r\n',
  'incr n 18446744073709551615\r\n',
  'incr n abc\r\n',
  'incr n -1\r\n',
  'incr missing 1\r\n',
  'incr n 5 noreply\r\n',
  'get big big2 n\r\n',
  // Storage.
  'gets c\r\n',
  'cas c 0 0 1 1\r\nz\r\n',
  'cas nokey 0 0 1 1\r\nz\r\n',
  'cas c 0 0 1\r\nz\r\n',
  st('add', 'c', 0, 'q'),
  st('replace', 'c', 5, 'abc'),
  st('append', 'c', 0, '\r\n'),
  st('prepend', 'c', 0, 'END\r'),
  'gets c\r\n',
  // Values that look like protocol, binary bytes, empty values.
  st('set', 'v1', 1, 'VALUE x 0 1\r\ny\r\nEND\r\n'),
  st('set', 'v2', 4294967295, '\x00\xff\r\n'),
  st('set', 'v3', 0, ''),
  `set ${KEY_250} 0 0 1\r\n1\r\n`,
  st('set', '\x01key\xff', 0, 'b', ' noreply'),
  `get v1 v2 v3 ${KEY_250} \x01key\xff nothere\r\n`,
  // noreply everywhere it is taken.
  st('set', 'm1', 0, '1', ' noreply'),
  st('add', 'm2', 0, '2', ' noreply'),
  st('replace', 'm3', 0, '3', ' noreply'),
  st('append', 'm1', 0, '1', ' noreply'),
  st('prepend', 'm1', 0, '0', ' noreply'),
  'touch m1 0 noreply\r\n',
  'delete m2 noreply\r\n',
  'delete m4 0 noreply\r\n',
  `get ${MANY_KEYS}\r\n`,
  `gets ${MANY_KEYS}\r\n`,
  // Errors, some of which leave a data line to be read as a command.
  `set ${LONG_KEY} 0 0 1\r\nx\r\n`,
  `get c\r\nget c ${LONG_KEY}\r\n`,
  'set k 0 0 -1\r\nx\r\n',
  'set k 0 0 3\r\nabcde\r\n',
  'set k 0 0 8\r\nabc\r\nget k\r\n',
  'set k abc 0 1\r\nx\r\n',
  'delete k 10\r\n',
  'delete a b c d e\r\n',
  'touch c abc\r\n',
  'gat abc c\r\n',
  'gat 0 c v1\r\n',
  'gats 0 c\r\n',
  'bogus command\r\n',
  'GET c\r\n',
  '\r\n',
  'get c\n',
  '   get   c   v3   \r\n',
  'verbosity\r\n',
  'verbosity 1 noreply\r\n',
  'verbosity 0\r\n',
  'version\r\n',
  'flush_all noreply\r\n',
  'get c v1\r\n',
  st('set', 'after', 0, 'flush'),
  'gets after\r\n',
].join(''), 'latin1');


const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Piece lengths of the whole stream for one delivery mode. */
function pieces(total: number, mode: 'whole' | 'bytes' | { seed: number }): number[] {
  if (mode === 'whole') return [total];
  if (mode === 'bytes') return Array(total).fill(1);
  const rnd = prng(mode.seed);
  const out: number[] = [];
  for (let left = total; left > 0;) {
    const n = Math.min(left, 1 + Math.floor(rnd() * (rnd() < 0.3 ? 4 : 80)));
    out.push(n);
    left -= n;
  }
  return out;
}

let started: ServerHandle[] = [];
afterEach(async () => {
  await Promise.all(started.map((s) => s.stop()));
  started = [];
});

/** Sends the script to a fresh server in the given pieces; returns all replies. */
async function deliver(start: () => Promise<ServerHandle>, mode: 'whole' | 'bytes' | { seed: number }): Promise<Buffer> {
  const server = await start();
  started.push(server);
  const c = await RawClient.connect(server.port);
  try {
    const stream = Buffer.concat([SCRIPT, syncRequest('end')]);
    let off = 0;
    for (const n of pieces(stream.length, mode)) {
      await c.send(stream.subarray(off, off + n));
      off += n;
      // Yield so the pieces reach the server as separate reads.
      if (mode !== 'whole') await pause(0);
    }
    const r = await readThroughSync(c, 'end', 20_000);
    expect(r.synced, `no reply to the final sync point; got ${show(r.bytes, 2000)}`).toBe(true);
    return r.bytes;
  } finally {
    c.close();
  }
}

function sameReplies(got: Buffer, want: Buffer, what: string): void {
  if (got.equals(want)) return;
  const g = splitTextReplies(got);
  const w = splitTextReplies(want);
  let i = 0;
  while (i < g.length && i < w.length && g[i].equals(w[i])) i++;
  expect.fail(`${what}: reply #${i} differs\n  memcached : ${w[i] ? show(w[i]) : '(none)'}\n  wasmcached: ${g[i] ? show(g[i]) : '(none)'}\nall memcached replies : ${show(want, 4000)}\nall wasmcached replies: ${show(got, 4000)}`);
}

describe('replies do not depend on how the request stream is split', () => {
  let reference: Buffer;

  it('memcached answers the whole script', async () => {
    reference = await deliver(startReference, 'whole');
    // Sanity: the script reached its end and exercised values and errors.
    const text = reference.toString('latin1');
    expect(text).toContain('VALUE big 0 20\r\n0                   \r\n');
    expect(text).toContain('CLIENT_ERROR bad data chunk\r\n');
    expect(text.startsWith('STORED\r\nSTORED\r\n')).toBe(true);
    expect(text).toMatch(/VALUE after 0 5 \d+\r\nflush\r\nEND\r\n$/);
  });

  it('in one write', async () => {
    sameReplies(await deliver(startSubject, 'whole'), reference, 'one write');
  });

  it('one byte per write', async () => {
    sameReplies(await deliver(startSubject, 'bytes'), reference, 'one byte per write');
  }, 60_000);

  it.each([1, 2, 3])('in random pieces, seed %i', async (seed) => {
    sameReplies(await deliver(startSubject, { seed }), reference, `random pieces, seed ${seed}`);
  });
});
