// --warm-from HOST:PORT: fills a new node with the items of an old one
// (memcached 1.6 or wasmcached) in the background, while it serves clients.
//
// One connection lists the old node's keys (`lru_crawler metadump all`), read
// as a stream and paused while LIST_HIGH keys wait; a second one fetches them
// with pipelined `mg <key> b v f t` (at most WINDOW outstanding, at most
// -o warm_rate per second). Each reply is stored with OP_ADD through the same
// mc_op path the library uses, one item per call between event-loop turns, so
// a key written here first is never overwritten. A key deleted here while
// warming must not come back: connections report text `delete`/`md` lines
// (scanDeletes) and such keys are not stored; `flush_all` here ends the copy.
// The set of deleted keys is bounded: past MAX_TOMBSTONES the copy ends
// rather than risk bringing a deleted key back.
import { connect, type Socket } from 'node:net';
import {
  OP_ADD, OP_HAS, OPR_OK, OPR_NOT_STORED, OPR_TOO_LARGE, OPR_NOT_FOUND, HS_WARM_STATE, HS_WARM_COPIED, HS_WARM_SKIPPED,
  HS_WARM_ERRORS, HS_WARM_ELAPSED, WARM_IDLE, WARM_COPYING, WARM_DONE, WARM_FAILED,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';

/** Outstanding `mg` requests: enough to hide a round trip, few enough to bound memory. */
const WINDOW = 128;
/** Listed keys held before the listing connection pauses (and resumes below half). */
const LIST_HIGH = 4096;
/** Keys deleted here while warming that are remembered; beyond this the copy stops. */
export const MAX_TOMBSTONES = 100_000;
/** A line that can hold a delete: `md` + a base64 250-byte key + flags. */
const MAX_WATCHED_LINE = 512;
/** memcached reads exptimes above this as unix times. */
const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;
/** memcached's crawler can miss items its LRU maintainer moves during the
 *  walk, so the listing is repeated (asking only for keys not here) until a
 *  pass finds nothing new, at most this many times. */
const MAX_PASSES = 3;
/** An old node that sends nothing for this long is taken as gone. */
const IDLE_TIMEOUT_MS = 30_000;

export type WarmState = 'idle' | 'copying' | 'done' | 'failed';
const STATE_CODE: Record<WarmState, number> = { idle: WARM_IDLE, copying: WARM_COPYING, done: WARM_DONE, failed: WARM_FAILED };

export interface WarmOptions {
  store: Store;
  host: string;
  port: number;
  /** items per second */
  rate: number;
  log: Logger;
  /** The engine threw while storing: the arena can no longer be trusted. */
  trapped(err: unknown): void;
}

export class Warmer {
  state: WarmState = 'idle';
  copied = 0;
  skipped = 0;
  errors = 0;
  private readonly o: WarmOptions;
  private startedMs = 0;
  private endedMs = 0;
  private lister: Socket | null = null;
  private getter: Socket | null = null;
  private listBuf = '';
  private listDone = false;
  private pass = 0;
  /** Keys the current pass queued. */
  private passNew = 0;
  private listPaused = false;
  /** Keys listed and not yet asked for (latin1 strings: one char per byte). */
  private readonly queue: string[] = [];
  private queueHead = 0;
  /** Keys asked for, in order: replies come back in the same order. */
  private readonly outstanding: string[] = [];
  private outHead = 0;
  private getBuf: Buffer = Buffer.alloc(0);
  private readonly deleted = new Set<string>();
  private tokens = 0;
  private lastRefill = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;

  constructor(opts: WarmOptions) {
    this.o = opts;
    this.publish();
  }

  get active(): boolean {
    return this.state === 'copying' || this.state === 'idle';
  }

  start(): void {
    const { host, port } = this.o;
    this.state = 'copying';
    this.startedMs = Date.now();
    this.lastRefill = this.startedMs;
    this.o.log.error(`warm: copying items from ${host}:${port} (at most ${this.o.rate} items/s)`);
    this.lister = this.open((chunk) => this.onList(chunk));
    this.getter = this.open((chunk) => this.onReplies(chunk));
    this.startPass();
    // elapsed moves in stats even while nothing arrives.
    this.ticker = setInterval(() => this.publish(), 1000);
    this.ticker.unref();
    this.publish();
  }

  /** The server is stopping: end quietly. */
  stop(): void {
    if (this.active) this.finish('done', 'the server is stopping');
  }

  /** A client deleted `key` (latin1) here. */
  noteDelete(key: string): void {
    if (!this.active) return;
    if (this.deleted.size >= MAX_TOMBSTONES) {
      this.finish('done', `more than ${MAX_TOMBSTONES} keys deleted here while warming; stopping so none comes back`);
      return;
    }
    this.deleted.add(key);
  }

  /** A client flushed this node: nothing from before it may come back. */
  noteFlush(): void {
    if (this.active) this.finish('done', 'flush_all here; stopping the copy');
  }

  private open(onData: (chunk: Buffer) => void): Socket {
    const s = connect({ host: this.o.host, port: this.o.port, noDelay: true });
    s.setTimeout(IDLE_TIMEOUT_MS, () => {
      if (s === this.getter && this.outstanding.length > this.outHead) this.finish('failed', `no reply from ${this.o.host}:${this.o.port} for ${IDLE_TIMEOUT_MS / 1000} s`);
    });
    s.on('data', onData);
    s.on('error', (err: NodeJS.ErrnoException) => this.finish('failed', `${this.o.host}:${this.o.port}: ${err.code ?? err.message}`));
    s.on('close', () => {
      if (this.active) this.finish('failed', `${this.o.host}:${this.o.port} closed the connection`);
    });
    return s;
  }

  // ---- the listing ----

  private startPass(): void {
    this.pass++;
    this.passNew = 0;
    this.listDone = false;
    this.lister?.write('lru_crawler metadump all\r\n');
  }

  private onList(chunk: Buffer): void {
    if (!this.active || this.listDone) return;
    this.listBuf += chunk.toString('latin1');
    let at = 0;
    for (;;) {
      const nl = this.listBuf.indexOf('\n', at);
      if (nl < 0) break;
      const line = this.listBuf.slice(at, nl > at && this.listBuf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      at = nl + 1;
      if (!this.onListLine(line)) return;
    }
    this.listBuf = this.listBuf.slice(at);
    if (this.queue.length - this.queueHead >= LIST_HIGH && !this.listPaused) {
      this.listPaused = true;
      this.lister?.pause();
    }
    this.pump();
  }

  /** False once the listing has ended. */
  private onListLine(line: string): boolean {
    if (line.startsWith('key=')) {
      const sp = line.indexOf(' ');
      const key = percentDecode(line.slice(4, sp < 0 ? undefined : sp));
      const exp = /(?:^| )exp=(-?\d+)/.exec(line);
      // Already expired there: not worth a request.
      if (exp && Number(exp[1]) > 0 && Number(exp[1]) <= Math.floor(Date.now() / 1000)) return true;
      if (key === null || key.length === 0 || key.length > 250) this.errors++;
      else {
        let here = false;
        try {
          here = this.pass > 1 && this.hasHere(key);
        } catch (err) {
          this.finish('failed', 'engine trap while checking a key');
          this.o.trapped(err);
          return false;
        }
        if (!here) {
          this.queue.push(key);
          this.passNew++;
        }
      }
      return true;
    }
    if (line === 'END') {
      this.listDone = true;
      this.pump();
      return false;
    }
    if (line === '') return true;
    // ERROR (an old memcached), BUSY (another dump runs there), a -X node...
    this.finish('failed', `the old node cannot list its keys: ${line.slice(0, 200)}`);
    return false;
  }

  // ---- fetching ----

  private pump(): void {
    if (!this.active || this.getter === null) return;
    const now = Date.now();
    const rate = this.o.rate;
    // A token bucket holding at most a tenth of a second's worth (and at least one request).
    this.tokens = Math.min(Math.max(rate / 10, 1), this.tokens + ((now - this.lastRefill) * rate) / 1000);
    this.lastRefill = now;
    const waiting = this.queue.length - this.queueHead;
    const n = Math.min(Math.floor(this.tokens), WINDOW - (this.outstanding.length - this.outHead), waiting);
    if (n > 0) {
      const parts: string[] = [];
      for (let i = 0; i < n; i++) {
        const key = this.queue[this.queueHead++];
        this.outstanding.push(key);
        parts.push(`mg ${Buffer.from(key, 'latin1').toString('base64')} b v f t\r\n`);
      }
      this.tokens -= n;
      this.getter.write(parts.join(''));
      this.compact();
    }
    const left = this.queue.length - this.queueHead;
    if (this.listPaused && left < LIST_HIGH / 2) {
      this.listPaused = false;
      this.lister?.resume();
    }
    if (this.listDone && left === 0 && this.outstanding.length === this.outHead) {
      if (this.passNew > 0 && this.pass < MAX_PASSES) this.startPass();
      else this.finish('done', `copy complete after ${this.pass} listing${this.pass > 1 ? 's' : ''}`);
      return;
    }
    // Held back by the rate only: come back when a token is due.
    if (left > 0 && this.tokens < 1 && this.pumpTimer === null) {
      this.pumpTimer = setTimeout(() => { this.pumpTimer = null; this.pump(); }, Math.max(1, Math.ceil(1000 / rate)));
    }
  }

  /** Drops the consumed fronts of the queues now and then (no shift() per key). */
  private compact(): void {
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.outHead > 4096 && this.outHead * 2 > this.outstanding.length) {
      this.outstanding.splice(0, this.outHead);
      this.outHead = 0;
    }
  }

  private onReplies(chunk: Buffer): void {
    if (!this.active) return;
    const buf = this.getBuf.length === 0 ? chunk : Buffer.concat([this.getBuf, chunk]);
    let at = 0;
    while (at < buf.length) {
      const nl = buf.indexOf(10, at);
      if (nl < 0) break;
      const line = buf.toString('latin1', at, nl > at && buf[nl - 1] === 13 ? nl - 1 : nl);
      if (line.startsWith('VA ')) {
        const tokens = line.split(' ');
        const len = Number(tokens[1]);
        if (buf.length < nl + 1 + len + 2) break; // the value is still arriving
        const value = buf.subarray(nl + 1, nl + 1 + len);
        let flags = 0;
        let ttl = -1;
        for (const t of tokens.slice(2)) {
          if (t[0] === 'f') flags = Number(t.slice(1)) >>> 0;
          else if (t[0] === 't') ttl = Number(t.slice(1));
        }
        at = nl + 1 + len + 2;
        if (!this.storeItem(this.nextKey(), value, flags, ttl)) return;
      } else {
        at = nl + 1;
        const key = this.nextKey();
        if (line === 'EN') this.skipped++; // gone there since it was listed
        else {
          this.errors++;
          this.o.log.warn(`warm: the old node answered ${JSON.stringify(line.slice(0, 200))} for a key of ${key.length} bytes`);
        }
      }
      if (!this.active) return;
    }
    // Copy what remains: `chunk` may be reused by the socket.
    this.getBuf = at >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    this.publish();
    this.pump();
  }

  /** Whether `key` (latin1) is here already: later passes skip such keys. */
  private hasHere(key: string): boolean {
    const store = this.o.store;
    const k = Buffer.from(key, 'latin1');
    store.input().set(k, 0);
    return store.op(OP_HAS, k.length, 0, 0, 0, 0, 0, Math.floor(Date.now() / 1000)) === OPR_OK;
  }

  private nextKey(): string {
    return this.outHead < this.outstanding.length ? this.outstanding[this.outHead++] : '';
  }

  /** OP_ADD: an item already here (written since warming began) wins. False after an engine trap. */
  private storeItem(key: string, value: Buffer, flags: number, ttl: number): boolean {
    // ttl 0 from mg: it expires within the second; -1: it never does.
    if (key === '' || ttl === 0 || this.deleted.has(key)) {
      this.skipped++;
      return true;
    }
    const store = this.o.store;
    const k = Buffer.from(key, 'latin1');
    if (k.length + value.length > store.inputCapacity) {
      this.skipped++;
      return true;
    }
    let exptime = 0;
    if (ttl > 0) exptime = ttl > REALTIME_MAXDELTA ? Math.floor(Date.now() / 1000) + ttl : ttl;
    let r: number;
    try {
      const input = store.input();
      input.set(k, 0);
      input.set(value, k.length);
      r = store.op(OP_ADD, k.length, value.length, flags, exptime, 0, 0, Math.floor(Date.now() / 1000));
    } catch (err) {
      this.finish('failed', 'engine trap while storing');
      this.o.trapped(err);
      return false;
    }
    if (r === OPR_OK) this.copied++;
    else if (r === OPR_NOT_STORED || r === OPR_TOO_LARGE || r === OPR_NOT_FOUND) this.skipped++;
    else this.errors++;
    return true;
  }

  private finish(state: 'done' | 'failed', why: string): void {
    if (!this.active) return;
    this.state = state;
    this.endedMs = Date.now();
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    if (this.ticker !== null) clearInterval(this.ticker);
    this.pumpTimer = this.ticker = null;
    this.lister?.destroy();
    this.getter?.destroy();
    this.lister = this.getter = null;
    this.queue.length = this.outstanding.length = 0;
    this.queueHead = this.outHead = 0;
    this.deleted.clear();
    this.getBuf = Buffer.alloc(0);
    this.listBuf = '';
    this.publish();
    this.o.log.error(`warm: ${state} (${why}): ${this.copied} items copied, ${this.skipped} skipped, ${this.errors} errors in ${this.elapsed()} s`);
  }

  private elapsed(): number {
    if (this.startedMs === 0) return 0;
    return Math.floor(((this.endedMs || Date.now()) - this.startedMs) / 1000);
  }

  /** Writes the counters `stats` prints. */
  private publish(): void {
    const st = this.o.store;
    st.setHostStat(HS_WARM_STATE, STATE_CODE[this.state]);
    st.setHostStat(HS_WARM_COPIED, this.copied);
    st.setHostStat(HS_WARM_SKIPPED, this.skipped);
    st.setHostStat(HS_WARM_ERRORS, this.errors);
    st.setHostStat(HS_WARM_ELAPSED, this.elapsed());
  }
}

/** metadump's key=: `%XX` escapes to bytes; a latin1 string (one char per byte), or null if malformed. */
function percentDecode(s: string): string | null {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '%') { out += c; continue; }
    const h = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
    out += String.fromCharCode(parseInt(h, 16));
    i += 2;
  }
  return out;
}

