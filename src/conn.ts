// One client socket: the read -> execute -> write loop. This file never looks
// inside the bytes; the engine parses and answers, and Session (session.ts)
// keeps what the connection has received but the engine has not consumed,
// and copies a value that arrives over several reads straight into its item.
//
// Output is bounded per connection: an engine call writes at most
// OUTPUT_PER_CALL bytes (values larger than that go out in pieces, their item
// pinned in the arena), each call's output is copied out at once (the socket
// is corked during a run, so a run's calls go out in one write), and no call
// is made while more than SOCKET_HIGH_WATER bytes wait in the socket. So a
// client that never reads its replies makes the host hold less than
// SOCKET_HIGH_WATER + OUTPUT_PER_CALL (256 KiB); reading from it stops until
// 'drain'. A run that has produced RUN_OUTPUT_BUDGET bytes, or completed
// the host's requests per event (-R, memcached's reqs_per_event), continues on
// a later turn of the event loop, so one busy client cannot starve the others.
// Either may happen after any call, even inside a multiget: the engine's
// per-connection state (R_CONN_STATE) is saved after every call.
import type { Socket } from 'node:net';
import { ST_OK, ST_OUT_FULL, ST_CLOSE, ST_SHUTDOWN, ST_SNAPSHOT, ST_STATS_CONNS, ST_REFRESH_CERTS, ST_VALUE, ST_WARM_KEYS, ST_WATCH } from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';
import { Session } from './session.js';
import { StreamSocket, streamBinding, type HandleOwner, type StreamHandle, type StreamSink } from './stream-socket.js';
import type { OutputPool } from './output-pool.js';
import type { SpareSockets } from './read-buffer.js';
import type { Warmer } from './warm.js';
import type { CloseReason } from './watch.js';

/** No engine call while more than this waits in the socket. */
export const SOCKET_HIGH_WATER = 64 * 1024;
/** Most bytes one engine call writes (the store's H_OUT_LIMIT). */
export const OUTPUT_PER_CALL = 128 * 1024;
export const RUN_OUTPUT_BUDGET = 1024 * 1024;
/** Most input bytes handed to one engine call. */
export const INPUT_PER_CALL = 64 * 1024;
/** A request budget no call reaches: the engine counts commands down from it. */
const UNCAPPED_REQUESTS = 0x7fffffff;
/** Unconsumable input above this closes the connection: no command needs it. */
export const MAX_PENDING = 256 * 1024;
/** Input kept while a run waits for its turn or for 'drain', past which
 *  reading stops until a run has used it: without this a client that
 *  pipelines faster than its -R turns come makes the host hold all it sends
 *  (memcached reads only into its fixed read buffer). */
export const PENDING_HIGH_WATER = 16 * 1024;

/** What a connection needs from the server that owns it. */
export interface ConnHost {
  readonly store: Store;
  readonly log: Logger;
  /** Where replies are copied before they are written. */
  readonly outputPool: OutputPool;
  /** Socket and session objects for connections that unpark (Conn.park()). */
  readonly spares: SpareParts;
  /** Whole seconds, the clock handed to the engine. */
  now(): number;
  /** The socket has closed; forget the connection. */
  closed(conn: Conn): void;
  /** The engine answered ST_SHUTDOWN (`shutdown` with -A). */
  shutdown(): void;
  /** The connection is closing (its conn_close for watchers). */
  ending(conn: Conn): void;
  /** The engine answered ST_SNAPSHOT: resolves to the command's reply line. */
  snapshot(): Promise<string>;
  /** The engine answered ST_STATS_CONNS: the reply listing every socket
   *  (with -t N, once the other threads have listed theirs). */
  statsConns(requester: Conn): string | Promise<string>;
  /** The engine answered ST_REFRESH_CERTS: the reply line (-Z, tls.ts). */
  refreshCerts(): string;
  /** The engine threw: the arena can no longer be trusted. */
  trapped(conn: Conn, err: unknown): void;
  /** A run stopped early (`times` times) to let other connections in (stats conn_yields). */
  yielded(times?: number): void;
  /** -R: most commands one run (one event) completes; 0 = no limit. */
  readonly requestsPerEvent: number;
  /** Open connections, this one included. */
  readonly connectionCount: number;
  /** --warm-from: sees the keys of ST_WARM_KEYS while it copies. */
  readonly warmer: Warmer | null;
  /** After every engine call: hands out what the call logged (-vv, watchers). */
  logged(conn: Conn): void;
  /** The engine answered ST_WATCH: true when the connection is now a
   *  watcher (the host has written its OK), false when it may not be. */
  watch(conn: Conn): boolean;
}

