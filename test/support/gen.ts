// fast-check generators of text-protocol traffic for the differential tests.
//
// A generated sequence is a list of units. Every unit is self-contained: once
// its bytes are consumed the server is back at the start of a command line
// (no storage command left waiting for data), so units can be pipelined in
// any order and a synchronisation command can follow any of them.
//
// Rules that keep the stream deterministic on memcached 1.6.18, whatever
// TCP does to the bytes:
// - no command line other than get/gets is longer than 2048 bytes (a longer
//   partial line closes the connection, depending on how reads split);
// - bytes that a server may re-parse as command lines (data after a rejected
//   storage command, leftovers of a bad data chunk) stay short;
// - a get/gets with a too-long key directly follows another get, because
//   memcached drops the replies it has not yet written when that error
//   happens, and a get is the only command that flushes them first;
// - incr/decr wait until earlier replies are read: memcached rewrites a
//   number in place (padding a shorter result with spaces) only while no
//   unsent reply still references the item, else it stores a new, unpadded
//   item, so the outcome would depend on write timing;
// - no stored number reaches 2^63: for those, memcached 1.6.18 scans memory
//   past the value for a '-' (safe_strtoull) and may call them non-numeric
//   depending on what a reused chunk held before (tested on fresh servers in
//   the split test instead). Stored numbers have at most 10 digits and only
//   decr takes huge deltas; only long chains of appends could still build a
//   19-digit number;
// - no value is made of whitespace only: incr/decr on such a value makes
//   memcached's strtoull skip past the end of the data into stale memory
//   (a value "\t" can decr to whatever digits follow it there);
// - no TTL that could expire during the test, no delayed flush_all, no stats,
//   no quit, no HTTP-looking request lines;
// - meta commands ask for no flag whose answer depends on the clock (`t`,
//   `l`) and use no `me` (it prints slab classes, which are sized
//   differently); `ma` waits for earlier replies like incr/decr and keeps
//   to small initial values and deltas (the 2^63 rule above); recache
//   bounds (`R`) are far from every TTL in use.
import fc from 'fast-check';
import { show } from './client.js';

/** Per-run facts a unit may need when it is rendered to bytes. */
export interface RenderContext {
  /** CAS unique of a fresh store made just before the sequence. */
  readonly casBase: bigint;
  /** Newest CAS unique the reference server returned for `key`, if any. */
  latestCas(key: Buffer): bigint | undefined;
}

export interface Unit {
  /** Whether the replies to everything before it must be read first. */
  readonly needsSync: boolean;
  render(ctx: RenderContext): Buffer;
}

class RawUnit implements Unit {
  constructor(readonly bytes: Buffer, readonly needsSync = false) {}
  render(): Buffer { return this.bytes; }
  toString(): string { return show(this.bytes, 300); }
  [fc.toStringMethod](): string { return this.toString(); }
}

/** A `cas` whose unique is taken from an earlier gets reply, plus `delta`. */
class CasRefUnit implements Unit {
  readonly needsSync = true;
  private lastRendered: Buffer | null = null;
  constructor(
    readonly key: Buffer,
    readonly fromBase: boolean,
    readonly delta: number,
    readonly build: (unique: string) => Buffer,
  ) {}
  render(ctx: RenderContext): Buffer {
    const seen = this.fromBase ? undefined : ctx.latestCas(this.key);
    let unique = (seen ?? ctx.casBase) + BigInt(this.delta);
    if (unique < 0n) unique = 0n;
    this.lastRendered = this.build(unique.toString());
    return this.lastRendered;
  }
  toString(): string {
    const src = this.fromBase ? 'base' : `latest gets of ${show(this.key, 40)}`;
    const bytes = this.lastRendered ?? this.build('0');
    return `cas(unique = ${src} ${this.delta >= 0 ? '+' : '-'} ${Math.abs(this.delta)}) ${show(bytes, 300)}`;
  }
  [fc.toStringMethod](): string { return this.toString(); }
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const cat = (...parts: (Buffer | string)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? b(p) : p)));

