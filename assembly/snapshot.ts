// Snapshots in the portable item-stream format (the host adds the file
// header and trailer, see src/snapshot-format.ts). The engine only turns
// items into records and records into items; where the bytes go is the
// host's business.
//
// Record, little-endian, unaligned (SNAP_RECORD_HEADER bytes, then key and
// value):
//   0  u8   key length (1..250; 0 marks the trailer, which the host reads)
//   1  u32  value length
//   5  u32  client flags
//   9  u32  expiry, absolute unix seconds (0 = never)
//   13 u32  CAS unique, low word
//   17 u32  CAS unique, high word
//   21 ...  key, then value
//
// Dumping is a page walk like the crawler's, with its own cursor in the
// header, so a dump proceeds in bounded steps between which the cache keeps
// serving. Items moved by a page move during a dump may be missed or written
// twice (a later record of a key wins at load): a background snapshot is
// fuzzy, like any snapshot taken while serving.
import { ld8, st8, ld32, ld32u, copy } from './mem';
import { hget, hset, currentTime, clockSet, arenaSelect, H_NOW, H_PAGES_CARVED, H_OPTS, H_CAS_LO, H_CAS_HI } from './arena';
import {
  ST_OK, ST_OUT_FULL, H_OUT_PTR, H_OUT_CAP, H_IN_PTR, H_IN_CAP, R_OUT_LEN, R_CONSUMED, R_SNAP_ITEMS, R_SNAP_DROPPED,
  H_SNAP_PAGE, H_SNAP_CHUNK, SNAP_RECORD_HEADER, LIMIT_KEY_LEN, OPT_NO_CAS,
} from './abi';
import { IT_IFLAGS, IT_KLEN, IT_VLEN, IT_FLAGS, IT_EXPTIME, IT_CAS_LO, IT_CAS_HI, IT_KEY, IF_LINKED } from './items_layout';
import { pageOwner, pageFirst, pageEnd, clGet, CL_SIZE } from './slabs';
import {
  itemIsExpired, itemIsFlushed, itemAlloc, itemLink, itemUnlink, itemGet, itemHash, itemData, itemSetCas,
} from './items';
import { itemSizeOk } from './store';
import { u64Lt } from './u64';

/** Chunks one dump step may visit, so steps over sparse pages stay short. */
const DUMP_VISIT_BUDGET: u32 = 65536;

function put32(p: u32, v: u32): void {
  st8(p, v & 255);
  st8(p + 1, (v >>> 8) & 255);
  st8(p + 2, (v >>> 16) & 255);
  st8(p + 3, v >>> 24);
}

/** Absolute unix expiry of a relative one, from the clock the host last set. */
function absoluteExpiry(rel: u32): u32 {
  if (rel == 0) return 0;
  const now = currentTime();
  return rel > now ? hget(H_NOW) + (rel - now) : hget(H_NOW);
}

/**
 * One step of a dump: writes the records of the next live items into the
 * output region (R_OUT_LEN bytes, R_SNAP_ITEMS records), at most `maxBytes`
 * of them (0 = the whole region) except that one record is always written
 * (the region holds the largest item). `restart` begins a new walk.
 * ST_OUT_FULL: call again for more; ST_OK: the walk is complete.
 */