/** Peer address texts seen lately: a node:net or libuv peer address is a
 *  new string per connection, and most connections come from a few hosts. */
const addresses = new Map<string, string>();
const ADDRESSES_MAX = 1024;

function sharedAddress(address: string): string {
  const known = addresses.get(address);
  if (known !== undefined) return known;
  if (addresses.size >= ADDRESSES_MAX) addresses.clear();
  addresses.set(address, address);
  return address;
}

/** memcached's answer when WATCHER_LIMIT watchers exist. */
const TOO_MANY_WATCHERS = Buffer.from('WATCHER_TOO_MANY log watcher limit reached\r\n');

/** Most spare sockets and sessions kept: as many connections as are ever
 *  in a request at once, on one thread, in all but a burst. A spare
 *  session keeps its 52 bytes of engine words. */
const SPARES_MAX = 256;

/**
 * The socket and session objects of parked connections (Conn.park()), for
 * the next connection to read; one per server. What is over SPARES_MAX is
 * left to the garbage collector.
 */
export class SpareParts implements SpareSockets {
  private readonly sockets: StreamSocket[] = [];
  private readonly sessions: Session[] = [];

  /** `readBuffer`: the one its libuv handles read into. */
  constructor(private readonly store: Store, private readonly outputPool: OutputPool, private readonly readBuffer: Uint8Array) {}

  give(socket: StreamSocket, session: Session): void {
    if (this.sockets.length < SPARES_MAX) this.sockets.push(socket);
    if (this.sessions.length < SPARES_MAX) this.sessions.push(session); else session.discard();
  }

  /** A socket to adopt() a parked connection's handle. */
  socket(): StreamSocket {
    return this.sockets.pop() ?? new StreamSocket(null, this.readBuffer, streamBinding()!);
  }

  /** A socket serving a newly accepted handle (read-buffer.ts). */
  socketFor(handle: StreamHandle): StreamSocket {
    const socket = this.sockets.pop();
    if (socket === undefined) return new StreamSocket(handle, this.readBuffer, streamBinding()!);
    socket.serve(handle);
    return socket;
  }

  /** A session to resume() a connection with. */
  session(): Session {
    return this.sessions.pop() ?? new Session(this.store, this.outputPool);
  }
}

// Conn's flags, above the peer's port in `bits` (one field for all: an
// idle connection is parked to a few fields, see park()).
const PORT_MASK = 0xffff;
const WAITING_DRAIN = 1 << 16;
const WAITING_TURN = 1 << 17;
const PEER_ENDED = 1 << 18;
const CLOSING = 1 << 19;
const CLOSED = 1 << 20;
const WATCHING = 1 << 21;
const QUIT = 1 << 22;
const PROTOCOL_SHOWN = 1 << 23;
const PARKED = 1 << 24;
const REASON_SHIFT = 25;
const REASON_MASK = 3 << REASON_SHIFT;
/** Its socket is a StreamSocket: it may be parked. */
const DIRECT = 1 << 27;
/** Bytes arrived since the server's last once-a-second pass (parkIfQuiet()). */
const RECENT = 1 << 28;
/** Bytes arrived between the last two passes. */
const EARLIER = 1 << 29;
/** Reading stopped with PENDING_HIGH_WATER bytes of input kept (holdInput()). */
const INPUT_HELD = 1 << 30;
/** closeReason by its index in `bits` ('normal' is 0). */
const REASONS: readonly CloseReason[] = ['normal', 'error', 'idle_timeout', 'shutdown'];
/** No flag of these, and the connection may be parked. */
const BUSY = WAITING_DRAIN | WAITING_TURN | PEER_ENDED | CLOSING | CLOSED | WATCHING | QUIT | PARKED | INPUT_HELD;