/**
 * Finds text-protocol `delete <key>`, `md <key> [flags]` and `flush_all`
 * lines in what a client sent. `tail` is the unfinished last line of the
 * connection's previous chunk (null: the chunk starts a line); returns the
 * new tail. A value that happens to contain such a line only keeps that key
 * from being copied. The binary protocol is not watched.
 */
export function scanDeletes(tail: Buffer | null, chunk: Buffer, w: Warmer): Buffer | null {
  const buf = tail === null ? chunk : Buffer.concat([tail, chunk]);
  let at = 0;
  for (;;) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) break;
    const first = buf[at];
    if (first === 100 /* d */ || first === 109 /* m */ || first === 102 /* f */) watchLine(buf, at, nl, w);
    at = nl + 1;
  }
  if (at >= buf.length) return null;
  // A longer unfinished line is a value's bytes, not a command: remember only that we are mid-line.
  return buf.length - at > MAX_WATCHED_LINE ? MID_LINE : Buffer.from(buf.subarray(at));
}

const MID_LINE = Buffer.from('#');

function watchLine(buf: Buffer, start: number, nl: number, w: Warmer): void {
  if (nl - start > MAX_WATCHED_LINE) return;
  const line = buf.toString('latin1', start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl);
  const t = line.split(' ').filter((x) => x !== '');
  if (t[0] === 'delete' && t.length >= 2) w.noteDelete(t[1]);
  else if (t[0] === 'md' && t.length >= 2) {
    // `b`: the key is base64.
    const b64 = t.slice(2).includes('b');
    w.noteDelete(b64 ? Buffer.from(t[1], 'base64').toString('latin1') : t[1]);
  } else if (t[0] === 'flush_all') w.noteFlush();
}
