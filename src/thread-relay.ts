// -t N: what threads tell each other while serving, over a MessagePort per
// pair of threads (made by the main thread before it starts the others):
// watch lines made on one thread for watchers on another (memcached's logger
// is one for all its worker threads), `stats conns`, which lists the
// connections of every thread, and `refresh_certs`. Point to point, so a
// thread is sent only what is for it: the lines for a thread's watchers are
// bounded in transit (ThreadShared.relayReserve), and no other thread queues
// copies of them.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ConnRow } from './stats-conns.js';
import { SESSION_WAIT_MS, type SessionStore } from './tls-sessions.js';

/** How long `stats conns` waits for the other threads' rows. */
const CONNS_WAIT_MS = 1000;

type RelayMessage =
  | { t: 'lines'; bytes: number; kinds: number[]; gids: number[]; lines: string[] }
  | { t: 'conns?'; id: number }
  | { t: 'conns'; id: number; rows: ConnRow[] }
  | { t: 'refresh-certs' }
  | { t: 'session-put'; id: string; data: Uint8Array }
  | { t: 'session?'; rid: number; id: string }
  | { t: 'session'; rid: number; data: Uint8Array | null };

interface ConnsRequest {
  rows: ConnRow[];
  left: number;
  done(rows: ConnRow[]): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The ports of an N-thread server: ports[i][j] is thread i's end of its
 *  channel to thread j (null where i == j). */
export function relayPorts(threads: number): (MessagePort | null)[][] {
  const ports: (MessagePort | null)[][] = Array.from({ length: threads }, () => new Array<MessagePort | null>(threads).fill(null));
  for (let i = 0; i < threads; i++) {
    for (let j = i + 1; j < threads; j++) {
      const { port1, port2 } = new MessageChannel();
      ports[i][j] = port1;
      ports[j][i] = port2;
    }
  }
  return ports;
}

export class ThreadRelay {
  /** Watch lines another thread made for this one (watch.ts delivers them
   *  to this thread's watchers); `bytes` counted in its queue (ThreadShared). */
  onLines: ((kinds: number[], gids: number[], lines: string[], bytes: number) => void) | null = null;
  /** Another thread's `refresh_certs` loaded the files: load them here too. */
  onRefreshCerts: (() => void) | null = null;
  /** This thread's `stats conns` rows, for another thread's listing. */
  onConnsRequest: (() => ConnRow[]) | null = null;
  /** The main thread: the TLS sessions every thread keeps and resumes (tls-sessions.ts). */
  sessions: SessionStore | null = null;
  private nextId = 1;
  private readonly requests = new Map<number, ConnsRequest>();
  private readonly sessionWaits = new Map<number, { done: (data: Uint8Array | null) => void; timer: ReturnType<typeof setTimeout> }>();

  /** `peers[j]`: this thread's port to thread j (null for itself). */
  constructor(readonly thread: number, private readonly peers: (MessagePort | null)[]) {
    for (const port of peers) {
      if (port === null) continue;
      port.on('message', (m: RelayMessage) => this.receive(port, m));
      // Serving keeps the thread alive, not these ports.
      port.unref();
    }
  }

  get threads(): number {
    return this.peers.length;
  }

  /** One engine call's watch lines, for thread `to`. */
  publishLines(to: number, kinds: number[], gids: number[], lines: string[], bytes: number): void {
    this.peers[to]?.postMessage({ t: 'lines', bytes, kinds, gids, lines } satisfies RelayMessage);
  }

  publishRefreshCerts(): void {
    for (const port of this.peers) port?.postMessage({ t: 'refresh-certs' } satisfies RelayMessage);
  }

  /** A thread other than the main one: TLS sessions kept on the main
   *  thread, so a client resumes on whichever thread it lands. */
  mainSessions(): SessionStore {
    const main = this.peers[0];
    return {
      put: (id, data) => main?.postMessage({ t: 'session-put', id, data } satisfies RelayMessage),
      get: (id, done) => {
        if (!main) { done(null); return; }
        const rid = this.nextId++;
        // No answer in time (the main thread is busy): a full handshake.
        const timer = setTimeout(() => this.sessionAnswer(rid, null), SESSION_WAIT_MS);
        this.sessionWaits.set(rid, { done, timer });
        main.postMessage({ t: 'session?', rid, id } satisfies RelayMessage);
      },
    };
  }

  private sessionAnswer(rid: number, data: Uint8Array | null): void {
    const w = this.sessionWaits.get(rid);
    if (w === undefined) return;
    this.sessionWaits.delete(rid);
    clearTimeout(w.timer);
    w.done(data);
  }

  /** The other threads' `stats conns` rows (those that answer within CONNS_WAIT_MS). */
  otherConns(): Promise<ConnRow[]> {
    if (this.threads <= 1) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise<ConnRow[]>((resolve) => {
      const timer = setTimeout(() => this.finish(id), CONNS_WAIT_MS);
      this.requests.set(id, { rows: [], left: this.threads - 1, done: resolve, timer });
      for (const port of this.peers) port?.postMessage({ t: 'conns?', id } satisfies RelayMessage);
    });
  }

  private finish(id: number): void {
    const r = this.requests.get(id);
    if (r === undefined) return;
    this.requests.delete(id);
    clearTimeout(r.timer);
    r.done(r.rows);
  }

  private receive(from: MessagePort, m: RelayMessage): void {
    if (m.t === 'lines') {
      this.onLines?.(m.kinds, m.gids, m.lines, m.bytes);
    } else if (m.t === 'refresh-certs') {
      this.onRefreshCerts?.();
    } else if (m.t === 'conns?') {
      from.postMessage({ t: 'conns', id: m.id, rows: this.onConnsRequest?.() ?? [] } satisfies RelayMessage);
    } else if (m.t === 'session-put') {
      this.sessions?.put(m.id, m.data);
    } else if (m.t === 'session?') {
      const answer = (data: Uint8Array | null) => from.postMessage({ t: 'session', rid: m.rid, data } satisfies RelayMessage);
      if (this.sessions) this.sessions.get(m.id, answer); else answer(null);
    } else if (m.t === 'session') {
      this.sessionAnswer(m.rid, m.data);
    } else if (m.t === 'conns') {
      const r = this.requests.get(m.id);
      if (r === undefined) return;
      r.rows.push(...m.rows);
      if (--r.left === 0) this.finish(m.id);
    }
  }

  close(): void {
    for (const id of [...this.requests.keys()]) this.finish(id);
    for (const rid of [...this.sessionWaits.keys()]) this.sessionAnswer(rid, null);
    for (const port of this.peers) port?.close();
  }
}