export class Conn implements StreamSink, HandleOwner {
  /** Its socket; while parked, the bare libuv handle under it. */
  private sock: Socket | StreamHandle;
  /** Its engine session; while parked, the R_CONN word to go on from. */
  private sess: Session | number;
  /** The peer's port (PORT_MASK) and the flags above. */
  private bits: number;
  /** Seconds; updated when bytes arrive. */
  lastActive: number;
  /** Its address, read now (a closed socket no longer knows it): the
   *  address text shared with other connections from the same host, and no
   *  object of its own, since every idle connection keeps these. */
  private readonly rip: string;
  /** Where it is in the server's list (ConnList); -1 when in none. */
  at = -1;

  /**
   * `sharedReads`: the socket reads into a buffer shared by all connections
   * and calls receive(bytes, true) itself (read-buffer.ts); otherwise its
   * 'data' events are used. Either way the socket starts paused.
   */
  constructor(socket: Socket, readonly id: number, private readonly host: ConnHost, sharedReads = false) {
    this.sock = socket;
    this.lastActive = host.now();
    const session = host.spares.session();
    session.resume(0);
    this.sess = session;
    const direct: unknown = socket;
    const peer = direct instanceof StreamSocket ? direct.peerName() : { address: socket.remoteAddress, port: socket.remotePort };
    const address = peer?.address;
    this.rip = address === undefined ? '' : sharedAddress(address);
    this.bits = address === undefined ? 0 : (peer?.port ?? 0) & PORT_MASK;
    socket.setNoDelay(true);
    if (direct instanceof StreamSocket) {
      // Events straight to the methods below: no closure per event and connection.
      direct.attach(this);
      this.bits |= DIRECT;
    } else {
      if (!sharedReads) socket.on('data', (chunk: Buffer) => this.receive(chunk, false));
      socket.on('end', () => this.socketEnded());
      socket.on('drain', () => this.socketDrained());
      socket.on('error', (err: NodeJS.ErrnoException) => this.socketError(err));
      socket.on('close', () => this.socketClosed());
    }
    socket.resume();
    // Until its first request it needs nothing but its handle.
    this.park();
  }

  /** Its socket (a parked connection is served again first). */
  get socket(): Socket {
    if ((this.bits & PARKED) !== 0) this.unpark();
    return this.sock as Socket;
  }

  private get session(): Session {
    if ((this.bits & PARKED) !== 0) this.unpark();
    return this.sess as Session;
  }

  private flag(bit: number, on: boolean): void {
    this.bits = on ? this.bits | bit : this.bits & ~bit;
  }

  /** Paused until the socket drains below the high-water mark. */
  private get waitingDrain(): boolean { return (this.bits & WAITING_DRAIN) !== 0; }
  private set waitingDrain(on: boolean) { this.flag(WAITING_DRAIN, on); }
  /** A run yielded; it continues on a later turn of the event loop. */
  private get waitingTurn(): boolean { return (this.bits & WAITING_TURN) !== 0; }
  private set waitingTurn(on: boolean) { this.flag(WAITING_TURN, on); }
  /** The client sent FIN: finish what is pending, then close. */
  private get peerEnded(): boolean { return (this.bits & PEER_ENDED) !== 0; }
  private set peerEnded(on: boolean) { this.flag(PEER_ENDED, on); }
  /** We are closing: nothing more is read or executed. */
  private get closing(): boolean { return (this.bits & CLOSING) !== 0; }
  private set closing(on: boolean) { this.flag(CLOSING, on); }
  private get closed(): boolean { return (this.bits & CLOSED) !== 0; }
  private set closed(on: boolean) { this.flag(CLOSED, on); }
  /** A `watch` connection: its input is ignored, log lines are written to it. */
  get watching(): boolean { return (this.bits & WATCHING) !== 0; }
  set watching(on: boolean) { this.flag(WATCHING, on); }
  /** The client sent `quit` (its close is normal, not an error). */
  get quitRequested(): boolean { return (this.bits & QUIT) !== 0; }
  set quitRequested(on: boolean) { this.flag(QUIT, on); }
  /** "<fd>: Client using the ... protocol" was logged. */
  get protocolShown(): boolean { return (this.bits & PROTOCOL_SHOWN) !== 0; }
  set protocolShown(on: boolean) { this.flag(PROTOCOL_SHOWN, on); }
  /** What conn_close will say (watchers' connevents). */
  get closeReason(): CloseReason { return REASONS[(this.bits & REASON_MASK) >>> REASON_SHIFT]; }
  set closeReason(reason: CloseReason) { this.bits = (this.bits & ~REASON_MASK) | (REASONS.indexOf(reason) << REASON_SHIFT); }

