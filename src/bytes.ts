// Byte arrays for the request path.

/**
 * `n` bytes, uninitialized, on an ArrayBuffer of their own, as a plain
 * Uint8Array rather than a Buffer. The request path takes a view of the
 * read buffer for every read and one of the staged reply for every reply,
 * and Node's Buffer.prototype.subarray reads the `buffer` getter (a call
 * into C++) and builds a FastBuffer: about 800 instructions, where
 * Uint8Array's own subarray takes about 500 (callgrind).
 */
export function bytesOfOwn(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}
