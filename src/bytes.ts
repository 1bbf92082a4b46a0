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

/** Views are kept for lengths up to this: a view is about 100 bytes, so a
 *  cache holds at most about 100 KB, and the lengths of requests and small
 *  replies are well under it. */
const VIEWS_UP_TO = 1024;

/**
 * Views of `bytes[at, at + n)` for one fixed `at`, made once per length
 * and reused: the request path took three views per request (the read, the
 * engine's output, the staged reply), and making one is about 350
 * instructions with its share of the scavenges that collect it (callgrind).
 * A view is the same bytes whichever copy of it is used, so the reuse is
 * invisible to callers; they must not keep one past the moment the bytes
 * under it are rewritten, as with a new view.
 */
export class ViewsAt {
  private readonly views: Uint8Array[] = [];

  constructor(readonly bytes: Uint8Array, readonly at: number) {}

  /** bytes[at, at + n). */
  of(n: number): Uint8Array {
    if (n > VIEWS_UP_TO) return this.bytes.subarray(this.at, this.at + n);
    const views = this.views;
    // Lengths not seen yet hold EMPTY: the array stays packed, which V8
    // reads faster than a holey one.
    let v = views[n];
    if (v === undefined || v === EMPTY) {
      while (views.length <= n) views.push(EMPTY);
      v = views[n] = this.bytes.subarray(this.at, this.at + n);
    }
    return v;
  }
}

const EMPTY = new Uint8Array(0);

const prefixViews = new WeakMap<Uint8Array, ViewsAt>();

/** The ViewsAt of `bytes`' prefixes, one per byte array: every socket that
 *  reads into a shared read buffer uses the same views. */
export function prefixViewsOf(bytes: Uint8Array): ViewsAt {
  let v = prefixViews.get(bytes);
  if (v === undefined) prefixViews.set(bytes, v = new ViewsAt(bytes, 0));
  return v;
}
