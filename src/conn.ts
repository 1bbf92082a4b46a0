// One client socket: the read -> execute -> write loop. This file never looks
// inside the bytes; the engine parses and answers, and reports through the
// store header how much input it consumed, how many more bytes the pending
// command needs (`need`) and how many to drop unseen (`skip`, the tail of a
// rejected value). The connection keeps the unconsumed input as a queue of
// received chunks and hands the engine at most one input region's worth per
// call.
//
// Backpressure: once more than WRITE_HIGH_WATER bytes wait in the socket, the
// connection stops reading and executing until 'drain'; a client that
// pipelines requests without reading replies therefore holds a bounded amount
// of server memory. A run that has produced RUN_OUTPUT_BUDGET bytes writes
// them and continues on a later turn of the event loop, so one busy client
// cannot starve the others. Either may happen after any call, even inside a
// multiget: the connection keeps the engine's resume point (R_RESUME) and
// hands it back on its next call.
import type { Socket } from 'node:net';
import { ST_OK, ST_OUT_FULL, ST_CLOSE, ST_SHUTDOWN } from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';

export const WRITE_HIGH_WATER = 4 * 1024 * 1024;
export const RUN_OUTPUT_BUDGET = 1024 * 1024;

/** What a connection needs from the server that owns it. */
export interface ConnHost {
  readonly store: Store;
  readonly log: Logger;
  /** Whole seconds, the clock handed to the engine. */
  now(): number;
  /** The socket has closed; forget the connection. */
  closed(conn: Conn): void;
  /** The engine answered ST_SHUTDOWN (`shutdown` with -A). */
  shutdown(): void;
  /** The engine threw: the arena can no longer be trusted. */
  trapped(conn: Conn, err: unknown): void;
  /** A run stopped early to let other connections in (stats conn_yields). */
  yielded(): void;
}

export class Conn {
  /** Received bytes not yet consumed: chunks[head..] in arrival order. */
  private chunks: Buffer[] = [];
  private head = 0;
  private pendingLen = 0;
  /** Run the engine only once this many bytes are pending (0: any byte may help). */
  private need = 0;
  /** Where this connection's interrupted multiget resumes (R_RESUME); 0 = none. */
  private resume = 0;
  /** The engine's R_CONN for this connection: protocol and authentication. */
  private connState = 0;
  /** Bytes still to drop from future data (the rest of a swallowed value). */
  private skip = 0;
  /** Replies held while `skip` > 0: memcached answers a rejected value only
   *  once all of its bytes have arrived, and never if they do not. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Paused until the socket drains below the high-water mark. */
  private waitingDrain = false;
  /** A run yielded; it continues on the next turn of the event loop. */
  private waitingTurn = false;
  /** The client sent FIN: finish what is pending, then close. */
  private peerEnded = false;
  /** We are closing: nothing more is read or executed. */
  private closing = false;
  private closed = false;
  /** Seconds; updated when bytes arrive. */
  lastActive: number;

