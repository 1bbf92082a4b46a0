// UDP as memcached has it (-U, off by default): each datagram is one request,
// framed as udp-frame.ts describes, run through the engine like a connection
// that lives for that one datagram (fresh per-connection state, so each
// datagram picks text or binary from its first byte, as memcached's UDP
// does), and answered with one framed reply. Any command may be sent; the
// engine answers exactly as on TCP. Datagrams memcached drops (8 bytes or
// fewer, or part of a multi-datagram request) are dropped without a word.
//
// The amplification bound: a reply is at most UDP_MAX_REPLY_DATAGRAMS
// datagrams (UDP_MAX_REPLY_BYTES of data). A longer one is not sent; the
// request gets one short error instead (`SERVER_ERROR reply too large for
// UDP`, binary status E2BIG). Only the reply is replaced: the commands
// before the one whose reply crossed the bound have run, and so may some
// after it (the bound is checked after each engine call, which writes at
// most 128 KiB), so the engine's work per datagram is bounded too.
// memcached 1.6 sends replies of any size, so a 15-byte `get` of a 1 MB
// value there makes ~750 datagrams towards whatever source address the
// request claims (the 2018 reflection attacks); here it makes one.
//
// Where memcached 1.6 diverges from its protocol.txt, this follows the text:
// the reply to a datagram is one message (sequence 0..n-1, total n), where
// memcached starts a new message for each command and each key of a
// multiget. A request cut short (a line without "\n", a value or binary
// packet not all in the datagram) is answered with an error here; memcached
// says nothing, or reads the next datagram as the missing value.
//
// Memory: a request is one datagram (at most 64 KiB, Node's own buffer); the
// reply it builds is at most UDP_MAX_REPLY_BYTES plus one engine call's
// output (copied out only while under the bound); and datagrams arriving
// while more than UDP_SEND_QUEUE_MAX bytes of replies wait in the socket
// are dropped, so all of UDP holds at most about 1.1 MiB outside the arena.
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import {
  ST_OK, ST_OUT_FULL, ST_CLOSE, ST_SHUTDOWN, ST_SNAPSHOT, ST_VALUE, ST_REFRESH_CERTS, CONN_WORDS, R_CONN_STATE, R_VALUE_ITEM,
  R_SEND_ITEM, R_DUMP,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';
import {
  UDP_DATA_SIZE, requestIdOf, frameReply, isBinaryAt, textLine, binaryError, BIN_E2BIG, BIN_EINVAL, UDP_HEADER_SIZE,
} from './udp-frame.js';

/** Most datagrams of one reply. 16 lets memcached's own udp.t fetch its
 *  20,000-byte value (15 datagrams) and bounds the reply to a 15-byte
 *  request at 22,400 bytes of UDP payload. */
export const UDP_MAX_REPLY_DATAGRAMS = 16;
export const UDP_MAX_REPLY_BYTES = UDP_MAX_REPLY_DATAGRAMS * UDP_DATA_SIZE;
/** Requests are dropped while this many reply bytes wait to be sent. */
export const UDP_SEND_QUEUE_MAX = 1024 * 1024;
/** Engine calls per request: a key dump takes one per step; more than any
 *  arena's dump needs, and a stop for a call that makes no progress. */
const MAX_CALLS_PER_REQUEST = 1024;

const TOO_LARGE_LINE = 'SERVER_ERROR reply too large for UDP';
/** memcached's words for a value that does not end where its line said. */
const CUT_VALUE_LINE = 'CLIENT_ERROR bad data chunk';
const CUT_COMMAND_LINE = 'CLIENT_ERROR incomplete command';
const SNAPSHOT_LINE = 'SERVER_ERROR snapshot is not available over UDP';

const VALUE_ITEM = (R_VALUE_ITEM - R_CONN_STATE) >>> 2;
const SEND_ITEM = (R_SEND_ITEM - R_CONN_STATE) >>> 2;
const DUMP = (R_DUMP - R_CONN_STATE) >>> 2;

/** What the UDP listener needs from the server that owns it. */
export interface UdpHost {
  readonly store: Store;
  readonly log: Logger;
  /** Whole seconds, the clock handed to the engine. */
  now(): number;
  /** `shutdown` (with -A) arrived over UDP. */
  shutdown(): void;
  /** The engine threw: the arena can no longer be trusted. */
  trapped(err: unknown): void;
  /** `refresh_certs`: the reply line (-Z's certificates, tls.ts). */
  refreshCerts(): string;
}

/** One request's outcome: the reply bytes, and whether it asked to stop the server. */
interface Outcome {
  reply: Buffer;
  shutdown: boolean;
}

export class UdpListener {
  private socket: Socket | null = null;
  /** The engine's per-connection words of the request being run. */
  private readonly state = new Uint32Array(CONN_WORDS);
  /** Reply bytes handed to the socket and not yet sent. */
  private queued = 0;
  private broken = false;
  /** The bound port, 0 when not listening. */
  port = 0;

  constructor(private readonly host: UdpHost) {}

  /** Binds `address`:`port` (0: any free port); resolves to the port. */
  listen(address: string, port: number): Promise<number> {
    const socket = createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => {
        socket.close();
        reject(new Error(`failed to listen on UDP ${address}:${port}: ${err.message}`));
      });
      socket.bind({ address, port }, () => {
        socket.removeAllListeners('error');
        // Once bound, an error concerns one datagram: log it and go on.
        socket.on('error', (err) => this.host.log.warn(`udp socket error: ${err.message}`));
        socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
        this.socket = socket;
        this.port = socket.address().port;
        this.lastRequest = this.host.now();
        this.host.log.info(`udp server listening on ${address}:${this.port}`);
        resolve(this.port);
      });
    });
  }

  /** The socket's descriptor, for `stats conns` (-1 when unknown). */
  get fd(): number {
    // dgram has no public accessor (and _handle is deprecated): its state
    // object holds the handle.
    const sock = this.socket as unknown as Record<symbol, { handle?: { fd?: number } } | undefined> | null;
    if (sock === null) return -1;
    const key = Object.getOwnPropertySymbols(sock).find((k) => k.description === 'state symbol');
    const fd = key === undefined ? undefined : sock[key]?.handle?.fd;
    return typeof fd === 'number' ? fd : -1;
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }

  /** Seconds (host clock) of the last datagram, or of binding: `stats conns`' secs_since_last_cmd. */
  lastRequest = 0;

  private receive(datagram: Buffer, from: RemoteInfo): void {
    if (this.broken || this.socket === null) return;
    this.lastRequest = this.host.now();
    const log = this.host.log;
    const requestId = requestIdOf(datagram);
    if (requestId < 0) {
      log.info(`udp: dropped a datagram of ${datagram.length} bytes from ${from.address}:${from.port} (no request, or part of a multi-datagram request)`);
      return;
    }
    if (this.queued > UDP_SEND_QUEUE_MAX) {
      log.info(`udp: dropped a request from ${from.address}:${from.port}: ${this.queued} reply bytes wait to be sent`);
      return;
    }
    let outcome: Outcome;
    try {
      outcome = this.run(datagram.subarray(UDP_HEADER_SIZE));
    } catch (err) {
      this.broken = true;
      this.host.trapped(err);
      return;
    }
    if (outcome.reply.length > 0 && from.port !== 0) this.send(requestId, outcome.reply, from);
    if (outcome.shutdown) this.host.shutdown();
  }

  /** Runs every command of one request; the reply, bounded as above. */
  private run(request: Buffer): Outcome {
    const store = this.host.store;
    const state = this.state;
    state.fill(0);
    const parts: Buffer[] = [];
    let size = 0;
    let at = 0;
    let shutdown = false;
    let tooLarge = false;
    const add = (b: Buffer) => {
      if (size + b.length > UDP_MAX_REPLY_BYTES) { tooLarge = true; return; }
      parts.push(b);
      size += b.length;
    };
    // The first byte picks the datagram's protocol, as it does a connection's.
    const binary = isBinaryAt(request, 0);
    /** The error for the request cut short at `at`. */
    const cutShort = (line: string) => add(binary ? binaryError(request, at, BIN_EINVAL) : textLine(line));
    if (request.length > store.inputCapacity) return { reply: Buffer.alloc(0), shutdown };
    // An engine call that throws leaves the arena untrusted: nothing more
    // runs (receive() reports it), not even the release below.
    for (let calls = 0; !tooLarge; calls++) {
      if (calls === MAX_CALLS_PER_REQUEST) { tooLarge = true; break; }
      store.input().set(request.subarray(at));
      store.loadConn(state);
      const status = store.execute(request.length - at, this.host.now());
      store.saveConn(state);
      const produced = store.outLen;
      const consumed = store.consumed;
      // Copied out only while under the bound.
      if (size + produced > UDP_MAX_REPLY_BYTES) { tooLarge = true; break; }
      if (produced > 0) add(Buffer.from(store.output()));
      at += consumed;
      if (status === ST_OUT_FULL) {
        // A dump steps without output; anything else must make progress.
        if (produced === 0 && consumed === 0 && state[DUMP] === 0) tooLarge = true;
        continue;
      }
      if (status === ST_SNAPSHOT) { add(textLine(SNAPSHOT_LINE)); continue; }
      if (status === ST_REFRESH_CERTS) { add(textLine(this.host.refreshCerts())); continue; }
      if (status === ST_VALUE) { cutShort(CUT_VALUE_LINE); break; }
      if (status === ST_SHUTDOWN) { shutdown = true; break; }
      if (status === ST_OK && at < request.length) cutShort(CUT_COMMAND_LINE);
      else if (status !== ST_OK && status !== ST_CLOSE) this.host.log.error(`udp: engine returned unknown status ${status}`);
      break;
    }
    // Items held for the request (a value half received, a value half sent)
    // and a dump it started go back to the arena.
    if (state[VALUE_ITEM] !== 0 || state[SEND_ITEM] !== 0 || state[DUMP] !== 0) store.closeConn(state);
    if (tooLarge) {
      const error = binary ? binaryError(request, 0, BIN_E2BIG) : textLine(TOO_LARGE_LINE);
      return { reply: error, shutdown };
    }
    return { reply: parts.length === 1 ? parts[0] : Buffer.concat(parts, size), shutdown };
  }

  private send(requestId: number, reply: Buffer, to: RemoteInfo): void {
    const socket = this.socket!;
    for (const datagram of frameReply(requestId, reply)) {
      const n = datagram.length;
      this.queued += n;
      socket.send(datagram, to.port, to.address, (err) => {
        this.queued -= n;
        if (err) this.host.log.info(`udp: reply to ${to.address}:${to.port} not sent: ${err.message}`);
      });
    }
  }
}
