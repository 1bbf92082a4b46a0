// MurmurHash3 (x86, 32-bit) over key bytes, the hash memcached uses by
// default. Keys are at most 250 bytes; reads are unaligned 4-byte words.
import { ld8, ld32u, mul32 } from './mem';

function rotl(x: u32, r: u32): u32 { return ((x << r) | (x >>> (32 - r))) >>> 0; }

export function hashKey(p: u32, n: u32): u32 {
  const c1: u32 = 0xcc9e2d51;
  const c2: u32 = 0x1b873593;
  let h: u32 = 0;
  const end4: u32 = p + (n & ~3);
  let q: u32 = p;
  while (q < end4) {
    let k: u32 = ld32u(q);
    k = mul32(k, c1);
    k = rotl(k, 15);
    k = mul32(k, c2);
    h = (h ^ k) >>> 0;
    h = rotl(h, 13);
    h = (mul32(h, 5) + 0xe6546b64) >>> 0;
    q += 4;
  }
  let k1: u32 = 0;
  const tail: u32 = n & 3;
  if (tail == 3) k1 = (k1 ^ (ld8(q + 2) << 16)) >>> 0;
  if (tail >= 2) k1 = (k1 ^ (ld8(q + 1) << 8)) >>> 0;
  if (tail >= 1) {
    k1 = (k1 ^ ld8(q)) >>> 0;
    k1 = mul32(k1, c1);
    k1 = rotl(k1, 15);
    k1 = mul32(k1, c2);
    h = (h ^ k1) >>> 0;
  }
  h = (h ^ n) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = mul32(h, 0x85ebca6b);
  h = (h ^ (h >>> 13)) >>> 0;
  h = mul32(h, 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h;
}
