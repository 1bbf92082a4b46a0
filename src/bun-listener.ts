// The Bun host (--host bun, the default under Bun): TCP and unix sockets
// served by Bun.listen instead of node:net. Per request Bun.listen does less
// than node:net's stream machinery (no Writable state, no write request
// objects, no microtask per write), which is what this host is for.
//
// Conn, the watchers and `stats conns` are written against node:net's
// Socket; BunConnSocket gives them the few members they use (events, pause,
// cork, write with backpressure, end, destroy, the peer address) over a Bun
// socket, so the connection logic is the same code on both hosts. BunServer
// gives server.ts the part of net.Server it uses (listen, address, close,
// 'listening' and 'error').
//
// Bun.listen's write() sends what the kernel takes now and returns how many
// bytes that was; the rest is queued here and sent from the 'drain' handler.
// writableLength is that queue, so Conn's high-water mark bounds it as it
// bounds node:net's.
import type { AddressInfo, Server, Socket } from 'node:net';

/** The part of Bun's socket used here (Bun's own types are not a dependency). */
interface BunSocket {
  readonly fd: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  data: BunConnSocket;
  write(data: string | Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on?: boolean): boolean;
}

interface BunListener {
  readonly port: number;
  readonly hostname: string;
  stop(closeActive?: boolean): void;
}

interface BunGlobal {
  listen(options: Record<string, unknown>): BunListener;
}

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type Done = ((err?: Error | null) => void) | undefined;

/** The part of node's EventEmitter that Conn and server.ts use. */
class Handlers {
  protected readonly handlers = new Map<string, Listener[]>();

  on(event: string, fn: Listener): this {
    const list = this.handlers.get(event);
    if (list) list.push(fn); else this.handlers.set(event, [fn]);
    this.changed();
    return this;
  }

  once(event: string, fn: Listener): this {
    const wrapped: Listener = (...args) => { this.off(event, wrapped); fn(...args); };
    return this.on(event, wrapped);
  }

  off(event: string, fn: Listener): this {
    const list = this.handlers.get(event);
    const i = list?.indexOf(fn) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    this.changed();
    return this;
  }

  removeAllListeners(event?: string): this {
    if (event === undefined) this.handlers.clear(); else this.handlers.delete(event);
    this.changed();
    return this;
  }

  emit(event: string, ...args: unknown[]): boolean {
    const list = this.handlers.get(event);
    if (!list || list.length === 0) return false;
    if (list.length === 1) list[0](...args);
    else for (const fn of list.slice()) fn(...args);
    return true;
  }

  /** After the listeners changed. */
  protected changed(): void { /* nothing to keep in step by default */ }
}

/** A Bun socket seen through the node:net Socket members Conn uses. */
export class BunConnSocket extends Handlers {
  /** Bytes the kernel did not take yet, and the callbacks due once they are sent. */
  private queue: Uint8Array[] = [];
  private queued = 0;
  private callbacks: (() => void)[] = [];
  /** Writes held by cork(), sent together by the last uncork(). */
  private corked: (string | Uint8Array)[] = [];
  private cbsCorked: (() => void)[] = [];
  writableCorked = 0;
  private ending = false;
  private closed = false;
  private endCallbacks: (() => void)[] = [];
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** fdOf() in server.ts reads the descriptor from here, as from node:net. */
  readonly _handle: { fd: number };

  constructor(private readonly sock: BunSocket, unix: boolean) {
    super();
    this.remoteAddress = unix ? undefined : sock.remoteAddress;
    this.remotePort = unix ? undefined : sock.remotePort;
    this._handle = { fd: sock.fd };
    // As node:net with pauseOnConnect: nothing is read until resume().
    sock.pause();
  }

  get writableLength(): number {
    return this.queued;
  }

  protected override changed(): void {
    this.dataListener = this.soleDataListener();
  }

  /** The one 'data' listener, called directly on every read (the usual case). */
  private dataListener: Listener | null = null;

  private soleDataListener(): Listener | null {
    const list = this.handlers.get('data');
    return list !== undefined && list.length === 1 ? list[0] : null;
  }

  setNoDelay(on = true): this {
    this.sock.setNoDelay(on);
    return this;
  }

  pause(): this {
    if (!this.closed) this.sock.pause();
    return this;
  }

  resume(): this {
    if (!this.closed) this.sock.resume();
    return this;
  }

  cork(): void {
    this.writableCorked++;
  }

  uncork(): void {
    if (this.writableCorked === 0) return;
    if (--this.writableCorked > 0) return;
    const held = this.corked;
    const cbs = this.cbsCorked;
    if (held.length === 0) return;
    // One write for the run, as node:net's writev after uncork.
    const data = held.length === 1 ? held[0] : Buffer.concat(held.map(toBytes));
    held.length = 0;
    // send() calls or copies the callbacks before it returns, so the array is reused.
    this.send(data, cbs);
    cbs.length = 0;
  }

  write(data: string | Uint8Array, cb?: Done | BufferEncoding, cb2?: Done): boolean {
    const done = typeof cb === 'function' ? cb : cb2;
    if (this.closed || this.ending) {
      if (done) queueMicrotask(() => done(new Error('write after end')));
      return false;
    }
    if (this.writableCorked > 0) {
      this.corked.push(data);
      if (done) this.cbsCorked.push(done);
      return true;
    }
    this.send(data, done ? [done] : []);
    return this.queued === 0;
  }

