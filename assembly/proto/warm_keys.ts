// What the host must see before some commands run while it warms this node
// from an old one (--warm-from, src/warm.ts), for every protocol:
//  - a read (get gets gat gats bget mg; binary get, getq, getk, getkq, gat,
//    gatq, gatk, gatkq) of a key this node does not have: the host asks the
//    old node and stores a hit with add semantics, so the command answers it
//    as if it had been here (miss-through, mcrouter's WarmUpRoute);
//  - a delete (delete, md; binary delete, deleteq) of any key: the key must
//    not come back from the old node afterwards;
//  - flush_all (text or binary): the copy ends.
//
// When H_WARMING has the command's bit and a call reaches such a command not
// yet checked, the engine looks at it and at the watched commands after it
// already in the input (a run: pipelined getkq or `mg ... q` cost the host one
// round trip to the old node, not one per key), without side effects (no LRU
// bump, no counter; an expired item counts as missing). If any key must be
// seen, the call ends with ST_WARM_KEYS before that command, the list of keys
// after the call's output; otherwise the commands simply run. The host then
// calls again with the same input: R_WARM_CHECKED (bytes from the resume
// point) makes the checked commands run normally, exactly once.
//
// Bounds: a run stops before a command once RUN_KEYS keys or RUN_BYTES bytes
// are listed; the keys of one command beyond LIST_CAP bytes of list are not
// looked up (about 1,000 keys of 30 bytes: those keys answer from here). A
// text multiget longer than 16 KiB that arrives in pieces (text.ts R_MGET) is
// answered key by key without miss-through.
//
// List entry: kind (WARM_KEY_*), key length, key bytes.
import { ld8, st8, copy, find } from '../mem';
import { hget, hset, H_OPTS } from '../arena';
import {
  H_WARMING, WARMING_DELETES, WARMING_MISS_THROUGH, R_WARM_CHECKED, R_WARM_KEYS_LEN, WARM_KEY_LOOKUP,
  WARM_KEY_DELETE, WARM_KEY_FLUSH, LIMIT_KEY_LEN, OPT_NO_FLUSH,
} from '../abi';
import { itemPeek, itemHash } from '../items';
import { tokenize, tokPtr, tokLen, tokEnd, tokIs, nextWord, WORD_END } from './tokens';
import { parseI32 } from '../numbers';
import { metaKeyOf, metaKey, metaKeyLen } from './meta';
import { OUT, outRoom } from './out';

/** A run stops before a command once this many keys are listed... */
const RUN_KEYS: u32 = 1000;
/** ...or the list holds this many bytes. */
const RUN_BYTES: u32 = 16384;
/** Most bytes of list (the output reserve of flow.ts always has room for it). */
const LIST_CAP: u32 = 32768;

/** H_WARMING for this call. */
let WARMING: u32 = 0;
/** Commands starting before this input position are checked. */
let CHECKED_END: u32 = 0;
let LIST: u32 = 0;
let LIST_END: u32 = 0;
let LIST_LIMIT: u32 = 0;
let LOOKUPS: u32 = 0;

/** Start of a call on input at inPtr. */
export function warmCallBegin(inPtr: u32): void {
  WARMING = hget(H_WARMING);
  CHECKED_END = inPtr + hget(R_WARM_CHECKED);
}

/** End of a call that consumed input up to pos: what stays checked. */
export function warmCallEnd(pos: u32): void {
  hset(R_WARM_CHECKED, CHECKED_END > pos ? CHECKED_END - pos : 0);
}

/** Whether the command at pos must be looked at first. */
export function warmDue(pos: u32): bool { return WARMING != 0 && pos >= CHECKED_END; }

/** Whether commands of this WARMING_* kind are watched now. */
export function warmWatches(bit: u32): bool { return (WARMING & bit) != 0; }

/** Starts a run's list right after the output written so far. */
export function warmRunBegin(): void {
  LIST = OUT;
  LIST_END = OUT;
  const room = outRoom();
  LIST_LIMIT = OUT + (room < LIST_CAP ? room : LIST_CAP);
  LOOKUPS = 0;
}

/** Whether the run may take another command (the first one always). */
export function warmRunRoom(notFirst: bool): bool {
  return !notFirst || (LOOKUPS < RUN_KEYS && LIST_END - LIST < RUN_BYTES);
}

