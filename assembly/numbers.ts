// Decimal parsing with the exact acceptance rules of memcached's safe_strtol,
// safe_strtoul and safe_strtoull (util.c), which clients and memcached's own
// tests depend on: leading whitespace and a sign are allowed, at least one
// digit is required, the number must end the token or be followed by
// whitespace or a NUL, values that overflow 64 bits are rejected, and a '-' is
// rejected only when the result would read as negative (so "-0" is 0).
// Results: N_HI/N_LO.
import { ld8 } from './mem';
import { u64Parse, u64Sub, R_HI, R_LO, R_OVERFLOW } from './u64';

export function isSpace(c: u32): bool { return c == 32 || (c >= 9 && c <= 13); }

/** Value of the last successful parse, low 32 bits (strtol: as i32 bits). */
export let N_LO: u32 = 0;
export let N_HI: u32 = 0;

/** Sign of the number scanParse last read. */
let NEG: bool = false;

/** The magnitude scanParse read. */
let S_HI: u32 = 0;
let S_LO: u32 = 0;
/** strchr(str, '-') over [p, end). */
function hasMinus(p: u32, end: u32): bool {
  for (let m = p; m < end; m++) if (ld8(m) == 45) return true;
  return false;
}

/**
 * The part every safe_strto* shares: whitespace, optional sign, digits (into
 * S_HI/S_LO), and what may follow them: whitespace, the end, or a NUL (for
 * strtoull a stored value such as "5\0" is the number 5). False when there
 * are no digits or more than 64 bits of them.
 */
function scanParse(p: u32, end: u32): bool {
  let q = p;
  while (q < end && isSpace(ld8(q))) q++;
  NEG = false;
  if (q < end) {
    const c: u32 = ld8(q);
    if (c == 45 || c == 43) { NEG = c == 45; q++; }
  }
  const stop = u64Parse(q, end);
  if (R_OVERFLOW) return false;
  if (stop == q) return false;
  S_HI = R_HI;
  S_LO = R_LO;
  if (stop == end) return true;
  const c: u32 = ld8(stop);
  return c == 0 || isSpace(c);
}

/** strtoull semantics over [p, end); true on success (N_HI/N_LO). */
export function parseU64(p: u32, end: u32): bool {
  if (!scanParse(p, end)) return false;
  let hi = S_HI;
  let lo = S_LO;
  if (NEG) {
    u64Sub(0, 0, hi, lo);
    hi = R_HI;
    lo = R_LO;
  }
  // memcached looks for a '-' only when the result reads as negative.
  if ((hi & 0x80000000) != 0 && hasMinus(p, end)) return false;
  N_HI = hi;
  N_LO = lo;
  return true;
}

/** safe_strtoul: as parseU64 (unsigned long is 64-bit), truncated to 32 bits. */
export function parseU32(p: u32, end: u32): bool {
  if (!parseU64(p, end)) return false;
  N_HI = 0;
  return true;
}

/** safe_strtol: signed 64-bit range, then truncated to int32 (N_LO bits). */
export function parseI32(p: u32, end: u32): bool {
  if (!scanParse(p, end)) return false;
  const hi = S_HI;
  const lo = S_LO;
  if (!NEG && hi >= 0x80000000) return false;
  if (NEG && (hi > 0x80000000 || (hi == 0x80000000 && lo != 0))) return false;
  N_LO = NEG ? (0 - lo) >>> 0 : lo;
  N_HI = 0;
  return true;
}