export function snapshotDumpStep(store: u32, restart: u32, maxBytes: u32, now: u32): u32 {
  arenaSelect(store);
  clockSet(now);
  let page: u32 = restart != 0 ? 0 : hget(H_SNAP_PAGE);
  let p: u32 = restart != 0 ? 0 : hget(H_SNAP_CHUNK);
  const out = hget(H_OUT_PTR);
  const region = hget(H_OUT_CAP);
  const cap = maxBytes != 0 && maxBytes < region ? maxBytes : region;
  let len: u32 = 0;
  let items: u32 = 0;
  let budget = DUMP_VISIT_BUDGET;
  const pages = hget(H_PAGES_CARVED);
  let status = ST_OK;
  while (page < pages) {
    const c = pageOwner(page);
    if (c == 0) { page++; p = 0; continue; }
    const size = clGet(c, CL_SIZE);
    const first = pageFirst(page);
    const end = pageEnd(page);
    // The page may have changed class since the last step: realign.
    if (p < first) p = first;
    else if ((p - first) % size != 0) p = first + (((p - first) / size) >>> 0) * size + size;
    while (p < end) {
      if (budget == 0) { status = ST_OUT_FULL; break; }
      budget--;
      if ((ld8(p + IT_IFLAGS) & IF_LINKED) != 0 && !itemIsExpired(p) && !itemIsFlushed(p)) {
        const nkey: u32 = ld8(p + IT_KLEN);
        const vlen = ld32(p + IT_VLEN);
        const rec = SNAP_RECORD_HEADER + nkey + vlen;
        if (len + rec > cap && (len != 0 || rec > region)) { status = ST_OUT_FULL; break; }
        const r = out + len;
        st8(r, nkey);
        put32(r + 1, vlen);
        put32(r + 5, ld32(p + IT_FLAGS));
        put32(r + 9, absoluteExpiry(ld32(p + IT_EXPTIME)));
        put32(r + 13, ld32(p + IT_CAS_LO));
        put32(r + 17, ld32(p + IT_CAS_HI));
        copy(r + SNAP_RECORD_HEADER, p + IT_KEY, nkey + vlen);
        len += rec;
        items++;
      }
      p += size;
    }
    if (status != ST_OK) break;
    page++;
    p = 0;
  }
  hset(H_SNAP_PAGE, page);
  hset(H_SNAP_CHUNK, p);
  hset(R_OUT_LEN, len);
  hset(R_SNAP_ITEMS, items);
  return status;
}

/**
 * Links the records in the input region's first `len` bytes, each as a set
 * that keeps its CAS unique (the store's counter is raised above it) and its
 * expiry. Records already expired at `now`, too large for this store's -I,
 * or without memory are dropped (R_SNAP_DROPPED). Stops at a trailer or an
 * incomplete record; R_CONSUMED is the bytes of the records handled.
 */
export function snapshotLoad(store: u32, len: u32, now: u32): u32 {
  arenaSelect(store);
  clockSet(now);
  const inPtr = hget(H_IN_PTR);
  const end = inPtr + (len < hget(H_IN_CAP) ? len : hget(H_IN_CAP));
  const keepCas = (hget(H_OPTS) & OPT_NO_CAS) == 0;
  let r = inPtr;
  let items: u32 = 0;
  let dropped: u32 = 0;
  while (end - r >= SNAP_RECORD_HEADER) {
    const nkey: u32 = ld8(r);
    if (nkey == 0 || nkey > LIMIT_KEY_LEN) break;
    const vlen = ld32u(r + 1);
    if (vlen > end - r - SNAP_RECORD_HEADER - nkey) break;
    const flags = ld32u(r + 5);
    const expiry = ld32u(r + 9);
    const casLo = ld32u(r + 13);
    const casHi = ld32u(r + 17);
    const key = r + SNAP_RECORD_HEADER;
    r = key + nkey + vlen;
    if ((expiry != 0 && expiry <= now) || !itemSizeOk(nkey, flags, vlen + 2)) { dropped++; continue; }
    const rel: u32 = expiry == 0 ? 0 : currentTime() + (expiry - now);
    const hv = itemHash(key, nkey);
    const old = itemGet(key, nkey, hv, false);
    if (old != 0) itemUnlink(old);
    const it = itemAlloc(key, nkey, hv, flags, rel, vlen);
    if (it == 0) { dropped++; continue; }
    copy(itemData(it), key + nkey, vlen);
    itemLink(it);
    if (keepCas && (casHi | casLo) != 0) {
      itemSetCas(it, casHi, casLo);
      if (u64Lt(hget(H_CAS_HI), hget(H_CAS_LO), casHi, casLo)) {
        hset(H_CAS_HI, casHi);
        hset(H_CAS_LO, casLo);
      }
    }
    items++;
  }
  hset(R_CONSUMED, r - inPtr);
  hset(R_SNAP_ITEMS, items);
  hset(R_SNAP_DROPPED, dropped);
  return ST_OK;
}