  /** memcached's rip, rport and transport (watchers' connevents lines). */
  get peer(): { rip: string; rport: number; transport: 'tcp' | 'local' } {
    return this.rip === '' ? { rip: 'unix', rport: 0, transport: 'local' } : { rip: this.rip, rport: this.bits & PORT_MASK, transport: 'tcp' };
  }

  /** `stats conns`' addr: `tcp:<ip>:<port>`, `tcp6:...`, or `unix:`. */
  get address(): string {
    if (this.rip === '') return 'unix:';
    return `${this.rip.includes(':') ? 'tcp6' : 'tcp'}:${this.rip}:${this.bits & PORT_MASK}`;
  }

  // ---- parking ----
  // A connection of the default host (stream-socket.ts) with no request in
  // progress is parked: it gives its socket and session objects back to the
  // server's spares, and what is left is this object with the libuv handle
  // and the one engine word that outlives a command (R_CONN: protocol,
  // authentication). An idle connection then costs about 1 KB (README).
  // Its next read takes spares again (unpark()). When: at accept; after a
  // read event, if no bytes had arrived in the two intervals of the
  // server's once-a-second pass before it (a new connection, or one that
  // asks now and then); and in that pass, if none arrived in those two
  // intervals. So a busy
  // connection pays nothing per request for this, and objects are reused
  // (not left to the garbage collector, whose leftovers would cost the
  // heap more than the objects) for the many that ask once and idle.
  // memcached likewise gives an idle connection's read buffer back to its
  // thread.

  /** The server's once-a-second pass: parks the connection if no bytes
   *  arrived since the pass before the last (and nothing is in progress). */
  parkIfQuiet(): void {
    const bits = this.bits;
    if ((bits & (RECENT | EARLIER)) !== 0) {
      this.bits = (bits & ~(RECENT | EARLIER)) | ((bits & RECENT) !== 0 ? EARLIER : 0);
      return;
    }
    this.park();
  }

  /** Parks the connection if nothing is in progress on it (at accept, and
   *  parkIfQuiet()); true when it did. */
  park(): boolean {
    if ((this.bits & (BUSY | DIRECT)) !== DIRECT) return false;
    const socket = this.sock as unknown as StreamSocket;
    if (!socket.atRest()) return false;
    const session = this.sess as Session;
    if (!session.atRest()) return false;
    this.sess = session.park();
    this.sock = socket.release(this);
    this.bits |= PARKED;
    this.host.spares.give(socket, session);
    return true;
  }

  /** Whether park() has left only this object. */
  get parked(): boolean { return (this.bits & PARKED) !== 0; }

  /** A read on the parked connection's handle (stream-socket.ts). */
  readDone(n: number, fd: number): void {
    this.unpark(fd);
    (this.sock as unknown as StreamSocket).readDone(n);
  }

  /** Serves a parked connection again: a socket on its handle, still
   *  reading, and a session that goes on from its R_CONN word. */
  private unpark(fd?: number): void {
    const spares = this.host.spares;
    const socket = spares.socket();
    const session = spares.session();
    socket.adopt(this.sock as StreamHandle, fd);
    session.resume(this.sess as number);
    this.sock = socket as unknown as Socket;
    this.sess = session;
    this.bits &= ~PARKED;
    socket.attach(this);
  }

  // ---- socket events (StreamSink) ----

  socketError(err: NodeJS.ErrnoException): void {
    if (!this.closing) this.closeReason = 'error';
    // Resets and broken pipes are ordinary; the socket closes itself next.
    this.host.log.info(`<${this.id} socket error: ${err.code ?? err.message}`);
  }

  socketClosed(): void {
    this.closing = true;
    this.closed = true;
    // Items held for this connection (a value half received, or half
    // sent) go back to the arena.
    try {
      this.session.close();
    } catch (err) {
      this.host.trapped(this, err);
    }
    this.host.closed(this);
  }

