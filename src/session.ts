// One connection's side of the engine, without the socket: the received bytes
// not yet consumed, the engine's per-connection state (R_CONN_STATE), a value
// being received straight into its item, and the rest of a rejected value to
// drop. conn.ts drives it from socket events; the engine tests drive it
// directly, so they exercise this very code.
//
// What a session holds outside the arena, and its bound:
//  - unconsumed input: at most one command line or binary header (the engine
//    consumes everything else as it arrives: values go into their items,
//    long multigets are answered key by key), plus the reads that arrived
//    while the connection was paused; Conn closes a connection whose
//    unconsumable input passes MAX_PENDING.
//  - a value's command line (R_VALUE_AT bytes, at most 2 KiB for text and
//    meta, 24 + 255 + 250 for binary) while the value arrives.
import {
  ST_VALUE, ST_WARM_KEYS, CONN_WORDS, R_CONN_STATE, R_RESUME, R_CONN, R_VALUE_ITEM, R_VALUE_TAIL, R_SEND_ITEM, R_DUMP, VALUE_READY,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';

const RESUME = (R_RESUME - R_CONN_STATE) >>> 2;
const CONN = (R_CONN - R_CONN_STATE) >>> 2;
const VALUE_ITEM = (R_VALUE_ITEM - R_CONN_STATE) >>> 2;
const VALUE_TAIL = (R_VALUE_TAIL - R_CONN_STATE) >>> 2;
const SEND_ITEM = (R_SEND_ITEM - R_CONN_STATE) >>> 2;
const DUMP = (R_DUMP - R_CONN_STATE) >>> 2;

function plainCopy(b: Uint8Array): { buf: Buffer; release: null } {
  return { buf: Buffer.from(b), release: null };
}

export class Session {
  /** The engine's per-connection words, saved after every call. */
  readonly state = new Uint32Array(CONN_WORDS);
  /** Received bytes not yet consumed: chunks[head..] in arrival order. */
  private chunks: Buffer[] = [];
  private head = 0;
  pendingLen = 0;
  /** Run the engine only once this many bytes are pending (0: any byte may help). */
  private need = 0;
  /** Bytes still to drop from future data (the rest of a swallowed value). */
  private skip = 0;
  // A value arriving into its item (after ST_VALUE).
  private valueLine: Buffer | null = null;
  private valuePtr = 0;
  private valueLeft = 0;
  private trailerLeft = 0;
  private trailerGot = 0;
  private tail = 0;

  /** Output of the last execute (a copy the caller may keep), or null. */
  output: Buffer | null = null;
  /** Call once `output` has been written, when the copy was pooled. */
  outputRelease: (() => void) | null = null;
  /** Input bytes the last execute consumed. */
  consumed = 0;
  /** After ST_WARM_KEYS: the keys warming must see first (a copy; WARM_KEY_* entries). */
  warmKeys: Buffer | null = null;
  /** After an execute given `maxRequests`: how many of them it left unused
   *  (0: it stopped because it completed that many commands). */
  requestsLeft = 0;

  /** `copyOut` copies a call's output out of the store (OutputPool.copy in
   *  the server; a plain copy by default). */
  constructor(private readonly store: Store,
    private readonly copyOut: (b: Uint8Array) => { buf: Buffer; release: (() => void) | null } = plainCopy) {}

  /** The connection's protocol and authentication (R_CONN); 0 until its first bytes. */
  get protocol(): number { return this.state[CONN]; }

  /** Whether the value of a storage command is still arriving. */
  get receivingValue(): boolean { return this.valueLine !== null; }

  /** Received bytes, in order. Value bytes go straight into their item. */
  push(chunk: Buffer): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    if (this.valueLine !== null) {
      const used = this.fillValue(chunk);
      if (used === chunk.length) return;
      chunk = chunk.subarray(used);
    }
    this.chunks.push(chunk);
    this.pendingLen += chunk.length;
  }

  /** Copies the pending bytes into one buffer of the session's own: the
   *  chunks received may be views of a read buffer that is about to be
   *  reused. Pending input is at most a partial command, so this is small. */
  ownPending(): void {
    if (this.pendingLen === 0) return;
    const own = Buffer.allocUnsafe(this.pendingLen);
    this.copyPending(own, this.pendingLen);
    this.chunks = [own];
    this.head = 0;
  }

  /** Whether an engine call can make progress now. */
  runnable(): boolean {
    if (this.valueLine !== null) return false;
    if (this.state[SEND_ITEM] !== 0) return true;
    return this.pendingLen > 0 && (this.state[RESUME] !== 0 || this.pendingLen >= this.need);
  }

  /** Whether the rest of a rejected value is still being dropped. */
  get skipping(): boolean { return this.skip > 0; }

  /** One engine call on at most `maxInput` pending bytes that completes at
   *  most `maxRequests` commands (0: no limit); an ST_* status. */
  execute(now: number, maxInput: number, maxRequests = 0): number {
    const store = this.store;
    const offered = Math.min(this.pendingLen, maxInput, store.inputCapacity);
    this.copyPending(store.input(), offered);
    store.loadConn(this.state);
    store.requestsLeft = maxRequests;
    const status = store.execute(offered, now);
    this.requestsLeft = maxRequests > 0 ? store.requestsLeft : 0;
    store.saveConn(this.state);
    const produced = store.outLen;
    // A copy: the output region is overwritten by the next call.
    let out: Buffer | null = null;
    this.outputRelease = null;
    if (produced > 0) {
      const c = this.copyOut(store.output());
      out = c.buf;
      this.outputRelease = c.release;
    }
    const consumed = store.consumed;
    this.consumed = consumed;
    this.drop(consumed);
    this.need = store.need;
    const skip = store.skip;
    if (skip > 0) {
      const dropped = Math.min(skip, this.pendingLen);
      this.drop(dropped);
      this.skip = skip - dropped;
    }
    this.output = out;
    this.warmKeys = status === ST_WARM_KEYS ? Buffer.from(store.warmKeys()) : null;
    if (status === ST_VALUE) this.beginValue(store);
    return status;
  }

  /** The connection is gone: the engine releases the items it held for it
   *  and ends its key dump. */
  close(): void {
    if (this.state[VALUE_ITEM] !== 0 || this.state[SEND_ITEM] !== 0 || this.state[DUMP] !== 0) this.store.closeConn(this.state);
    this.chunks = [];
    this.head = 0;
    this.pendingLen = 0;
    this.valueLine = null;
  }

  /** After ST_VALUE: keeps the command's bytes and starts filling the item. */
  private beginValue(store: Store): void {
    const at = store.valueAt;
    const line = Buffer.allocUnsafe(at);
    this.copyPending(line, at);
    this.drop(at);
    this.valueLine = line;
    this.valuePtr = store.valuePtr;
    this.valueLeft = store.valueLen;
    this.trailerLeft = store.valueTrailer;
    this.trailerGot = 0;
    this.tail = 0;
    // What already arrived after the line goes in as if it arrived now.
    const rest = this.chunks.slice(this.head);
    this.chunks = [];
    this.head = 0;
    this.pendingLen = 0;
    for (const c of rest) this.push(c);
  }

  /** Copies value (then trailer) bytes from the front of chunk; returns bytes used. */
  private fillValue(chunk: Buffer): number {
    let i = 0;
    if (this.valueLeft > 0) {
      const n = Math.min(this.valueLeft, chunk.length - i);
      if (n > 0) {
        this.store.bytes(this.valuePtr, n).set(chunk.subarray(i, i + n));
        this.valuePtr += n;
        this.valueLeft -= n;
        i += n;
      }
    }
    while (this.valueLeft === 0 && this.trailerLeft > 0 && i < chunk.length) {
      this.tail |= chunk[i] << (8 * this.trailerGot);
      this.trailerGot++;
      this.trailerLeft--;
      i++;
    }
    if (this.valueLeft === 0 && this.trailerLeft === 0) this.endValue();
    return i;
  }

  /** The value is in its item: the command runs again, first in line. */
  private endValue(): void {
    const line = this.valueLine!;
    this.valueLine = null;
    this.state[VALUE_TAIL] = (VALUE_READY | this.tail) >>> 0;
    if (this.head > 0) {
      this.chunks[--this.head] = line;
    } else {
      this.chunks.unshift(line);
    }
    this.pendingLen += line.length;
    this.need = 0;
  }

  /** Copies the first n pending bytes into `dst`. */
  private copyPending(dst: Uint8Array, n: number): void {
    let off = 0;
    for (let i = this.head; off < n; i++) {
      const c = this.chunks[i];
      const take = Math.min(c.length, n - off);
      dst.set(take === c.length ? c : c.subarray(0, take), off);
      off += take;
    }
  }

  /** Removes n bytes from the front of the pending input. */
  private drop(n: number): void {
    this.pendingLen -= n;
    while (n > 0) {
      const c = this.chunks[this.head];
      if (c.length <= n) {
        n -= c.length;
        this.head++;
      } else {
        this.chunks[this.head] = c.subarray(n);
        n = 0;
      }
    }
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
