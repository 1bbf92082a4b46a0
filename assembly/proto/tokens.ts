// memcached's text tokenizer (proto_text.c tokenize_command): splits a line
// on single spaces (runs of spaces are skipped; TAB is not a separator) into
// at most MAX_TOKENS - 1 tokens plus a terminal token. The terminal token has
// length 0 and points at the unprocessed rest of the line, or is 0 (NULL)
// when the whole line was split. `ntokens` counts the terminal token, as
// memcached's arity checks do.
//
// The table lives in the store's scratch area: token i is (ptr, len) at
// S + SCRATCH + 8i.
import { ld8, ld32, st32, eq, find, strLen, strByte } from '../mem';
import { S, SCRATCH } from '../arena';

export const MAX_TOKENS: u32 = 24;

export function tokPtr(i: u32): u32 { return ld32(S + SCRATCH + (i << 3)); }
export function tokLen(i: u32): u32 { return ld32(S + SCRATCH + (i << 3) + 4); }
export function tokEnd(i: u32): u32 { return tokPtr(i) + tokLen(i); }

function tokSet(i: u32, p: u32, n: u32): void {
  st32(S + SCRATCH + (i << 3), p);
  st32(S + SCRATCH + (i << 3) + 4, n);
}

/** Whether bytes [p, p+n) spell the ASCII string s. */
export function bytesAre(p: u32, n: u32, s: string): bool {
  if (n != strLen(s)) return false;
  for (let i: u32 = 0; i < n; i++) if (ld8(p + i) != strByte(s, i)) return false;
  return true;
}

/** strcmp(tokens[i].value, s) == 0 for a real (non-terminal) token. */
export function tokIs(i: u32, s: string): bool { return bytesAre(tokPtr(i), tokLen(i), s); }

export function tokenize(p: u32, end: u32): u32 {
  let n: u32 = 0;
  let s = p;
  let e = p;
  while (e < end) {
    // The next space, eight bytes at a time (mem.ts).
    e = find(e, end, 32);
    if (e == end) break;
    if (s != e) {
      tokSet(n, s, e - s);
      n++;
      if (n == MAX_TOKENS - 1) {
        e++;
        s = e;
        break;
      }
    }
    s = e + 1;
    e++;
  }
  if (s != e) {
    tokSet(n, s, e - s);
    n++;
  }
  tokSet(n, e >= end ? 0 : e, 0);
  n++;
  return n;
}

/** Next space-separated word at or after p (skipping spaces); WORD_END set. */
export let WORD_END: u32 = 0;
export function nextWord(p: u32, end: u32): u32 {
  while (p < end && ld8(p) == 32) p++;
  WORD_END = find(p, end, 32);
  return p;
}

export { eq };
