// Malformed and hostile text-protocol input, each case sent to memcached and
// to wasmcached on a fresh connection. Both must answer the same bytes and
// agree on whether the connection is closed; afterwards each server must
// still serve a new connection, with a value stored before the case intact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, readThroughSync, show, syncRequest, textRepliesLength } from '../support/client.js';
import { startPair, stopPair, type ServerPair } from '../support/reference.js';

interface Case {
  name: string;
  /** Sent in order; the server is given time to act on each before the next. */
  steps: (string | Buffer)[];
  /**
   * Whether a sync point (see syncRequest) is sent last on the same
   * connection, to collect every reply and show the connection still parses
   * commands (off when the case leaves the server reading data).
   */
  probe?: boolean;
  /** The case empties the cache, so the kept value is compared, not required. */
  flushes?: boolean;
}

const KEPT = 'set __kept 0 0 5\r\nhello\r\n';
const KEPT_REPLY = 'VALUE __kept 0 5\r\nhello\r\nEND\r\n';
/** Pause after each step but the last, so a server reads it on its own. */
const STEP_QUIET_MS = 500;

const MB = 1024 * 1024;
/**
 * Largest value memcached 1.6.18 stores with -I 1m (the default) under a
 * 1-byte key: the whole item must fit 1 MiB, that is a 48-byte header, an
 * 8-byte CAS, the key plus its NUL, the data plus CRLF, and 4 more bytes
 * when the client flags are not 0 (found by bisecting against memcached).
 */
const MAX_VALUE_FLAGS0 = MB - 48 - 8 - 2 - 2;
const MAX_VALUE_FLAGS1 = MAX_VALUE_FLAGS0 - 4;

const k251 = 'k'.repeat(251);
const k250 = 'k'.repeat(250);
const a = (n: number, c = 'a') => c.repeat(n);
const setOf = (key: string, flags: number, n: number) => `set ${key} ${flags} 0 ${n}\r\n${a(n)}\r\nget ${key}\r\n`;

