// Key dumps: `lru_crawler metadump <classes|all|hash>`, `lru_crawler
// mgdump <...>` and `stats cachedump <class> <limit>`, with memcached's
// lines, terminators and refusals.
//
// memcached hands the connection to its crawler thread, which writes
// whenever the socket takes more. Here a dump is a walk over the slab pages
// (like the expiry crawler, crawler.ts) in bounded steps: each call writes
// lines until the output region is nearly full or DUMP_CHUNK_BUDGET chunks
// have been looked at, then ends with ST_OUT_FULL, leaving the command line
// unconsumed and the cursor (page, chunk index) in the connection's state.
// The host sends the lines and calls again once the socket has drained, so
// a dump of millions of keys never holds more than one call's output, other
// connections are served between its steps, and commands pipelined after it
// run when it ends.
//
// The cursor is an index, not an address, and is re-checked each step:
// pages that go back to the pool are skipped, a page that changed class is
// walked by its new chunk size. Items added behind the cursor are not
// listed, items ahead of it are; an item a page move copies from ahead of
// the cursor to behind it is missed, and one copied the other way is listed
// twice (page moves are rare, and memcached's LRU walk has the same gaps).
//
// `stats cachedump` streams the same way over its one class's pages, so
// memcdump and getAllKeys see every key of a large class. memcached walks
// the class's COLD LRU from its head instead, in one reply capped at 2 MB;
// an LRU cursor would point at freed memory once its item is unlinked
// between calls, so the order here is page order, not recency. It takes no
// crawler (memcached answers it on the worker thread): it is never BUSY,
// and connections may run theirs at the same time.
import { ld8, ld32 } from '../mem';
import { hget, hset, H_OPTS, H_PROCESS_STARTED, H_CRAWLER_ON, H_PAGES_CARVED, H_DUMP_OWNER, H_DUMP_SERIAL } from '../arena';
import {
  R_DUMP, R_DUMP_PAGE, R_DUMP_CHUNK, R_DUMP_ID, DUMP_META, DUMP_MG, DUMP_CACHE, OPT_NO_DUMP, OPT_NO_CAS, MAX_CLASSES,
} from '../abi';
import { IT_IFLAGS, IF_LINKED, IF_FETCHED, IF_KEY_BINARY, IT_KLEN, IT_KEY, IT_EXPTIME, IT_TIME, IT_CAS_LO, IT_CAS_HI, IT_CLS, IT_FLAGS, IT_VLEN } from '../items_layout';
import { itemIsExpired, itemIsFlushed } from '../items';
import { pageOwner, pageFirst, pageEnd, clGet, CL_SIZE } from '../slabs';
import { tokPtr, tokEnd, tokIs } from './tokens';
import { outStr, outByte, outBytes, outCRLF, outU32, outU64, outRoom, outRewind, OUT } from './out';
import { outString } from './reply';
import { parseU32, N_LO } from '../numbers';
import { P_DONE, P_OUT_FULL } from './flow';
import { base64Encode } from './base64';

/** Chunks looked at per call: bounds a call's time when few are live. */
const DUMP_CHUNK_BUDGET: u32 = 262144;
/** Room for the longest line: a 250-byte key uri-encoded, plus the fields. */
const LINE_MAX: u32 = 1024;

/** Classes to list (bit c of the pair), from the command's class argument. */
let MASK_LO: u32 = 0;
let MASK_HI: u32 = 0;

/** Parses `all`, `hash` or `<id>,<id>,...` (ids 1..63, memcached's
 *  lru_crawler_crawl); false for a bad class. */
export function parseClasses(i: u32): bool {
  if (tokIs(i, 'all') || tokIs(i, 'hash')) {
    MASK_LO = 0xffffffff;
    MASK_HI = 0xffffffff;
    return true;
  }
  MASK_LO = 0;
  MASK_HI = 0;
  const end = tokEnd(i);
  let p = tokPtr(i);
  while (p < end) {
    let q = p;
    while (q < end && ld8(q) != 44) q++;
    if (q > p) {
      if (!parseU32(p, q)) return false;
      const c = N_LO;
      if (c < 1 || c > MAX_CLASSES) return false;
      if (c < 32) MASK_LO |= 1 << c; else MASK_HI |= 1 << (c - 32);
    }
    p = q + 1;
  }
  return true;
}

/** Whether the last parseClasses() named class c. */
export function classWanted(c: u32): bool {
  return c < 32 ? (MASK_LO & (1 << c)) != 0 : (MASK_HI & (1 << (c - 32))) != 0;
}

