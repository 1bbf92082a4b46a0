// The commands the engine, memory and pauses benches send: 16-byte keys,
// values of a chosen size, pipelined in batches of text-protocol commands.
// Deterministic (seeded), so every contender gets the very same bytes.

export { prng } from '../test/support/prng.js';

/** Key number i as 16 bytes: "key:" and 12 digits. */
export function key(i: number): string {
  return 'key:' + String(i).padStart(12, '0');
}

/** A printable value of n bytes; `seed` varies its content. */
export function value(n: number, seed = 0): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + ((i * 7 + seed) % 26));
  return s;
}

export function setCmd(k: string, v: string, noreply = false): string {
  return `set ${k} 0 0 ${v.length}${noreply ? ' noreply' : ''}\r\n${v}\r\n`;
}

export function getCmd(k: string): string {
  return `get ${k}\r\n`;
}

/**
 * A reusable batch of `per` sets of `valueBytes`-byte values whose key digits
 * are rewritten in place: `write(j, k)` makes command j set key(k). Keeps the
 * bench's own garbage out of memory and pause figures; use (or copy) the
 * buffer before rewriting it.
 */
export class SetBatch {
  readonly buf: Buffer;
  private readonly cmdLen: number;

  constructor(valueBytes: number, readonly per: number, noreply = false) {
    const one = setCmd(key(0), value(valueBytes), noreply);
    this.cmdLen = one.length;
    this.buf = Buffer.from(one.repeat(per), 'latin1');
  }

  write(j: number, k: number): void {
    const at = j * this.cmdLen + 'set key:'.length;
    // the 12 digits of key(k), right to left
    for (let d = at + 11; d >= at; d--) {
      this.buf[d] = 48 + (k % 10);
      k = Math.floor(k / 10);
    }
  }

  /** The first n commands. */
  first(n: number): Buffer {
    return n === this.per ? this.buf : this.buf.subarray(0, n * this.cmdLen);
  }
}

/** Sets of keys [from, to) in pipelined batches of `per` commands, all in one reused Buffer. */
export function* fillBatches(from: number, to: number, valueBytes: number, per: number, noreply = false): Generator<Buffer> {
  const b = new SetBatch(valueBytes, per, noreply);
  for (let i = from; i < to; i += per) {
    const n = Math.min(per, to - i);
    for (let j = 0; j < n; j++) b.write(j, i + j);
    yield b.first(n);
  }
}
