// The hash table: power-of-two array of bucket heads (u32 item addresses, 0 =
// empty), items chained through IT_HNEXT. Named after memcached's assoc.c.
//
// Growth is incremental, as in memcached: when items exceed 1.5 x buckets a
// table twice the size is started and old buckets migrate a few at a time
// (some on every insert, more on every tick), so no call pays for a full
// rehash. While expanding, a key whose old bucket index is below
// H_EXPAND_BUCKET lives in the new table, otherwise in the old one.
//
// The two tables live in the hash region at opposite ends (the new one at the
// end the old one does not use); the region is 1.5 x the largest table, which
// is exactly enough for a table and its successor to coexist.
//
// Callers: items.ts only.
import { ld8, ld32, st32, fill, eq } from './mem';
import {
  hget, hset, pow2, H_HASH_POWER, H_HASH_PTR, H_OLD_HASH_PTR, H_EXPANDING, H_EXPAND_BUCKET,
  H_HASH_REGION, H_HASH_REGION_SIZE, H_HASH_MAX_POWER, H_HASH_ITEMS,
} from './arena';
import { IT_HNEXT, IT_HASH, IT_KLEN, IT_KEY } from './items_layout';

const INITIAL_POWER: u32 = 16;
const MIGRATE_PER_INSERT: u32 = 4;
const MIGRATE_PER_TICK: u32 = 65536;

export function assocInit(): void {
  let power = INITIAL_POWER;
  const maxPower = hget(H_HASH_MAX_POWER);
  if (power > maxPower) power = maxPower;
  const region = hget(H_HASH_REGION);
  hset(H_HASH_POWER, power);
  hset(H_HASH_PTR, region);
  hset(H_EXPANDING, 0);
  hset(H_HASH_ITEMS, 0);
  fill(region, 0, 4 << power);
}

/** Address of the bucket head that holds (or would hold) hash hv. */
function bucketFor(hv: u32): u32 {
  const power = hget(H_HASH_POWER);
  if (hget(H_EXPANDING) != 0) {
    const oldIndex: u32 = hv & ((1 << (power - 1)) - 1);
    if (oldIndex >= hget(H_EXPAND_BUCKET)) return hget(H_OLD_HASH_PTR) + (oldIndex << 2);
  }
  return hget(H_HASH_PTR) + ((hv & ((1 << power) - 1)) << 2);
}

function keyMatches(it: u32, key: u32, nkey: u32, hv: u32): bool {
  return ld32(it + IT_HASH) == hv && ld8(it + IT_KLEN) == nkey && eq(it + IT_KEY, key, nkey);
}

/** The linked item with this key, or 0. */
export function assocFind(key: u32, nkey: u32, hv: u32): u32 {
  let it = ld32(bucketFor(hv));
  while (it != 0) {
    if (keyMatches(it, key, nkey, hv)) return it;
    it = ld32(it + IT_HNEXT);
  }
  return 0;
}

/** Links an item whose key is not in the table (caller checked). */
export function assocInsert(it: u32, hv: u32): void {
  const b = bucketFor(hv);
  st32(it + IT_HNEXT, ld32(b));
  st32(b, it);
  const n = hget(H_HASH_ITEMS) + 1;
  hset(H_HASH_ITEMS, n);
  if (hget(H_EXPANDING) != 0) {
    assocMigrate(MIGRATE_PER_INSERT);
  } else if (n > ((pow2(hget(H_HASH_POWER)) * 3) >>> 1)) {
    assocStartExpand();
  }
}

/** Unlinks a linked item. */
export function assocDelete(it: u32, hv: u32): void {
  let p = bucketFor(hv);
  let cur = ld32(p);
  while (cur != 0) {
    if (cur == it) {
      st32(p, ld32(it + IT_HNEXT));
      hset(H_HASH_ITEMS, hget(H_HASH_ITEMS) - 1);
      return;
    }
    p = cur + IT_HNEXT;
    cur = ld32(p);
  }
}

/** `to` (a copy of linked `it`, same key) takes `it`'s place in its chain. */
export function assocReplace(it: u32, to: u32, hv: u32): void {
  let p = bucketFor(hv);
  let cur = ld32(p);
  while (cur != 0) {
    if (cur == it) {
      st32(to + IT_HNEXT, ld32(it + IT_HNEXT));
      st32(p, to);
      return;
    }
    p = cur + IT_HNEXT;
    cur = ld32(p);
  }
}

function assocStartExpand(): void {
  const power = hget(H_HASH_POWER);
  if (power >= hget(H_HASH_MAX_POWER)) return; // region full: chains grow instead
  const region = hget(H_HASH_REGION);
  const cur = hget(H_HASH_PTR);
  const newBytes: u32 = 8 << power;
  // Opposite end of the region from the current table.
  const newPtr: u32 = cur == region ? region + hget(H_HASH_REGION_SIZE) - newBytes : region;
  fill(newPtr, 0, newBytes);
  hset(H_OLD_HASH_PTR, cur);
  hset(H_HASH_PTR, newPtr);
  hset(H_HASH_POWER, power + 1);
  hset(H_EXPAND_BUCKET, 0);
  hset(H_EXPANDING, 1);
}

/** Moves up to n old buckets into the new table. */
export function assocMigrate(n: u32): void {
  if (hget(H_EXPANDING) == 0) return;
  const power = hget(H_HASH_POWER);
  const oldSize: u32 = 1 << (power - 1);
  const oldPtr = hget(H_OLD_HASH_PTR);
  const newPtr = hget(H_HASH_PTR);
  const mask: u32 = (1 << power) - 1;
  let b = hget(H_EXPAND_BUCKET);
  while (n > 0 && b < oldSize) {
    let it = ld32(oldPtr + (b << 2));
    while (it != 0) {
      const next = ld32(it + IT_HNEXT);
      const dst = newPtr + ((ld32(it + IT_HASH) & mask) << 2);
      st32(it + IT_HNEXT, ld32(dst));
      st32(dst, it);
      it = next;
    }
    st32(oldPtr + (b << 2), 0);
    b++;
    n--;
  }
  hset(H_EXPAND_BUCKET, b);
  if (b >= oldSize) hset(H_EXPANDING, 0);
}

export function assocTick(): void { assocMigrate(MIGRATE_PER_TICK); }

export function assocBytes(): u32 { return 4 << hget(H_HASH_POWER); }