/** Whether some connection's dump is running (`lru_crawler crawl` is BUSY). */
export function dumpRunning(): bool { return hget(H_DUMP_OWNER) != 0; }

/** The connection is gone: its dump, if any, stops. */
export function dumpRelease(): void {
  const kind = hget(R_DUMP);
  if (kind != 0 && kind != DUMP_CACHE && hget(H_DUMP_OWNER) == hget(R_DUMP_ID)) hset(H_DUMP_OWNER, 0);
  hset(R_DUMP, 0);
}

/**
 * `lru_crawler metadump|mgdump <classes>` (3 tokens and the terminal one);
 * `outStart` is where this call's output began, to refuse a dump behind
 * other replies as memcached does. P_OUT_FULL while lines remain.
 */
export function processDump(kind: u32, outStart: u32): u32 {
  if (hget(R_DUMP) == 0) {
    if (hget(H_CRAWLER_ON) == 0) { outString('CLIENT_ERROR lru crawler disabled'); return P_DONE; }
    if ((hget(H_OPTS) & OPT_NO_DUMP) != 0) {
      outString(kind == DUMP_META ? 'ERROR metadump not allowed' : 'ERROR key dump not allowed');
      return P_DONE;
    }
    if (OUT != outStart) {
      outString(kind == DUMP_META
        ? 'ERROR cannot pipeline other commands before metadump'
        : 'ERROR cannot pipeline other commands before mgdump');
      return P_DONE;
    }
    if (hget(H_DUMP_OWNER) != 0) { outString('BUSY currently processing crawler request'); return P_DONE; }
    if (!parseClasses(2)) { outString('BADCLASS invalid class id'); return P_DONE; }
    let id = hget(H_DUMP_SERIAL) + 1;
    if (id == 0) id = 1;
    hset(H_DUMP_SERIAL, id);
    hset(H_DUMP_OWNER, id);
    hset(R_DUMP_ID, id);
    hset(R_DUMP, kind);
    hset(R_DUMP_PAGE, 0);
    hset(R_DUMP_CHUNK, 0);
  } else {
    // The same command line again: its classes were valid when it began.
    parseClasses(2);
  }
  if (dumpStep(kind)) return P_OUT_FULL;
  outStr(kind == DUMP_META ? 'END' : 'EN');
  outCRLF();
  dumpRelease();
  return P_DONE;
}

/** Writes lines from the cursor on; true when stopped before the end. */
function dumpStep(kind: u32): bool {
  const pages = hget(H_PAGES_CARVED);
  let page = hget(R_DUMP_PAGE);
  let idx = hget(R_DUMP_CHUNK);
  let budget = DUMP_CHUNK_BUDGET;
  while (page < pages) {
    const c = pageOwner(page);
    if (c == 0 || !classWanted(c)) { page++; idx = 0; continue; }
    const size = clGet(c, CL_SIZE);
    const end = pageEnd(page);
    let p = pageFirst(page) + idx * size;
    while (p < end) {
      if (budget == 0 || outRoom() < LINE_MAX) {
        hset(R_DUMP_PAGE, page);
        hset(R_DUMP_CHUNK, idx);
        return true;
      }
      budget--;
      if ((ld8(p + IT_IFLAGS) & IF_LINKED) != 0 && !itemIsExpired(p) && !itemIsFlushed(p)) {
        if (kind == DUMP_META) metaLine(p); else mgLine(p);
      }
      p += size;
      idx++;
    }
    page++;
    idx = 0;
  }
  return false;
}

/**
 * `stats cachedump <c> <limit>` for a valid class id `c` (checked by the
 * caller); `limit` 0 = every item. P_OUT_FULL while lines remain.
 */
export function processCachedump(c: u32, limit: u32): u32 {
  if (hget(R_DUMP) == 0) {
    hset(R_DUMP, DUMP_CACHE);
    hset(R_DUMP_PAGE, 0);
    hset(R_DUMP_CHUNK, 0);
    hset(R_DUMP_ID, 0);
  }
  if (cacheStep(c, limit)) return P_OUT_FULL;
  outStr('END');
  outCRLF();
  dumpRelease();
  return P_DONE;
}

/** Writes ITEM lines of class `c` from the cursor on; true when stopped
 *  before the end (output nearly full or the chunk budget spent). */