  /** A storage command's value is arriving (memcached's conn_nread). */
  isReadingValue(): boolean {
    if ((this.bits & PARKED) !== 0) return false;
    return this.session.receivingValue || this.session.skipping;
  }
  /** The R_CONN word of its engine state: its protocol once decided. */
  get protocol(): number { return (this.bits & PARKED) !== 0 ? this.sess as number : (this.sess as Session).protocol; }

  /** True when the connection waits for a request, as opposed to writing or working. */
  isIdle(): boolean {
    if ((this.bits & PARKED) !== 0) return true;
    return !this.closing && !this.watching && !this.waitingDrain && !this.waitingTurn && this.socket.writableLength === 0;
  }

  /** Ends the connection after the queued output (server stop, idle kick). */
  end(reason: CloseReason = 'normal'): void {
    if (this.closing) return;
    this.closing = true;
    this.closeReason = reason;
    // Watchers hear of the close now, as memcached logs it, not once the
    // socket has finished closing (a new connection may come first).
    this.host.ending(this);
    // With allowHalfOpen the socket would wait for the client's FIN; we do not.
    this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    if (!this.closing) this.closeReason = 'error';
    this.closing = true;
    this.socket.destroy();
  }

  /** Received bytes; `transient`: a view of the shared read buffer, valid
   *  only during this call. */
  receive(chunk: Uint8Array, transient: boolean): void {
    const quietBefore = (this.bits & (RECENT | EARLIER)) === 0;
    this.bits |= RECENT;
    this.onData(chunk);
    if (transient && !this.closed) {
      // What the connection keeps must not be overwritten by the next read.
      this.session.ownPending();
      // A connection that had been quiet (a new one, or one that asks now
      // and then) parks again at once; a busy one waits for the pass.
      if (quietBefore) this.park();
    }
  }

  private onData(chunk: Uint8Array): void {
    // A watcher's input is read (to see it close) and ignored, as memcached's.
    if (this.closing || this.watching) return;
    const now = this.host.now();
    this.lastActive = now;
    const session = this.session;
    try {
      session.push(chunk);
    } catch (err) {
      this.closing = true;
      this.host.trapped(this, err);
      return;
    }
    if (session.held !== null && !session.skipping) this.write(null);
    if (this.waitingDrain || this.waitingTurn) {
      this.holdInput();
      return;
    }
    if (session.runnable()) this.run(now);
  }

  /** While no run can use it, input past PENDING_HIGH_WATER stops reading. */
  private holdInput(): void {
    if (this.session.pendingLen <= PENDING_HIGH_WATER) return;
    this.flag(INPUT_HELD, true);
    this.socket.pause();
  }

  /** Reading resumes once a run has ended with nothing left to wait for:
   *  it has used the held input, or can use no more without more bytes. */
  private releaseInput(): void {
    if ((this.bits & (INPUT_HELD | CLOSING | WAITING_DRAIN | WAITING_TURN)) !== INPUT_HELD) return;
    this.flag(INPUT_HELD, false);
    this.socket.resume();
  }

  socketEnded(): void {
    this.peerEnded = true;
    if (!this.waitingDrain && !this.waitingTurn) this.finishIfDone();
  }

  socketDrained(): void {
    if (!this.waitingDrain || this.closing) return;
    this.waitingDrain = false;
    // Held input is resumed by the run that uses it (releaseInput()).
    if ((this.bits & INPUT_HELD) === 0) this.socket.resume();
    // A paused run (a yield, a snapshot) continues on its own.
    if (!this.waitingTurn) this.proceed();
  }

  /** Resumes after a pause: runs what is pending, or closes after a FIN. */
  private proceed(): void {
    if (this.closing) return;
    if (this.session.runnable()) {
      this.run();
    } else {
      // Output a yielded run kept corked.
      this.flushOutput();
      this.releaseInput();
      this.finishIfDone();
    }
  }

  /** After the client's FIN, close once nothing more can run. */
  private finishIfDone(): void {
    if (this.peerEnded && !this.closing && !this.waitingDrain && !this.waitingTurn) this.end();
  }

