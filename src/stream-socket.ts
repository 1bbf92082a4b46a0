// A client connection served straight on its libuv stream handle (TCP or
// unix socket), the default under Node.js (--host node; --host node-net keeps
// node:net's Socket). node:net wraps each handle in a Socket, a Duplex with
// its readable and writable state, a write request object per write and a
// microtask per write callback: 2.7 KB per idle connection and about a fifth
// of the server's CPU per unpipelined request here (BENCHMARKS.md). This
// class keeps what Conn, the watchers and `stats conns` use of a Socket
// (events, pause, cork, write with its callback, end, destroy, the peer
// address) and nothing else. A connection with nothing in progress gives
// its StreamSocket back (release(); conn.ts parks it) and keeps only the
// handle, so an idle connection costs about 1 KB of RSS, of which a
// do-nothing server on the same handles needs about 900 B (README).
//
// It uses the same internal binding node:net is built on
// (`process.binding('stream_wrap')`: WriteWrap, ShutdownWrap and the shared
// state array). streamBinding() checks the parts it needs; where they are
// missing (another runtime, a future Node.js that drops them), the server
// uses node:net's Socket as before.
//
// Writes: the handle first tries to write at once; what the kernel takes
// completes synchronously and the callbacks run before write() returns.
// Only the rest is queued by libuv (writeQueueSize), with its request object
// and buffers kept alive here until libuv reports it written.
import { getSystemErrorName } from 'node:util';
import { prefixViewsOf, type ViewsAt } from './bytes.js';

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type Done = ((err?: Error | null) => void) | undefined;

interface PeerName { address?: string; port?: number; family?: string }

/** A libuv stream handle (TCPWrap or PipeWrap), as node:net sees it. */
export interface StreamHandle {
  readonly fd: number;
  readonly writeQueueSize: number;
  onread: (this: StreamHandle) => void;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writev(req: WriteReq, chunks: Uint8Array[], allBuffers: boolean): number;
  shutdown(req: ShutdownReq): number;
  close(cb: () => void): void;
  setNoDelay?(on: boolean): number;
  getpeername?(out: PeerName): number;
}

interface WriteReq {
  handle: StreamHandle | null;
  oncomplete: (this: WriteReq, status: number) => void;
  /** While libuv holds the write: its socket, callbacks and bytes. */
  sock: StreamSocket | null;
  cbs: Done[] | null;
  chunks: Uint8Array[] | null;
}

interface ShutdownReq {
  handle: StreamHandle | null;
  oncomplete: (this: ShutdownReq, status: number) => void;
  sock: StreamSocket | null;
}

interface StreamBinding {
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kBytesWritten: number;
  kLastWriteWasAsync: number;
}

let binding: StreamBinding | null | undefined;
/** binding.streamBaseState and its read-result index, for onRead. */
let readState: Int32Array<ArrayBufferLike> = new Int32Array(1);
let kReadBytes = 0;
let UV_EOF = -4095;
const UV_ECANCELED = -125;
const UV_ENOTCONN = -107;

/** node:net's own stream binding, or null where this runtime lacks it. */
export function streamBinding(): StreamBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  if (typeof process.versions.bun === 'string' || typeof process.versions.node !== 'string') return null;
  try {
    const legacy = (process as unknown as { binding?: (name: string) => unknown }).binding;
    if (typeof legacy !== 'function') return null;
    const b = legacy.call(process, 'stream_wrap') as Partial<StreamBinding>;
    const uv = legacy.call(process, 'uv') as { UV_EOF?: number };
    if (typeof b.WriteWrap !== 'function' || typeof b.ShutdownWrap !== 'function' ||
        !(b.streamBaseState instanceof Int32Array) || typeof b.kReadBytesOrError !== 'number' ||
        typeof b.kLastWriteWasAsync !== 'number' || typeof b.kBytesWritten !== 'number') return null;
    if (typeof uv.UV_EOF === 'number') UV_EOF = uv.UV_EOF;
    // A plain object of the parts used: the binding object itself is in
    // dictionary mode, so every read of it went through V8's generic
    // property lookup, several times per request.
    binding = {
      WriteWrap: b.WriteWrap, ShutdownWrap: b.ShutdownWrap, streamBaseState: b.streamBaseState,
      kReadBytesOrError: b.kReadBytesOrError, kBytesWritten: b.kBytesWritten, kLastWriteWasAsync: b.kLastWriteWasAsync,
    };
    readState = b.streamBaseState;
    kReadBytes = b.kReadBytesOrError;
  } catch {
    binding = null;
  }
  return binding;
}

