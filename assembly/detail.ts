// `stats detail`: per-prefix counts of gets, hits, sets and deletes, as
// memcached's stats_prefix.c keeps them. A key's prefix is what comes before
// the first delimiter (-D, ':' by default); keys without one are not counted.
//
// memcached mallocs a record per prefix, without bound. Here the table is a
// fixed region of the arena (DETAIL_REGION), so a client inventing prefixes
// cannot grow memory: at most DETAIL_MAX prefixes and DETAIL_POOL bytes of
// them, after which new prefixes are not counted. It also bounds the dump
// to fit one call's output reserve. Records hash into 256 buckets with
// memcached's hash and are dumped bucket by bucket, newest first in each, so
// the dump lists prefixes in memcached's order.
import { ld32, st32, ld8, fill, copy } from './mem';
import { S } from './arena';
import {
  DETAIL_REGION, DETAIL_COUNT, DETAIL_POOL_USED, DETAIL_ENABLED, DETAIL_DELIM,
} from './abi';
import { hashKey } from './hash';
import { u64IncAt } from './u64';
import { outStr, outByte, outBytes, outU64, outCRLF } from './proto/out';

const BUCKETS: u32 = 256;
const HEADS: u32 = 16;
export const DETAIL_MAX: u32 = 256;
const REC: u32 = 48;
const RECS: u32 = HEADS + BUCKETS * 4;
const POOL: u32 = RECS + DETAIL_MAX * REC;
export const DETAIL_SIZE: u32 = 32768;
const DETAIL_POOL: u32 = DETAIL_SIZE - POOL;
// record fields
const R_GETS: u32 = 0;
const R_HITS: u32 = 8;
const R_SETS: u32 = 16;
const R_DELS: u32 = 24;
const R_NEXT: u32 = 32; // index + 1 of the next record in the bucket, 0 = none
const R_AT: u32 = 36;   // prefix bytes, offset in the pool
const R_LEN: u32 = 40;

function region(): u32 { return S + DETAIL_REGION; }
function rec(i: u32): u32 { return region() + RECS + i * REC; }

/** At mc_init (arenaCreate has zeroed the region): ':' as memcached's default. */
export function detailInit(): void {
  st32(region() + DETAIL_DELIM, 58);
}

export function detailEnabled(): bool { return ld32(region() + DETAIL_ENABLED) != 0; }
export function detailSetEnabled(on: bool): void { st32(region() + DETAIL_ENABLED, on ? 1 : 0); }
export function detailDelimiter(): u32 { return ld32(region() + DETAIL_DELIM) & 0xff; }

/** `stats reset`: every prefix is forgotten (stats_prefix_clear). */
export function detailClear(): void {
  const r = region();
  fill(r + HEADS, 0, DETAIL_SIZE - HEADS);
  st32(r + DETAIL_COUNT, 0);
  st32(r + DETAIL_POOL_USED, 0);
}

/** The record of key's prefix, made if new; 0 when the key has no prefix
 *  or the table is full. */
function find(key: u32, nkey: u32): u32 {
  const delim = detailDelimiter();
  let len: u32 = 0;
  while (len < nkey) {
    const c: u32 = ld8(key + len);
    if (c == 0) return 0; // memcached reads the key as a C string
    if (c == delim) break;
    len++;
  }
  if (len == nkey) return 0;
  const r = region();
  const bucket = r + HEADS + (hashKey(key, len) % BUCKETS) * 4;
  let i = ld32(bucket);
  while (i != 0) {
    const p = rec(i - 1);
    // As memcached's strncmp(prefix, key, length): a longer stored prefix
    // that starts with this one matches too.
    if (ld32(p + R_LEN) >= len && bytesEqual(r + POOL + ld32(p + R_AT), key, len)) return p;
    i = ld32(p + R_NEXT);
  }
  const n = ld32(r + DETAIL_COUNT);
  const used = ld32(r + DETAIL_POOL_USED);
  if (n >= DETAIL_MAX || used + len > DETAIL_POOL) return 0;
  const p = rec(n);
  fill(p, 0, REC);
  copy(r + POOL + used, key, len);
  st32(p + R_AT, used);
  st32(p + R_LEN, len);
  st32(p + R_NEXT, ld32(bucket));
  st32(bucket, n + 1);
  st32(r + DETAIL_COUNT, n + 1);
  st32(r + DETAIL_POOL_USED, used + len);
  return p;
}

function bytesEqual(a: u32, b: u32, n: u32): bool {
  for (let k: u32 = 0; k < n; k++) if (ld8(a + k) != ld8(b + k)) return false;
  return true;
}

export function detailRecordGet(key: u32, nkey: u32, hit: bool): void {
  if (!detailEnabled()) return;
  const p = find(key, nkey);
  if (p == 0) return;
  u64IncAt(p + R_GETS);
  if (hit) u64IncAt(p + R_HITS);
}

export function detailRecordSet(key: u32, nkey: u32): void {
  if (!detailEnabled()) return;
  const p = find(key, nkey);
  if (p != 0) u64IncAt(p + R_SETS);
}

export function detailRecordDelete(key: u32, nkey: u32): void {
  if (!detailEnabled()) return;
  const p = find(key, nkey);
  if (p != 0) u64IncAt(p + R_DELS);
}

function counter(name: string, at: u32): void {
  outByte(32);
  outStr(name);
  outByte(32);
  outU64(ld32(at + 4), ld32(at));
}

/** `stats detail dump`: PREFIX lines, then END (the table bounds its size). */
export function detailDump(): void {
  const r = region();
  for (let b: u32 = 0; b < BUCKETS; b++) {
    let i = ld32(r + HEADS + b * 4);
    while (i != 0) {
      const p = rec(i - 1);
      outStr('PREFIX ');
      const at = r + POOL + ld32(p + R_AT);
      const len = ld32(p + R_LEN);
      outBytes(at, len);
      counter('get', p + R_GETS);
      counter('hit', p + R_HITS);
      counter('set', p + R_SETS);
      counter('del', p + R_DELS);
      outCRLF();
      i = ld32(p + R_NEXT);
    }
  }
  outStr('END');
  outCRLF();
}