  /** Writes now what the kernel takes, queues the rest. */
  private send(data: string | Uint8Array, cbs: (() => void)[]): void {
    if (this.queued === 0) {
      const n = this.sock.write(data);
      const len = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (n >= len) {
        for (const cb of cbs) cb();
        return;
      }
      // A string not sent whole is queued as bytes, from where the kernel stopped.
      const bytes = toBytes(data);
      this.enqueue(n > 0 ? bytes.subarray(n) : bytes, cbs);
      return;
    }
    this.enqueue(toBytes(data), cbs);
  }

  private enqueue(bytes: Uint8Array, cbs: (() => void)[]): void {
    this.queue.push(bytes);
    this.queued += bytes.length;
    for (const cb of cbs) this.callbacks.push(cb);
  }

  /** Bun's 'drain': the kernel takes more. */
  onWritable(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      const n = this.sock.write(head);
      if (n <= 0) return;
      this.queued -= n;
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        return;
      }
      this.queue.shift();
    }
    const cbs = this.callbacks;
    this.callbacks = [];
    for (const cb of cbs) cb();
    if (this.ending) {
      this.sock.end();
      return;
    }
    this.emit('drain');
  }

  /** Ends after what is queued has been sent; `cb` runs once the socket has closed. */
  end(data?: string | Uint8Array | (() => void), cb?: () => void): this {
    if (typeof data === 'function') { cb = data; data = undefined; }
    if (data !== undefined) this.write(data);
    if (cb) {
      if (this.closed) queueMicrotask(cb); else this.endCallbacks.push(cb);
    }
    if (this.ending || this.closed) return this;
    while (this.writableCorked > 0) this.uncork();
    this.ending = true;
    if (this.queued === 0) this.sock.end();
    return this;
  }

  destroy(): this {
    if (!this.closed) this.sock.terminate();
    return this;
  }

  /** Bun's 'data'. */
  onData(chunk: Buffer): void {
    const fn = this.dataListener;
    if (fn !== null) fn(chunk); else this.emit('data', chunk);
  }

  /** Bun's 'end': the peer sent FIN (the listener allows half-open sockets). */
  onEnd(): void {
    this.emit('end');
  }

  onError(err: Error): void {
    this.emit('error', err);
  }

  /** Bun's 'close': the socket is gone, whoever closed it. */
  onClose(err?: Error): void {
    if (this.closed) return;
    if (err) this.onError(err);
    this.closed = true;
    this.queue = [];
    this.queued = 0;
    // Replies never sent still give their buffers back (as node:net's write callbacks do, with an error).
    const cbs = this.callbacks.concat(this.cbsCorked);
    this.callbacks = [];
    this.cbsCorked = [];
    this.corked = [];
    for (const cb of cbs) cb();
    const ends = this.endCallbacks;
    this.endCallbacks = [];
    for (const cb of ends) cb();
    this.emit('close', false);
  }
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data) : data;
}

interface ListenOptions {
  port?: number;
  host?: string;
  path?: string;
}

/** The part of net.Server that server.ts uses, served by Bun.listen. */
class BunServer extends Handlers {
  private listener: BunListener | null = null;
  private unixPath: string | null = null;

  constructor(private readonly onConnection: (socket: Socket) => void) {
    super();
  }

  /** Binds now (Bun.listen is synchronous); 'listening' or 'error' follows on a later tick, as with node:net. */
  listen(opts: ListenOptions): this {
    const bun = (globalThis as unknown as { Bun?: BunGlobal }).Bun;
    const unix = opts.path !== undefined;
    try {
      if (!bun) throw new Error('Bun.listen is not available: this is not Bun');
      const socket = {
        // Bun's `this` is not the handler object: everything goes through socket.data.
        open: (s: BunSocket) => {
          s.data = new BunConnSocket(s, unix);
          this.onConnection(s.data as unknown as Socket);
        },
        data: (s: BunSocket, chunk: Buffer) => s.data.onData(chunk),
        drain: (s: BunSocket) => s.data.onWritable(),
        end: (s: BunSocket) => s.data.onEnd(),
        error: (s: BunSocket, err: Error) => s.data?.onError(err),
        close: (s: BunSocket, err?: Error) => s.data?.onClose(err),
      };
      // Half-open as node:net's allowHalfOpen: a client's FIN still gets its replies.
      this.listener = unix
        ? bun.listen({ unix: opts.path, allowHalfOpen: true, socket })
        : bun.listen({ hostname: opts.host, port: opts.port ?? 0, allowHalfOpen: true, socket });
      this.unixPath = unix ? opts.path! : null;
    } catch (err) {
      setImmediate(() => this.emit('error', err));
      return this;
    }
    setImmediate(() => this.emit('listening'));
    return this;
  }

  address(): AddressInfo | string | null {
    if (this.unixPath !== null) return this.unixPath;
    const l = this.listener;
    if (l === null) return null;
    const v6 = l.hostname.includes(':');
    return { address: l.hostname, family: v6 ? 'IPv6' : 'IPv4', port: l.port };
  }

  close(): this {
    // Open connections are ended by the server, gracefully.
    this.listener?.stop(false);
    this.listener = null;
    return this;
  }
}

/** A net.Server look-alike whose connections come from Bun.listen. */
export function createBunServer(onConnection: (socket: Socket) => void): Server {
  return new BunServer(onConnection) as unknown as Server;
}