/** Keys the sequences share, so commands collide on the same items. */
export const KEY_POOL: readonly Buffer[] = [
  'a', 'A', 'ab', 'b', 'c', 'n1', 'n2', 'x\x01y', '\xff\xfe', 'ta\tb', 'a\rb', 'L'.repeat(250),
].map(b);

export const LONG_KEY = b('K'.repeat(251));

// Random keys avoid '_' so they can never meet the harness's own keys, and
// avoid space, LF and NUL, which end a key. A CR is a key byte, except one
// right before the LF, which ends the line.
const KEY_BYTES = [
  ...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => 0x21 + i).filter((c) => c !== 0x5f),
  0x01, 0x09, 0x0d, 0x7f, 0x80, 0xfe, 0xff,
];

const randomKeyArb = fc
  .array(fc.constantFrom(...KEY_BYTES), { minLength: 1, maxLength: 250 })
  .map((a) => Buffer.from(a));

export const keyArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...KEY_POOL) },
  { weight: 1, arbitrary: randomKeyArb },
);

const numericKeyArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(b('n1'), b('n2')) },
  { weight: 1, arbitrary: keyArb },
);

/** Strings an incr/decr may meet as a stored value. */
const NUMERIC_VALUES = [
  '0', '1', '5', '99', '100', '007', ' 12', '12 ', '-1', '12abc', '',
  '18446744073709551616',
  '99999999999999999999', '00000000000000000001', '1'.repeat(21), '4294967296',
];

const REPLY_LIKE = ['END', 'VALUE a 0 1', 'STORED', 'ERROR', 'get a', 'x', ''];

/** C isspace(): what strtoull skips before the digits. */
const isCSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** Gives an all-whitespace value a non-space byte (see the rules on top). */
function notAllSpace(v: Buffer): Buffer {
  return v.length > 0 && v.every(isCSpace) ? Buffer.concat([v, Buffer.from('x')]) : v;
}

export const valueArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMERIC_VALUES).map(b) },
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) },
  // Values that look like replies and carry CRLF: framing must be by length.
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...REPLY_LIKE), { minLength: 1, maxLength: 5 }).map((a) => b(a.join('\r\n'))) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 40, maxLength: 1000 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 5000 }).chain((n) => fc.constantFrom('a', 'z', '\r\n').map((c) => b(c.repeat(Math.ceil(n / c.length)).slice(0, n)))) },
).map(notAllSpace);

/** How one command line is laid out: separators, leading spaces, line end. */
interface Layout { sep: string; lead: string; trail: string; eol: string }

const layoutArb: fc.Arbitrary<Layout> = fc.record({
  sep: fc.oneof({ weight: 12, arbitrary: fc.constant(' ') }, { weight: 1, arbitrary: fc.constantFrom('  ', '   ') }),
  lead: fc.oneof({ weight: 20, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(' ', '   ') }),
  trail: fc.oneof({ weight: 20, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constant(' ') }),
  eol: fc.oneof({ weight: 9, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constant('\n') }),
});

function line(l: Layout, tokens: (string | Buffer)[]): Buffer {
  const parts: (string | Buffer)[] = [l.lead];
  tokens.forEach((t, i) => { if (i) parts.push(l.sep); parts.push(t); });
  parts.push(l.trail, l.eol);
  return cat(...parts);
}

const noreplyArb = fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const flagsArb = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom('0', '1', '42', '65535', '4294967295', '00012') },
  { weight: 1, arbitrary: fc.constantFrom('-1', 'abc', '4294967296', '18446744073709551616', '2147483648', '1x') },
);
const VALID_FLAGS = new Set(['0', '1', '42', '65535', '4294967295', '00012']);

