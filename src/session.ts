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

// Session.atRest() names the engine words one by one.
if (CONN_WORDS !== 13 || R_CONN - R_CONN_STATE !== 4) throw new Error('session.ts: atRest() does not match the ABI\'s connection words');
const RESUME = (R_RESUME - R_CONN_STATE) >>> 2;
const CONN = (R_CONN - R_CONN_STATE) >>> 2;
const VALUE_ITEM = (R_VALUE_ITEM - R_CONN_STATE) >>> 2;
const VALUE_TAIL = (R_VALUE_TAIL - R_CONN_STATE) >>> 2;
const SEND_ITEM = (R_SEND_ITEM - R_CONN_STATE) >>> 2;
const DUMP = (R_DUMP - R_CONN_STATE) >>> 2;

/** Where a call's output is copied before it is written (OutputPool in the server). */
export interface OutputCopier {
  /** A copy of `b` to write; `soon`: it is likely to be written at once
   *  (nothing waits in the socket). */
  copy(b: Uint8Array, soon: boolean): Uint8Array;
  /** Set by copy(): what to call once that copy has been written, or null
   *  when it may be kept as long as wanted. */
  readonly release: (() => void) | null;
}

const NO_BYTES = new Uint8Array(0);

const plainCopy: OutputCopier = { copy: (b) => Buffer.from(b), release: null };

/**
 * The CONN_WORDS words of every session of this thread, in one array: a
 * Uint32Array of its own costs a connection about 300 bytes (the array, its
 * ArrayBuffer and the buffer's native record) for 52 bytes of state.
 */
/** Slots connWords starts with, and shrinks back to. */
const FIRST_SLOTS = 64;

class ConnWords {
  words = new Uint32Array(CONN_WORDS * FIRST_SLOTS);
  private readonly free: number[] = [];
  private used = 0;

  /** The offset of a zeroed slot. */
  take(): number {
    const at = this.free.pop();
    if (at !== undefined) return at;
    if ((this.used + 1) * CONN_WORDS > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    return this.used++ * CONN_WORDS;
  }

  give(at: number): void {
    // (A loop: fill() is a builtin call, a measurable share of a request
    // now that every request takes and gives a slot.)
    const w = this.words;
    for (let i = at; i < at + CONN_WORDS; i++) w[i] = 0;
    this.free.push(at);
    // All connections gone: the array shrinks back (memory is given back).
    if (this.free.length === this.used && this.used > FIRST_SLOTS) {
      this.words = new Uint32Array(CONN_WORDS * FIRST_SLOTS);
      this.free.length = 0;
      this.used = 0;
    }
  }
}

const connWords = new ConnWords();

export class Session {
  /** Where its engine words (saved after every call) are in connWords.words; -1 once closed. */
  private slot = connWords.take();
  /** R_CONN as it was at close (the protocol stays known for the close's log lines). */
  private connAtClose = 0;
  /** Its engine words other than R_CONN are all zero (Store.connRestZero
   *  after its last call): nothing in progress, and the next call moves
   *  only R_CONN. */
  private restZero = false;
  /** Received bytes not yet consumed: chunks[head..count) in arrival order.
   *  The array is reused (slots past `count` are stale): emptying it by
   *  setting its length was a measurable share of a request. It starts
   *  with room for exactly one chunk, the usual case, and goes back to that
   *  when emptied: a grown array would keep about 150 bytes per idle
   *  connection. */
  private chunks: Uint8Array[] = [NO_BYTES];
  private head = 0;
  private count = 0;
  pendingLen = 0;
  /** Run the engine only once this many bytes are pending (0: any byte may help). */
  private need = 0;
  /** Bytes still to drop from future data (the rest of a swallowed value). */
  private skip = 0;
  // A value arriving into its item (after ST_VALUE).
  private valueLine: Uint8Array | null = null;
  private valuePtr = 0;
  private valueLeft = 0;
  private trailerLeft = 0;
  private trailerGot = 0;
  private tail = 0;