function cacheStep(c: u32, limit: u32): bool {
  const pages = hget(H_PAGES_CARVED);
  const started = hget(H_PROCESS_STARTED);
  let page = hget(R_DUMP_PAGE);
  let idx = hget(R_DUMP_CHUNK);
  let shown = hget(R_DUMP_ID);
  let budget = DUMP_CHUNK_BUDGET;
  const size = c <= MAX_CLASSES ? clGet(c, CL_SIZE) : 0;
  while (page < pages && (limit == 0 || shown < limit)) {
    if (pageOwner(page) != c) { page++; idx = 0; continue; }
    const end = pageEnd(page);
    let p = pageFirst(page) + idx * size;
    while (p < end && (limit == 0 || shown < limit)) {
      if (budget == 0 || outRoom() < LINE_MAX) {
        hset(R_DUMP_PAGE, page);
        hset(R_DUMP_CHUNK, idx);
        hset(R_DUMP_ID, shown);
        return true;
      }
      budget--;
      // As memcached: linked items, expired ones not yet reclaimed included;
      // binary (base64-given) keys are not printed.
      const fl: u32 = ld8(p + IT_IFLAGS);
      if ((fl & IF_LINKED) != 0 && (fl & IF_KEY_BINARY) == 0) {
        const e = ld32(p + IT_EXPTIME);
        outStr('ITEM ');
        outBytes(p + IT_KEY, ld8(p + IT_KLEN));
        outStr(' [');
        outU32(ld32(p + IT_VLEN));
        outStr(' b; ');
        outU32(e == 0 ? 0 : e + started);
        outStr(' s]');
        outCRLF();
        shown++;
      }
      p += size;
      idx++;
    }
    if (p >= end) { page++; idx = 0; }
  }
  return false;
}

/** key=<uri-encoded> exp=<unix|-1> la=<unix> cas=<n> fetch=<yes|no> cls=<n> size=<n>\n
 *  (memcached ends these lines with "\n" alone). */
function metaLine(it: u32): void {
  const started = hget(H_PROCESS_STARTED);
  const nkey: u32 = ld8(it + IT_KLEN);
  outStr('key=');
  uriEncode(it + IT_KEY, nkey);
  outStr(' exp=');
  const e = ld32(it + IT_EXPTIME);
  if (e == 0) outStr('-1'); else outU32(e + started);
  outStr(' la=');
  outU32(ld32(it + IT_TIME) + started);
  outStr(' cas=');
  outU64(ld32(it + IT_CAS_HI), ld32(it + IT_CAS_LO));
  outStr((ld8(it + IT_IFLAGS) & IF_FETCHED) != 0 ? ' fetch=yes' : ' fetch=no');
  outStr(' cls=');
  outU32(ld8(it + IT_CLS));
  outStr(' size=');
  outU32(memcachedItemSize(it));
  outByte(10);
}

/** memcached's ITEM_ntotal for the same item (its 48-byte header, the CAS
 *  unless -C, key and NUL, value and CRLF, flags when nonzero), so sizes
 *  read as they would from memcached. */
function memcachedItemSize(it: u32): u32 {
  let n: u32 = 48 + ld8(it + IT_KLEN) + 1 + ld32(it + IT_VLEN) + 2;
  if ((hget(H_OPTS) & OPT_NO_CAS) == 0) n += 8;
  if (ld32(it + IT_FLAGS) != 0) n += 4;
  return n;
}

/** mg <key>\r\n, or mg <base64> b\r\n for a key given in base64. */
function mgLine(it: u32): void {
  const nkey: u32 = ld8(it + IT_KLEN);
  outStr('mg ');
  if ((ld8(it + IT_IFLAGS) & IF_KEY_BINARY) != 0) {
    outBytesBase64(it + IT_KEY, nkey);
    outStr(' b');
  } else {
    outBytes(it + IT_KEY, nkey);
  }
  outCRLF();
}

function outBytesBase64(p: u32, n: u32): void {
  outRewind(OUT + base64Encode(p, n, OUT));
}

/** memcached's uriencode: letters, digits and -._~ stay, the rest %XX. */
function uriEncode(p: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const ch: u32 = ld8(p + i);
    const plain = (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122)
      || ch == 45 || ch == 46 || ch == 95 || ch == 126;
    if (plain) { outByte(ch); continue; }
    outByte(37);
    outByte(hexDigit(ch >>> 4));
    outByte(hexDigit(ch & 15));
  }
}

function hexDigit(v: u32): u32 { return v < 10 ? 48 + v : 55 + v; }
