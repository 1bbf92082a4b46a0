// The output region writer. OUT..OUT_END is the free part of the region of
// the current call; callers check outRoom() before writing a reply that could
// be large (proto/text.ts keeps a reserve so small replies always fit).
import { st8, copy, strLen, strByte } from '../mem';
import { S, SCRATCH } from '../arena';
import { u32Format, u64Format } from '../u64';

export let OUT: u32 = 0;
export let OUT_END: u32 = 0;

/** Scratch for number formatting (digits are written reversed here first). */
function numScratch(): u32 { return S + SCRATCH + 1024; }

export function outBegin(p: u32, end: u32): void { OUT = p; OUT_END = end; }
export function outRoom(): u32 { return OUT_END - OUT; }
export function outRewind(p: u32): void { OUT = p; }

export function outByte(c: u32): void { st8(OUT, c); OUT++; }

export function outStr(s: string): void {
  const n = strLen(s);
  for (let i: u32 = 0; i < n; i++) st8(OUT + i, strByte(s, i));
  OUT += n;
}

export function outBytes(p: u32, n: u32): void { copy(OUT, p, n); OUT += n; }
export function outCRLF(): void { st8(OUT, 13); st8(OUT + 1, 10); OUT += 2; }
export function outU32(v: u32): void { OUT = u32Format(v, OUT, numScratch()); }
export function outU64(hi: u32, lo: u32): void { OUT = u64Format(hi, lo, OUT, numScratch()); }
/** A signed 32-bit value. */
export function outI32(v: u32): void {
  if ((v & 0x80000000) != 0) { outByte(45); outU32((0 - v) >>> 0); } else outU32(v);
}
let Q_HI: u32 = 0;
let Q_LO: u32 = 0;

/** (hi, lo) / d for d < 65536 in 16-bit limbs; quotient in Q_HI/Q_LO. */
function divSmall(hi: u32, lo: u32, d: u32): u32 {
  let r: u32 = 0;
  let cur: u32 = hi >>> 16;
  const a: u32 = (cur / d) >>> 0; r = cur - a * d;
  cur = r * 65536 + (hi & 0xffff);
  const b: u32 = (cur / d) >>> 0; r = cur - b * d;
  cur = r * 65536 + (lo >>> 16);
  const c: u32 = (cur / d) >>> 0; r = cur - c * d;
  cur = r * 65536 + (lo & 0xffff);
  const e: u32 = (cur / d) >>> 0; r = cur - e * d;
  Q_HI = ((a << 16) | b) >>> 0;
  Q_LO = ((c << 16) | e) >>> 0;
  return r;
}

/** Microseconds as memcached prints rusage: "<seconds>.<6 digits>". */
export function outMicros(hi: u32, lo: u32): void {
  const r1 = divSmall(hi, lo, 1000);
  const r2 = divSmall(Q_HI, Q_LO, 1000);
  outU64(Q_HI, Q_LO);
  outByte(46);
  let r: u32 = r2 * 1000 + r1;
  let div: u32 = 100000;
  while (div > 0) {
    const digit = (r / div) >>> 0;
    outByte(48 + digit);
    r -= digit * div;
    div = (div / 10) >>> 0;
  }
}