  /** Output of the last execute, or null: a copy, which the caller may keep
   *  unless `outputRelease` is set (then it is valid until that is called). */
  output: Uint8Array | null = null;
  /** Call once `output` has been written, when the copy was pooled. */
  outputRelease: (() => void) | null = null;
  /** Input bytes the last execute consumed. */
  consumed = 0;
  /** After ST_WARM_KEYS: the keys warming must see first (a copy; WARM_KEY_* entries). */
  warmKeys: Buffer | null = null;
  /** After an execute given `maxRequests`: how many of them it left unused
   *  (0: it stopped because it completed that many commands). */
  requestsLeft = 0;

  /** Replies held while a rejected value is dropped (Conn.write): memcached
   *  answers it only once all of its bytes have arrived, and never if they
   *  do not. */
  held: Uint8Array[] | null = null;

  /** `copier` copies a call's output out of the store (OutputPool.copy in
   *  the server; a plain copy by default). */
  constructor(private readonly store: Store, private readonly copier: OutputCopier = plainCopy) {}

  /** Nothing pending, arriving, held or in progress in the engine: the
   *  session is its R_CONN word and nothing else (see park()). */
  atRest(): boolean {
    if (this.slot < 0 || this.pendingLen !== 0 || this.valueLine !== null || this.skip !== 0 || this.held !== null ||
        this.output !== null) return false;
    if (this.restZero) return true;
    const w = connWords.words;
    const at = this.slot;
    // Every word but R_CONN is zero, spelled out: this runs after every
    // request, and as a loop it cost more than all the rest of parking.
    return (w[at] | w[at + 2] | w[at + 3] | w[at + 4] | w[at + 5] | w[at + 6] | w[at + 7] | w[at + 8] |
      w[at + 9] | w[at + 10] | w[at + 11] | w[at + 12]) === 0;
  }

  /** At rest: returns the one engine word that matters (R_CONN), for
   *  resume() to go on from, on this object or another of the same store,
   *  and clears it, so that the session is a fresh connection's. It keeps
   *  its slot of engine words (all zero now): a spare session is taken and
   *  given back on every request, and the slot with it. The engine holds
   *  nothing for it (atRest()), so there is nothing to close. */
  park(): number {
    const w = connWords.words;
    const conn = w[this.slot + CONN];
    w[this.slot + CONN] = 0;
    this.warmKeys = null;
    return conn;
  }

  /** A spare no longer kept: its slot of engine words goes back. */
  discard(): void {
    this.restZero = false;
    if (this.slot < 0) return;
    connWords.give(this.slot);
    this.slot = -1;
  }

  /** A parked connection's session again, from its R_CONN word (park()). */
  resume(conn: number): void {
    if (this.slot < 0) this.slot = connWords.take();
    connWords.words[this.slot + CONN] = conn;
    this.connAtClose = 0;
    this.need = 0;
    this.consumed = 0;
    this.requestsLeft = 0;
  }

  /** The connection's protocol and authentication (R_CONN); 0 until its first bytes. */
  get protocol(): number { return this.slot < 0 ? this.connAtClose : connWords.words[this.slot + CONN]; }
  set protocol(v: number) { if (this.slot >= 0) connWords.words[this.slot + CONN] = v; }

  /** One of its engine words (R_CONN_STATE + 4 * i). */
  private word(i: number): number { return this.slot < 0 ? 0 : connWords.words[this.slot + i]; }

  /** Whether the value of a storage command is still arriving. */
  get receivingValue(): boolean { return this.valueLine !== null; }

  /** Received bytes, in order. Value bytes go straight into their item. */
  push(chunk: Uint8Array): void {
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
    this.chunks[this.count++] = chunk;
    this.pendingLen += chunk.length;
  }

  /** Copies the pending bytes into one buffer of the session's own: the
   *  chunks received may be views of a read buffer that is about to be
   *  reused. Pending input is at most a partial command, so this is small. */
  ownPending(): void {
    if (this.pendingLen === 0) return;
    const own = new Uint8Array(this.pendingLen);
    this.copyPending(own, this.pendingLen);
    this.clearChunks();
    this.chunks[0] = own;
    this.count = 1;
  }