/** TTLs that cannot expire while the test runs, valid and invalid. */
const exptimeArb = fc.oneof(
  { weight: 30, arbitrary: fc.constant('0') },
  { weight: 3, arbitrary: fc.constantFrom('10000', '2592000', '4294967296') },
  { weight: 2, arbitrary: fc.constantFrom('-1', '1000000000', '2592001', '2147483648') },
  { weight: 1, arbitrary: fc.constantFrom('abc', '18446744073709551616', '1.5', '') },
);
const VALID_EXPTIMES = new Set(['0', '10000', '2592000', '-1', '1000000000', '2592001', '2147483648', '4294967296']);

type BytesMode =
  | { kind: 'exact' }
  | { kind: 'longer'; by: number }   // more data than announced
  | { kind: 'shorter'; by: number }  // less data: the next line is eaten as data
  | { kind: 'field'; text: string }  // a bad <bytes> token
  | { kind: 'badEnd'; end: string }; // data not followed by CRLF

const bytesModeArb: fc.Arbitrary<BytesMode> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ kind: 'exact' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((by) => ({ kind: 'longer' as const, by })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 16 }).map((by) => ({ kind: 'shorter' as const, by })) },
  { weight: 1, arbitrary: fc.constantFrom('-1', 'abc', '4294967296', '2147483648', '18446744073709551616', '2147483646').map((text) => ({ kind: 'field' as const, text })) },
  { weight: 1, arbitrary: fc.constantFrom('xx', '\n\r\n', '\r', 'x\r\n').map((end) => ({ kind: 'badEnd' as const, end })) },
);

function isUint64(s: string): boolean {
  return /^[0-9]+$/.test(s) && BigInt(s) < 1n << 64n;
}

/** Data that a server may treat as command lines must stay well under 2048 bytes. */
const SHORT_DATA = 64;

interface StorageParts {
  l: Layout; key: Buffer; flags: string; exptime: string; value: Buffer;
  mode: BytesMode; noreply: boolean; extra: number;
}

/**
 * Header + data (+ CRLF) for a storage command; `unique` is set for cas.
 * Returns the bytes, never leaving the server waiting for more data.
 */
function storageBytes(cmd: string, p: StorageParts, unique?: string): Buffer {
  const rejected = p.key.length > 250 || !VALID_FLAGS.has(p.flags) || !VALID_EXPTIMES.has(p.exptime)
    || p.mode.kind === 'field' || p.extra > 0 || (unique !== undefined && !isUint64(unique));
  const value = rejected || p.mode.kind !== 'exact' ? p.value.subarray(0, SHORT_DATA) : p.value;
  let declared: string;
  let tail: Buffer = b('\r\n');
  switch (p.mode.kind) {
    case 'exact': declared = String(value.length); break;
    case 'longer': declared = String(Math.max(0, value.length - p.mode.by)); break;
    case 'shorter':
      declared = String(value.length + p.mode.by);
      // Enough following lines for the server to finish reading the data;
      // whatever is left over is parsed as (short) command lines.
      tail = b('\r\n' + 'get a\r\n'.repeat(Math.ceil(p.mode.by / 7) + 1));
      break;
    case 'field': declared = p.mode.text; break;
    case 'badEnd': declared = String(value.length); tail = cat(p.mode.end, '\r\n'); break;
  }
  const tokens: (string | Buffer)[] = [cmd, p.key, p.flags, p.exptime, declared];
  if (unique !== undefined && unique !== '') tokens.push(unique);
  if (p.noreply) tokens.push('noreply');
  for (let i = 0; i < p.extra; i++) tokens.push('x');
  // A rejected header makes the data line a command line, so it must end.
  if (rejected && !tail.toString('latin1').endsWith('\n')) tail = cat(tail, '\r\n');
  return cat(line(p.l, tokens), value, tail);
}

const storagePartsArb: fc.Arbitrary<StorageParts> = fc.record({
  l: layoutArb,
  key: fc.oneof({ weight: 40, arbitrary: keyArb }, { weight: 1, arbitrary: fc.constant(LONG_KEY) }),
  flags: flagsArb,
  exptime: exptimeArb,
  value: valueArb,
  mode: bytesModeArb,
  noreply: noreplyArb,
  extra: fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2, 20) }),
});

