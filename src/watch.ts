// `watch` connections (memcached's logger watchers, logger.c): each gets the
// log lines of the kinds it asked for, in memcached 1.6.18's formats
//   ts=<sec>.<usec> gid=<n> type=item_get key=<k> status=found clsid=1 cfd=24 size=1
// numbered by one global gid. Item events come from the engine's log records
// (engine-log.ts), connection events from the server.
//
// Bounded: a watcher's socket holds at most LOG_WATCHER_QUEUE bytes of lines
// not yet sent (memcached's watcher_logbuf_size). A line that would pass it
// is skipped and counted; the next line that fits is preceded by
// `skipped=<n>`, as memcached sends it. So a watcher that never reads makes
// the server hold at most that much, and at most WATCHER_LIMIT watchers exist.
import {
  LOG_WATCHER_QUEUE, LOG_WRITTEN, LOG_SKIPPED, LOG_SENT, LR_ITEM_GET, LR_ITEM_STORE, LR_EVICTION, LR_DELETED,
  LRF_WATCH, LOGW_FETCHERS, LOGW_MUTATIONS, LOGW_EVICTIONS, LOGW_DELETIONS, LOGW_CONNEVENTS,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import { payloadOf, type LogRecord } from './engine-log.js';
import type { ThreadShared } from './threads.js';
import type { ThreadRelay } from './thread-relay.js';

/** -t N: the other threads' watchers (threads.ts, thread-relay.ts). */
export interface WatchThreads {
  readonly index: number;
  readonly shared: ThreadShared;
  readonly relay: ThreadRelay;
}

/** memcached's WATCHER_LIMIT. */
export const WATCHER_LIMIT = 20;
/** Room a line needs: the longest (a 250-byte key uri-encoded) and
 *  memcached's 128 bytes for a `skipped=` notice. Checked before the line is
 *  made, so a watcher with no room costs no formatting. */
const LINE_ROOM = 1024 + 128;

/** How a connection closed, as conn_close reports it. */
export type CloseReason = 'error' | 'normal' | 'idle_timeout' | 'shutdown';

/** What a watcher needs of its connection. */
export interface WatchSocket {
  readonly writableLength: number;
  write(data: string): boolean;
}

/** A client connection as conn_new and conn_close describe it. */
export interface ConnPeer {
  readonly id: number;
  /** `rip`, `rport` and `transport` of memcached's lines. */
  readonly peer: { rip: string; rport: number; transport: 'tcp' | 'local' };
}

interface Watcher {
  readonly socket: WatchSocket;
  readonly kinds: number;
  /** Entries numbered before the watcher began are not its. */
  readonly minGid: number;
  /** Lines skipped since the last one sent. */
  skipped: number;
  /** Lines of the current batch, written at flush(). */
  batch: string[];
  batchBytes: number;
  /** It takes the entry being made. */
  takes: boolean;
}

const GET_STATUS = ['not_found', 'found', 'flushed', 'expired'];
const STORE_STATUS = ['not_stored', 'stored', 'exists', 'not_found', 'too_large', 'no_memory'];
const STORE_CMD = ['null', 'add', 'set', 'replace', 'append', 'prepend', 'cas'];
const DELETE_CMD = ['null', 'delete', 'md'];

function unreserved(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

/** memcached's uriencode: letters, digits and -._~ as they are, other bytes %XX. */
export function uriEncode(bytes: Uint8Array): string {
  if (bytes.every(unreserved)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let s = '';
  for (const c of bytes) s += unreserved(c) ? String.fromCharCode(c) : '%' + c.toString(16).toUpperCase().padStart(2, '0');
  return s;
}

export class Watchers {
  private readonly watchers: Watcher[] = [];
  /** memcached's logger_gid: one number per entry made for any watcher. */
  private gid = 0;
  /** The union of the watchers' kinds. */
  kinds = 0;
  // stats counts not yet added to the store's (flush)
  private written = 0;
  private sent = 0;
  private skipped = 0;
  /** This call's lines for other threads' watchers (sent at flush()). */
  private outKinds: number[] = [];
  private outGids: number[] = [];
  private outLines: string[] = [];
  private outBytes = 0;
  /** Whether other threads' watchers take the entry begun last. */
  private elsewhere = false;
  private entryKind = 0;

  constructor(private readonly store: Store, private readonly threads: WatchThreads | null = null) {
    if (threads !== null) threads.relay.onLines = (kinds, gids, lines, bytes) => this.deliverRelayed(kinds, gids, lines, bytes);
  }

  get count(): number { return this.watchers.length; }

  /** Whether any watcher, of this thread or another, wants entries. */
  get active(): boolean {
    return this.watchers.length > 0 || (this.threads !== null && this.threads.shared.watchKindsElsewhere(this.threads.index) !== 0);
  }

  private kindsElsewhere(): number {
    return this.threads === null ? 0 : this.threads.shared.watchKindsElsewhere(this.threads.index);
  }

  /** Whether a thread other than this one wants an entry of `kind` and has
   *  room for it in transit. When none has room the line is never made, and
   *  counts as dropped for each (told to its watchers as skipped); a line
   *  that is made is queued or dropped per thread when sent (sendRelayed). */
  private wantedElsewhere(kind: number): boolean {
    const t = this.threads;
    if (t === null) return false;
    let wanting = false;
    for (let other = 0; other < t.shared.threads; other++) {
      if (other === t.index || (t.shared.watchKindsOf(other) & kind) === 0) continue;
      wanting = true;
      if (t.shared.relayRoom(other, this.outBytes + LINE_ROOM, LOG_WATCHER_QUEUE)) return true;
    }
    if (wanting) {
      for (let other = 0; other < t.shared.threads; other++) {
        if (other !== t.index && (t.shared.watchKindsOf(other) & kind) !== 0) t.shared.relayDrop(other, 1);
      }
    }
    return false;
  }

  private newGid(): number {
    this.gid = this.threads === null ? this.gid + 1 : this.threads.shared.nextGid();
    return this.gid;
  }

  /** A new watcher of `kinds` (LOGW_*); false past WATCHER_LIMIT. Its `OK`
   *  is the first line it gets. */
  add(socket: WatchSocket, kinds: number): boolean {
    const all = this.threads === null ? this.watchers.length : this.threads.shared.watcherCount();
    if (all >= WATCHER_LIMIT) return false;
    socket.write('OK\r\n');
    this.watchers.push({ socket, kinds, minGid: this.newGid(), skipped: 0, batch: [], batchBytes: 0, takes: false });
    this.changed();
    return true;
  }

  /** Whether `socket` is a watcher's; forgets it. */
  remove(socket: WatchSocket): boolean {
    const i = this.watchers.findIndex((w) => w.socket === socket);
    if (i < 0) return false;
    this.watchers.splice(i, 1);
    this.changed();
    return true;
  }

  private changed(): void {
    let kinds = 0;
    for (const w of this.watchers) kinds |= w.kinds;
    this.kinds = kinds;
    const t = this.threads;
    if (t === null) {
      this.store.logWatch = kinds;
      this.store.logWatchers = this.watchers.length;
      return;
    }
    // The engine records what any thread's watchers want; the store's
    // words are written under the lock, so two threads' unions never cross.
    this.store.withLock(() => {
      const all = t.shared.setWatchers(t.index, kinds, this.watchers.length);
      this.store.logWatch = all.kinds;
      this.store.logWatchers = all.count;
    });
  }

  /** The watch line of an item record of connection `cfd`, if any watcher
   *  takes it. */
  record(r: LogRecord, cfd: number): void {
    switch (r.kind) {
      case LR_ITEM_GET:
        if ((r.c & LRF_WATCH) === 0 || !this.begin(LOGW_FETCHERS)) return;
        this.send(`type=item_get key=${uriEncode(payloadOf(r))} status=${GET_STATUS[r.a]} clsid=${r.b} cfd=${cfd} size=${r.w0}`);
        return;
      case LR_ITEM_STORE:
        if (!this.begin(LOGW_MUTATIONS)) return;
        this.send(`type=item_store key=${uriEncode(payloadOf(r))} status=${STORE_STATUS[r.a]} ` +
          `cmd=${STORE_CMD[r.c] ?? 'na'} ttl=${r.w1} clsid=${r.b} cfd=${cfd} size=${r.w0}`);
        return;
      case LR_EVICTION:
        if (!this.begin(LOGW_EVICTIONS)) return;
        this.send(`type=eviction key=${uriEncode(payloadOf(r))} fetch=${r.a !== 0 ? 'yes' : 'no'} ` +
          `ttl=${r.w1 | 0} la=${r.w2 | 0} clsid=${r.b} size=${r.w0}`);
        return;
      case LR_DELETED:
        if (!this.begin(LOGW_DELETIONS)) return;
        this.send(`type=deleted key=${uriEncode(payloadOf(r))} cmd=${DELETE_CMD[r.a] ?? 'null'} clsid=${r.b} size=${r.w0}`);
        return;
    }
  }

  connNew(c: ConnPeer): void {
    if (((this.kinds | this.kindsElsewhere()) & LOGW_CONNEVENTS) === 0) return;
    const p = c.peer;
    if (this.begin(LOGW_CONNEVENTS)) this.send(`type=conn_new rip=${p.rip} rport=${p.rport} transport=${p.transport} cfd=${c.id}`);
    this.flush();
  }

  connClose(c: ConnPeer, reason: CloseReason): void {
    if (((this.kinds | this.kindsElsewhere()) & LOGW_CONNEVENTS) === 0) return;
    const p = c.peer;
    if (this.begin(LOGW_CONNEVENTS)) {
      this.send(`type=conn_close rip=${p.rip} rport=${p.rport} transport=${p.transport} reason=${reason} cfd=${c.id}`);
    }
    this.flush();
  }

  /** Starts an entry of `kind`: numbers it, and marks the watchers of that
   *  kind that have room; a watcher without room skips it. False when no
   *  watcher takes it (then it is not formatted at all). */
  private begin(kind: number): boolean {
    const gid = this.newGid();
    this.written++;
    this.entryKind = kind;
    this.elsewhere = this.wantedElsewhere(kind);
    let any = this.elsewhere;
    for (const w of this.watchers) {
      w.takes = false;
      if ((w.kinds & kind) === 0 || gid < w.minGid || !this.hasRoom(w)) continue;
      w.takes = true;
      any = true;
    }
    return any;
  }

  /** The entry begun last, for the watchers that take it. */
  private send(body: string): void {
    const t = performance.timeOrigin + performance.now();
    const sec = Math.floor(t / 1000);
    // memcached prints the microseconds with %d: not zero-padded
    const line = `ts=${sec}.${Math.floor((t - sec * 1000) * 1000)} gid=${this.gid} ${body}\n`;
    if (this.elsewhere) {
      this.outKinds.push(this.entryKind);
      this.outGids.push(this.gid);
      this.outLines.push(line);
      this.outBytes += line.length;
    }
    for (const w of this.watchers) if (w.takes) this.queue(w, line);
  }

  /** Queues `line` for `w`, after the notice of what it skipped before. */
  private queue(w: Watcher, line: string): void {
    if (w.skipped > 0) {
      const notice = `skipped=${w.skipped}\n`;
      w.batch.push(notice);
      w.batchBytes += notice.length;
      w.skipped = 0;
    }
    w.batch.push(line);
    w.batchBytes += line.length;
    this.sent++;
  }

  /** Sends this call's lines for other threads, one message per call. A
   *  thread whose queue of lines not yet taken holds LOG_WATCHER_QUEUE
   *  bytes is sent none: they are counted as dropped for it, and its
   *  watchers are told how many they skipped. */
  private sendRelayed(): void {
    const t = this.threads!;
    for (let other = 0; other < t.shared.threads; other++) {
      if (other === t.index || t.shared.watchKindsOf(other) === 0) continue;
      if (t.shared.relayReserve(other, this.outBytes, this.outLines.length, LOG_WATCHER_QUEUE)) {
        t.relay.publishLines(other, this.outKinds, this.outGids, this.outLines, this.outBytes);
      }
    }
    this.outKinds = [];
    this.outGids = [];
    this.outLines = [];
    this.outBytes = 0;
  }

  /** Lines another thread made for this one's watchers. */
  private deliverRelayed(kinds: number[], gids: number[], lines: string[], bytes: number): void {
    const dropped = this.threads!.shared.relayTaken(this.threads!.index, bytes);
    if (dropped > 0) {
      for (const w of this.watchers) w.skipped += dropped;
      this.skipped += dropped;
    }
    for (let i = 0; i < lines.length; i++) this.deliver(kinds[i], gids[i], lines[i]);
    this.flush();
  }

  /** A line another thread made: to this thread's watchers of its kind,
   *  bounded as this thread's own lines are. */
  private deliver(kind: number, gid: number, line: string): void {
    for (const w of this.watchers) {
      if ((w.kinds & kind) === 0 || gid < w.minGid) continue;
      if (this.hasRoom(w)) this.queue(w, line);
    }
  }

  /** Whether `w` can take one more line; counts it as skipped if not. */
  private hasRoom(w: Watcher): boolean {
    if (w.socket.writableLength + w.batchBytes + LINE_ROOM <= LOG_WATCHER_QUEUE) return true;
    w.skipped++;
    this.skipped++;
    return false;
  }

  /** Writes each watcher's queued lines (once per engine call, not per
   *  line) and adds up the stats. */
  flush(): void {
    if (this.outLines.length > 0) this.sendRelayed();
    // The counters first: with -t N, adding them may wait for the engine
    // lock, and a watcher that already had its lines could meanwhile ask
    // another thread for `stats` and see them uncounted.
    const st = this.store;
    if (this.written > 0) st.addLogCounter(LOG_WRITTEN, this.written);
    if (this.sent > 0) st.addLogCounter(LOG_SENT, this.sent);
    if (this.skipped > 0) st.addLogCounter(LOG_SKIPPED, this.skipped);
    this.written = 0;
    this.sent = 0;
    this.skipped = 0;
    for (const w of this.watchers) {
      if (w.batchBytes === 0) continue;
      w.socket.write(w.batch.length === 1 ? w.batch[0] : w.batch.join(''));
      w.batch = [];
      w.batchBytes = 0;
    }
  }
}