/** Whether `handle` is a libuv stream this class can drive. */
export function isStreamHandle(handle: unknown): handle is StreamHandle {
  const h = handle as Partial<StreamHandle> | null;
  return h !== null && typeof h === 'object' && typeof h.readStart === 'function' && typeof h.readStop === 'function' &&
    typeof h.useUserBuffer === 'function' && typeof h.writeBuffer === 'function' && typeof h.writev === 'function' &&
    typeof h.shutdown === 'function' && typeof h.close === 'function';
}

/** What a connection handles of its socket's events, called directly (attach()). */
export interface StreamSink {
  /** Received bytes: a view of the read buffer, valid only during the call. */
  receive(bytes: Uint8Array, transient: true): void;
  socketEnded(): void;
  socketDrained(): void;
  socketError(err: NodeJS.ErrnoException): void;
  socketClosed(): void;
}

/** Whoever the handle's reads go to: its StreamSocket, or, while the
 *  connection is parked (conn.ts), the connection itself. */
export interface HandleOwner {
  /** `fd`: the handle's descriptor (-1 where it has none). */
  readDone(n: number, fd: number): void;
}

// A handle's owner is found by its descriptor: a property of our own on
// the handle object would cost every connection a 64-byte property array,
// which is a sixteenth of an idle connection's whole budget (README). The
// table has one slot per descriptor number this thread has served. Where
// a handle has no descriptor (-1, Windows), the property it is.
const OWNER = Symbol('wasmcached.streamSocket');
type OwnedHandle = StreamHandle & { [OWNER]?: HandleOwner };
const owners: (HandleOwner | undefined)[] = [];

function setOwner(h: OwnedHandle, fd: number, owner: HandleOwner | undefined): void {
  if (fd >= 0) owners[fd] = owner; else h[OWNER] = owner;
}

/** A request object for the next write; replaced once libuv keeps one. */
let spareWrite: WriteReq | null = null;

function writeRequest(b: StreamBinding): WriteReq {
  if (spareWrite !== null) return spareWrite;
  const req = new b.WriteWrap();
  req.handle = null;
  req.oncomplete = afterWrite;
  req.sock = null;
  req.cbs = null;
  req.chunks = null;
  spareWrite = req;
  return req;
}

function afterWrite(this: WriteReq, status: number): void {
  const sock = this.sock;
  const cbs = this.cbs;
  this.sock = null;
  this.cbs = null;
  this.chunks = null;
  this.handle = null;
  if (sock !== null) sock.writeDone(this, status, cbs);
}

function afterShutdown(this: ShutdownReq, status: number): void {
  const sock = this.sock;
  this.sock = null;
  this.handle = null;
  if (sock !== null) sock.shutdownDone(status);
}

/** A handle's read callback while its owner is found by descriptor (a
 *  parked connection's, and every handle's first read after it is served
 *  again; StreamSocket.readDone() then gives the handle its own). */
function onRead(this: OwnedHandle): void {
  const fd = this.fd;
  (fd >= 0 ? owners[fd] : this[OWNER])?.readDone(readState[kReadBytes], fd);
}

function drained(sock: StreamSocket): void {
  sock.drainDue();
}

function callAll(cbs: Done[] | null, err: Error | null = null): void {
  if (cbs === null) return;
  for (const cb of cbs) cb?.(err);
}

