// Reads the server's statistics the way a client reads them: `stats`,
// `stats settings`, `stats slabs` and `stats items` run through the engine
// on a session of their own (session.ts), and the replies are parsed into the
// shape memcached_exporter's client gives them (lines split on spaces; a name
// without ':' is a server-wide stat, `<class>:<name>` a `stats slabs` line,
// `items:<class>:<name>` a `stats items` line). So every number the metrics
// endpoint shows is exactly what `stats` answers. A read is a few engine
// calls run to completion, like one client's commands: it never interleaves
// with another connection's call.
import { CONN_TEXT, CONN_AUTHENTICATED, R_CONN, R_CONN_STATE, ST_OK, ST_OUT_FULL } from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import { Session } from './session.js';
import { INPUT_PER_CALL } from './conn.js';

const COMMANDS = ['stats', 'stats settings', 'stats slabs', 'stats items'];
const REQUEST = Buffer.from(COMMANDS.map((c) => `${c}\r\n`).join(''), 'latin1');
/** Engine calls one read may take: each call answers at least one of the
 *  four commands or writes up to its output limit, so a handful suffice. */
const MAX_CALLS = 64;
const CONN = (R_CONN - R_CONN_STATE) >>> 2;

export interface StatsReport {
  /** `stats`, plus the lines of `stats slabs` that name no class (total_malloced). */
  stats: Map<string, string>;
  settings: Map<string, string>;
  /** `stats slabs` by class id */
  slabs: Map<number, Map<string, string>>;
  /** `stats items` by class id */
  items: Map<number, Map<string, string>>;
}

/** The engine threw while answering: the arena can no longer be trusted. */
export class EngineTrapError extends Error {
  constructor(readonly trap: unknown) {
    super(`engine trap: ${trap instanceof Error ? trap.message : String(trap)}`);
  }
}

/** A reply that is not what `stats` answers (the scrape reports the server down). */
export class StatsReplyError extends Error {}

/** Runs the four commands and parses their replies. Throws EngineTrapError
 *  if the engine traps, StatsReplyError if a reply is malformed. */
export function readStats(store: Store, now: number): StatsReport {
  const session = new Session(store);
  // A session of the server's own: text protocol, and past -S / -Y
  // authentication, which guards clients, not the host.
  session.protocol = CONN_TEXT | CONN_AUTHENTICATED;
  session.push(REQUEST);
  const replies: Uint8Array[] = [];
  try {
    for (let calls = 0; session.runnable(); calls++) {
      if (calls === MAX_CALLS) throw new StatsReplyError(`stats not answered in ${MAX_CALLS} engine calls`);
      let status: number;
      try {
        status = session.execute(now, INPUT_PER_CALL);
      } catch (err) {
        throw new EngineTrapError(err);
      }
      if (session.output !== null) replies.push(session.output);
      if (status !== ST_OK && status !== ST_OUT_FULL) throw new StatsReplyError(`engine status ${status} answering stats`);
      if (status === ST_OK && session.consumed === 0) break;
    }
    // Before close(), which drops what is pending.
    if (session.pendingLen > 0) throw new StatsReplyError('stats commands left unanswered');
  } finally {
    session.close();
  }
  return parseReplies(Buffer.concat(replies).toString('latin1'));
}

/** Splits the replies at their END lines and files every STAT line. */
export function parseReplies(text: string): StatsReport {
  const report: StatsReport = { stats: new Map(), settings: new Map(), slabs: new Map(), items: new Map() };
  const lines = text.split('\r\n');
  let command = 0;
  for (const line of lines) {
    if (command === COMMANDS.length) {
      if (line !== '') throw new StatsReplyError(`unexpected line after the replies: ${JSON.stringify(line)}`);
      continue;
    }
    if (line === 'END') { command++; continue; }
    const parts = line.split(' ');
    if (COMMANDS[command] === 'stats settings') {
      if (parts.length !== 3 || parts[0] !== 'STAT') throw new StatsReplyError(`unexpected stats settings line ${JSON.stringify(line)}`);
      report.settings.set(parts[1], parts[2].trim());
      continue;
    }
    // As the exporter's client: only three-word STAT lines count.
    if (parts.length !== 3 || !parts[0].startsWith('STAT')) {
      if (line.startsWith('ERROR') || line.startsWith('CLIENT_ERROR') || line.startsWith('SERVER_ERROR')) {
        throw new StatsReplyError(`${COMMANDS[command]} answered ${line}`);
      }
      continue;
    }
    const value = parts[2].trim();
    const name = parts[1].split(':');
    if (name.length === 1) report.stats.set(parts[1], value);
    else if (name.length === 2) fileByClass(report.slabs, name[0], name[1], value);
    else if (name.length === 3) fileByClass(report.items, name[1], name[2], value);
  }
  if (command !== COMMANDS.length) throw new StatsReplyError(`${COMMANDS.length - command} stats replies incomplete`);
  return report;
}

function fileByClass(to: Map<number, Map<string, string>>, id: string, name: string, value: string): void {
  if (!/^\d+$/.test(id)) throw new StatsReplyError(`bad class id ${JSON.stringify(id)}`);
  const c = Number(id);
  let m = to.get(c);
  if (m === undefined) {
    m = new Map();
    to.set(c, m);
  }
  m.set(name, value);
}
