// -t N: what threads tell each other while serving, over one
// BroadcastChannel per server: watch lines made on one thread for watchers
// on another (memcached's logger is one for all its worker threads), and
// `stats conns`, which lists the connections of every thread.
import { BroadcastChannel } from 'node:worker_threads';
import type { ConnRow } from './stats-conns.js';

/** How long `stats conns` waits for the other threads' rows. */
const CONNS_WAIT_MS = 1000;

type RelayMessage =
  | { t: 'lines'; to: number[]; bytes: number; kinds: number[]; gids: number[]; lines: string[] }
  | { t: 'conns?'; from: number; id: number }
  | { t: 'conns'; to: number; id: number; rows: ConnRow[] }
  | { t: 'refresh-certs' };

interface ConnsRequest {
  rows: ConnRow[];
  left: number;
  done(rows: ConnRow[]): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ThreadRelay {
  private readonly channel: BroadcastChannel;
  /** Watch lines another thread made for this one (watch.ts delivers them
   *  to this thread's watchers); `bytes` counted in its queue (ThreadShared). */
  onLines: ((kinds: number[], gids: number[], lines: string[], bytes: number) => void) | null = null;
  /** Another thread's `refresh_certs` loaded the files: load them here too. */
  onRefreshCerts: (() => void) | null = null;
  /** This thread's `stats conns` rows, for another thread's listing. */
  onConnsRequest: (() => ConnRow[]) | null = null;
  private nextId = 1;
  private readonly requests = new Map<number, ConnsRequest>();

  /** `name` is the server's: every thread of it opens the same channel. */
  constructor(readonly thread: number, readonly threads: number, name: string) {
    this.channel = new BroadcastChannel(name);
    // Serving keeps the thread alive, not this channel.
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.channel.onmessage = (ev) => this.receive((ev as { data: RelayMessage }).data);
  }

  /** One engine call's watch lines, for the threads `to`. */
  publishLines(to: number[], kinds: number[], gids: number[], lines: string[], bytes: number): void {
    this.channel.postMessage({ t: 'lines', to, bytes, kinds, gids, lines } satisfies RelayMessage);
  }

  publishRefreshCerts(): void {
    this.channel.postMessage({ t: 'refresh-certs' } satisfies RelayMessage);
  }

  /** The other threads' `stats conns` rows (those that answer within CONNS_WAIT_MS). */
  otherConns(): Promise<ConnRow[]> {
    if (this.threads <= 1) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise<ConnRow[]>((resolve) => {
      const timer = setTimeout(() => this.finish(id), CONNS_WAIT_MS);
      this.requests.set(id, { rows: [], left: this.threads - 1, done: resolve, timer });
      this.channel.postMessage({ t: 'conns?', from: this.thread, id } satisfies RelayMessage);
    });
  }

  private finish(id: number): void {
    const r = this.requests.get(id);
    if (r === undefined) return;
    this.requests.delete(id);
    clearTimeout(r.timer);
    r.done(r.rows);
  }

  private receive(m: RelayMessage): void {
    if (m.t === 'lines') {
      if (m.to.includes(this.thread)) this.onLines?.(m.kinds, m.gids, m.lines, m.bytes);
    } else if (m.t === 'refresh-certs') {
      this.onRefreshCerts?.();
    } else if (m.t === 'conns?') {
      const rows = this.onConnsRequest?.() ?? [];
      this.channel.postMessage({ t: 'conns', to: m.from, id: m.id, rows } satisfies RelayMessage);
    } else if (m.t === 'conns' && m.to === this.thread) {
      const r = this.requests.get(m.id);
      if (r === undefined) return;
      r.rows.push(...m.rows);
      if (--r.left === 0) this.finish(m.id);
    }
  }

  close(): void {
    for (const id of [...this.requests.keys()]) this.finish(id);
    this.channel.close();
  }
}