function errnoError(status: number, syscall: string): NodeJS.ErrnoException {
  let code: string;
  try { code = getSystemErrorName(status); } catch { code = `E${-status}`; }
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.code = code;
  err.errno = status;
  err.syscall = syscall;
  return err;
}

/** Bytes above this in the queue make write() return false, as node:net's default. */
const WRITABLE_HIGH_WATER = 16 * 1024;

export class StreamSocket {
  private handle: OwnedHandle | null;
  private reading = false;
  /** Writes held by cork(), sent together by the last uncork(). */
  writableCorked = 0;
  /** The first corked write and its callback, kept apart: most runs write
   *  once, and then no array is made. */
  private corkedFirst: Uint8Array | null = null;
  private corkedFirstCb: Done = undefined;
  /** The second and later corked writes with their callbacks, if any. */
  private corked: Uint8Array[] | null = null;
  private corkedBytes = 0;
  private corkedCbs: Done[] | null = null;
  /** Writes libuv still holds (their requests), usually none. */
  private inFlight: WriteReq[] | null = null;
  /** write() returned false: 'drain' is due once everything is written (node:net's needDrain). */
  private needDrain = false;
  private ending = false;
  private shutDown = false;
  private readEnded = false;
  private endCbs: Done[] | null = null;
  destroyed = false;
  /** The connection, told of every event (reads included) without a
   *  closure per event; reading starts only once it is attached (resume()). */
  private sink: StreamSink | null = null;
  /** 'error' listeners of a socket no connection serves (one refused past -c). */
  private lError: Listener | null = null;
  /** Its handle's descriptor (the owner table's index), -1 when none. */
  private fd = -1;
  /** The handle's read callback while this socket serves it and reads
   *  keep coming: it needs neither the descriptor (a call into Node per
   *  read) nor the owner table. One per socket object, which spares reuse;
   *  a parked connection's handle goes back to the shared onRead. */
  private readonly onReadOwn = (): void => { this.readDone(readState[kReadBytes]); };
  /** The handle's callback is onReadOwn (see readDone()). */
  private ownOnRead = false;
  /** Views of the read buffer's first n bytes, shared with the other
   *  sockets on it: a read hands one on without making it. */
  private readonly reads: ViewsAt;

  /** `readBuffer`: every read lands there (shared by the server's
   *  connections). `handle` null: a spare, serving nothing until adopt(). */
  constructor(handle: StreamHandle | null, private readonly readBuffer: Uint8Array, private readonly binding: StreamBinding) {
    this.reads = prefixViewsOf(readBuffer);
    this.handle = null;
    this.destroyed = true;
    if (handle !== null) this.serve(handle);
  }

  /** Serves a newly accepted handle: reads land in the read buffer, and
   *  start with resume(). On a spare (adopt(), release()) or a new socket. */
  serve(handle: StreamHandle): void {
    this.handle = handle as OwnedHandle;
    this.fd = handle.fd;
    setOwner(this.handle, this.fd, this);
    this.destroyed = false;
    this.reading = false;
    handle.useUserBuffer(this.readBuffer);
    handle.onread = onRead;
    this.ownOnRead = false;
  }

  /** Nothing queued, corked, ending or failed, and reading: all that is
   *  left of the socket is its handle (see release()). */
  atRest(): boolean {
    return this.reading && this.handle !== null && this.writableCorked === 0 && this.corkedFirst === null &&
      this.inFlight === null && !this.needDrain && !this.ending && !this.shutDown && !this.readEnded &&
      this.endCbs === null && !this.destroyed && this.lError === null;
  }

  /** At rest: hands the handle, still reading, to `owner`, which gets its
   *  reads from now on. This object holds nothing after, and may serve
   *  another handle released so (adopt()). */
  release(owner: HandleOwner): StreamHandle {
    const h = this.handle!;
    if (this.ownOnRead) {
      h.onread = onRead;
      this.ownOnRead = false;
    }
    setOwner(h, this.fd, owner);
    this.handle = null;
    this.fd = -1;
    this.sink = null;
    this.reading = false;
    this.destroyed = true;
    return h;
  }