  constructor(readonly socket: Socket, readonly id: number, private readonly host: ConnHost) {
    this.lastActive = host.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // Resets and broken pipes are ordinary; the socket closes itself next.
      host.log.info(`<${this.id} socket error: ${err.code ?? err.message}`);
    });
    socket.on('close', () => {
      this.closing = true;
      this.closed = true;
      this.chunks = [];
      this.head = 0;
      this.pendingLen = 0;
      host.closed(this);
    });
  }

  /** True when the connection waits for a request, as opposed to writing or working. */
  isIdle(): boolean {
    return !this.closing && !this.waitingDrain && !this.waitingTurn && this.socket.writableLength === 0;
  }

  /** Ends the connection after the queued output (server stop, idle kick). */
  end(): void {
    if (this.closing) return;
    this.closing = true;
    // With allowHalfOpen the socket would wait for the client's FIN; we do not.
    this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.lastActive = this.host.now();
    if (this.skip > 0) {
      if (chunk.length < this.skip) { this.skip -= chunk.length; return; }
      chunk = chunk.subarray(this.skip);
      this.skip = 0;
      this.write([], 0);
      if (chunk.length === 0) return;
    }
    this.chunks.push(chunk);
    this.pendingLen += chunk.length;
    if (this.waitingDrain || this.waitingTurn) return;
    if (this.pendingLen < this.need) return;
    this.run();
  }

  private onEnd(): void {
    this.peerEnded = true;
    if (!this.waitingDrain && !this.waitingTurn) this.finishIfDone();
  }

  private onDrain(): void {
    if (!this.waitingDrain || this.closing) return;
    this.waitingDrain = false;
    this.socket.resume();
    this.proceed();
  }

  /** Resumes after a pause: runs what is pending, or closes after a FIN. */
  private proceed(): void {
    if (this.closing) return;
    if (this.runnable()) this.run();
    else this.finishIfDone();
  }

  /** Whether another engine call can make progress. */
  private runnable(): boolean {
    return this.pendingLen > 0 && (this.resume !== 0 || this.pendingLen >= this.need);
  }

  /** After the client's FIN, close once nothing more can run. */
  private finishIfDone(): void {
    if (this.peerEnded && !this.closing && !this.waitingDrain && !this.waitingTurn) this.end();
  }

  /**
   * Executes pending input until it is used up, the engine needs more bytes,
   * the output budget is spent, or the engine closes the connection. All
   * output of one run goes out in a single write.
   */
  private run(): void {
    const store = this.host.store;
    const cap = store.inputCapacity;
    const out: Buffer[] = [];
    let outBytes = 0;
    while (this.runnable()) {
      const pendingBefore = this.pendingLen;
      const offered = Math.min(pendingBefore, cap);
      this.copyPending(store.input(), offered);
      let status: number;
      store.resume = this.resume;
      store.conn = this.connState;
      try {
        status = store.execute(offered, this.host.now());
      } catch (err) {
        this.write(out, outBytes);
        this.closing = true;
        this.host.trapped(this, err);
        return;
      }
      const produced = store.outLen;
      if (produced > 0) {
        // A copy: the output region is overwritten by the next call, while the
        // socket may hold this buffer until the client reads it.
        out.push(Buffer.from(store.output()));
        outBytes += produced;
      }
      this.resume = store.resume;
      this.connState = store.conn;
      const consumed = store.consumed;
      this.drop(consumed);
      this.need = store.need;
      const skip = store.skip;
      if (skip > 0) {
        const dropped = Math.min(skip, this.pendingLen);
        this.drop(dropped);
        this.skip = skip - dropped;
      }

      if (status === ST_CLOSE || status === ST_SHUTDOWN) {
        this.write(out, outBytes);
        this.end();
        if (status === ST_SHUTDOWN) this.host.shutdown();
        return;
      }
      if (status !== ST_OK && status !== ST_OUT_FULL) {
        this.write(out, outBytes);
        this.host.log.error(`<${this.id} engine returned unknown status ${status}; closing the connection`);
        this.end();
        return;
      }
      if (status === ST_OK && consumed === 0) {
        // Nothing could run. The engine closes connections whose line is too
        // long; this guard only keeps a broken exchange from growing forever.
        if (this.pendingLen >= 2 * cap) {
          this.write(out, outBytes);
          this.host.log.warn(`<${this.id} ${this.pendingLen} bytes pending and none consumable; closing the connection`);
          this.end();
          return;
        }
        break;
      }
      // The engine had all pending bytes and left a partial command: wait for more.
      if (status === ST_OK && consumed < offered && offered === pendingBefore) break;
      if (outBytes >= RUN_OUTPUT_BUDGET && this.runnable()) {
        this.write(out, outBytes);
        if (!this.waitingDrain && !this.closing) {
          this.waitingTurn = true;
          this.host.yielded();
          setImmediate(() => { this.waitingTurn = false; this.proceed(); });
        }
        return;
      }
    }
    this.write(out, outBytes);
    if (!this.waitingDrain) this.finishIfDone();
  }

  /** One socket write for everything a run produced; pauses reading above the high-water mark. */
  private write(out: Buffer[], outBytes: number): void {
    if (this.closed) return;
    if (this.skip > 0) {
      this.held.push(...out);
      this.heldBytes += outBytes;
      return;
    }
    if (this.heldBytes > 0) {
      out = [...this.held, ...out];
      outBytes += this.heldBytes;
      this.held = [];
      this.heldBytes = 0;
    }
    if (outBytes === 0) return;
    this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out, outBytes));
    if (this.socket.writableLength > WRITE_HIGH_WATER && !this.waitingDrain && !this.closing) {
      this.waitingDrain = true;
      this.socket.pause();
    }
  }

  /** Copies the first n pending bytes into the engine's input region. */
  private copyPending(input: Uint8Array, n: number): void {
    let off = 0;
    for (let i = this.head; off < n; i++) {
      const c = this.chunks[i];
      const take = Math.min(c.length, n - off);
      input.set(take === c.length ? c : c.subarray(0, take), off);
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
