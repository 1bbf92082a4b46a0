// Base64 as memcached's meta commands use it (the `b` flag): the decoder is
// memcached's base64.c (after Jouni Malinen's), which skips bytes outside the
// alphabet, needs a multiple of four symbols and stops at padding; 0 means
// "cannot decode", so an empty result is an error too.
import { ld8, st8, strByte } from '../mem';

const NOT_B64: u32 = 0x80;

function symbolValue(c: u32): u32 {
  if (c >= 65 && c <= 90) return c - 65;       // A-Z
  if (c >= 97 && c <= 122) return c - 71;      // a-z
  if (c >= 48 && c <= 57) return c + 4;        // 0-9
  if (c == 43) return 62;                      // +
  if (c == 47) return 63;                      // /
  if (c == 61) return 0;                       // = (padding)
  return NOT_B64;
}

/** Decodes [src, src+n) to dst (may be src); returns the length, 0 on error. */
export function base64Decode(src: u32, n: u32, dst: u32): u32 {
  let count: u32 = 0;
  for (let i: u32 = 0; i < n; i++) if (symbolValue(ld8(src + i)) != NOT_B64) count++;
  if (count == 0 || (count & 3) != 0) return 0;
  let pos = dst;
  let pad: u32 = 0;
  let b0: u32 = 0;
  let b1: u32 = 0;
  let b2: u32 = 0;
  count = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c: u32 = ld8(src + i);
    const v = symbolValue(c);
    if (v == NOT_B64) continue;
    if (c == 61) pad++;
    if (count == 0) b0 = v;
    else if (count == 1) b1 = v;
    else if (count == 2) b2 = v;
    count++;
    if (count == 4) {
      st8(pos, ((b0 << 2) | (b1 >>> 4)) & 0xff);
      st8(pos + 1, ((b1 << 4) | (b2 >>> 2)) & 0xff);
      st8(pos + 2, ((b2 << 6) | v) & 0xff);
      pos += 3;
      count = 0;
      if (pad != 0) {
        if (pad == 1) pos -= 1;
        else if (pad == 2) pos -= 2;
        else return 0;
        break;
      }
    }
  }
  return pos - dst;
}

/** Writes the base64 of [src, src+n) at dst, padded; returns its length. */
export function base64Encode(src: u32, n: u32, dst: u32): u32 {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let o = dst;
  let i: u32 = 0;
  while (n - i >= 3) {
    const a: u32 = ld8(src + i);
    const b: u32 = ld8(src + i + 1);
    const c: u32 = ld8(src + i + 2);
    st8(o, strByte(alphabet, a >>> 2));
    st8(o + 1, strByte(alphabet, ((a & 3) << 4) | (b >>> 4)));
    st8(o + 2, strByte(alphabet, ((b & 15) << 2) | (c >>> 6)));
    st8(o + 3, strByte(alphabet, c & 63));
    o += 4;
    i += 3;
  }
  if (n - i > 0) {
    const a: u32 = ld8(src + i);
    st8(o, strByte(alphabet, a >>> 2));
    if (n - i == 1) {
      st8(o + 1, strByte(alphabet, (a & 3) << 4));
      st8(o + 2, 61);
    } else {
      const b: u32 = ld8(src + i + 1);
      st8(o + 1, strByte(alphabet, ((a & 3) << 4) | (b >>> 4)));
      st8(o + 2, strByte(alphabet, (b & 15) << 2));
    }
    st8(o + 3, 61);
    o += 4;
  }
  return o - dst;
}
