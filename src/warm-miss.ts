// Miss-through while warming (mcrouter's WarmUpRoute, inside the server): a
// get of a key this node does not have asks the old node, and a hit is stored
// here with add semantics before the get runs, so it is answered as if the
// key had been here.
//
// The engine stops a connection's call before such gets (ST_WARM_KEYS,
// assembly/proto/warm_keys.ts) and lists their missing keys; the warmer hands
// them here. They go to the old node over one connection of their own as
// pipelined `mg <base64 key> b v f t` (a key already asked for is not asked
// again: later gets wait for the same reply). The connection that asked waits
// until every key of its list is answered, or `waitMs` at most; then it runs
// the gets on whatever is here. Only that connection waits; replies arriving
// later are still stored (counted as copies, not hits).
//
// The old node being slow, gone or refusing is never a client error or a
// stall of other clients: while its oldest unanswered request is older than
// `waitMs`, gets do not wait at all (they answer from here at once); after
// STALL_RESET_MS of that the connection is dropped and, at most once per
// RECONNECT_MS, opened again; error replies are misses.
//
// Memory: at most MAX_OUTSTANDING keys asked and unanswered, and one value
// being received (at most `maxValue` bytes; a larger one is counted off, not
// held: mg-replies.ts).
import { connect, type Socket } from 'node:net';
import { MgReplies, type MgReply } from './mg-replies.js';
import type { Logger } from './log.js';

/** How long a get waits for the old node by default (-o warm_miss_wait). */
export const MISS_WAIT_MS = 50;
/** Keys asked of the old node and not answered yet, at most. */
const MAX_OUTSTANDING = 4096;
/** An old node this far behind gets its connection dropped. */
const STALL_RESET_MS = 5000;
/** Connect to the old node again at most this often. */
const RECONNECT_MS = 1000;

export interface MissOptions {
  host: string;
  port: number;
  /** How long a get waits for the old node, ms. */
  waitMs: number;
  /** Largest value worth receiving (this node could not store a larger one). */
  maxValue: number;
  log: Logger;
  /** Whether `key` was deleted here while warming: it is not asked for. */
  deleted(key: string): boolean;
  /** A hit: store it here with add semantics; true if stored. `late`: no
   *  get waits for it any more. */
  store(key: string, value: Buffer, flags: number, ttl: number, late: boolean): boolean;
  /** The old node answered an error, or its connection failed (warm_errors). */
  error(why: string): void;
}

/** The keys of one engine stop that are still unanswered. */
interface Waiter {
  left: number;
  resume: (() => void) | null;
  timer: NodeJS.Timeout | null;
}

/** A key asked of the old node, and the stops waiting for it. */
interface Asked {
  key: string;
  sentMs: number;
  waiters: Waiter[];
}

export class MissThrough {
  /** Gets of keys not here while warming. */
  through = 0;
  /** Of those, found on the old node and stored here in time. */
  hits = 0;
  /** Of those, answered from here because the old node was too slow or gone. */
  timeouts = 0;
  private sock: Socket | null = null;
  private lastConnectMs = 0;
  /** Asked and unanswered, in the order asked (replies come in that order). */
  private asked: Asked[] = [];
  private head = 0;
  private readonly byKey = new Map<string, Asked>();
  private closed = false;
  /** The old node is behind: logged once until it catches up. */
  private behindLogged = false;

  constructor(private readonly o: MissOptions) {}

  /** Opens the connection now, so the first get does not pay for it. */
  open(): void {
    this.socket();
  }

