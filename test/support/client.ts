// A raw TCP client for exact-bytes protocol tests. Everything received is
// kept as one growing Buffer (never decoded to strings), so binary values and
// replies split across TCP reads are handled the same as whole ones. Reads
// consume from the front of that buffer; one read may be pending at a time.
import { connect, type Socket } from 'node:net';

export type Matcher = string | Buffer | RegExp | ((buf: Buffer) => number);

const DEFAULT_TIMEOUT_MS = 10_000;

export class RawClient {
  private closed = false;
  private wake: (() => void) | null = null;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      this.append(chunk);
      this.notify();
    });
    // A reset counts as "closed by the server" just like a FIN.
    sock.on('error', () => { this.closed = true; this.notify(); });
    sock.on('end', () => { this.closed = true; this.notify(); });
    sock.on('close', () => { this.closed = true; this.notify(); });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ port, host });
      sock.setNoDelay(true);
      const onError = (e: Error) => reject(e);
      sock.once('error', onError);
      sock.once('connect', () => { sock.off('error', onError); resolve(new RawClient(sock)); });
    });
  }

  /** Over a unix socket (-s). */
  static connectPath(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ path });
      const onError = (e: Error) => reject(e);
      sock.once('error', onError);
      sock.once('connect', () => { sock.off('error', onError); resolve(new RawClient(sock)); });
    });
  }

  /** Stops reading (the server's replies back up), until resume(). */
  pause(): void { this.sock.pause(); }
  resume(): void { this.sock.resume(); }

  /** Whether the peer has closed (or reset) the connection. */
  get isClosed(): boolean { return this.closed; }

  /** Bytes received but not yet consumed by a read. */
  get pending(): Buffer { return this.buf; }

  send(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return new Promise((resolve, reject) => {
      if (this.sock.destroyed) { reject(new Error('send on a closed socket')); return; }
      this.sock.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves when new bytes arrive, the peer closes, or `ms` pass. */
  private waitForEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, Math.max(0, ms));
      this.wake = () => { clearTimeout(t); resolve(); };
    });
  }

  // Received bytes live in store[start, end): appending doubles the room
  // when needed, so a 12 MB reply costs O(n) to collect, not O(n^2).
  private store: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  private get buf(): Buffer { return this.store.subarray(this.start, this.end); }

  private append(chunk: Buffer): void {
    const len = this.end - this.start;
    if (this.end + chunk.length > this.store.length) {
      const room = Math.max(65536, 2 * (len + chunk.length));
      const next = room <= this.store.length ? this.store : Buffer.allocUnsafe(room);
      this.store.copy(next, 0, this.start, this.end);
      this.store = next;
      this.start = 0;
      this.end = len;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
  }

  private take(n: number): Buffer {
    const out = Buffer.from(this.store.subarray(this.start, this.start + n));
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }

  /**
   * Waits until `complete(buffered)` returns a length >= 0, then consumes and
   * returns that many bytes. Throws on timeout or on close before completion,
   * with what was received in the message.
   */
  async readWith(complete: (buf: Buffer) => number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = complete(this.buf);
      if (n >= 0) return this.take(n);
      if (this.closed) throw new Error(`connection closed while waiting; got ${show(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; got ${show(this.buf)}`);
      await this.waitForEvent(left);
    }
  }

  readExactly(n: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    return this.readWith((b) => (b.length >= n ? n : -1), timeoutMs);
  }

  /**
   * Reads through the first match of `pattern` (inclusive). A function
   * pattern returns the length of the complete prefix, or -1 for "not yet".
   */
  readUntil(pattern: Matcher, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    if (typeof pattern === 'function') return this.readWith(pattern, timeoutMs);
    if (pattern instanceof RegExp) {
      return this.readWith((b) => {
        const m = pattern.exec(b.toString('latin1'));
        return m ? m.index + m[0].length : -1;
      }, timeoutMs);
    }
    const needle = typeof pattern === 'string' ? Buffer.from(pattern, 'latin1') : pattern;
    return this.readWith((b) => {
      const i = b.indexOf(needle);
      return i >= 0 ? i + needle.length : -1;
    }, timeoutMs);
  }

  /** Collects bytes until none arrive for `quietMs` (or the peer closes). */
  async readAvailable(quietMs = 200, maxMs = 30_000): Promise<Buffer> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const before = this.buf.length;
      if (this.closed || Date.now() >= deadline) break;
      await this.waitForEvent(Math.min(quietMs, deadline - Date.now()));
      if (this.buf.length === before && !this.closed) break;
    }
    return this.take(this.buf.length);
  }

  /** Whether the server closes the connection within `timeoutMs`. */
  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.waitForEvent(left);
    }
    return true;
  }

  close(): void {
    this.sock.destroy();
  }

  /** The client side's port (how `stats conns` names this connection). */
  get localPort(): number {
    return this.sock.localPort ?? 0;
  }

  /** Sends `request`, then reads exactly `replies` complete text replies. */
  async request(request: Buffer | string, replies = 1, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    await this.send(request);
    return this.readWith((b) => textRepliesLength(b, replies), timeoutMs);
  }

  /** Sends `request` and reads through the first reply line that equals `line`. */
  async requestUntilLine(request: Buffer | string, line: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    await this.send(request);
    return this.readWith((b) => textRepliesThroughLine(b, line), timeoutMs);
  }
}

