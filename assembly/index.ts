// The engine's whole ABI: these exports and nothing else. Arguments and
// results are 32-bit integers; bytes move through each store's input and
// output regions, and results are read from its header (assembly/abi.ts).
import {
  S, arenaCreate, arenaContextCreate, arenaSelect, clockSet, hget, hset, H_IN_PTR, H_IN_CAP, H_OUT_PTR, H_OUT_CAP, H_OPTS, H_AUTH_LEN,
  AUTH_DATA, AUTH_MAX, H_NCLASSES,
} from './arena';
import { logBegin, logEnd, logSlabClasses } from './log';
import {
  ST_OK, ST_NO_MEMORY, R_CONN, R_CONN_STATE, R_CONN_BUSY, CONN_WORDS, CONN_PROTOCOL, CONN_TEXT, CONN_BINARY, OPT_SASL, OPT_AUTH_FILE, H_OUT_LIMIT,
  HOST_SETTINGS, HSET_PROTOCOL, BIND_ASCII, BIND_BINARY,
} from './abi';
import { valueUnclaimed, valuesRelease } from './proto/values';
import { dumpRelease } from './proto/dump';
import { ld8, copy } from './mem';
import { slabsInit } from './slabs';
import { assocInit, assocTick } from './assoc';
import { crawlerStep } from './crawler';
import { detailInit } from './detail';
import { slabsAutomove } from './rebalance';
import { textExecute } from './proto/text';
import { binaryExecute, BIN_REQ_MAGIC } from './proto/binary';
import { embedOp } from './embed';
import { snapshotDumpStep, snapshotLoad } from './snapshot';

/** Chunks the expiry crawler visits per tick. */
const CRAWL_BUDGET: u32 = 65536;

/**
 * Creates a store of `memoryMB` whose limit cache_memlimit may later raise
 * up to `memoryCapMB`, for which address space is reserved now (the JS build
 * allocates it; the OS commits pages only when they are touched). Returns
 * its base address, or 0 if memory ran out.
 */
export function mc_init(memoryMB: u32, memoryCapMB: u32, itemSizeMax: u32, chunkMin: u32, factorX100: u32, opts: u32, now: u32): u32 {
  if (factorX100 <= 100) factorX100 = 125;
  if (chunkMin == 0) chunkMin = 48;
  const base = arenaCreate(memoryMB, memoryCapMB, itemSizeMax, chunkMin, factorX100, opts, now);
  if (base == 0) return 0;
  slabsInit();
  assocInit();
  detailInit();
  logSlabClasses(hget(H_NCLASSES));
  return base;
}

/**
 * A context for one more thread executing on this store (arena.ts,
 * CTX_* in abi.ts); its address, or 0 if memory ran out.
 */
export function mc_context(store: u32): u32 {
  arenaSelect(store);
  return arenaContextCreate();
}

/** Runs every complete command in the input region's first `len` bytes. */
export function mc_execute(store: u32, len: u32, now: u32): u32 {
  arenaSelect(store);
  clockSet(now);
  const cap = hget(H_IN_CAP);
  const inPtr = hget(H_IN_PTR);
  const n = len < cap ? len : cap;
  let conn = hget(R_CONN);
  if ((conn & CONN_PROTOCOL) == 0 && n > 0) {
    // memcached decides once per connection from the first byte; -B ascii
    // and -Y allow only the text protocol, -B binary and -S only the binary
    // one (whose executor hangs up on anything but a request header).
    const opts = hget(H_OPTS);
    const bound = hget(HOST_SETTINGS + (HSET_PROTOCOL << 2));
    let proto = ld8(inPtr) == BIN_REQ_MAGIC ? CONN_BINARY : CONN_TEXT;
    if ((opts & OPT_SASL) != 0 || bound == BIND_BINARY) proto = CONN_BINARY;
    if ((opts & OPT_AUTH_FILE) != 0 || bound == BIND_ASCII) proto = CONN_TEXT;
    conn = (conn | proto) >>> 0;
    hset(R_CONN, conn);
  }
  let outCap = hget(H_OUT_CAP);
  const limit = hget(H_OUT_LIMIT);
  if (limit != 0 && limit < outCap) outCap = limit;
  const binary = (conn & CONN_PROTOCOL) == CONN_BINARY;
  logBegin(!binary, inPtr);
  const status = binary
    ? binaryExecute(inPtr, n, hget(H_OUT_PTR), outCap)
    : textExecute(inPtr, n, hget(H_OUT_PTR), outCap);
  valueUnclaimed();
  logEnd();
  connBusyPublish();
  return status;
}

/** R_CONN_BUSY for the header as the call leaves it. */
function connBusyPublish(): void {
  let any: u32 = 0;
  for (let off = R_CONN_STATE; off < R_CONN_STATE + (CONN_WORDS << 2); off += 4) {
    if (off != R_CONN) any |= hget(off);
  }
  hset(R_CONN_BUSY, any != 0 ? 1 : 0);
}

/**
 * The connection whose state (R_CONN_STATE) the host has just written back
 * is gone: frees the item its value was arriving into, unpins the item
 * it was being sent, and ends its key dump.
 */
export function mc_conn_close(store: u32): u32 {
  arenaSelect(store);
  valuesRelease();
  dumpRelease();
  connBusyPublish();
  return ST_OK;
}

/**
 * Gives the store the credentials file for -S / -Y (`user:password` lines):
 * its first `len` bytes are in the input region. ST_NO_MEMORY if too long.
 */
export function mc_set_auth(store: u32, len: u32): u32 {
  arenaSelect(store);
  if (len > AUTH_MAX) return ST_NO_MEMORY;
  copy(S + AUTH_DATA, hget(H_IN_PTR), len);
  hset(H_AUTH_LEN, len);
  return ST_OK;
}

/** Clock, a bounded step of the expiry crawler, of the slab automover
 *  (after the crawler, so pages it emptied can return to the pool) and of
 *  hash expansion. */
export function mc_tick(store: u32, now: u32): u32 {
  arenaSelect(store);
  clockSet(now);
  crawlerStep(CRAWL_BUDGET);
  slabsAutomove();
  assocTick();
  return ST_OK;
}



/**
 * One logical operation for an embedding host (assembly/embed.ts): the key,
 * then the value, at the start of the input region; an OPR_* result, with
 * details in R_OP_* and the output region.
 */
export function mc_op(store: u32, op: u32, keyLen: u32, valueLen: u32, flags: u32, ttl: u32, casHi: u32, casLo: u32, now: u32): u32 {
  return embedOp(store, op, keyLen, valueLen, flags, ttl, casHi, casLo, now);
}

/**
 * One bounded step of a snapshot (assembly/snapshot.ts): the next item
 * records in the output region, about `maxBytes` of them (0 = the whole
 * region). `restart` != 0 begins a new walk. ST_OUT_FULL while items remain,
 * ST_OK once the walk is complete.
 */
export function mc_dump(store: u32, restart: u32, maxBytes: u32, now: u32): u32 {
  return snapshotDumpStep(store, restart, maxBytes, now);
}

/** Links the snapshot records in the input region's first `len` bytes. */
export function mc_load(store: u32, len: u32, now: u32): u32 {
  return snapshotLoad(store, len, now);
}