  /**
   * Executes pending input until it is used up, the engine needs more bytes,
   * the socket holds SOCKET_HIGH_WATER, the run's output budget or request
   * budget is spent, or the engine closes the connection. The calls' output
   * goes out in one write when the run ends (or the socket holds
   * SOCKET_HIGH_WATER), or, after a -R yield, when the event's run ends.
   */
  private run(now = this.host.now()): void {
    // One write for all of a run's calls; across a -R yield too, so that
    // giving others a turn costs no extra write.
    if (this.socket.writableCorked === 0) this.socket.cork();
    let holdOutput = false;
    try {
      holdOutput = this.runCorked(now);
    } finally {
      if (!holdOutput) this.flushOutput();
    }
    this.releaseInput();
  }

  /** Writes what the socket holds corked. */
  private flushOutput(): void {
    while (this.socket.writableCorked > 0) this.socket.uncork();
  }

  /** The body of run(); true when it yielded to other connections after -R
   *  requests, keeping its output corked for the rest of the event. */
  private runCorked(now: number): boolean {
    const session = this.session;
    let outBytes = 0;
    const requestLimit = this.host.requestsPerEvent;
    let requestsLeft = requestLimit;
    while (session.runnable()) {
      const pendingBefore = session.pendingLen;
      // Alone, an event boundary would let no one in: the call runs on
      // through them, and they are counted as the yields they stand for.
      const alone = requestLimit > 0 && this.host.connectionCount <= 1;
      const budget = alone ? UNCAPPED_REQUESTS : requestsLeft;
      let status: number;
      try {
        // One clock reading for the event's calls (the engine's clock is
        // whole seconds, as memcached's current_time): Date.now() makes a
        // heap number each time.
        status = session.execute(now, INPUT_PER_CALL, budget, this.socket.writableLength === 0);
        if (alone) requestsLeft = this.crossEvents(requestLimit, requestsLeft, budget - session.requestsLeft);
        else if (requestLimit > 0) requestsLeft = session.requestsLeft;
      } catch (err) {
        this.closing = true;
        this.host.trapped(this, err);
        return false;
      }
      this.host.logged(this);
      const out = session.output;
      if (out !== null) {
        this.write(out, session.outputRelease);
        outBytes += out.length;
        // The socket has it now. Kept here, a staged reply would be a stale
        // view that holds its whole 8 KiB stage in memory for as long as the
        // connection idles, once the pool has moved on to a new stage.
        session.output = null;
        session.outputRelease = null;
      }
      if (status === ST_CLOSE || status === ST_SHUTDOWN) {
        this.end(status === ST_SHUTDOWN ? 'shutdown' : this.quitRequested ? 'normal' : 'error');
        if (status === ST_SHUTDOWN) this.host.shutdown();
        return false;
      }
      if (status === ST_SNAPSHOT) {
        this.awaitSnapshot();
        return false;
      }
      if (status === ST_WATCH) {
        if (this.host.watch(this)) {
          this.watching = true;
          // What was pipelined after `watch` is never run.
          this.session.close();
          return false;
        }
        this.write(TOO_MANY_WATCHERS);
        outBytes += TOO_MANY_WATCHERS.length;
        continue;
      }
      if (status === ST_STATS_CONNS) {
        const reply = this.host.statsConns(this);
        if (typeof reply !== 'string') {
          this.awaitReply(reply);
          return false;
        }
        const listing = Buffer.from(reply, 'latin1');
        this.write(listing);
        outBytes += listing.length;
        continue;
      }
      if (status === ST_REFRESH_CERTS) {
        const line = Buffer.from(`${this.host.refreshCerts()}\r\n`, 'latin1');
        this.write(line);
        outBytes += line.length;
        continue;
      }
      if (status === ST_WARM_KEYS) {
        if (this.closing) return false;
        // The commands the engine stopped before run on the next call, once
        // the warmer has seen their keys (after at most its wait bound).
        if (!this.awaitWarmKeys(session.warmKeys!) || this.waitingDrain) return false;
        continue;
      }
      if (status !== ST_OK && status !== ST_OUT_FULL && status !== ST_VALUE) {
        this.host.log.error(`<${this.id} engine returned unknown status ${status}; closing the connection`);
        this.end();
        return false;
      }
      if (this.waitingDrain || this.closing) return false;
      if (requestLimit > 0 && requestsLeft === 0) {
        // -R: this event's requests are done; the rest waits for a later
        // turn. With no other connection to let in, the next event is now.
        if (!session.runnable()) break;
        this.host.yielded();
        if (this.host.connectionCount > 1) {
          this.pauseRun(0);
          return true;
        }
        requestsLeft = requestLimit;
        continue;
      }
      const consumed = session.consumed;
      if (status === ST_OUT_FULL && consumed === 0 && out === null) {
        // No progress: an item to send is pinned by too many readers; retry soon.
        this.pauseRun(1);
        return false;
      }
      if (status === ST_OK) {
        if (consumed === 0) {
          // Nothing could run. The engine consumes or rejects every command;
          // this guard only keeps a broken exchange from growing forever.
          if (session.pendingLen >= MAX_PENDING) {
            this.host.log.warn(`<${this.id} ${session.pendingLen} bytes pending and none consumable; closing the connection`);
            this.end('error');
            return false;
          }
          break;
        }
        // The engine had all pending bytes and left a partial command: wait for more.
        if (session.pendingLen > 0 && pendingBefore <= INPUT_PER_CALL) break;
      }
      if (outBytes >= RUN_OUTPUT_BUDGET && session.runnable()) {
        this.host.yielded();
        this.pauseRun(0);
        return false;
      }
    }
    this.finishIfDone();
    return false;
  }

