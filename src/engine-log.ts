// What an engine call logged, handed out right after the call: -vv/-vvv
// lines to the logger (verbose.ts) and item events to watchers (watch.ts).
// The engine writes its records (assembly/log.ts) only while someone wants
// them, so with verbosity < 2 and no watcher a drain is one read of
// LOG_USED. Records live in the arena until the next call; nothing is kept.
// Lines of one call go to the logger in one write.
import {
  LOG_RECORD_HEADER, LR_QUIT, CONN_PROTOCOL, CONN_BINARY,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';
import { verboseLines, slabClassLine } from './verbose.js';
import type { Watchers } from './watch.js';

/** One record (LR_* of assembly/abi.ts); reused from record to record. */
export interface LogRecord {
  kind: number;
  a: number;
  b: number;
  c: number;
  w0: number;
  w1: number;
  w2: number;
  /** The payload (text, key or header bytes): `len` bytes at `at` of
   *  `bytes`, the records in the arena (no view is made per record). */
  bytes: Uint8Array;
  at: number;
  len: number;
}

/** A record's payload as a view (valid until the next engine call). */
export function payloadOf(r: LogRecord): Uint8Array { return r.bytes.subarray(r.at, r.at + r.len); }

/** Calls `visit` for each record in `bytes` (Store.logRecords()). */
export function forEachLogRecord(bytes: Uint8Array, visit: (r: LogRecord) => void): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r: LogRecord = { kind: 0, a: 0, b: 0, c: 0, w0: 0, w1: 0, w2: 0, bytes, at: 0, len: 0 };
  let p = 0;
  while (p + LOG_RECORD_HEADER <= bytes.length) {
    const n = view.getUint32(p + 4, true);
    r.kind = bytes[p];
    r.a = bytes[p + 1];
    r.b = bytes[p + 2];
    r.c = bytes[p + 3];
    r.w0 = view.getUint32(p + 8, true);
    r.w1 = view.getUint32(p + 12, true);
    r.w2 = view.getUint32(p + 16, true);
    r.at = p + LOG_RECORD_HEADER;
    r.len = n;
    visit(r);
    p += (LOG_RECORD_HEADER + n + 3) & ~3;
  }
}

/** The connection an engine call ran for. */
export interface LoggedConn {
  readonly id: number;
  /** Its R_CONN word: the protocol once decided. */
  readonly protocol: number;
  /** memcached prints "<fd>: Client using the ... protocol" once. */
  protocolShown: boolean;
  /** It sent `quit`: its close is a normal one. */
  quitRequested: boolean;
}

export class EngineLog {
  private readonly lines: string[] = [];

  constructor(private readonly store: Store, private readonly log: Logger, private readonly watchers: Watchers) {}

  /** After the connection's engine call (Store.executeConn()). */
  drain(conn: LoggedConn): void {
    if (!conn.protocolShown) this.showProtocol(conn);
    if (this.store.lastLogUsed === 0) return;
    const level = this.log.level();
    const watchers = this.watchers.active ? this.watchers : null;
    forEachLogRecord(this.store.logRecords(), (r) => {
      if (r.kind === LR_QUIT) conn.quitRequested = true;
      else if (level >= 2) verboseLines(r, conn.id, level, this.lines);
      watchers?.record(r, conn.id);
    });
    watchers?.flush();
    this.flushLines();
  }

  /** "<fd>: Client using the ascii protocol" once the first bytes decided it. */
  private showProtocol(conn: LoggedConn): void {
    const protocol = conn.protocol & CONN_PROTOCOL;
    if (protocol === 0) return;
    conn.protocolShown = true;
    if (this.log.level() >= 2) this.log.lines(`${conn.id}: Client using the ${protocol === CONN_BINARY ? 'binary' : 'ascii'} protocol`);
  }

  private flushLines(): void {
    if (this.lines.length === 0) return;
    this.log.lines(this.lines.join('\n'));
    this.lines.length = 0;
  }

  /** memcached's slab class table, printed at -vv as it starts (the records
   *  mc_init left). */
  printSlabClasses(): void {
    if (this.log.level() < 2) return;
    forEachLogRecord(this.store.logRecords(), (r) => {
      const line = slabClassLine(r);
      if (line !== null) this.lines.push(line);
    });
    this.flushLines();
  }
}