  /** Whether an engine call can make progress now. */
  runnable(): boolean {
    if (this.valueLine !== null) return false;
    if (this.word(SEND_ITEM) !== 0) return true;
    return this.pendingLen > 0 && (this.word(RESUME) !== 0 || this.pendingLen >= this.need);
  }

  /** Whether the rest of a rejected value is still being dropped. */
  get skipping(): boolean { return this.skip > 0; }

  /** One engine call on at most `maxInput` pending bytes that completes at
   *  most `maxRequests` commands (0: no limit); an ST_* status.
   *  `writtenSoon`: the output is likely to be written at once (see
   *  OutputCopier). */
  execute(now: number, maxInput: number, maxRequests = 0, writtenSoon = false): number {
    const store = this.store;
    const input = store.input();
    const offered = Math.min(this.pendingLen, maxInput, input.length);
    this.copyPending(input, offered);
    // A session used after close (never, in the server) starts over rather
    // than touch a slot that another connection may own now.
    if (this.slot < 0) this.slot = connWords.take();
    // Not known until the call has returned (it may throw).
    const restZero = this.restZero;
    this.restZero = false;
    const status = store.executeConn(connWords.words, this.slot, offered, now, restZero, maxRequests);
    this.restZero = store.connRestZero;
    this.requestsLeft = maxRequests > 0 ? store.lastRequestsLeft : 0;
    const produced = store.lastOutLen;
    // A copy: the output region is overwritten by the next call.
    let out: Uint8Array | null = null;
    this.outputRelease = null;
    if (produced > 0) {
      out = this.copier.copy(store.output(), writtenSoon);
      this.outputRelease = this.copier.release;
    }
    const consumed = store.lastConsumed;
    this.consumed = consumed;
    this.drop(consumed);
    this.need = store.lastNeed;
    const skip = store.lastSkip;
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
    const at = this.slot;
    if (at >= 0) {
      const w = connWords.words;
      if (w[at + VALUE_ITEM] !== 0 || w[at + SEND_ITEM] !== 0 || w[at + DUMP] !== 0) this.store.closeConn(w, at);
      this.connAtClose = w[at + CONN];
      this.slot = -1;
      connWords.give(at);
    }
    this.restZero = false;
    this.chunks = [NO_BYTES];
    this.head = 0;
    this.count = 0;
    this.pendingLen = 0;
    this.valueLine = null;
    this.held = null;
  }

  /** After ST_VALUE: keeps the command's bytes and starts filling the item. */
  private beginValue(store: Store): void {
    const at = store.valueAt;
    const line = new Uint8Array(at);
    this.copyPending(line, at);
    this.drop(at);
    this.valueLine = line;
    this.valuePtr = store.valuePtr;
    this.valueLeft = store.valueLen;
    this.trailerLeft = store.valueTrailer;
    this.trailerGot = 0;
    this.tail = 0;
    // What already arrived after the line goes in as if it arrived now.
    const rest = this.chunks.slice(this.head, this.count);
    this.clearChunks();
    this.pendingLen = 0;
    for (const c of rest) this.push(c);
  }

  /** Copies value (then trailer) bytes from the front of chunk; returns bytes used. */
  private fillValue(chunk: Uint8Array): number {
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
    if (this.slot >= 0) connWords.words[this.slot + VALUE_TAIL] = (VALUE_READY | this.tail) >>> 0;
    this.restZero = false;
    if (this.head > 0) {
      this.chunks[--this.head] = line;
    } else {
      this.chunks.splice(0, 0, line);
      this.count++;
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
    if (this.head === this.count) {
      this.clearChunks();
    } else if (this.head >= 1024) {
      this.chunks = this.chunks.slice(this.head, this.count);
      this.count -= this.head;
      this.head = 0;
    }
  }

  /** Empties the pending list, letting go of the chunks it held. */
  private clearChunks(): void {
    const chunks = this.chunks;
    if (chunks.length > 1) this.chunks = [NO_BYTES];
    else chunks[0] = NO_BYTES;
    this.head = 0;
    this.count = 0;
  }
}