  /**
   * Counts the event boundaries (-R) that `done` commands crossed, when
   * the event had `left` of `limit` requests left, each followed by more
   * commands of the same call; returns the requests left in the event now.
   */
  private crossEvents(limit: number, left: number, done: number): number {
    const total = limit - left + done;
    const crossed = done > 0 ? Math.floor((total - 1) / limit) : 0;
    if (crossed > 0) this.host.yielded(crossed);
    return limit - (total - crossed * limit);
  }

  /** `snapshot`: the connection waits (its later commands too) until the
   *  snapshot is on disk, then answers and goes on. */
  private awaitSnapshot(): void {
    this.awaitReply(this.host.snapshot().then((line) => line + '\r\n'));
  }

  /** The connection waits (its later commands too) for a reply the host
   *  makes asynchronously, writes it, and goes on. */
  private awaitReply(reply: Promise<string>): void {
    this.waitingTurn = true;
    void reply.then((text) => {
      this.waitingTurn = false;
      if (this.closing) return;
      this.write(Buffer.from(text, 'latin1'));
      this.proceed();
    });
  }

  /** ST_WARM_KEYS: true when the run may go on now; otherwise the
   *  connection (its later commands too) waits until the warmer resumes it,
   *  reading nothing meanwhile (what it holds stays bounded). */
  private awaitWarmKeys(list: Buffer): boolean {
    const warmer = this.host.warmer;
    if (warmer === null) return true;
    const now = warmer.warmKeys(list, () => {
      this.waitingTurn = false;
      if (this.closing) return;
      // Paused for the socket meanwhile: 'drain' resumes reading and goes on.
      if (this.waitingDrain) return;
      this.socket.resume();
      this.proceed();
    });
    if (!now) {
      this.waitingTurn = true;
      this.socket.pause();
    }
    return now;
  }

  /** Continues the run on a later turn (0) or after `ms` milliseconds. */
  private pauseRun(ms: number): void {
    this.waitingTurn = true;
    const go = () => { this.waitingTurn = false; this.proceed(); };
    if (ms === 0) setImmediate(go); else setTimeout(go, ms);
  }

  /** Writes one call's output (null: only what was held); pauses reading
   *  above the high-water mark. */
  private write(out: Uint8Array | null, release: (() => void) | null = null): void {
    if (this.closed) {
      release?.();
      return;
    }
    const session = this.session;
    if (session.skipping || session.held !== null) {
      // Held (or joining held) replies are copied, so the pooled copy goes back now.
      if (out !== null) (session.held ??= []).push(release ? Buffer.from(out) : out);
      release?.();
      if (session.skipping) return;
      out = Buffer.concat(session.held!);
      session.held = null;
      release = null;
    }
    if (out === null) return;
    if (release !== null) this.socket.write(out, release); else this.socket.write(out);
    if (this.socket.writableLength > SOCKET_HIGH_WATER && !this.waitingDrain && !this.closing) {
      this.waitingDrain = true;
      this.socket.pause();
      // 'drain' comes only once what is corked has been written.
      this.flushOutput();
    }
  }
}