  /**
   * Gets here are about to read `keys` (latin1), which this node lacks.
   * True when there is nothing to wait for; otherwise `resume` is called
   * once every key is answered or after waitMs, whichever comes first.
   */
  lookup(keys: string[], resume: () => void): boolean {
    const unique = new Set(keys);
    this.through += unique.size;
    if (this.closed) return this.answerHere(unique.size);
    const now = Date.now();
    const oldest = this.waiting() ? this.asked[this.head].sentMs : now;
    if (now - oldest > this.o.waitMs) {
      // The old node is behind: waiting would only add waitMs to this get.
      if (now - oldest > STALL_RESET_MS) this.drop(`no reply from ${this.where()} for ${STALL_RESET_MS / 1000} s`);
      else if (!this.behindLogged) {
        this.behindLogged = true;
        this.o.log.warn(`warm: ${this.where()} is more than ${this.o.waitMs} ms behind; gets answer from here until it catches up`);
      }
      return this.answerHere(unique.size);
    }
    const sock = this.socket();
    if (sock === null) return this.answerHere(unique.size);
    const waiter: Waiter = { left: 0, resume, timer: null };
    const lines: string[] = [];
    for (const key of unique) {
      if (this.o.deleted(key)) continue;
      let a = this.byKey.get(key);
      if (a === undefined) {
        if (this.asked.length - this.head >= MAX_OUTSTANDING) {
          this.timeouts++;
          continue;
        }
        a = { key, sentMs: now, waiters: [] };
        this.byKey.set(key, a);
        this.asked.push(a);
        lines.push(`mg ${Buffer.from(key, 'latin1').toString('base64')} b v f t\r\n`);
      }
      a.waiters.push(waiter);
      waiter.left++;
    }
    if (lines.length > 0) sock.write(lines.join(''));
    if (waiter.left === 0) return true;
    waiter.timer = setTimeout(() => {
      waiter.timer = null;
      this.timeouts += waiter.left;
      this.release(waiter);
    }, this.o.waitMs);
    return false;
  }

  /** Warming ended: nothing is asked any more; waiting gets go on. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.drop(null);
  }

  /** Whether lookups are unanswered. */
  private waiting(): boolean {
    return this.head < this.asked.length;
  }

  private answerHere(n: number): boolean {
    this.timeouts += n;
    return true;
  }

  private where(): string {
    return `${this.o.host}:${this.o.port}`;
  }

  /** The connection, opened again if it was dropped (at most once per RECONNECT_MS); null if none now. */
  private socket(): Socket | null {
    if (this.sock !== null || this.closed) return this.sock;
    const now = Date.now();
    if (now - this.lastConnectMs < RECONNECT_MS) return null;
    this.lastConnectMs = now;
    const s = connect({ host: this.o.host, port: this.o.port, noDelay: true });
    const reader = new MgReplies(this.o.maxValue, (r) => s === this.sock && this.onReply(r),
      (why) => { if (s === this.sock) this.drop(`${this.where()}: ${why}`); });
    s.on('data', (chunk: Buffer) => reader.push(chunk));
    // With nothing asked (an old node's idle_timeout, say), losing the
    // connection is no error: the next get opens another.
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (s === this.sock) this.drop(this.waiting() ? `${this.where()}: ${err.code ?? err.message}` : null);
    });
    s.on('close', () => {
      if (s === this.sock) this.drop(this.waiting() ? `${this.where()} closed the connection` : null);
    });
    this.sock = s;
    return s;
  }

  /** One reply, for the oldest key asked. False to stop reading. */
  private onReply(r: MgReply): boolean {
    if (!this.waiting()) {
      this.drop(`${this.where()} sent a reply nothing asked for`);
      return false;
    }
    const a = this.asked[this.head++];
    this.byKey.delete(a.key);
    if (this.head > 1024 && this.head * 2 > this.asked.length) {
      this.asked = this.asked.slice(this.head);
      this.head = 0;
    }
    if (!this.waiting()) this.behindLogged = false;
    const waiting = a.waiters.filter((w) => w.resume !== null);
    if (r.kind === 'hit') {
      // ttl 0: it expires within the second there; not worth keeping.
      if (r.ttl !== 0 && this.o.store(a.key, r.value, r.flags, r.ttl, waiting.length === 0) && waiting.length > 0) this.hits++;
    } else if (r.kind === 'error') {
      this.o.error(`warm: ${this.where()} answered ${JSON.stringify(r.line.slice(0, 200))} to a lookup`);
    }
    for (const w of waiting) {
      if (--w.left === 0) this.release(w);
    }
    return !this.closed;
  }

  /** Lets a waiting connection go on. */
  private release(w: Waiter): void {
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    const resume = w.resume;
    w.resume = null;
    resume?.();
  }

  /** Drops the connection (why: an error to report, or null); every key
   *  asked is given up and the gets waiting for them go on. */
  private drop(why: string | null): void {
    const s = this.sock;
    this.sock = null;
    s?.destroy();
    if (why !== null) this.o.error(`warm: ${why}`);
    const asked = this.asked.slice(this.head);
    this.asked = [];
    this.head = 0;
    this.byKey.clear();
    this.behindLogged = false;
    for (const a of asked) {
      for (const w of a.waiters) {
        if (w.resume === null) continue;
        this.timeouts++;
        if (--w.left === 0) this.release(w);
      }
    }
  }
}