function listAdd(kind: u32, key: u32, nkey: u32): void {
  if (LIST_END + 2 + nkey > LIST_LIMIT) return;
  st8(LIST_END, kind);
  st8(LIST_END + 1, nkey);
  copy(LIST_END + 2, key, nkey);
  LIST_END += 2 + nkey;
  if (kind == WARM_KEY_LOOKUP) LOOKUPS++;
}

/** A command will read this key: listed if it is not here. */
export function warmLookup(key: u32, nkey: u32): void {
  if (itemPeek(key, nkey, itemHash(key, nkey)) == 0) listAdd(WARM_KEY_LOOKUP, key, nkey);
}

/** A command will delete this key. */
export function warmDelete(key: u32, nkey: u32): void { listAdd(WARM_KEY_DELETE, key, nkey); }

/** flush_all will run. */
export function warmFlush(): void { listAdd(WARM_KEY_FLUSH, 0, 0); }

/** The run ended before `next`: true (ST_WARM_KEYS) if it listed anything. */
export function warmRunEnd(next: u32): bool {
  if (next > CHECKED_END) CHECKED_END = next;
  if (LIST_END == LIST) return false;
  hset(R_WARM_KEYS_LEN, LIST_END - LIST);
  return true;
}

// ---- the text protocol (text.ts calls this before a complete line runs) ----------

/** The run of watched lines from pos; true when the call must end with ST_WARM_KEYS. */
export function warmCheckText(pos: u32, inEnd: u32): bool {
  warmRunBegin();
  let p = pos;
  while (p < inEnd && warmRunRoom(p != pos)) {
    const nl = find(p, inEnd, 10);
    if (nl == inEnd) break;
    // The line as text.ts cuts it: without CR, up to a NUL.
    let lineEnd = nl;
    if (nl - p > 1 && ld8(nl - 1) == 13) lineEnd = nl - 1;
    lineEnd = find(p, lineEnd, 0);
    if (!textLine(p, lineEnd)) break;
    p = nl + 1;
  }
  return warmRunEnd(p);
}

/** Lists what one line needs; false when it is not a watched command. */
function textLine(p: u32, lineEnd: u32): bool {
  const ntok = tokenize(p, lineEnd);
  if (ntok < 2) return false;
  const reads = warmWatches(WARMING_MISS_THROUGH);
  const deletes = warmWatches(WARMING_DELETES);
  if (tokIs(0, 'get') || tokIs(0, 'gets') || tokIs(0, 'bget')) {
    if (!reads) return false;
    if (ntok >= 3) lookupWords(tokPtr(1), lineEnd);
    return true;
  }
  if (tokIs(0, 'gat') || tokIs(0, 'gats')) {
    if (!reads) return false;
    if (ntok >= 4 && parseI32(tokPtr(1), tokEnd(1))) lookupWords(tokPtr(2), lineEnd);
    return true;
  }
  if (tokIs(0, 'mg')) {
    if (!reads) return false;
    if (metaKeyOf(ntok)) warmLookup(metaKey(), metaKeyLen());
    return true;
  }
  if (tokIs(0, 'md')) {
    if (!deletes) return false;
    if (metaKeyOf(ntok)) warmDelete(metaKey(), metaKeyLen());
    return true;
  }
  if (tokIs(0, 'delete')) {
    if (!deletes) return false;
    if (ntok >= 3 && ntok <= 5 && tokLen(1) <= LIMIT_KEY_LEN) warmDelete(tokPtr(1), tokLen(1));
    return true;
  }
  if (tokIs(0, 'flush_all')) {
    if (!deletes) return false;
    if ((hget(H_OPTS) & OPT_NO_FLUSH) == 0) warmFlush();
    return true;
  }
  // mn is answered at once: a run goes past it.
  return tokIs(0, 'mn');
}

/** The keys of a get-family line from `keys` on; none when one is over 250
 *  bytes (the command then answers CLIENT_ERROR and no value). */
function lookupWords(keys: u32, lineEnd: u32): void {
  let p = nextWord(keys, lineEnd);
  while (p < lineEnd) {
    if (WORD_END - p > LIMIT_KEY_LEN) return;
    p = nextWord(WORD_END, lineEnd);
  }
  p = nextWord(keys, lineEnd);
  while (p < lineEnd) {
    const e = WORD_END;
    warmLookup(p, e - p);
    p = nextWord(e, lineEnd);
  }
}