const storageArb: fc.Arbitrary<Unit> = fc
  .tuple(fc.constantFrom('set', 'set', 'add', 'replace', 'append', 'prepend'), storagePartsArb)
  .map(([cmd, p]) => new RawUnit(storageBytes(cmd, p)));

/** Numbers into incr/decr's usual range, so later incr/decr find numbers. */
const numericSetArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, numericKeyArb, fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('0', '1', '5', '99', '100', '4294967296') },
    { weight: 1, arbitrary: fc.constantFrom(...NUMERIC_VALUES) },
  ), noreplyArb)
  .map(([l, key, v, noreply]) => new RawUnit(cat(line(l, ['set', key, '0', '0', String(v.length), ...(noreply ? ['noreply'] : [])]), v, '\r\n')));

const casArb: fc.Arbitrary<Unit[]> = fc.oneof(
  // Unique from the latest gets of that key (or the run's base), usually exact.
  {
    weight: 4,
    arbitrary: fc.tuple(storagePartsArb, fc.boolean(), fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 40 }) }), fc.boolean())
      .map(([p, withGets, delta, fromBase]): Unit[] => {
        const parts = { ...p, key: p.key.length > 250 ? KEY_POOL[0] : p.key };
        const unit = new CasRefUnit(parts.key, fromBase, delta, (u) => storageBytes('cas', parts, u));
        return withGets ? [new RawUnit(cat('gets ', parts.key, '\r\n')), unit] : [unit];
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(storagePartsArb, fc.constantFrom('0', '18446744073709551615', '18446744073709551616', 'abc', '-1', ''))
      .map(([p, u]): Unit[] => [new RawUnit(storageBytes('cas', p, u))]),
  },
);

const keyListArb = (max: number) => fc.array(keyArb, { minLength: 0, maxLength: max });

/** Multigets stay below the rbuf size; gat lines stay below 2048 bytes. */
function fitLine(keys: Buffer[], limit: number): Buffer[] {
  const out: Buffer[] = [];
  let len = 0;
  for (const k of keys) {
    if (len + k.length + 1 > limit) break;
    out.push(k);
    len += k.length + 1;
  }
  return out;
}

const getArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, fc.constantFrom('get', 'gets'), keyListArb(30), fc.oneof({ weight: 25, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }))
  .map(([l, cmd, keys, withLongKey]) => {
    const ks = fitLine(keys, 7000);
    if (!withLongKey) return new RawUnit(line(l, [cmd, ...ks]));
    // The preceding get flushes pending replies (see the rules on top).
    const mid = Math.floor(ks.length / 2);
    return new RawUnit(cat('get a\r\n', line(l, [cmd, ...ks.slice(0, mid), LONG_KEY, ...ks.slice(mid)])));
  });

const ttlTokenArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('0', '10000', '2592000') },
  { weight: 2, arbitrary: fc.constantFrom('-1', '1000000000', '2147483648') },
  { weight: 1, arbitrary: fc.constantFrom('abc', '18446744073709551616', '') },
);

const gatArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, fc.constantFrom('gat', 'gats'), ttlTokenArb, keyListArb(10))
  .map(([l, cmd, ttl, keys]) => new RawUnit(line(l, [cmd, ...(ttl ? [ttl] : []), ...fitLine(keys, 1800)])));

const touchArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, keyArb, ttlTokenArb, noreplyArb, fc.constantFrom(0, 0, 0, 0, 1, 3))
  .map(([l, key, ttl, noreply, extra]) => new RawUnit(line(l, ['touch', key, ...(ttl ? [ttl] : []), ...(noreply ? ['noreply'] : []), ...Array(extra).fill('x')])));

const smallDeltaArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('0', '1', '7', '100', '00003', '1000000000') },
  { weight: 1, arbitrary: fc.constantFrom('18446744073709551616', '-1', 'abc', '1.5', '') },
);
// Only decr takes huge deltas, so incr cannot reach 2^63 (see top).
const decrDeltaArb = fc.oneof(
  { weight: 4, arbitrary: smallDeltaArb },
  { weight: 1, arbitrary: fc.constantFrom('18446744073709551615', '9223372036854775808') },
);

