// The snapshot file format, shared by the server (-e) and the library
// (dump/load): a header, the engine's item records (layout at the top of
// assembly/snapshot.ts), and a trailer. Nothing in it depends on -m, -I,
// the slab layout or the engine build, so a snapshot loads anywhere.
//
//   header   8  magic "WCSNAP\r\n"
//            4  u32 format version (SNAPSHOT_VERSION)
//            4  u32 unix time the snapshot began
//   records  ...
//   trailer  1  0 (a record's key length is never 0)
//            8  u64 record count
//            4  u32 CRC-32 (IEEE) of every byte before it
//
// All integers are little-endian. Only web-platform APIs here: the library
// runs in browsers and edge runtimes too.
import { SNAP_RECORD_HEADER, LIMIT_KEY_LEN } from '../assembly/abi.js';
import type { Store } from './engine/store.js';

export const SNAPSHOT_MAGIC = new Uint8Array([0x57, 0x43, 0x53, 0x4e, 0x41, 0x50, 0x0d, 0x0a]);
export const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 16;
const TRAILER_BYTES = 13;

/** A snapshot that cannot be loaded: the message says why, in one line. */
export class SnapshotError extends Error {}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Running CRC-32 (node:zlib's crc32 is missing from Node 20). */
export class Crc32 {
  private c = 0xffffffff;
  update(b: Uint8Array): void {
    let c = this.c;
    for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
    this.c = c;
  }
  get value(): number { return (this.c ^ 0xffffffff) >>> 0; }
}

function u32At(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

function putU32(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 255; b[i + 1] = (v >>> 8) & 255; b[i + 2] = (v >>> 16) & 255; b[i + 3] = (v >>> 24) & 255;
}

/** Bytes of records per step: small enough that a step (engine walk, CRC,
 *  copy) takes well under a millisecond or two. */
export const DUMP_STEP_BYTES = 65536;

/**
 * The snapshot of `store` as chunks: the header, one chunk of records per
 * engine step (about `stepBytes`, or one larger item; 0: the engine's whole
 * output region, for a caller that does not let anything run meanwhile), the
 * trailer.
 * A chunk of records is a view of the engine's output region, valid until the
 * store is next called: copy it before letting anything else run. Between two chunks the caller may let the
 * cache serve (a background snapshot); `nowSec` is read at each step.
 */
export function* dumpChunks(store: Store, nowSec: () => number, stepBytes = DUMP_STEP_BYTES): Generator<Uint8Array> {
  const crc = new Crc32();
  let count = 0;
  const header = new Uint8Array(HEADER_BYTES);
  header.set(SNAPSHOT_MAGIC);
  putU32(header, 8, SNAPSHOT_VERSION);
  putU32(header, 12, nowSec());
  crc.update(header);
  yield header;
  let more = true;
  let restart = true;
  while (more) {
    more = store.dumpStep(restart, stepBytes, nowSec());
    restart = false;
    count += store.snapItems;
    const out = store.output();
    if (out.length === 0) continue;
    crc.update(out);
    yield out;
  }
  const trailer = new Uint8Array(TRAILER_BYTES);
  putU32(trailer, 1, count % 4294967296);
  putU32(trailer, 5, Math.floor(count / 4294967296));
  crc.update(trailer.subarray(0, 9));
  putU32(trailer, 9, crc.value);
  yield trailer;
}

export interface LoadResult {
  /** Records in the snapshot. */
  records: number;
  /** Records linked into the store (the rest had expired, were over -I, or found no memory). */
  loaded: number;
  /** Unix time the snapshot began. */
  writtenAt: number;
}

/**
 * Reads a snapshot pushed in chunks of any size. With a store, complete
 * records go into it as they arrive; without one it only checks the bytes
 * (the server checks a file whole before loading anything from it).
 * Throws SnapshotError on anything but a whole, intact snapshot.
 */
export class SnapshotReader {
  private pending: Uint8Array = new Uint8Array(0);
  private readonly crc = new Crc32();
  private header = false;
  private done = false;
  private records = 0;
  private loaded = 0;
  private writtenAt = 0;

  constructor(private readonly store: Store | null, private readonly nowSec: () => number) {}

  push(chunk: Uint8Array): void {
    if (this.done) {
      if (chunk.length > 0) throw new SnapshotError('bytes after the trailer');
      return;
    }
    if (this.pending.length === 0) this.pending = chunk;
    else {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending);
      joined.set(chunk, this.pending.length);
      this.pending = joined;
    }
    let pos = 0;
    const b = this.pending;
    if (!this.header) {
      if (b.length < HEADER_BYTES) return;
      for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
        if (b[i] !== SNAPSHOT_MAGIC[i]) throw new SnapshotError('not a wasmcached snapshot (bad magic)');
      }
      const version = u32At(b, 8);
      if (version !== SNAPSHOT_VERSION) throw new SnapshotError(`snapshot format version ${version} is not supported (this build reads ${SNAPSHOT_VERSION})`);
      this.writtenAt = u32At(b, 12);
      this.crc.update(b.subarray(0, HEADER_BYTES));
      this.header = true;
      pos = HEADER_BYTES;
    }
    const cap = this.store ? this.store.inputCapacity : Infinity;
    while (pos < b.length) {
      if (b[pos] === 0) {
        if (b.length - pos < TRAILER_BYTES) break;
        this.crc.update(b.subarray(pos, pos + 9));
        const count = u32At(b, pos + 1) + u32At(b, pos + 5) * 4294967296;
        if (u32At(b, pos + 9) !== this.crc.value) throw new SnapshotError('checksum mismatch (the file is corrupt)');
        if (count !== this.records) throw new SnapshotError(`trailer counts ${count} records, the file holds ${this.records}`);
        if (b.length - pos > TRAILER_BYTES) throw new SnapshotError('bytes after the trailer');
        this.done = true;
        pos = b.length;
        break;
      }
      // A run of whole records that fits the store's input region.
      let end = pos;
      let n = 0;
      let oversized = false;
      while (end < b.length && b[end] !== 0) {
        if (b[end] > LIMIT_KEY_LEN) throw new SnapshotError('corrupt record (key length)');
        if (b.length - end < SNAP_RECORD_HEADER) break;
        const rec = SNAP_RECORD_HEADER + b[end] + u32At(b, end + 1);
        if (b.length - end < rec) break;
        if (end + rec - pos > cap) {
          // A record larger than the whole input region is larger than this
          // store's -I: counted and checked, not loaded.
          if (end === pos) { oversized = true; end += rec; n++; }
          break;
        }
        end += rec;
        n++;
      }
      if (end === pos) break;
      const run = b.subarray(pos, end);
      this.crc.update(run);
      this.records += n;
      if (this.store && !oversized) this.feed(run);
      pos = end;
    }
    // A copy: the caller may reuse its chunk's memory (Buffer.slice would not copy).
    this.pending = pos === b.length ? new Uint8Array(0) : new Uint8Array(b.subarray(pos));
  }

  private feed(run: Uint8Array): void {
    const store = this.store!;
    store.input().set(run);
    const used = store.loadRecords(run.length, this.nowSec());
    if (used !== run.length) throw new SnapshotError('corrupt record');
    this.loaded += store.snapItems;
  }

  /** The input is over: throws unless a whole snapshot was read. */
  end(): LoadResult {
    if (!this.header) throw new SnapshotError(this.pending.length === 0 ? 'the file is empty' : 'truncated header');
    if (!this.done) throw new SnapshotError('truncated (no trailer)');
    return { records: this.records, loaded: this.loaded, writtenAt: this.writtenAt };
  }
}
