// Linear-memory primitives for the WebAssembly build. Every byte the engine
// touches goes through these functions, so that mem.portable.ts can give the
// same engine a plain-JS body (issue: pure-JS build). Keep them tiny: binaryen
// inlines them at -O3.
//
// ld32/st32 require 4-byte-aligned addresses (the JS build indexes a
// Uint32Array); ld32u reads unaligned little-endian words.

export function ld8(p: u32): u32 { return load<u8>(p); }
export function st8(p: u32, v: u32): void { store<u8>(p, v); }
export function ld16(p: u32): u32 { return load<u16>(p); }
export function ld32(p: u32): u32 { return load<u32>(p); }
export function ld32u(p: u32): u32 { return load<u32>(p); }
export function st32(p: u32, v: u32): void { store<u32>(p, v); }
/** 32-bit multiply that wraps, as C's uint32_t does. */
export function mul32(a: u32, b: u32): u32 { return a * b; }
export function copy(dst: u32, src: u32, n: u32): void { memory.copy(dst, src, n); }
export function fill(dst: u32, v: u32, n: u32): void { memory.fill(dst, <u8>v, n); }

/** memcmp(a, b, n) == 0 */
export function eq(a: u32, b: u32, n: u32): bool {
  while (n >= 8) {
    if (load<u64>(a) != load<u64>(b)) return false;
    a += 8; b += 8; n -= 8;
  }
  while (n > 0) {
    if (load<u8>(a) != load<u8>(b)) return false;
    a++; b++; n--;
  }
  return true;
}

/** Index of the first byte == c in [p, end), or end. Eight bytes at a
 *  time: every command line is scanned twice (for its newline, then for a
 *  NUL), and a byte at a time that was a visible share of a get with a long
 *  key. In x ^ (c * 0x01..01), the bytes equal to c are zero; the lowest
 *  byte flagged by (x - 0x01..01) & ~x & 0x80..80 is always a real one
 *  (a borrow can flag bytes only above it). */
export function find(p: u32, end: u32, c: u32): u32 {
  const pattern: u64 = <u64>(c & 0xff) * 0x0101010101010101;
  while (p < end && end - p >= 8) {
    const x = load<u64>(p) ^ pattern;
    const t = (x - 0x0101010101010101) & ~x & 0x8080808080808080;
    if (t != 0) return p + <u32>(ctz<u64>(t) >> 3);
    p += 8;
  }
  while (p < end) {
    if (<u32>load<u8>(p) == c) return p;
    p++;
  }
  return end;
}

/** Bytes of linear memory now. */
export function memSize(): u32 { return <u32>memory.size() << 16; }

/**
 * Makes room for memory to grow to `bytes` without moving. Nothing to do
 * here: a WebAssembly memory grows in place (64-bit engines reserve a 32-bit
 * memory's whole range up front); the JS build allocates its buffer.
 */
export function memReserve(bytes: u32): bool { return true; }

/** Grows memory to at least `bytes`; false if the host refused. */
export function memGrowTo(bytes: u32): bool {
  const have = <u32>memory.size();
  const want = <u32>((<u64>bytes + 65535) >> 16);
  if (want <= have) return true;
  return memory.grow(<i32>(want - have)) >= 0;
}

/** First address free for stores (after the module's static data). */
export function heapBase(): u32 { return <u32>__heap_base; }

// Constant ASCII strings (reply texts, command names) live in the module's
// static data; these read their characters without any runtime support.
export function strLen(s: string): u32 { return <u32>s.length; }
export function strByte(s: string, i: u32): u32 { return <u32>load<u16>(changetype<usize>(s) + (<usize>i << 1)); }
