// Linear-memory primitives for the pure-JS build: the same contract as
// mem.ts over one plain ArrayBuffer. The build swaps this file in for
// ./mem; nothing else differs between the two builds.

export const MAX_BYTES = 4294901760; // 65535 WebAssembly pages, as the WASM build
// Memory is `size` bytes at the start of `buf`; the rest of `buf` is room
// reserved for growth (memReserve), so growing within it copies nothing.
// Typed arrays over a resizable ArrayBuffer stay on a slow path in Node 20's
// V8 (measured: the whole JS build ran 1.6-1.9x slower), hence a plain one
// allocated at its final size: the OS commits its pages on first touch, so
// the reserve costs address space, not resident memory. Growth past the
// reserve replaces the buffer with a larger copy; the host re-makes its views
// whenever memoryBuffer() returns a new buffer, as it does for WASM memory.
// The buffer grows at least 1.5x at a time, so creating many stores (tests
// do) copies memory O(n) times in all, not O(n^2); `size` is the memory the
// engine asked for, exactly as WASM memory would have it.
let buf = new ArrayBuffer(65536);
let size = 65536;
let u8 = new Uint8Array(buf);
let u16 = new Uint16Array(buf);
let u32 = new Uint32Array(buf);
/** -t N: `size` lives here, in memory every thread sees (memShare). */
let sharedSize: Uint32Array | null = null;

export function memoryBuffer(): ArrayBuffer { return buf; }

/**
 * -t N: this thread's engine works on `buffer`, which every thread shares,
 * with the memory's size in `sizeCell[0]` (0 until the first thread shares
 * it). A shared buffer cannot be replaced by a larger copy, as every thread
 * holds it: it is allocated at its final size (the OS commits its pages on
 * first touch) and memory grows within it. The first thread's bytes so far
 * are copied in. Calls on any thread run under the engine lock, whose
 * atomics order these plain reads and writes.
 */
export function memShare(buffer: SharedArrayBuffer, sizeCell: Uint32Array): void {
  if (sizeCell[0] === 0) {
    if (buffer.byteLength < size) throw new RangeError('memShare: the shared buffer is smaller than memory');
    new Uint8Array(buffer).set(u8.subarray(0, size));
    sizeCell[0] = size;
  }
  buf = buffer as unknown as ArrayBuffer;
  u8 = new Uint8Array(buf); u16 = new Uint16Array(buf); u32 = new Uint32Array(buf);
  sharedSize = sizeCell;
}

export function ld8(p: number): number { return u8[p]; }
export function st8(p: number, v: number): void { u8[p] = v; }
export function ld16(p: number): number { return u16[p >>> 1]; }
export function ld32(p: number): number { return u32[p >>> 2]; }
export function ld32u(p: number): number { return (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24)) >>> 0; }
export function st32(p: number, v: number): void { u32[p >>> 2] = v; }
export function mul32(a: number, b: number): number { return Math.imul(a, b) >>> 0; }
export function copy(dst: number, src: number, n: number): void { u8.copyWithin(dst, src, src + n); }
export function fill(dst: number, v: number, n: number): void { u8.fill(v, dst, dst + n); }

export function eq(a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (u8[a + i] !== u8[b + i]) return false;
  return true;
}

export function find(p: number, end: number, c: number): number {
  // Short spans (a token, a line) by hand; long ones with a bounded view, so
  // the search never runs past `end` into stale bytes.
  if (end - p <= 64) {
    while (p < end && u8[p] !== c) p++;
    return p;
  }
  const i = u8.subarray(p, end).indexOf(c);
  return i < 0 ? end : p + i;
}

export function memSize(): number { return sharedSize === null ? size : sharedSize[0]; }

/** Makes room for memory to grow to `bytes` without moving; false if the
 *  buffer cannot be allocated. Only the bytes in use are copied. */
export function memReserve(bytes: number): boolean {
  const want = Math.ceil(bytes / 65536) * 65536;
  if (want <= buf.byteLength) return true;
  if (want > MAX_BYTES || sharedSize !== null) return false;
  const roomy = Math.min(MAX_BYTES, Math.ceil(buf.byteLength * 1.5 / 65536) * 65536);
  let next: ArrayBuffer;
  try { next = new ArrayBuffer(Math.max(want, roomy)); } catch {
    try { next = new ArrayBuffer(want); } catch { return false; }
  }
  new Uint8Array(next).set(u8.subarray(0, size));
  buf = next;
  u8 = new Uint8Array(buf); u16 = new Uint16Array(buf); u32 = new Uint32Array(buf);
  return true;
}

export function memGrowTo(bytes: number): boolean {
  const want = Math.ceil(bytes / 65536) * 65536;
  if (want <= memSize()) return true;
  if (!memReserve(want)) return false;
  if (sharedSize !== null) sharedSize[0] = want;
  else size = want;
  return true;
}

export function heapBase(): number { return 1024; }

export function strLen(s: string): number { return s.length; }
export function strByte(s: string, i: number): number { return s.charCodeAt(i); }