const arithArb: fc.Arbitrary<Unit> = fc
  .constantFrom('incr', 'decr')
  .chain((cmd) => fc.tuple(fc.constant(cmd), layoutArb, numericKeyArb, cmd === 'incr' ? smallDeltaArb : decrDeltaArb, noreplyArb, fc.constantFrom(0, 0, 0, 0, 0, 1, 2)))
  .map(([cmd, l, key, delta, noreply, extra]) => new RawUnit(line(l, [cmd, key, ...(delta ? [delta] : []), ...(noreply ? ['noreply'] : []), ...Array(extra).fill('9')]), true));

const deleteArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, keyArb, fc.constantFrom<(string)[]>([], [], [], ['0'], ['noreply'], ['0', 'noreply'], ['10'], ['0', '0'], ['b', 'c', 'd'], ['0', 'noreply', 'x']))
  .map(([l, key, rest]) => new RawUnit(line(l, ['delete', key, ...rest])));

const flushArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, fc.constantFrom<string[]>([], ['0'], ['noreply'], ['0', 'noreply'], ['-1'], ['abc'], ['0', '0'], ['0', 'noreply', 'x']))
  .map(([l, rest]) => new RawUnit(line(l, ['flush_all', ...rest])));

const miscArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, fc.constantFrom<string[]>(
    ['version'], ['version', 'x', 'y'],
    ['verbosity', '0'], ['verbosity', '1', 'noreply'], ['verbosity'], ['verbosity', 'a'], ['verbosity', 'noreply'], ['verbosity', '0', '0', '0'],
    ['foo'], ['foo', 'bar'], [''], ['GET', 'a'], ['Gets', 'a'], ['VERSION'], ['get\ta'], ['\tversion'], ['set'], ['set', 'a'], ['set', 'a', '0', '0'],
    ['incr'], ['incr', 'a'], ['decr', 'a', '1', 'noreply', 'x'], ['touch', 'a'], ['gat'], ['gats'], ['gat', '0'], ['get'], ['gets'], ['delete'],
    ['touch', ...Array(30).fill('a')], ['incr', ...Array(25).fill('1')], ['version', ...Array(30).fill('v')],
  ))
  .map(([l, tokens]) => new RawUnit(line(l, tokens), tokens[0] === 'incr' || tokens[0] === 'decr'));

// ---- meta commands ------------------------------------------------------------

/** A key as an mg/ms/md/ma key token: as is, or base64 with the `b` flag. */
const metaKeyArb: fc.Arbitrary<{ token: Buffer; flags: string[] }> = fc.oneof(
  { weight: 6, arbitrary: keyArb.map((k) => ({ token: k, flags: [] as string[] })) },
  { weight: 2, arbitrary: keyArb.map((k) => ({ token: b(k.toString('base64')), flags: ['b'] })) },
  { weight: 1, arbitrary: fc.constantFrom('!!!!', 'YQ', 'Y===').map((t) => ({ token: b(t), flags: ['b'] })) },
);

/** Flags whose answers do not depend on the clock, and a few bad ones. */
const MG_FLAGS = ['v', 'k', 'c', 'f', 's', 'q', 'u', 'h', 'O123', 'Oabc', 'N10000', 'R20000', 'R300', 'T10000', 'T0', 'T-1', 'E5', 'P1', 'L2'];
const BAD_FLAGS = ['!', 'Tx', 'N', `O${'o'.repeat(40)}`, 'Mx', 'vv', '\xff'];

/** A subset of `pool` in random order, sometimes with a bad or repeated flag. */
const flagListArb = (pool: string[]): fc.Arbitrary<string[]> => fc
  .tuple(fc.shuffledSubarray(pool, { maxLength: 7 }), fc.oneof(
    { weight: 12, arbitrary: fc.constant([] as string[]) },
    { weight: 1, arbitrary: fc.constantFrom(...BAD_FLAGS).map((f) => [f]) },
    { weight: 1, arbitrary: fc.constantFrom(...pool).map((f) => [f]) },
  ))
  .chain(([flags, extra]) => fc.integer({ min: 0, max: flags.length }).map((at) => [...flags.slice(0, at), ...extra, ...flags.slice(at)]));

const mgArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, metaKeyArb, flagListArb(MG_FLAGS))
  .map(([l, k, flags]) => new RawUnit(line(l, ['mg', k.token, ...k.flags, ...flags])));

const MS_FLAGS = ['c', 'k', 'q', 's', 'O9', 'F42', 'F-1', 'T10000', 'T-1', 'I', 'C0', 'C1', 'MA', 'MP', 'ME', 'MR', 'MS'];

const msArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, metaKeyArb, valueArb, flagListArb(MS_FLAGS), fc.oneof(
    { weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) }))
  .map(([l, k, v, flags, skew]) => {
    // Appended or prepended digits could build a number of 19+ digits (see
    // the rules on top): those values start with a non-digit.
    const joins = flags.includes('MA') || flags.includes('MP');
    const value = joins ? cat('x', v.subarray(0, SHORT_DATA)) : skew === 0 ? v : v.subarray(0, SHORT_DATA);
    const declared = Math.max(0, value.length + skew);
    // a wrong length leaves bytes to be read as a (short) command line
    const tail = skew === 0 ? '\r\n' : '\r\nmn\r\nmn\r\n';
    return new RawUnit(cat(line(l, ['ms', k.token, String(declared), ...k.flags, ...flags]), value, tail));
  });

const mdArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, metaKeyArb, flagListArb(['q', 'k', 'O9', 'I', 'T10000', 'C0', 'C1', 'x']))
  .map(([l, k, flags]) => new RawUnit(line(l, ['md', k.token, ...k.flags, ...flags])));

const maArb: fc.Arbitrary<Unit> = fc
  .tuple(layoutArb, numericKeyArb, flagListArb(['N0', 'N10000', 'J5', 'J4294967296', 'D3', 'D1000', 'MD', 'MI', 'M+', 'M-', 'v', 'c', 'q', 'k', 'O1', 'T10000', 'C1', 'Dx']))
  .map(([l, key, flags]) => new RawUnit(line(l, ['ma', key, ...flags]), true));

const mnArb: fc.Arbitrary<Unit> = layoutArb.map((l) => new RawUnit(line(l, ['mn'])));

const metaArb: fc.Arbitrary<Unit> = fc.oneof(
  { weight: 5, arbitrary: mgArb }, { weight: 4, arbitrary: msArb }, { weight: 2, arbitrary: mdArb },
  { weight: 2, arbitrary: maArb }, { weight: 1, arbitrary: mnArb },
);

/** One unit of traffic, weighted toward the commands that change state. */
export const unitArb: fc.Arbitrary<Unit[]> = fc.oneof(
  { weight: 10, arbitrary: storageArb.map((u) => [u]) },
  { weight: 5, arbitrary: numericSetArb.map((u) => [u]) },
  { weight: 3, arbitrary: casArb },
  { weight: 7, arbitrary: getArb.map((u) => [u]) },
  { weight: 2, arbitrary: gatArb.map((u) => [u]) },
  { weight: 2, arbitrary: touchArb.map((u) => [u]) },
  { weight: 4, arbitrary: arithArb.map((u) => [u]) },
  { weight: 3, arbitrary: deleteArb.map((u) => [u]) },
  { weight: 1, arbitrary: flushArb.map((u) => [u]) },
  { weight: 1, arbitrary: miscArb.map((u) => [u]) },
  { weight: 6, arbitrary: metaArb.map((u) => [u]) },
);

/** A sequence of `min`..`max` units (a cas with its gets counts as one). */
export const sequenceArb = (min = 10, max = 200): fc.Arbitrary<Unit[]> =>
  fc.array(unitArb, { minLength: min, maxLength: max, size: 'max' }).map((groups) => groups.flat());
