// 64-bit unsigned arithmetic on (hi, lo) pairs of u32, for CAS uniques and
// incr/decr. The engine is written in a subset that also runs as plain JS,
// where u64 does not exist; every step here keeps intermediates below 2^32 in
// the WASM build and below 2^53 in the JS build, so both agree bit for bit.
//
// Results come back in the module variables R_HI / R_LO (transient, per call).
import { ld8, st8, ld32, st32 } from './mem';

export let R_HI: u32 = 0;
export let R_LO: u32 = 0;
/** Set by u64Parse when the digits do not fit 64 bits. */
export let R_OVERFLOW: bool = false;

/** (hi, lo) + (bhi, blo), wrapping mod 2^64. */
export function u64Add(hi: u32, lo: u32, bhi: u32, blo: u32): void {
  const l: u32 = (lo + blo) >>> 0;
  const carry: u32 = l < lo ? 1 : 0;
  R_LO = l;
  R_HI = (hi + bhi + carry) >>> 0;
}

/** (hi, lo) - (bhi, blo), wrapping mod 2^64. */
export function u64Sub(hi: u32, lo: u32, bhi: u32, blo: u32): void {
  const borrow: u32 = blo > lo ? 1 : 0;
  R_LO = (lo - blo) >>> 0;
  R_HI = (hi - bhi - borrow) >>> 0;
}

/** a < b */
export function u64Lt(ahi: u32, alo: u32, bhi: u32, blo: u32): bool {
  return ahi < bhi || (ahi == bhi && alo < blo);
}

/** Increments the 64-bit counter at address p (lo word first). */
export function u64IncAt(p: u32): void {
  const lo: u32 = (ld32(p) + 1) >>> 0;
  st32(p, lo);
  if (lo == 0) st32(p + 4, (ld32(p + 4) + 1) >>> 0);
}

/** Adds a u32 to the 64-bit counter at p. */
export function u64AddAt(p: u32, v: u32): void {
  const lo0: u32 = ld32(p);
  const lo: u32 = (lo0 + v) >>> 0;
  st32(p, lo);
  if (lo < lo0) st32(p + 4, (ld32(p + 4) + 1) >>> 0);
}

/** Subtracts a u32 from the 64-bit counter at p. */
export function u64SubAt(p: u32, v: u32): void {
  const lo0: u32 = ld32(p);
  st32(p, (lo0 - v) >>> 0);
  if (v > lo0) st32(p + 4, (ld32(p + 4) - 1) >>> 0);
}

/**
 * Parses decimal digits at [p, end) into R_HI/R_LO. Stops at the first
 * non-digit and returns its address. R_OVERFLOW is set (and the value is
 * meaningless) when the number needs more than 64 bits.
 */
export function u64Parse(p: u32, end: u32): u32 {
  let hi: u32 = 0;
  let lo: u32 = 0;
  let over = false;
  while (p < end) {
    const c: u32 = ld8(p);
    if (c < 48 || c > 57) break;
    const d: u32 = c - 48;
    // lo * 10 + d in 16-bit halves, so no intermediate exceeds 2^32.
    const t: u32 = (lo & 0xffff) * 10 + d;
    const u: u32 = (lo >>> 16) * 10 + (t >>> 16);
    lo = (((u & 0xffff) << 16) | (t & 0xffff)) >>> 0;
    const carry: u32 = u >>> 16;
    if (hi > 429496729) over = true;
    const hi10: u32 = (hi * 10) >>> 0;
    if (carry > 0xffffffff - hi10) over = true;
    hi = (hi10 + carry) >>> 0;
    p++;
  }
  R_HI = hi;
  R_LO = lo;
  R_OVERFLOW = over;
  return p;
}

/**
 * Writes (hi, lo) in decimal at p; returns the address after the last digit.
 * Divides by 10 in 16-bit limbs, most significant first.
 */
export function u64Format(hi: u32, lo: u32, p: u32, scratch: u32): u32 {
  if (hi == 0 && lo == 0) {
    st8(p, 48);
    return p + 1;
  }
  let n: u32 = 0;
  let a: u32 = hi >>> 16;
  let b: u32 = hi & 0xffff;
  let c: u32 = lo >>> 16;
  let d: u32 = lo & 0xffff;
  while ((a | b | c | d) != 0) {
    let r: u32 = 0;
    let cur: u32 = a;
    a = (cur / 10) >>> 0; r = cur - a * 10;
    cur = r * 65536 + b; b = (cur / 10) >>> 0; r = cur - b * 10;
    cur = r * 65536 + c; c = (cur / 10) >>> 0; r = cur - c * 10;
    cur = r * 65536 + d; d = (cur / 10) >>> 0; r = cur - d * 10;
    st8(scratch + n, 48 + r);
    n++;
  }
  return copyReversed(scratch, n, p);
}

/** Copies the n digits at scratch (least significant first) to p, in order. */
function copyReversed(scratch: u32, n: u32, p: u32): u32 {
  while (n > 0) {
    n--;
    st8(p, ld8(scratch + n));
    p++;
  }
  return p;
}

/** Writes a u32 in decimal at p; returns the address after it. */
export function u32Format(v: u32, p: u32, scratch: u32): u32 {
  if (v == 0) {
    st8(p, 48);
    return p + 1;
  }
  let n: u32 = 0;
  while (v != 0) {
    const q: u32 = (v / 10) >>> 0;
    st8(scratch + n, 48 + (v - q * 10));
    v = q;
    n++;
  }
  return copyReversed(scratch, n, p);
}