  /** Serves `handle`, which a socket on the same read buffer set up and
   *  released while reading (release()); at rest, as that socket was.
   *  `fd`: its descriptor, when the caller has it (reading it is a call
   *  into Node). */
  adopt(handle: StreamHandle, fd = handle.fd): void {
    // The handle was set up once: each useUserBuffer() adds a listener to it.
    this.handle = handle as OwnedHandle;
    this.fd = fd;
    setOwner(this.handle, this.fd, this);
    // Its callback is the shared one (release()) until a read comes.
    this.ownOnRead = false;
    this.reading = true;
    this.destroyed = false;
  }

  /** Sends every event (reads included) to `sink` from now on. */
  attach(sink: StreamSink): void {
    this.sink = sink;
  }

  // ---- what node:net's Socket offers and the host uses ----

  get remoteAddress(): string | undefined { return this.peerName()?.address; }
  get remotePort(): number | undefined { return this.peerName()?.port; }
  /** fdOf() in server.ts reads the descriptor from here, as from node:net. */
  get _handle(): { fd: number } | null { return this.handle; }
  /** Bytes corked or queued in libuv. libuv queues only the writes it
   *  could not finish at once (inFlight): with none, its queue is empty,
   *  and the handle's writeQueueSize (a call into Node, read twice or more
   *  per request) is not read. */
  get writableLength(): number {
    return this.inFlight === null ? this.corkedBytes : this.corkedBytes + (this.handle?.writeQueueSize ?? 0);
  }

  /** The peer's address and port, in one call (each of remoteAddress and
   *  remotePort makes one). */
  peerName(): PeerName | null {
    const h = this.handle;
    if (h === null || typeof h.getpeername !== 'function') return null;
    const out: PeerName = {};
    return h.getpeername(out) === 0 ? out : null;
  }

  /** Only 'error': a connection gets every event through attach(). */
  on(event: string, fn: Listener): this {
    if (event !== 'error') throw new Error(`StreamSocket: no '${event}' event (a Conn attaches instead)`);
    this.lError = join(this.lError, fn);
    return this;
  }

  setNoDelay(on = true): this {
    this.handle?.setNoDelay?.(on);
    return this;
  }

  pause(): this {
    if (this.reading && this.handle !== null) {
      this.reading = false;
      this.handle.readStop();
    }
    return this;
  }

  resume(): this {
    if (!this.reading && this.handle !== null && !this.readEnded && !this.destroyed) {
      this.reading = true;
      const err = this.handle.readStart();
      if (err !== 0) this.fail(err, 'read');
    }
    return this;
  }

  cork(): void {
    this.writableCorked++;
  }

  uncork(): void {
    if (this.writableCorked === 0 || --this.writableCorked > 0) return;
    const first = this.corkedFirst;
    if (first === null) return;
    const firstCb = this.corkedFirstCb;
    const rest = this.corked;
    const restCbs = this.corkedCbs;
    this.clearCorked();
    if (rest === null) {
      this.sendOne(first, firstCb);
      return;
    }
    rest.unshift(first);
    let cbs = restCbs;
    if (firstCb !== undefined) (cbs ??= []).unshift(firstCb);
    this.sendMany(rest, cbs);
  }

  /** Forgets the corked writes (their callbacks are the caller's to run). */
  private clearCorked(): void {
    this.corkedFirst = null;
    this.corkedFirstCb = undefined;
    this.corked = null;
    this.corkedCbs = null;
    this.corkedBytes = 0;
  }

