// The Prometheus endpoint (-o metrics_port, metrics_listen): `GET /metrics`
// on its own HTTP listener answers the memcached_exporter families
// (metrics-memcached.ts) and wasmcached's own (metrics-wasmcached.ts) in the
// text format (prom-text.ts). Each scrape reads `stats` through the engine
// (stats-reader.ts): a few engine calls, run to completion between other
// connections' calls, so scrapes never stall clients for longer than a
// `stats` command would.
//
// Bounds: requests carry no body and at most MAX_HEADER_BYTES of headers,
// must arrive within REQUEST_TIMEOUT_MS, and at most MAX_SOCKETS are open at
// once; anything else is answered with an error and the socket closed.
// The endpoint needs no authentication, even under -S or -Y: it listens on
// 127.0.0.1 unless metrics_listen says otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HS_METRICS_PORT } from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';
import { Exposition } from './prom-text.js';
import { readStats, EngineTrapError, type StatsReport } from './stats-reader.js';
import { collectMemcached } from './metrics-memcached.js';
import { collectWasmcached } from './metrics-wasmcached.js';
import type { ThreadShared } from './threads.js';

export const METRICS_PATH = '/metrics';
/** What the Go client answers for the text format. */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const MAX_HEADER_BYTES = 8 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_SOCKETS = 64;

export interface MetricsOptions {
  store: Store;
  /** -t N: the threads' per-thread counters. */
  threads?: ThreadShared | null;
  /** Interface and port to listen on (0: any free port). */
  host: string;
  port: number;
  log: Logger;
  /** Whole seconds, the clock handed to the engine. */
  now(): number;
  /** The engine threw during a scrape: the arena can no longer be trusted. */
  trapped(err: unknown): void;
}

export class MetricsServer {
  private readonly http: Server;
  private bound: AddressInfo | null = null;

  constructor(private readonly o: MetricsOptions) {
    this.http = createServer({
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
    }, (req, res) => this.handle(req, res));
    this.http.maxConnections = MAX_SOCKETS;
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => refuse(err, socket));
  }

  /** `http://<addr>:<port>/metrics`, once listening. */
  get url(): string {
    const a = this.bound;
    if (a === null) throw new Error('metrics endpoint not listening');
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}${METRICS_PATH}`;
  }

  /** Binds; sets the port `stats settings` shows as metrics_port. */
  async listen(): Promise<void> {
    const { host, port } = this.o;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`failed to listen for metrics on ${host}:${port}: ${err.message}`));
      this.http.once('error', onError);
      this.http.listen({ host, port }, () => { this.http.off('error', onError); resolve(); });
    });
    this.http.on('error', (err) => this.o.log.warn(`metrics listener error: ${err.message}`));
    this.bound = this.http.address() as AddressInfo;
    this.o.store.setHostStat(HS_METRICS_PORT, this.bound.port);
  }

  /** Stops listening and drops open scrape connections. */
  close(): void {
    this.http.close();
    this.http.closeAllConnections();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) { reply(res, 404, 'Not Found'); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      reply(res, 405, 'Method Not Allowed');
      return;
    }
    // A scrape has no body; one that comes with a body is not a scrape.
    const length = req.headers['content-length'];
    if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
      reply(res, 400, 'Bad Request: a scrape has no body');
      return;
    }
    let body: string;
    try {
      body = this.scrape();
    } catch (err) {
      reply(res, 500, 'Internal Server Error');
      if (err instanceof EngineTrapError) this.o.trapped(err.trap);
      else this.o.log.error(`metrics: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** One scrape's text. Throws EngineTrapError if the engine traps. */
  scrape(): string {
    let report: StatsReport | null;
    try {
      report = readStats(this.o.store, this.o.now());
    } catch (err) {
      if (err instanceof EngineTrapError) throw err;
      // As memcached_exporter when its stats fail: memcached_up 0.
      this.o.log.warn(`metrics: cannot read stats: ${err instanceof Error ? err.message : String(err)}`);
      report = null;
    }
    const out = new Exposition();
    collectMemcached(report, out);
    collectWasmcached(this.o.store, report, out, this.o.threads ?? null);
    return out.render();
  }
}

/** A short plain-text error; the connection closes after it. */
function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  res.end(`${text}\n`);
}

/** A request that does not parse, or headers over the limit: answered and closed. */
function refuse(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return; }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // A client that never reads must not keep the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}
