// The listening side of the host: accepts connections (TCP or a unix socket),
// serves UDP with -U (udp.ts), enforces -c, runs the once-a-second ticker (engine clock and crawler,
// rusage, idle kicks), keeps the connection counters that `stats` reports,
// and stops gracefully on SIGTERM/SIGINT or the `shutdown` command.
// One Store serves every connection. On one thread execute calls never
// interleave because each runs to completion on the event loop; with -t N
// (threads.ts) each thread runs a CacheServer of its own on one shared
// store, and the Store takes the engine lock around each call.
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import {
  HS_PID, HS_CURR_CONNECTIONS, HS_TOTAL_CONNECTIONS, HS_REJECTED_CONNECTIONS, HS_CONNECTION_STRUCTURES,
  HS_MAX_CONNECTIONS, HS_RUSAGE_USER_US, HS_RUSAGE_SYSTEM_US, HS_IDLE_KICKS, HS_TCP_PORT, HS_IDLE_TIMEOUT,
  HS_THREADS, HS_CONN_YIELDS, HS_UNIX_SOCKET, HS_RESPONSE_OBJ_COUNT, HS_RESPONSE_OBJ_BYTES, HS_READ_BUF_COUNT,
  HS_READ_BUF_BYTES, HSET_PROTOCOL, HSET_REQS_PER_EVENT, HSET_TCP_BACKLOG,
  HSET_PREFIX_DELIMITER, HSET_HASHPOWER_INIT, HSET_WARM_FROM, HSET_WARM_FROM_BYTES, HSET_UNIX_MASK, HSET_NO_LRU_MAINTAINER, HSET_LRU_FLAT, BIND_AUTO, BIND_ASCII, BIND_BINARY,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import { listenPort, firstListenerTls, type Settings } from './settings.js';
import type { Logger } from './log.js';
import { Conn, OUTPUT_PER_CALL, SpareParts, type ConnHost } from './conn.js';
import { acceptWithSharedReads, READ_BUFFER_SIZE } from './read-buffer.js';
import { bytesOfOwn } from './bytes.js';
import { streamBinding } from './stream-socket.js';
import { createBunServer } from './bun-listener.js';
import { OutputPool } from './output-pool.js';
import { ConnList } from './conn-list.js';
import { renderStatsConns, statsConnRows, type ConnRow, type ListenerInfo } from './stats-conns.js';
import { startTicker } from './ticker.js';
import type { ListeningPort } from './port-file.js';
import type { Snapshotter } from './snapshot.js';
import type { Warmer } from './warm.js';
import { MetricsServer } from './metrics.js';
import { UdpListener } from './udp.js';
import { Watchers } from './watch.js';
import { EngineLog } from './engine-log.js';
import type { ThreadGroup, ThreadRole } from './threads.js';
import { HSTR_INTER, HSTR_DOMAIN_SOCKET, HSTR_MEMORY_FILE, HSTR_NAPI_IDS } from '../assembly/abi.js';
import { TlsFront, writeTlsSettings } from './tls.js';
import { TlsSessions, type SessionStore } from './tls-sessions.js';
import { ExtraListeners } from './listeners.js';

/** What memcached sends before closing a connection over the -c limit. */
const TOO_MANY_CONNECTIONS = Buffer.from('ERROR Too many open connections\r\n');
/** Connections still open this long after a stop began are destroyed. */
const STOP_GRACE_MS = 2000;
/** An engine trap leaves the arena untrusted: exit with EX_SOFTWARE. */
export const EXIT_ENGINE_TRAP = 70;

export interface ServerOptions {
  settings: Settings;
  store: Store;
  log: Logger;
  /** Ends the process (injected so the exit paths stay in cli.ts). */
  exit(code: number): void;
  /** -e: writes the cache to its file once every connection is closed. */
  snapshotter?: Snapshotter;
  /** --warm-from: started once listening, stopped with the server. */
  warmer?: Warmer;
  /** -t N: which thread this server is and what the threads share. */
  thread?: ThreadRole;
  /** -t N, main thread: the other threads, started once listening. */
  threadGroup?: ThreadGroup;
}

export class CacheServer implements ConnHost {
  readonly store: Store;
  readonly log: Logger;
  private readonly settings: Settings;
  private readonly exit: (code: number) => void;
  private readonly snapshotter: Snapshotter | null;
  readonly warmer: Warmer | null;
  /** -o metrics_port: the Prometheus endpoint, started and stopped with the server. */
  readonly metrics: MetricsServer | null;
  private readonly listener: Server;
  /** Connections whose conn_close watchers have had (Conn.end()). */
  private readonly closeLogged = new WeakSet<Conn>();
  /** Seconds; `stats conns` shows it for the listening socket. */
  private lastAccept = 0;
  private readonly conns = new ConnList<Conn>();
  /** `watch` connections, and what engine calls logged for them and -vv. */
  private readonly watchers: Watchers;
  private readonly engineLog: EngineLog;
  readonly outputPool = new OutputPool(OUTPUT_PER_CALL);
  /** Every connection's reads land here (read-buffer.ts). */
  private readonly readBuffer = bytesOfOwn(READ_BUFFER_SIZE);
  /** Sockets and sessions that parked connections gave back (Conn.park()). */
  readonly spares: SpareParts;
  // memcached counts its listening socket in total_connections and connection_structures.
  private totalConnections = 1;
  private peakConnections = 0;
  private rejectedConnections = 0;
  private idleKicks = 0;
  private connYields = 0;
  private nextId = 1;
  private stopTicker: (() => void) | null = null;
  private readonly thread: ThreadRole | null;
  private readonly threadGroup: ThreadGroup | null;
  private stopping: Promise<void> | null = null;
  private exiting = false;
  private allClosed: (() => void) | null = null;
  /** -U; null when UDP is off. */
  private readonly udp: UdpListener | null;
  /** -Z: the handshakes of the TCP port (tls.ts); null when TLS is off. */
  private readonly tls: TlsFront | null;
  /** -Z: sockets counted in at accept whose handshake has not ended. */
  private handshakes = 0;
  /** The -l entries after the first (listeners.ts). */
  private readonly extraListeners: ExtraListeners;

  constructor(opts: ServerOptions) {
    this.settings = opts.settings;
    this.store = opts.store;
    this.spares = new SpareParts(this.store, this.outputPool, this.readBuffer);
    this.log = opts.log;
    this.exit = opts.exit;
    this.snapshotter = opts.snapshotter ?? null;
    this.warmer = opts.warmer ?? null;
    this.thread = opts.thread ?? null;
    this.threadGroup = opts.threadGroup ?? null;
    const worker = this.isWorker;
    // The listening socket counts in memcached's totals once, in thread 0's.
    if (worker) this.totalConnections = 0;
    const s = opts.settings;
    this.metrics = s.metricsPort === null || worker ? null : new MetricsServer({
      store: this.store, host: s.metricsListen, port: s.metricsPort, log: this.log, now: () => this.now(),
      threads: this.thread?.shared ?? null,
      trapped: (err) => {
        this.log.error(`engine trap in a metrics scrape: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        this.exit(EXIT_ENGINE_TRAP);
      },
    });
    // Bounds what one call, and so one connection, makes the host hold.
    this.store.outputLimit = OUTPUT_PER_CALL;
    this.watchers = new Watchers(this.store, this.thread);
    if (this.thread !== null) this.thread.relay.onConnsRequest = () => this.connRowsForOthers();
    if (this.thread !== null) this.thread.relay.onRefreshCerts = () => { this.tls?.refresh(); };
    this.engineLog = new EngineLog(this.store, this.log, this.watchers);
    if (!worker) this.engineLog.printSlabClasses();
    // Throws TlsSetupError when the certificates cannot be used.
    this.tls = s.tls ? new TlsFront({
      ssl: s.ssl, store: this.store, log: this.log,
      secure: (socket) => this.handshakeDone(socket), ended: () => this.handshakeEnded(),
      setStat: (id, value) => this.hostStat(id, value),
      sessions: s.ssl.sessionCache ? this.tlsSessions() : null,
    }) : null;
    // Used only where the shared read buffer cannot be set up (read-buffer.ts), and under TLS.
    const tlsFirst = firstListenerTls(s);
    this.listener = s.host === 'bun'
      ? createBunServer((socket) => this.accept(socket, null))
      : createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
        (socket) => (tlsFirst ? this.acceptTls(socket) : this.accept(socket, null)));
    // -t N: the listeners after the first are thread 0's alone.
    this.extraListeners = new ExtraListeners(s.unixSocket || worker ? [] : s.listeners.slice(1), s.port, s.backlog, s.tls,
      (socket, tls) => (tls ? this.acceptTls(socket) : this.accept(socket, null)));
    // As memcached, a unix socket (-s) turns off the network, UDP included.
    this.udp = this.settings.udpPort !== 0 && !this.settings.unixSocket && !worker ? new UdpListener({
      store: this.store, log: this.log, now: () => this.now(), shutdown: () => this.shutdown(),
      trapped: (err) => this.engineTrapped('udp', err), refreshCerts: () => this.refreshCerts(),
    }) : null;
  }

  /** A -t thread other than the first: it accepts and serves, and leaves
   *  the rest (UDP, ticker, metrics, snapshots, warming) to thread 0. */
  private get isWorker(): boolean {
    return this.thread !== null && this.thread.index > 0;
  }

  /** -o ssl_session_cache: the sessions, kept on the main thread for all. */
  private tlsSessions(): SessionStore {
    const t = this.thread;
    if (t !== null && t.index > 0) return t.relay.mainSessions();
    const sessions = new TlsSessions();
    if (t !== null) t.relay.sessions = sessions;
    return sessions;
  }

  /** Sets a host counter; with -t N a summed one gets this thread's share. */
  private hostStat(id: number, value: number): void {
    const t = this.thread;
    if (t !== null && t.shared.setStat(this.store, t.index, id, value)) return;
    this.store.setHostStat(id, value);
  }

  /** The listeners of -l after the first: `host:port (tls|notls)`. */
  get otherListeners(): string[] {
    return this.extraListeners.describe();
  }

  /** The UDP port served (-U), 0 when UDP is off. */
  get udpPort(): number {
    return this.udp?.port ?? 0;
  }

  now(): number {
    return Math.floor(Date.now() / 1000);
  }

  /** -R: most commands one connection completes per event. */
  get requestsPerEvent(): number {
    return this.settings.requestsPerEvent;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Open connections that are parked (Conn.park()); a walk over all of
   *  them, for tests and diagnostics. */
  get parkedConnections(): number {
    let n = 0;
    this.conns.forEach((c) => { if (c.parked) n++; });
    return n;
  }

  /** Binds, sets the host stats, starts the ticker; resolves to what `listening on` prints. */
  async listen(): Promise<string> {
    if (this.isWorker) return this.listenWorker();
    const s = this.settings;
    const where = s.unixSocket ?? `${s.listen}:${listenPort(s)}`;
    // Before the first connection: -B decides which protocol it may speak.
    this.setHostSettings();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new Error(`failed to listen on ${where}: ${err.message}`));
      this.listener.once('error', onError);
      this.listener.once('listening', () => { this.listener.off('error', onError); resolve(); });
      if (s.unixSocket) this.listenUnix(s.unixSocket, s.unixMask, s.backlog);
      else this.listener.listen({ port: listenPort(s), host: s.listen, backlog: s.backlog });
    });
    this.listener.on('error', (err) => this.log.warn(`listener error: ${err.message}`));
    // Under TLS the raw handle carries ciphertext: connections read through 'data'.
    if (!firstListenerTls(s)) this.acceptDirect();
    try {
      await this.extraListeners.listen();
    } catch (err) {
      this.listener.close();
      this.extraListeners.close();
      throw err;
    }
    // -U -1 is memcached's "any free port", as -p 0 is ours.
    if (this.udp !== null) {
      try {
        await this.udp.listen(s.listen, s.udpPort === -1 ? 0 : s.udpPort);
      } catch (err) {
        this.listener.close();
        throw err;
      }
    }

    let shown: string;
    let tcpPort = 0;
    if (s.unixSocket) {
      chmodSync(s.unixSocket, s.unixMask);
      shown = s.unixSocket;
    } else {
      const a = this.listener.address() as AddressInfo;
      tcpPort = a.port;
      shown = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    }
    const st = this.store;
    st.setHostStat(HS_PID, process.pid);
    st.setHostStat(HS_MAX_CONNECTIONS, s.connLimit);
    st.setHostStat(HS_THREADS, this.thread?.shared.threads ?? 1);
    st.setHostStat(HS_TCP_PORT, tcpPort);
    st.setHostStat(HS_IDLE_TIMEOUT, s.idleTimeout);
    st.setHostStat(HS_UNIX_SOCKET, s.unixSocket ? 1 : 0);
    // One read buffer serves every connection of a thread (src/read-buffer.ts).
    this.hostStat(HS_READ_BUF_COUNT, 1);
    this.hostStat(HS_READ_BUF_BYTES, READ_BUFFER_SIZE);
    st.udpPort = this.udpPort;
    this.updateConnStats();
    this.updateRusage();
    try {
      await this.metrics?.listen();
    } catch (err) {
      this.listener.close();
      throw err;
    }
    this.stopTicker = startTicker(() => this.tick());
    this.log.info(`<${fdOf(this.listener) ?? 0} server listening (${protocolName(s)})`);
    this.warmer?.start();
    const group = this.threadGroup;
    if (group !== null) {
      const fd = fdOf(this.listener);
      if (fd === undefined) throw new Error('-t: the listening socket has no descriptor to share with the other threads');
      if (this.warmer?.active) {
        // Miss-through warming stops calls for the warmer of thread 0, so
        // the other threads start serving once the copy is over.
        this.warmer.whenFinished(() => {
          if (this.stopping) return;
          group.start(fd).catch((err: Error) => this.engineTrapped('-t', err));
        });
      } else {
        try {
          await group.start(fd);
        } catch (err) {
          this.listener.close();
          throw err;
        }
      }
    }
    return shown;
  }

  /** Accepted sockets read into the shared buffer; under --host node they
   *  are served on their libuv handles (stream-socket.ts) where the runtime
   *  allows, and the fallback is said once. */
  private acceptDirect(): void {
    const direct = this.settings.host === 'node';
    acceptWithSharedReads(this.listener, this.readBuffer, (socket, bind) => this.accept(socket, bind), direct, this.spares);
    if (direct && streamBinding() === null && !this.isWorker) {
      this.log.warn('--host node: this runtime does not offer libuv stream handles; sockets are served through node:net');
    }
  }

  /** A worker thread accepts on thread 0's listening socket. */
  private async listenWorker(): Promise<string> {
    const fd = this.thread!.listenFd!;
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.once('listening', () => { this.listener.off('error', reject); resolve(); });
      this.listener.listen({ fd });
    });
    this.listener.on('error', (err) => this.log.warn(`listener error: ${err.message}`));
    if (!firstListenerTls(this.settings)) this.acceptDirect();
    this.hostStat(HS_READ_BUF_COUNT, 1);
    this.hostStat(HS_READ_BUF_BYTES, READ_BUFFER_SIZE);
    this.updateConnStats();
    this.stopTicker = startTicker(() => this.tick());
    return `fd ${fd}`;
  }

  /** The sockets it listens on, for MEMCACHED_PORT_FILENAME (none on a unix socket). */
  listeningPorts(): ListeningPort[] {
    if (this.settings.unixSocket !== null) return [];
    const a = this.listener.address() as AddressInfo;
    const family = a.family === 'IPv6' ? 'IPv6' : 'IPv4';
    const list: ListeningPort[] = [{ transport: 'TCP', family, port: a.port }, ...this.extraListeners.ports()];
    if (this.udp !== null) list.push({ transport: 'UDP', family, port: this.udp.port });
    return list;
  }

  /** The command line's settings that `stats settings` reports, and -B. */
  private setHostSettings(): void {
    const s = this.settings;
    const st = this.store;
    st.setHostSetting(HSET_PROTOCOL, s.protocol === 'ascii' ? BIND_ASCII : s.protocol === 'binary' ? BIND_BINARY : BIND_AUTO);
    st.setHostSetting(HSET_REQS_PER_EVENT, s.requestsPerEvent);
    st.setHostSetting(HSET_TCP_BACKLOG, s.backlog);
    st.setHostSetting(HSET_PREFIX_DELIMITER, s.prefixDelimiter === null ? 0 : s.prefixDelimiter.charCodeAt(0));
    // -D also turns `stats detail` on, as memcached's does.
    if (s.prefixDelimiter !== null) {
      st.prefixDelimiter = s.prefixDelimiter.charCodeAt(0);
      st.detailEnabled = true;
    }
    st.setHostSetting(HSET_HASHPOWER_INIT, s.hashpowerInit);
    st.setHostSetting(HSET_NO_LRU_MAINTAINER, s.lruMaintainer ? 0 : 1);
    st.setHostSetting(HSET_LRU_FLAT, s.lruFlat ? 1 : 0);
    st.setHostSetting(HSET_UNIX_MASK, s.unixMask);
    writeTlsSettings(st, s.tls, s.ssl);
    // memcached prints NULL for no -l (all interfaces); ours then is 127.0.0.1.
    st.setHostString(HSTR_INTER, s.listenArg ?? s.listen);
    st.setHostString(HSTR_DOMAIN_SOCKET, s.unixSocket ?? '');
    st.setHostString(HSTR_MEMORY_FILE, s.snapshotFile ?? '');
    st.setHostString(HSTR_NAPI_IDS, s.napiIds ?? '');
    if (s.warmFrom !== null) {
      const host = s.warmFrom.host.includes(':') ? `[${s.warmFrom.host}]` : s.warmFrom.host;
      const text = Buffer.from(`${host}:${s.warmFrom.port}`, 'latin1').subarray(0, HSET_WARM_FROM_BYTES);
      const words = new Uint8Array(HSET_WARM_FROM_BYTES);
      words.set(text);
      const view = new DataView(words.buffer);
      for (let i = 0; i < HSET_WARM_FROM_BYTES / 4; i++) st.setHostSetting(HSET_WARM_FROM + i, view.getUint32(i * 4, true));
    }
  }

  /** Like memcached: replace a stale socket file, never any other file; the mode comes from -a. */
  private listenUnix(path: string, mask: number, backlog: number): void {
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path);
      else throw new Error(`${path} exists and is not a socket`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // The socket file is created by bind() with the umask applied; narrow it
    // for that call so it never exists with looser permissions than -a.
    const old = process.umask(~mask & 0o777);
    try {
      this.listener.listen({ path, backlog });
    } finally {
      process.umask(old);
    }
  }

  /** SIGTERM/SIGINT and SIGUSR1 (memcached's graceful restart) stop the
   *  server gracefully, write the snapshot with -e, then the process exits 0. */
  handleSignals(): void {
    const onSignal = (sig: NodeJS.Signals) => {
      this.log.warn(`signal handled: ${sig}`);
      this.stopAndExit();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGUSR1', onSignal);
  }

  /** Stops, then (with -e) writes the snapshot once no client can change
   *  the cache any more, then exits. */
  private stopAndExit(): void {
    // A second signal while stopping changes nothing.
    if (this.exiting) return;
    this.exiting = true;
    void this.stop().then(() => {
      const s = this.snapshotter;
      if (s) {
        s.stopInterval();
        s.writeNow();
      }
      this.exit(0);
    });
  }

  /** Stops accepting, ends every connection (destroying stragglers after a grace period). */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const own = new Promise<void>((resolve) => {
      this.stopTicker?.();
      this.warmer?.stop();
      this.metrics?.close();
      // With -t N every thread polls thread 0's listening socket, by the
      // same descriptor number: closing it here while the other threads
      // still watch it made their libuv abort (epoll_ctl on a closed
      // descriptor: SIGABRT in about 1 shutdown in 6 on a loaded machine).
      // So it stays open until the process ends, and connections that
      // arrive meanwhile are closed at once (accept()). One thread alone
      // closes it as before.
      if (!this.isWorker && this.threadGroup === null) this.listener.close();
      this.extraListeners.close();
      this.udp?.close();
      this.tls?.stop();
      if (this.conns.size === 0) { resolve(); return; }
      this.allClosed = resolve;
      for (const c of this.conns.toArray()) c.end('shutdown');
      setTimeout(() => { for (const c of this.conns.toArray()) c.destroy(); }, STOP_GRACE_MS).unref();
    });
    const others = this.threadGroup?.stop() ?? Promise.resolve();
    this.stopping = Promise.all([own, others]).then(() => undefined);
    return this.stopping;
  }

  /** `bind`: the socket reads into the shared buffer and reports to the
   *  function given to bind; null: it emits 'data'. */
  private accept(socket: Socket, bind: ((onBytes: (bytes: Uint8Array) => void) => void) | null): void {
    if (this.stopping) { socket.destroy(); return; }
    if (!this.admit(socket)) return;
    this.totalConnections++;
    this.lastAccept = this.now();
    this.open(socket, bind);
  }

  /** -Z: a socket of a TLS port counts as a connection from accept, as in
   *  memcached, so -c refuses it before any TLS; its handshake then ends in
   *  handshakeDone or handshakeEnded (tls.ts). */
  private acceptTls(raw: Socket): void {
    if (this.stopping) { raw.destroy(); return; }
    if (!this.admit(raw)) return;
    this.handshakes++;
    this.totalConnections++;
    this.lastAccept = this.now();
    this.peakConnections = Math.max(this.peakConnections, this.conns.size + this.handshakes);
    this.updateConnStats();
    this.tls!.accept(raw);
  }

  /** The handshake succeeded: the socket's count at accept is now its connection's. */
  private handshakeDone(socket: Socket): void {
    this.handshakes--;
    if (this.stopping) {
      this.thread?.shared.closeOne();
      this.updateConnStats();
      socket.destroy();
      return;
    }
    this.open(socket, null);
  }

  /** The handshake failed, timed out or was cut: counted out. */
  private handshakeEnded(): void {
    this.handshakes--;
    this.thread?.shared.closeOne();
    this.updateConnStats();
  }

  /** Counts a new socket against -c; past it the socket gets memcached's
   *  refusal, in plain text (under -Z too, as memcached writes it before
   *  any TLS), and is closed. */
  private admit(socket: Socket): boolean {
    const limit = this.settings.connLimit;
    const shared = this.thread?.shared ?? null;
    if (shared !== null ? shared.tryOpen(limit) : this.conns.size + this.handshakes < limit) return true;
    this.rejectedConnections++;
    this.updateConnStats();
    this.log.warn(`too many open connections (-c ${limit}): rejected one`);
    socket.on('error', () => { /* the client may already be gone */ });
    socket.end(TOO_MANY_CONNECTIONS, () => socket.destroy());
    return false;
  }

  /** Serves a socket counted in by admit() (and in total_connections). */
  private open(socket: Socket, bind: ((onBytes: (bytes: Uint8Array) => void) => void) | null): void {
    const id = fdOf(socket) ?? this.nextId++;
    // (Conn turns Nagle off.)
    const conn = new Conn(socket, id, this, bind !== null);
    bind?.((bytes) => conn.receive(bytes, true));
    this.conns.add(conn);
    this.peakConnections = Math.max(this.peakConnections, this.conns.size + this.handshakes);
    this.updateConnStats();
    // (Made only when shown: every string made here is a connection's garbage.)
    if (this.log.level() >= 2) this.log.info(`<${id} new ${this.settings.protocol === 'auto' ? 'auto-negotiating' : this.settings.protocol} client connection`);
    this.watchers.connNew(conn);
  }

  // ---- ConnHost ----

  ending(conn: Conn): void {
    if (conn.watching || this.closeLogged.has(conn)) return;
    this.closeLogged.add(conn);
    this.watchers.connClose(conn, conn.closeReason);
  }

  closed(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    this.thread?.shared.closeOne();
    this.updateConnStats();
    if (conn.watching) {
      this.watchers.remove(conn.socket);
      this.log.info(`<${conn.id} connection closing from side thread.`);
    } else if (!this.closeLogged.delete(conn)) {
      this.watchers.connClose(conn, conn.closeReason);
    }
    if (this.log.level() >= 2) this.log.info(`<${conn.id} connection closed.`);
    if (this.conns.size === 0 && this.allClosed) this.allClosed();
  }

  shutdown(): void {
    if (this.isWorker) { this.thread!.toMain!({ type: 'shutdown' }); return; }
    this.log.warn('shutdown command received');
    this.stopAndExit();
  }

  statsConns(requester: Conn): string | Promise<string> {
    const { listener, udp } = this.listenerRows();
    const relay = this.thread?.relay;
    if (relay === undefined) return renderStatsConns(listener, this.conns, requester, this.now(), udp);
    // -t N: every thread's connections, as memcached lists all of its threads'.
    return relay.otherConns().then((rows) => renderStatsConns(listener, this.conns, requester, this.now(), udp, rows));
  }

  /** The listening socket and (thread 0, -U) the UDP socket, as `stats conns` lists them. */
  private listenerRows(): { listener: ListenerInfo; udp: ListenerInfo | null } {
    const s = this.settings;
    const a = s.unixSocket ? null : this.listener.address() as AddressInfo;
    const v6 = a !== null && a.family === 'IPv6' ? '6' : '';
    const addr = a === null ? `unix:${s.unixSocket}` : `tcp${v6}:${a.address}:${a.port}`;
    const listener = { id: fdOf(this.listener) ?? 0, addr, lastActive: this.lastAccept };
    // -s turns UDP off, so a UDP socket shares the TCP listener's address.
    const udp = this.udp === null || a === null ? null
      : { id: this.udp.fd, addr: `udp${v6}:${a.address}:${this.udp.port}`, lastActive: this.udp.lastRequest };
    return { listener, udp };
  }

  /** -t N: this thread's rows for another thread's `stats conns`. */
  private connRowsForOthers(): ConnRow[] {
    const { listener, udp } = this.listenerRows();
    return statsConnRows(null, this.conns, null, this.now(), udp, listener.addr);
  }

  refreshCerts(): string {
    // memcached's answer without -Z.
    if (!this.tls) return 'Error TLS not enabled';
    const reply = this.tls.refresh();
    // -t N: every thread's listener serves the new certificates.
    if (reply === 'OK') this.thread?.relay.publishRefreshCerts();
    return reply;
  }

  async snapshot(): Promise<string> {
    if (this.isWorker) return this.thread!.snapshot!();
    const s = this.snapshotter;
    if (!s) return 'SERVER_ERROR snapshots are off (start with -e <file>)';
    try {
      await s.snapshot();
      return 'OK';
    } catch (err) {
      return `SERVER_ERROR cannot write snapshot: ${(err as Error).message}`;
    }
  }

  trapped(conn: Conn, err: unknown): void {
    conn.destroy();
    this.engineTrapped(`<${conn.id}`, err);
  }

  private engineTrapped(where: string, err: unknown): void {
    this.log.error(`${where} engine trap: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    this.log.error('the cache can no longer be trusted; exiting');
    this.exit(EXIT_ENGINE_TRAP);
  }

  logged(conn: Conn): void {
    this.engineLog.drain(conn);
  }

  watch(conn: Conn): boolean {
    return this.watchers.add(conn.socket, this.store.watchRequest);
  }

  yielded(times = 1): void {
    this.connYields += times;
    this.hostStat(HS_CONN_YIELDS, this.connYields);
  }

  // ---- once a second ----

  private tick(): void {
    const now = this.now();
    // Reply buffers a burst needed go back to the OS (output-pool.ts).
    this.outputPool.trim();
    this.hostStat(HS_RESPONSE_OBJ_COUNT, this.outputPool.slotsInUse);
    this.hostStat(HS_RESPONSE_OBJ_BYTES, this.outputPool.bytes);
    // The engine's clock and crawler, and rusage, are thread 0's.
    if (!this.isWorker) {
      try {
        this.store.tick(now);
      } catch (err) {
        this.log.error(`engine trap in tick: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        this.exit(EXIT_ENGINE_TRAP);
        return;
      }
      this.updateRusage();
    }
    const limit = this.settings.idleTimeout;
    if (limit > 0) {
      this.conns.forEach((c) => {
        if (c.isIdle() && now - c.lastActive > limit) {
          this.idleKicks++;
          this.log.info(`Closing idle fd ${c.id}`);
          c.end('idle_timeout');
        }
      });
      this.hostStat(HS_IDLE_KICKS, this.idleKicks);
    }
    // Connections quiet since the last tick give their socket and session
    // objects back (Conn.parkIfQuiet()).
    this.conns.forEach((c) => { c.parkIfQuiet(); });
  }

  private updateRusage(): void {
    const cpu = process.cpuUsage();
    this.store.setHostStat(HS_RUSAGE_USER_US, cpu.user);
    this.store.setHostStat(HS_RUSAGE_SYSTEM_US, cpu.system);
  }

  private updateConnStats(): void {
    // memcached counts one UDP connection per worker thread (-t) while -U is on.
    const udpConns = this.udp !== null ? this.settings.threads : 0;
    // The listening socket's structure is counted once, by thread 0.
    const listening = this.isWorker ? 0 : 1;
    // A TLS socket counts from accept, its handshake included, as in memcached.
    this.hostStat(HS_CURR_CONNECTIONS, this.conns.size + this.handshakes + udpConns);
    this.hostStat(HS_TOTAL_CONNECTIONS, this.totalConnections + udpConns);
    this.hostStat(HS_REJECTED_CONNECTIONS, this.rejectedConnections);
    this.hostStat(HS_CONNECTION_STRUCTURES, this.peakConnections + listening + udpConns);
  }
}

/** How memcached's log lines name the protocol connections speak. */
function protocolName(s: Settings): string {
  return s.protocol === 'auto' ? 'auto-negotiate' : s.protocol;
}

/** The OS descriptor behind a socket or server, for memcached-style log lines. */
function fdOf(handleOwner: Socket | Server): number | undefined {
  const fd = (handleOwner as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