  write(data: string | Uint8Array, cb?: Done | BufferEncoding, cb2?: Done): boolean {
    const done = typeof cb === 'function' ? cb : cb2;
    if (this.handle === null || this.ending || this.destroyed) {
      if (done) queueMicrotask(() => done(new Error('write after end')));
      return false;
    }
    // Strings are UTF-8, node:net's default encoding.
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.writableCorked > 0) {
      if (this.corkedFirst === null) {
        this.corkedFirst = bytes;
        this.corkedFirstCb = done;
      } else {
        (this.corked ??= []).push(bytes);
        if (done) (this.corkedCbs ??= []).push(done);
      }
      this.corkedBytes += bytes.length;
    } else {
      this.sendOne(bytes, done);
    }
    if (this.writableLength < WRITABLE_HIGH_WATER) return true;
    this.needDrain = true;
    return false;
  }

  /** Ends after what is queued has been written; `cb` runs once the write side has shut down. */
  end(data?: string | Uint8Array | (() => void), cb?: () => void): this {
    if (typeof data === 'function') { cb = data; data = undefined; }
    if (data !== undefined) this.write(data);
    if (cb) {
      if (this.destroyed || this.shutDown) queueMicrotask(cb); else (this.endCbs ??= []).push(cb);
    }
    if (this.ending || this.destroyed) return this;
    while (this.writableCorked > 0) this.uncork();
    this.ending = true;
    if (this.inFlight === null) this.startShutdown();
    return this;
  }

  destroy(): this {
    const h = this.handle;
    if (h === null || this.destroyed) return this;
    this.destroyed = true;
    if (this.reading) { this.reading = false; h.readStop(); }
    // Now, not once closed: the descriptor may be another handle's by then.
    setOwner(h, this.fd, undefined);
    h.close(() => this.closed());
    return this;
  }

  // ---- from libuv ----

  /** A read finished: `n` bytes in the read buffer, or a negative status. */
  readDone(n: number, fd?: number): void {
    // `fd` given: the shared onRead found this socket serving the handle
    // (not a parked connection): the connection is being used, and its
    // next reads come straight here, until it parks (release()). Not at
    // adopt(), nor on the read that unparks: a connection that asks now and
    // then parks again right after that read, and would pay two calls into
    // Node per request for the switch.
    if (fd !== undefined && !this.ownOnRead && this.handle !== null && !this.destroyed) {
      this.handle.onread = this.onReadOwn;
      this.ownOnRead = true;
    }
    if (n > 0) {
      if (this.destroyed) return;
      const bytes = this.reads.of(n);
      this.sink?.receive(bytes, true);
      return;
    }
    if (n === 0) return;
    this.reading = false;
    if (n === UV_EOF) {
      // The peer's FIN: half-open, as node:net's allowHalfOpen; the
      // connection finishes what it has and ends the socket itself.
      this.readEnded = true;
      this.sink?.socketEnded();
      if (this.shutDown) this.destroy();
      return;
    }
    this.fail(n, 'read');
  }

  /** libuv wrote (or dropped, the socket closing) a write it had queued. */
  writeDone(req: WriteReq, status: number, cbs: Done[] | null): void {
    const list = this.inFlight;
    if (list !== null) {
      const i = list.indexOf(req);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.inFlight = null;
    }
    if (status < 0 && status !== UV_ECANCELED && !this.destroyed) {
      callAll(cbs, errnoError(status, 'write'));
      this.fail(status, 'write');
      return;
    }
    callAll(cbs);
    if (this.destroyed || this.inFlight !== null) return;
    if (this.ending) {
      this.startShutdown();
    } else if (this.needDrain) {
      this.needDrain = false;
      this.drained();
    }
  }

  /** Everything written after write() returned false. */
  drained(): void {
    if (this.destroyed) return;
    this.sink?.socketDrained();
  }

  shutdownDone(status: number): void {
    this.shutDown = true;
    const cbs = this.endCbs;
    this.endCbs = null;
    callAll(cbs, status < 0 && status !== UV_ENOTCONN && status !== UV_ECANCELED ? errnoError(status, 'shutdown') : null);
    // Both directions are done: nothing more can happen on the socket.
    if (this.readEnded) this.destroy();
  }

  // ---- inside ----

  /** Hands `chunk` to the handle; `cb` runs once it is written. The usual
   *  write: nothing is allocated unless libuv has to keep it. */
  private sendOne(chunk: Uint8Array, cb: Done): void {
    const h = this.handle!;
    const req = writeRequest(this.binding);
    req.handle = h;
    const err = h.writeBuffer(req, chunk);
    if (err !== 0) {
      req.handle = null;
      cb?.(errnoError(err, 'write'));
      this.fail(err, 'write');
      return;
    }
    if (this.writtenAtOnce(req)) {
      cb?.();
      this.drainIfDue();
      return;
    }
    this.keep(req, [chunk], cb === undefined ? null : [cb]);
  }

  /** Hands `chunks` (two or more: uncork()) to the handle in one writev;
   *  `cbs` run once they are written. */
  private sendMany(chunks: Uint8Array[], cbs: Done[] | null): void {
    const h = this.handle!;
    const req = writeRequest(this.binding);
    req.handle = h;
    const err = h.writev(req, chunks, true);
    if (err !== 0) {
      req.handle = null;
      callAll(cbs, errnoError(err, 'write'));
      this.fail(err, 'write');
      return;
    }
    if (this.writtenAtOnce(req)) {
      callAll(cbs);
      this.drainIfDue();
      return;
    }
    this.keep(req, chunks, cbs);
  }

  /** After a write call: true when the kernel took all of it (the request is free again). */
  private writtenAtOnce(req: WriteReq): boolean {
    const b = this.binding;
    if (b.streamBaseState[b.kLastWriteWasAsync] !== 0) return false;
    req.handle = null;
    return true;
  }

  /** All written at once: 'drain' follows on the next tick, as node:net's
   *  does, never from inside the write that made it due. */
  private drainIfDue(): void {
    // needDrain stays set until then: a socket with a 'drain' due is not
    // at rest, and is not released to serve another connection meanwhile.
    if (this.needDrain && this.inFlight === null) process.nextTick(drained, this);
  }

  /** drainIfDue()'s 'drain', unless it came already (or a write since is
   *  still queued: writeDone() gives it then). */
  drainDue(): void {
    if (!this.needDrain || this.inFlight !== null) return;
    this.needDrain = false;
    this.drained();
  }

  /** libuv keeps the request and the bytes until they are written. */
  private keep(req: WriteReq, chunks: Uint8Array[], cbs: Done[] | null): void {
    spareWrite = null;
    req.sock = this;
    req.cbs = cbs;
    req.chunks = chunks;
    (this.inFlight ??= []).push(req);
  }

  private startShutdown(): void {
    const h = this.handle;
    if (h === null || this.destroyed || this.shutDown) return;
    const req = new this.binding.ShutdownWrap();
    req.oncomplete = afterShutdown;
    req.handle = h;
    req.sock = this;
    const err = h.shutdown(req);
    // 1: done synchronously (node:net's reading of the same call).
    if (err === 1 || err === UV_ENOTCONN) { req.sock = null; this.shutdownDone(0); return; }
    if (err !== 0) { req.sock = null; this.shutdownDone(err); }
  }

  private fail(status: number, syscall: string): void {
    if (this.destroyed) return;
    const err = errnoError(status, syscall);
    this.sink?.socketError(err);
    emit(this.lError, err);
    this.destroy();
  }

  /** The handle has closed: every callback still due runs, then 'close'. */
  private closed(): void {
    // (onread stays: the handle accepts only a function there.)
    this.handle = null;
    this.fd = -1;
    const flights = this.inFlight;
    this.inFlight = null;
    if (flights !== null) {
      for (const req of flights) {
        const cbs = req.cbs;
        req.sock = null;
        req.cbs = null;
        req.chunks = null;
        callAll(cbs);
      }
    }
    const firstCb = this.corkedFirstCb;
    const corked = this.corkedCbs;
    this.clearCorked();
    firstCb?.();
    callAll(corked);
    const ends = this.endCbs;
    this.endCbs = null;
    callAll(ends);
    this.sink?.socketClosed();
  }
}

function join(have: Listener | null, fn: Listener): Listener {
  if (have === null) return fn;
  return (...args: unknown[]) => { have(...args); fn(...args); };
}

function emit(l: Listener | null, ...args: unknown[]): void {
  if (l !== null) l(...args);
}