/**
 * One text-protocol reply: a single line, or for retrievals a run of
 * `VALUE <key> <flags> <bytes> [<cas>]` blocks (each line followed by exactly
 * <bytes> of data and CRLF) ended by `END`, or for listings `STAT`, `ITEM` or
 * `PREFIX` lines ended by `END`. Returns the byte length of the reply at
 * `off`, or -1 if incomplete.
 */
export function textReplyLength(buf: Buffer, off = 0): number {
  let pos = off;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos, 'latin1');
    if (eol < 0) return -1;
    const line = buf.subarray(pos, eol);
    if (startsWith(line, 'VALUE ')) {
      const toks = line.toString('latin1').split(' ');
      const bytes = Number(toks[3]);
      if (!/^[0-9]+$/.test(toks[3] ?? '') || !Number.isSafeInteger(bytes)) throw new Error(`bad VALUE line: ${show(line)}`);
      const end = eol + 2 + bytes + 2;
      if (buf.length < end) return -1;
      pos = end;
      continue;
    }
    if (pos === off && startsWith(line, 'VA ')) {
      // a meta value: the line, <n> bytes and CRLF are one reply
      const n = Number(line.toString('latin1').split(' ')[1]);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad VA line: ${show(line)}`);
      const end = eol + 2 + n + 2;
      return buf.length < end ? -1 : end - off;
    }
    // Lines of a listing that END closes: `stats` (STAT), `stats cachedump`
    // (ITEM), `stats detail dump` (PREFIX).
    if (startsWith(line, 'STAT ') || startsWith(line, 'ITEM ') || startsWith(line, 'PREFIX ')) { pos = eol + 2; continue; }
    // END closes a multi-line reply; any other line (an error after some
    // values) also ends it.
    return eol + 2 - off;
  }
}

/** Length of the first `count` replies, or -1 while incomplete. */
export function textRepliesLength(buf: Buffer, count: number): number {
  let off = 0;
  for (let i = 0; i < count; i++) {
    const n = textReplyLength(buf, off);
    if (n < 0) return -1;
    off += n;
  }
  return off;
}

/**
 * Length through the first reply that is exactly `line` (without CRLF),
 * skipping data blocks so value bytes can never be mistaken for it.
 */
export function textRepliesThroughLine(buf: Buffer, line: string): number {
  const want = Buffer.from(line, 'latin1');
  let off = 0;
  for (;;) {
    const n = textReplyLength(buf, off);
    if (n < 0) return -1;
    if (n === want.length + 2 && buf.subarray(off, off + want.length).equals(want)) return off + n;
    off += n;
  }
}

/** Splits a response stream into whole replies (for readable diffs). */
export function splitTextReplies(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    let n: number;
    try { n = textReplyLength(buf, off); } catch { n = -1; }
    if (n < 0) { out.push(buf.subarray(off)); break; }
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

function startsWith(b: Buffer, s: string): boolean {
  return b.length >= s.length && b.subarray(0, s.length).toString('latin1') === s;
}

/** Printable form of bytes: JSON-like escapes, long runs truncated. */
export function show(b: Buffer | string, max = 600): string {
  const s = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  let out = '';
  const lim = Math.min(s.length, max);
  for (let i = 0; i < lim; i++) {
    const c = s[i];
    if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(c);
  }
  if (s.length > max) out += `…(+${s.length - max} bytes)`;
  return `"${out}"`;
}

/** The reply that ends a sync point (see syncRequest). */
function syncReply(id: string): Buffer {
  return Buffer.from(`VALUE __sync 0 ${id.length}\r\n${id}\r\nEND\r\n`, 'latin1');
}

/**
 * Bytes that mark a point in a pipelined stream: a silent store of `id`
 * under a key no test uses, then a get of it. Its reply is unique to `id`,
 * so the replies to everything sent before it are complete once it arrives.
 */
export function syncRequest(id: string): Buffer {
  return Buffer.from(`set __sync 0 0 ${id.length} noreply\r\n${id}\r\nget __sync\r\n`, 'latin1');
}

export interface SyncedReplies {
  /** Replies received before the sync reply (the sync reply itself removed). */
  bytes: Buffer;
  /** The sync reply arrived. */
  synced: boolean;
  /** The server closed the connection. */
  closed: boolean;
}

/**
 * Reads replies until the sync reply for `id` (sent with syncRequest), the
 * connection closing, or `timeoutMs`. Never throws: what arrived is returned.
 */
export async function readThroughSync(c: RawClient, id: string, timeoutMs = 5000): Promise<SyncedReplies> {
  const want = syncReply(id);
  const find = (buf: Buffer): number => {
    let off = 0;
    for (;;) {
      let n: number;
      try { n = textReplyLength(buf, off); } catch { return -1; }
      if (n < 0) return -1;
      if (n === want.length && buf.subarray(off, off + n).equals(want)) return off + n;
      off += n;
    }
  };
  try {
    const all = await c.readWith(find, timeoutMs);
    return { bytes: all.subarray(0, all.length - want.length), synced: true, closed: false };
  } catch {
    const rest = await c.readAvailable(50, 1000);
    return { bytes: rest, synced: false, closed: c.isClosed };
  }
}

/** A client that sends `cmd` and never reads (its socket stays paused). */
export function nonReader(port: number, cmd: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.pause();
    s.once('error', reject);
    s.once('connect', () => { s.write(cmd); resolve(s); });
  });
}