const CASES: Case[] = [
  // Keys
  { name: 'set with a 251-byte key', steps: [`set ${k251} 0 0 1\r\nx\r\n`] },
  { name: 'set and get a 250-byte key', steps: [`set ${k250} 0 0 1\r\nx\r\nget ${k250}\r\n`] },
  { name: 'get, delete, incr, touch with a 251-byte key', steps: [`get ${k251}\r\ndelete ${k251}\r\nincr ${k251} 1\r\ntouch ${k251} 0\r\n`] },
  { name: 'get of a kept key then a 251-byte key in one multiget', steps: [`get __kept\r\nget __kept ${k251}\r\n`] },
  // <bytes>
  { name: 'negative bytes', steps: ['set k 0 0 -1\r\nx\r\n'] },
  { name: 'bytes = 2147483647', steps: ['set k 0 0 2147483647\r\nx\r\n'] },
  { name: 'bytes = 2147483646', steps: ['set k 0 0 2147483646\r\nx\r\n'] },
  { name: 'bytes = 4294967295', steps: ['set k 0 0 4294967295\r\nx\r\n'] },
  { name: 'bytes = 4294967296', steps: ['set k 0 0 4294967296\r\nx\r\n'] },
  { name: 'bytes = 99999999999999999999', steps: ['set k 0 0 99999999999999999999\r\nx\r\n'] },
  { name: 'bytes = abc', steps: ['set k 0 0 abc\r\nabc\r\n'] },
  // Item size limit (-I 1m)
  { name: 'largest value with flags 0', steps: [setOf('k', 0, MAX_VALUE_FLAGS0)] },
  { name: 'one byte over the largest value with flags 0', steps: [setOf('k', 0, MAX_VALUE_FLAGS0 + 1)] },
  { name: 'largest value with flags 1', steps: [setOf('k', 1, MAX_VALUE_FLAGS1)] },
  { name: 'one byte over the largest value with flags 1', steps: [setOf('k', 1, MAX_VALUE_FLAGS1 + 1)] },
  { name: 'value over 1 MB, data sent: swallowed, next command runs', steps: [`set k 0 0 ${MB + 1}\r\n${a(MB + 1)}\r\nget k\r\n`] },
  {
    name: 'value over 1 MB replacing a stored one (set drops the old value)',
    steps: [`set victim 0 0 3\r\nold\r\nset victim 0 0 ${2 * MB}\r\n${a(2 * MB)}\r\nget victim\r\n`],
  },
  {
    name: 'value over 1 MB, data not fully sent, then the rest',
    steps: [`set k 0 0 ${MB + 1}\r\n${a(1000)}`, `${a(MB + 1 - 1000)}\r\n`],
  },
  { name: 'value over 1 MB, data never completed', steps: [`set k 0 0 ${MB + 1}\r\n${a(5000)}`], probe: false },
  // Data blocks
  { name: 'data longer than announced (bad data chunk)', steps: ['set k 0 0 3\r\nabcde\r\n'] },
  { name: 'data shorter than announced eats the next line', steps: ['set k 0 0 8\r\nabc\r\nget k\r\nget k\r\n'] },
  { name: 'data ended by a bare LF', steps: ['set k 0 0 3\r\nabc\n\r\n'] },
  { name: 'data ended by CR CR', steps: ['set k 0 0 3\r\nabc\r\r\n'] },
  { name: 'bad data chunk with noreply', steps: ['set k 0 0 1 noreply\r\nxyz\r\n'] },
  { name: 'data terminator in a later packet', steps: ['set k 0 0 1\r\nx', '\r\nget k\r\n'] },
  { name: 'data arriving one packet per part', steps: ['set k 0 0 10\r\n', 'abcde', 'fghij', '\r', '\n'] },
  { name: 'storage command left waiting for data', steps: ['set k 0 0 10\r\nabc'], probe: false },
  // cas
  { name: 'cas without a unique', steps: ['cas k 0 0 1\r\nx\r\n'] },
  { name: 'cas with a non-numeric unique', steps: ['cas k 0 0 1 abc\r\nx\r\n'] },
  { name: 'cas with a negative unique', steps: ['cas k 0 0 1 -1\r\nx\r\n'] },
  { name: 'cas with a unique of 2^64', steps: ['cas __kept 0 0 1 18446744073709551616\r\nx\r\n'] },
  // incr / decr
  { name: 'incr with a non-numeric delta', steps: ['set n 0 0 1\r\n5\r\nincr n abc\r\n'] },
  { name: 'incr with a negative delta', steps: ['set n 0 0 1\r\n5\r\nincr n -1\r\n'] },
  { name: 'incr with a delta of 2^64', steps: ['set n 0 0 1\r\n5\r\nincr n 18446744073709551616\r\n'] },
  { name: 'incr without a delta, decr with extra tokens', steps: ['incr n\r\ndecr n 1 2 3\r\n'] },
  { name: 'incr of a non-numeric value', steps: ['incr __kept 1\r\n'] },
  // Other commands
  { name: 'delete k 10', steps: ['delete k 10\r\n'] },
  { name: 'delete a b c d e', steps: ['delete a b c d e\r\n'] },
  { name: 'delete k 0 noreply x', steps: ['delete k 0 noreply x\r\n'] },
  { name: 'touch with a bad exptime', steps: ['touch __kept abc\r\n'] },
  { name: 'touch without an exptime', steps: ['touch __kept\r\n'] },
  { name: 'gat with a bad exptime', steps: ['gat abc __kept\r\n'] },
  { name: 'gat and gats without keys', steps: ['gat 10\r\ngats\r\ngat\r\n'] },
  { name: 'verbosity without an argument', steps: ['verbosity\r\n'] },
  { name: 'verbosity with a non-numeric argument', steps: ['verbosity abc\r\n'] },
  { name: 'verbosity with too many tokens', steps: ['verbosity 1 2 3\r\n'] },
  { name: 'flush_all abc', steps: ['flush_all abc\r\n'] },
  { name: 'flush_all -1', steps: ['flush_all -1\r\n'], flushes: true },
  { name: 'cache_memlimit 1', steps: ['cache_memlimit 1\r\n'] },
  { name: 'cache_memlimit abc', steps: ['cache_memlimit abc\r\n'] },
  { name: 'stats nonsense', steps: ['stats nonsense\r\n'] },
  { name: 'shutdown without -A', steps: ['shutdown\r\n'] },
  { name: 'shutdown graceful without -A', steps: ['shutdown graceful\r\n'] },
  { name: 'quit', steps: ['quit\r\n'] },
  { name: 'quit then more commands in the same packet', steps: ['quit\r\nversion\r\n'] },
  // Line framing
  { name: 'line of 2047 bytes without newline, then the newline', steps: [a(2047, 'x'), '\r\n'] },
  { name: 'line of 2048 bytes without newline, then the newline', steps: [a(2048, 'x'), '\r\n'] },
  { name: 'line of 2049 bytes without newline', steps: [a(2049, 'x'), '\r\n'] },
  { name: 'line of 3000 bytes without newline', steps: [a(3000, 'x'), '\r\n'] },
  { name: 'set line of 3000 bytes without newline', steps: [`set k 0 0 1 ${a(2990, ' ')}`, '\r\nx\r\n'] },
  { name: 'multiget of 3000 bytes without newline, then the newline', steps: [`get __kept ${'k '.repeat(1500)}`, '\r\n'] },
  { name: 'gets of 3000 bytes without newline, then the newline', steps: [`gets ${'k '.repeat(1500)}`, '\r\n'] },
  // (memcached hangs up on a gat line over 2048 bytes without newline; we
  // answer it like get: test/proto/long-multiget.test.ts)
  { name: 'get followed by 3000 spaces, then the newline', steps: [`get${a(3000, ' ')}`, '\r\n'] },
  { name: '50 spaces then a long multiget', steps: [`${a(50, ' ')}get ${'k '.repeat(1500)}`, '\r\n'] },
  { name: '101 spaces then a long multiget', steps: [`${a(101, ' ')}get ${'k '.repeat(1500)}`, '\r\n'] },
  { name: '2100 spaces then get x, one packet', steps: [`${a(2100, ' ')}get x\r\n`] },
  { name: '2100 spaces, then get x', steps: [a(2100, ' '), 'get x\r\n'] },
  { name: 'two 1500-byte lines, the second without newline', steps: [`${a(1500, 'x')}\r\n${a(1500, 'y')}`, '\r\n'] },
  { name: '3000-byte line arriving whole', steps: [`${a(3000, 'x')}\r\n`] },
  { name: 'HTTP request line', steps: ['GET / HTTP/1.1\r\n'] },
  { name: 'HTTP request with headers', steps: ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'] },
  { name: 'unknown command ending in HTTP/', steps: ['foo HTTP/\r\n'] },
  { name: 'get whose last key starts with HTTP/', steps: ['get __kept HTTP/1.1\r\n'] },
  { name: 'lowercase http/ token', steps: ['foo http/1.1\r\n'] },
  { name: 'NUL inside a command name', steps: ['ge\0t __kept\r\n'] },
  { name: 'NUL inside a key', steps: ['get __kept\0junk\r\n'] },
  { name: 'NUL inside a set line', steps: ['set k\0x 0 0 1\r\nx\r\nget k\r\n'] },
  { name: 'NUL after version', steps: ['version\0junk\r\n'] },
  { name: 'line of a NUL only', steps: ['\0\r\n'] },
  { name: 'line of only CRLF', steps: ['\r\n'] },
  { name: 'line of only LF', steps: ['\n'] },
  { name: 'CR inside a key', steps: ['set a\rb 0 0 1\r\nx\r\nget a\rb\r\nget a\r\n'] },
  { name: 'CR between two commands', steps: ['get __kept\rget __kept\r\n'] },
  { name: 'CR CR LF line end', steps: ['get __kept\r\r\n'] },
  { name: 'LF then CRLF', steps: ['get __kept\n\r\n'] },
  { name: 'uppercase command', steps: ['GET __kept\r\nSET k 0 0 1\r\nx\r\n'] },
  { name: 'tab as a separator', steps: ['get\t__kept\r\n\tget __kept\r\n'] },
  { name: 'runs of spaces', steps: ['set   k   0   0   1   \r\nx\r\n   get   k   __kept   \r\n'] },
  { name: 'too many tokens for set', steps: [`set k 0 0 1 ${'x '.repeat(25)}\r\nx\r\n`] },
  { name: 'set with noreply and an extra token', steps: ['set k 0 0 1 noreply extra\r\nx\r\n'] },
  { name: 'binary bytes in a key', steps: ['set \x01\xff\x7f 0 0 1\r\nx\r\nget \x01\xff\x7f\r\n'] },
  { name: 'flags of 2^32 and 2^32-1', steps: ['set f 4294967296 0 1\r\nx\r\nget f\r\nset f 4294967295 0 1\r\nx\r\nget f\r\n'] },
  { name: 'flags of -1 and abc', steps: ['set f -1 0 1\r\nx\r\nset f abc 0 1\r\nx\r\n'] },
  { name: 'exptime of abc and 2^64', steps: ['set e 0 abc 1\r\nx\r\nset e 0 18446744073709551616 1\r\nx\r\n'] },
  // meta commands (CVE-2020-22570: crafted meta flags crashed 1.6.0-1.6.2)
  { name: 'mg with 23 flags and with more than fit a token batch', steps: [`mg __kept ${'v '.repeat(22)}\r\nmg __kept ${'O1 '.repeat(40)}\r\n`] },
  { name: 'ms with 30 tokens', steps: [`ms k 1 ${'c '.repeat(28)}\r\nx\r\n`] },
  { name: 'meta numbers out of range', steps: ['mg __kept T99999999999999999999 v\r\nmg k N- v\r\nmg k R+ v\r\nma k J18446744073709551616 N0\r\nma k D-1\r\nms k 1 C18446744073709551616\r\nx\r\n'] },
  { name: 'ms data lengths: 2147483647, 2147483646, -1, abc', steps: ['ms k 2147483647\r\nx\r\nms k 2147483646 T0\r\nms k -1\r\nx\r\nms k abc\r\nx\r\n'] },
  { name: 'ms left waiting for data', steps: ['ms k 10 T0\r\nabc'], probe: false },
  { name: 'ms over 1 MB, data sent: swallowed', steps: [`ms k ${MB + 1} T0\r\n${a(MB + 1)}\r\nmg k v\r\n`] },
  { name: 'ms data longer and shorter than announced', steps: ['ms k 3\r\nabcde\r\nms k 8 q\r\nabc\r\nmn\r\nmn\r\n'] },
  { name: 'base64 keys: garbage, padding, 250 and 252 symbols', steps: [`mg ==== b\r\nmg YQ=== b\r\nmg ${a(248, 'A')}== b v\r\nmg ${a(252, 'A')} b v\r\nms ${a(248, 'A')}== 1 b k\r\nx\r\n`] },
  { name: 'meta flags with NUL and 0xff', steps: ['mg __kept v\0k\r\nmg __kept \xff\r\nmg __kept v \xfe\r\n'] },
  { name: 'meta line of 2100 bytes without newline', steps: [`mg __kept v O${a(2100, 'o')}`, '\r\n'] },
  { name: 'me with garbage, mn with many tokens', steps: [`me __kept b c d\r\nme ${k251}\r\nmn ${'x '.repeat(30)}\r\n`] },
  { name: 'md and ma with every flag', steps: ['md __kept q k O9 I T30 C0 b\r\nma __kept N0 J1 D1 MI v c q k O1 T30 C0 t\r\n'] },
];

let pair: ServerPair | undefined;
let probeCounter = 0;

beforeAll(async () => { pair = await startPair(); });
afterAll(async () => { await stopPair(pair); });

interface Outcome {
  /** Everything the case's connection received, per step. */
  replies: Buffer[];
  /** The sync point sent after the case was answered. */
  synced: boolean;
  closed: boolean;
  /** A new connection's answer to `version` and `get __kept` afterwards. */
  after: Buffer;
}

async function runCase(port: number, c: Case): Promise<Outcome> {
  const ctl = await RawClient.connect(port);
  try {
    expect((await ctl.request(KEPT)).toString()).toBe('STORED\r\n');
  } finally { ctl.close(); }
  const conn = await RawClient.connect(port);
  const replies: Buffer[] = [];
  const probe = c.probe ?? true;
  try {
    for (let i = 0; i < c.steps.length; i++) {
      const step = c.steps[i];
      if (!conn.isClosed) await conn.send(step).catch(() => { /* closed meanwhile */ });
      if (i < c.steps.length - 1 || !probe) replies.push(await conn.readAvailable(STEP_QUIET_MS));
    }
    let synced = false;
    if (probe) {
      const id = `p${++probeCounter}`;
      if (!conn.isClosed) await conn.send(syncRequest(id)).catch(() => { /* closed meanwhile */ });
      const r = await readThroughSync(conn, id, 5000);
      replies.push(r.bytes);
      synced = r.synced;
    }
    const closed = conn.isClosed || await conn.waitClosed(probe ? 0 : 200);
    const check = await RawClient.connect(port);
    try {
      const after = await check.request('version\r\nget __kept\r\n', 2);
      return { replies, synced, closed, after };
    } finally { check.close(); }
  } finally { conn.close(); }
}

describe('malformed text-protocol input: wasmcached answers like memcached', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const [ref, sut] = await Promise.all([runCase(pair!.ref.port, c), runCase(pair!.sut.port, c)]);
    const detail = () => [
      `sent: ${c.steps.map((s) => show(Buffer.from(typeof s === 'string' ? Buffer.from(s, 'latin1') : s), 300)).join(' | pause | ')}${c.probe ?? true ? ' + sync point' : ''}`,
      `memcached  (synced=${ref.synced}, closed=${ref.closed}): ${ref.replies.map((r) => show(r, 300)).join(' | ')}`,
      `wasmcached (synced=${sut.synced}, closed=${sut.closed}): ${sut.replies.map((r) => show(r, 300)).join(' | ')}`,
    ].join('\n');
    if (process.env.MALFORMED_DEBUG) console.log(`${c.name}\n${detail()}`);
    expect(Buffer.concat(sut.replies).equals(Buffer.concat(ref.replies)), detail()).toBe(true);
    expect(sut.replies.map((r) => r.length), detail()).toEqual(ref.replies.map((r) => r.length));
    expect(sut.closed, detail()).toBe(ref.closed);
    expect(sut.synced, detail()).toBe(ref.synced);
    // The server survives, and what was stored before is untouched.
    expect(textRepliesLength(sut.after, 2)).toBe(sut.after.length);
    expect(sut.after.toString('latin1')).toMatch(/^VERSION \S+\r\n/);
    expect(sut.after.toString('latin1')).toBe(ref.after.toString('latin1'));
    if (!c.flushes) expect(sut.after.toString('latin1')).toMatch(new RegExp(`\\r\\n${KEPT_REPLY.replace(/\r\n/g, '\\r\\n')}$`));
  });
});
