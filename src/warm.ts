// --warm-from HOST:PORT: fills a new node with the items of an old one
// (memcached 1.6 or wasmcached) in the background, while it serves clients.
//
// One connection lists the old node's keys (`lru_crawler metadump all`), read
// as a stream and paused while LIST_HIGH keys wait; a second one fetches them
// with pipelined `mg <key> b v f t` (at most WINDOW outstanding, at most
// -o warm_rate per second). Each reply is stored with OP_ADD through the same
// mc_op path the library uses, one item per call between event-loop turns, so
// a key written here first is never overwritten.
//
// While the copy runs, the engine stops a connection's call before commands
// whose keys the copy must see (ST_WARM_KEYS, assembly/proto/warm_keys.ts) and
// hands them to warmKeys: keys deleted here (text `delete`, `md`, binary
// delete) are remembered and never stored afterwards; `flush_all` here ends
// the copy; keys that gets are about to read and this node lacks are asked of
// the old node first (miss-through, warm-miss.ts). The set of deleted keys is
// bounded: past MAX_TOMBSTONES the copy ends rather than risk bringing a
// deleted key back.
import { connect, type Socket } from 'node:net';
import {
  OP_ADD, OP_HAS, OPR_OK, OPR_NOT_STORED, OPR_TOO_LARGE, OPR_NOT_FOUND, HS_WARM_STATE, HS_WARM_COPIED, HS_WARM_SKIPPED,
  HS_WARM_ERRORS, HS_WARM_ELAPSED, WARM_IDLE, WARM_COPYING, WARM_DONE, WARM_FAILED, WARMING_DELETES, WARMING_MISS_THROUGH,
  WARM_KEY_LOOKUP, WARM_KEY_DELETE, WARM_KEY_FLUSH, H_WARM_MISS_THROUGH, H_WARM_MISS_HITS, H_WARM_MISS_TIMEOUTS,
  LIMIT_KEY_LEN,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';
import { MgReplies, type MgReply } from './mg-replies.js';
import { MissThrough } from './warm-miss.js';

/** Outstanding `mg` requests: enough to hide a round trip, few enough to bound memory. */
const WINDOW = 128;
/** Listed keys held before the listing connection pauses (and resumes below half). */
const LIST_HIGH = 4096;
/** Keys deleted here while warming that are remembered; beyond this the copy stops. */
export const MAX_TOMBSTONES = 100_000;
/** memcached reads exptimes above this as unix times. */
const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;
/** memcached's crawler can miss items its LRU maintainer moves during the
 *  walk, so the listing is repeated (asking only for keys not here) until a
 *  pass finds nothing new, at most this many times. */
const MAX_PASSES = 3;
/** An old node that sends nothing for this long is taken as gone. */
const IDLE_TIMEOUT_MS = 30_000;
/** A progress line (at -v) this often while copying. */
const PROGRESS_EVERY_MS = 10_000;

export type WarmState = 'idle' | 'copying' | 'done' | 'failed';
const STATE_CODE: Record<WarmState, number> = { idle: WARM_IDLE, copying: WARM_COPYING, done: WARM_DONE, failed: WARM_FAILED };

export interface WarmOptions {
  store: Store;
  host: string;
  port: number;
  /** items per second */
  rate: number;
  /** How long a get of a key not here waits for the old node, ms; 0: no
   *  miss-through. */
  missWaitMs: number;
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
  private readonly deleted = new Set<string>();
  private miss: MissThrough | null = null;
  private lastProgressMs = 0;
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
    const waitMs = this.o.missWaitMs;
    this.o.log.error(`warm: copying items from ${host}:${port} (at most ${this.o.rate} items/s; ` +
      (waitMs > 0 ? `gets of keys not copied yet wait up to ${waitMs} ms for it)` : 'no miss-through)'));
    this.lastProgressMs = this.startedMs;
    this.lister = this.open((chunk) => this.onList(chunk));
    const reader = new MgReplies(this.maxValue(), (r) => this.onReply(r),
      (why) => this.finish('failed', `${host}:${port}: ${why}`));
    this.getter = this.open((chunk) => {
      if (!this.active) return;
      reader.push(chunk);
      // The window moved: refill it.
      if (this.active) {
        this.publish();
        this.pump();
      }
    });
    if (waitMs > 0) {
      this.miss = new MissThrough({
        host, port, waitMs, maxValue: this.maxValue(), log: this.o.log,
        deleted: (key) => this.deleted.has(key),
        store: (key, value, flags, ttl, late) => this.storeItem(key, value, flags, ttl, late),
        error: (why) => {
          this.errors++;
          this.o.log.warn(why);
        },
      });
      this.miss.open();
    }
    this.o.store.warming = WARMING_DELETES | (waitMs > 0 ? WARMING_MISS_THROUGH : 0);
    this.startPass();
    // elapsed moves in stats even while nothing arrives.
    this.ticker = setInterval(() => this.onTick(), 1000);
    this.ticker.unref();
    this.publish();
  }

  /** The server is stopping: end quietly. */
  stop(): void {
    if (this.active) this.finish('done', 'the server is stopping');
  }

  /**
   * After ST_WARM_KEYS: `list` (WARM_KEY_* entries) names the keys the
   * commands about to run will read while missing here, delete, or flush.
   * True when they may run now; otherwise `resume` is called once the old
   * node has answered the lookups or the wait bound has passed.
   */
  warmKeys(list: Uint8Array, resume: () => void): boolean {
    // The entries are in command order, and the commands will run in that
    // order: a read after a delete or flush of its key in the same run must
    // miss, so it is not looked up; a read before it is.
    const lookups: string[] = [];
    const deletes = new Set<string>();
    let flush = false;
    for (let at = 0; at + 2 <= list.length;) {
      const kind = list[at];
      const n = list[at + 1];
      const key = Buffer.from(list.buffer, list.byteOffset + at + 2, Math.min(n, list.length - at - 2)).toString('latin1');
      at += 2 + n;
      if (kind === WARM_KEY_LOOKUP) {
        if (!flush && !deletes.has(key)) lookups.push(key);
      } else if (kind === WARM_KEY_DELETE) {
        deletes.add(key);
      } else if (kind === WARM_KEY_FLUSH) {
        flush = true;
      }
    }
    // Deletes count once the lookups are done: a read before the delete in
    // the same run must still get the old node's value.
    const after = () => {
      for (const key of deletes) this.noteDelete(key);
      if (flush) this.noteFlush();
      this.publish();
    };
    if (lookups.length === 0 || this.miss === null || !this.active) {
      after();
      return true;
    }
    const now = this.miss.lookup(lookups, () => {
      after();
      resume();
    });
    if (now) after();
    return now;
  }

  /** A client deleted `key` (latin1) here. */
  private noteDelete(key: string): void {
    if (!this.active) return;
    if (this.deleted.size >= MAX_TOMBSTONES) {
      this.finish('done', `more than ${MAX_TOMBSTONES} keys deleted here while warming; stopping so none comes back`);
      return;
    }
    this.deleted.add(key);
  }

  /** A client flushed this node: nothing from before it may come back. */
  private noteFlush(): void {
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

  /** One reply of the bulk fetch, for the oldest key asked. False to stop reading. */
  private onReply(r: MgReply): boolean {
    if (!this.active) return false;
    const key = this.nextKey();
    if (r.kind === 'hit') {
      if (r.ttl === 0) this.skipped++; // it expires within the second there
      else this.storeItem(key, r.value, r.flags, r.ttl, true);
    } else if (r.kind === 'miss' || r.kind === 'too-large') {
      this.skipped++; // gone there since it was listed, or larger than this node takes
    } else {
      this.errors++;
      this.o.log.warn(`warm: the old node answered ${JSON.stringify(r.line.slice(0, 200))} for a key of ${key.length} bytes`);
    }
    return this.active;
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

  /** The largest value a reply may bring that this node could store. */
  private maxValue(): number {
    return this.o.store.inputCapacity - LIMIT_KEY_LEN;
  }

  /**
   * OP_ADD: an item already here (written since warming began) wins; a key
   * deleted here is not stored. `copy`: a copy (counted in copied/skipped),
   * not a miss-through hit. Returns whether it was stored; after an engine
   * trap warming has ended.
   */
  private storeItem(key: string, value: Buffer, flags: number, ttl: number, copy: boolean): boolean {
    // ttl -1 from mg: it never expires.
    if (key === '' || this.deleted.has(key) || !this.active) {
      if (copy) this.skipped++;
      return false;
    }
    const store = this.o.store;
    const k = Buffer.from(key, 'latin1');
    if (k.length + value.length > store.inputCapacity) {
      if (copy) this.skipped++;
      return false;
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
    if (r === OPR_OK) {
      if (copy) this.copied++;
      return true;
    }
    if (r === OPR_NOT_STORED || r === OPR_TOO_LARGE || r === OPR_NOT_FOUND) {
      if (copy) this.skipped++;
    } else {
      this.errors++;
    }
    return false;
  }

  private readonly finishedCallbacks: (() => void)[] = [];

  /** Calls `fn` once warming has ended (done or failed). */
  whenFinished(fn: () => void): void {
    if (this.state === 'done' || this.state === 'failed') fn();
    else this.finishedCallbacks.push(fn);
  }

  private finish(state: 'done' | 'failed', why: string): void {
    if (!this.active) return;
    this.state = state;
    this.endedMs = Date.now();
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    if (this.ticker !== null) clearInterval(this.ticker);
    this.pumpTimer = this.ticker = null;
    this.o.store.warming = 0;
    this.lister?.destroy();
    this.getter?.destroy();
    this.lister = this.getter = null;
    this.miss?.close();
    this.queue.length = this.outstanding.length = 0;
    this.queueHead = this.outHead = 0;
    this.deleted.clear();
    this.listBuf = '';
    this.publish();
    this.o.log.error(`warm: ${state} (${why}): ${this.progress()}`);
    for (const fn of this.finishedCallbacks.splice(0)) fn();
  }

  /** The counters, for log lines. */
  private progress(): string {
    const m = this.miss;
    return `${this.copied} items copied, ${this.skipped} skipped, ${this.errors} errors in ${this.elapsed()} s` +
      (m === null ? '' : `; miss-through: ${m.through} gets of keys not here, ${m.hits} answered from the old node, ${m.timeouts} timed out`);
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
    const m = this.miss;
    st.setHostWord(H_WARM_MISS_THROUGH, m?.through ?? 0);
    st.setHostWord(H_WARM_MISS_HITS, m?.hits ?? 0);
    st.setHostWord(H_WARM_MISS_TIMEOUTS, m?.timeouts ?? 0);
  }

  /** Once a second while copying: counters, and now and then a log line. */
  private onTick(): void {
    this.publish();
    const now = Date.now();
    if (now - this.lastProgressMs >= PROGRESS_EVERY_MS) {
      this.lastProgressMs = now;
      this.o.log.warn(`warm: copying from ${this.o.host}:${this.o.port}: ${this.progress()}`);
    }
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
