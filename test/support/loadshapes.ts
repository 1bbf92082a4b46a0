// Load shapes for measuring a server's memory and responsiveness from outside:
// each opens real TCP connections to 127.0.0.1:<port>, bounded in count and
// in time, and cleans up after itself (a shape's close() destroys every
// socket it opened; a shape that fails part-way closes what it had opened).
// They speak memcached's text protocol, so they run against wasmcached and
// memcached alike. Linux only: memory is read from /proc.
//
//   memory:  rssOf, settledRss, rssSampler
//   shapes:  idleConnections, halfSentValues, stalledReaders (held until
//            close()), overload (resolves when done)
//   latency: startProbe, another client's round trips while a shape runs
//
//   const srv = await startWasmcached(['-m', '64', '-c', '4096']);
//   const before = await settledRss(srv.pid);
//   const idle = await idleConnections(srv.port, 2000);
//   const perConnection = (await settledRss(srv.pid) - before) / 2000;
//   await idle.close();
//
// Thousands of connections need as many file descriptors in this process and
// in the server: a shape checks `ulimit -n` first and says how to raise it.
import { connect, type Socket } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { prng } from './prng.js';

const HOST = '127.0.0.1';
/** Connections opened at once: keeps bursts under the servers' listen backlogs. */
const CONNECT_BATCH = 128;
const DEFAULT_TIMEOUT_MS = 60_000;
/** File descriptors kept free for everything else the process does. */
const FD_MARGIN = 64;

// ---- memory -------------------------------------------------------------------

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * Waits until a process's RSS stops moving: every reading (one per 100 ms)
 * over the last `quietMs` within `toleranceBytes`, or `maxMs` passed.
 * Returns the last reading. A window shorter than a long pause of the
 * server (a GC, a busy event loop) would mistake the pause for the end.
 */
export async function settledRss(pid: number, opts: { quietMs?: number; toleranceBytes?: number; maxMs?: number } = {}): Promise<number> {
  const quietMs = opts.quietMs ?? 1000;
  const tolerance = opts.toleranceBytes ?? 1 << 20;
  const deadline = Date.now() + (opts.maxMs ?? 10_000);
  const window: { at: number; rss: number }[] = [{ at: Date.now(), rss: rssOf(pid) }];
  for (;;) {
    await sleep(100);
    const now = Date.now();
    window.push({ at: now, rss: rssOf(pid) });
    while (window.length > 1 && window[1].at <= now - quietMs) window.shift();
    const span = window[window.length - 1].at - window[0].at;
    const rss = window.map((w) => w.rss);
    if ((span >= quietMs && Math.max(...rss) - Math.min(...rss) <= tolerance) || now >= deadline) return window[window.length - 1].rss;
  }
}

/**
 * The lowest RSS of a process over `ms` (a reading every 250 ms). For a
 * server left idle: V8 collects the garbage of what it just did only once
 * its allocation has stopped for a while, so a settled reading still holds
 * some of it, and when the collection comes is chance.
 */
export async function lowestRss(pid: number, ms: number): Promise<number> {
  let lowest = rssOf(pid);
  for (const end = Date.now() + ms; Date.now() < end;) {
    await sleep(250);
    lowest = Math.min(lowest, rssOf(pid));
  }
  return lowest;
}

/** Samples a process's RSS every `intervalMs` until stop(), which returns the peak and last reading. */
export function rssSampler(pid: number, intervalMs = 50): { stop(): { peak: number; last: number } } {
  let peak = rssOf(pid);
  let last = peak;
  const t = setInterval(() => {
    try { last = rssOf(pid); peak = Math.max(peak, last); } catch { /* process gone: keep what we have */ }
  }, intervalMs);
  return {
    stop() {
      clearInterval(t);
      try { last = rssOf(pid); peak = Math.max(peak, last); } catch { /* gone */ }
      return { peak, last };
    },
  };
}

// ---- shapes -------------------------------------------------------------------

/** Connections a shape holds open until close(). */
export interface Shape {
  /** Connections open now (a server may close some of them). */
  readonly open: number;
  /** Destroys every connection the shape opened and waits until they are closed. */
  close(): Promise<void>;
}

/** `n` connections that connect and then send and read nothing; with
 *  `speakEvery` k, every k-th first sends `version` and reads its reply,
 *  as a client pool's connections have each made requests before they
 *  idle. */
export async function idleConnections(port: number, n: number, opts: { timeoutMs?: number; speakEvery?: number } = {}): Promise<Shape> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const socks = await openConnections(port, n, timeoutMs);
  const every = opts.speakEvery ?? 0;
  const replied: Promise<void>[] = [];
  socks.forEach((s, i) => {
    if (every > 0 && i % every === 0) {
      replied.push(new Promise<void>((resolve) => { s.once('data', () => resolve()); s.once('close', () => resolve()); }));
      s.write('version\r\n');
    }
    s.on('data', () => { /* nothing more is expected; drop it */ });
  });
  await within(Promise.all(replied), timeoutMs);
  return shapeOf(socks);
}

export interface HalfSentValues extends Shape {
  /** Connections whose bytes all reached the kernel within the time bound. */
  readonly delivered: number;
}

/**
 * `n` connections that each send `set <prefix><i> 0 0 <valueBytes>` and all
 * but the last `unsentBytes` bytes of the value, then stop: the server holds
 * n unfinished values. Resolves once every connection's bytes are written to
 * the kernel (the server has read all but a socket buffer's worth) or
 * `timeoutMs` pass.
 */
export async function halfSentValues(port: number, n: number, valueBytes: number,
  opts: { unsentBytes?: number; keyPrefix?: string; timeoutMs?: number } = {}): Promise<HalfSentValues> {
  const unsent = opts.unsentBytes ?? 1000;
  if (!(valueBytes > unsent)) throw new RangeError(`valueBytes (${valueBytes}) must exceed unsentBytes (${unsent})`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const socks = await openConnections(port, n, timeoutMs);
  // One buffer shared by every write: the client's own memory stays small.
  const body = Buffer.alloc(valueBytes - unsent, 'x');
  const prefix = opts.keyPrefix ?? 'halfsent:';
  let delivered = 0;
  const flushed = socks.map((s, i) => new Promise<void>((resolve) => {
    s.on('data', () => { /* an early error reply (memcached: out of memory) is fine */ });
    s.write(`set ${prefix}${i} 0 0 ${valueBytes}\r\n`);
    s.write(body, (err) => { if (!err) delivered++; resolve(); });
  }));
  await within(Promise.all(flushed), deadline - Date.now());
  const shape = shapeOf(socks);
  return { get open() { return shape.open; }, get delivered() { return delivered; }, close: shape.close };
}

export interface StalledReaderOptions {
  /** Keys each multiget asks for (default 16). */
  keys?: number;
  /** Bytes of each of those values, stored before the readers start (default 100,000). */
  valueBytes?: number;
  /** Multigets each reader pipelines (default 32). */
  requests?: number;
  keyPrefix?: string;
  timeoutMs?: number;
}

export interface StalledReaders extends Shape {
  /** Reply bytes each reader asked for and never reads. */
  readonly requestedBytesPerReader: number;
}

/**
 * Stores `keys` values of `valueBytes`, then opens `n` clients that each
 * pipeline `requests` multigets of all of them and never read a byte of the
 * replies: the server faces n peers whose windows are closed.
 */
export async function stalledReaders(port: number, n: number, opts: StalledReaderOptions = {}): Promise<StalledReaders> {
  const keys = opts.keys ?? 16;
  const valueBytes = opts.valueBytes ?? 100_000;
  const requests = opts.requests ?? 32;
  const prefix = opts.keyPrefix ?? 'stalled:';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const names = Array.from({ length: keys }, (_, i) => `${prefix}${i}`);
  await storeValues(port, names, valueBytes, timeoutMs);
  const socks = await openConnections(port, n, timeoutMs);
  const multiget = Buffer.from(`get ${names.join(' ')}\r\n`.repeat(requests), 'latin1');
  for (const s of socks) {
    // Never read: replies stay in the kernel, whose window then closes.
    s.pause();
    s.write(multiget);
  }
  const shape = shapeOf(socks);
  return { get open() { return shape.open; }, requestedBytesPerReader: requests * keys * valueBytes, close: shape.close };
}

export interface OverloadOptions {
  /** The server's -m: the shape writes `factor` times this much value data. */
  memoryMB: number;
  /** Default 4. */
  factor?: number;
  /** Default 50. */
  connections?: number;
  /** Value sizes are log-uniform between these (defaults 10 B and 500 KiB). */
  minValueBytes?: number;
  maxValueBytes?: number;
  seed?: number;
  keyPrefix?: string;
  timeoutMs?: number;
}

export interface OverloadResult {
  sets: number;
  /** Value bytes sent. */
  valueBytes: number;
  /** Replies STORED, and any other (an error such as out of memory). */
  stored: number;
  errors: number;
  ms: number;
  /** The time bound ended it before every reply arrived. */
  timedOut: boolean;
}

/**
 * `connections` clients writing `factor` x -m of sets with mixed value sizes,
 * each as fast as the server takes them (a write waits for 'drain'), reading
 * every reply. Resolves when all replies arrived or the time bound passed;
 * every connection is closed either way.
 */
export async function overload(port: number, opts: OverloadOptions): Promise<OverloadResult> {
  const conns = opts.connections ?? 50;
  const total = (opts.factor ?? 4) * opts.memoryMB * 1048576;
  const minV = opts.minValueBytes ?? 10;
  const maxV = opts.maxValueBytes ?? 500 * 1024;
  const prefix = opts.keyPrefix ?? 'overload:';
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  const socks = await openConnections(port, conns, timeoutMs);
  const value = Buffer.alloc(maxV, 'v');
  const crlf = Buffer.from('\r\n');
  const r: OverloadResult = { sets: 0, valueBytes: 0, stored: 0, errors: 0, ms: 0, timedOut: false };
  const lnRange = Math.log(maxV / minV);
  const one = async (s: Socket, c: number): Promise<void> => {
    const rand = prng((opts.seed ?? 1) * 7919 + c);
    let expected = 0;
    let replies = 0;
    let tail = '';
    let wake: (() => void) | null = null;
    s.on('data', (b: Buffer) => {
      const lines = (tail + b.toString('latin1')).split('\r\n');
      tail = lines.pop()!;
      for (const line of lines) {
        replies++;
        if (line === 'STORED') r.stored++; else r.errors++;
      }
      if (wake && replies >= expected) wake();
    });
    const closed = new Promise<void>((res) => s.once('close', () => res()));
    for (let sent = 0, i = 0; sent < total / conns && Date.now() < deadline && !s.destroyed; i++) {
      const size = Math.min(maxV, Math.round(minV * Math.exp(rand() * lnRange)));
      s.cork();
      s.write(`set ${prefix}${c}:${i} 0 0 ${size}\r\n`);
      s.write(value.subarray(0, size));
      const ok = s.write(crlf);
      s.uncork();
      expected++;
      sent += size;
      r.sets++;
      r.valueBytes += size;
      if (!ok) await within(Promise.race([new Promise((res) => s.once('drain', res)), closed]), deadline - Date.now());
    }
    if (replies < expected) {
      await within(Promise.race([new Promise<void>((res) => { wake = res; }), closed]), deadline - Date.now());
    }
    if (replies < expected) r.timedOut = true;
  };
  try {
    await Promise.all(socks.map((s, c) => one(s, c)));
  } finally {
    await shapeOf(socks).close();
  }
  r.ms = performance.now() - started;
  return r;
}

// ---- the probe ----------------------------------------------------------------

export interface ProbeResult {
  /** Round trips completed. */
  samples: number;
  maxMs: number;
  p99Ms: number;
  /** A request still unanswered at stop() (its wait so far counts in maxMs). */
  unanswered: boolean;
}

export interface Probe {
  stop(): Promise<ProbeResult>;
}

/**
 * Another client's view of the server while a shape runs: one connection
 * sends `mn` (the meta no-op) every `intervalMs`, one request at a time, and
 * records each round trip. The times include this process's own event-loop
 * delays, so they are an upper bound on the server's.
 */
export async function startProbe(port: number, opts: { intervalMs?: number; timeoutMs?: number } = {}): Promise<Probe> {
  const intervalMs = opts.intervalMs ?? 5;
  const [s] = await openConnections(port, 1, opts.timeoutMs ?? 10_000);
  const times: number[] = [];
  let running = true;
  let sentAt = 0;
  let got = '';
  let answered: (() => void) | null = null;
  s.on('data', (b: Buffer) => {
    got += b.toString('latin1');
    if (got.includes('MN\r\n')) { got = ''; answered?.(); }
  });
  const closed = new Promise<void>((res) => s.once('close', () => res()));
  const loop = (async () => {
    while (running && !s.destroyed) {
      const reply = new Promise<void>((res) => { answered = res; });
      sentAt = performance.now();
      s.write('mn\r\n');
      await Promise.race([reply, closed]);
      if (s.destroyed) break;
      times.push(performance.now() - sentAt);
      sentAt = 0;
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      // One last answer is awaited briefly; a server still stalled counts as such.
      await within(loop, 1000);
      const unanswered = sentAt !== 0;
      const waiting = unanswered ? performance.now() - sentAt : 0;
      s.destroy();
      const sorted = [...times].sort((a, b) => a - b);
      const p99 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : 0;
      return { samples: times.length, maxMs: Math.max(waiting, sorted[sorted.length - 1] ?? 0), p99Ms: p99, unanswered };
    },
  };
}

// ---- helpers ------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for `p`, or `ms` at most; leaves no timer behind either way. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise((r) => { t = setTimeout(r, Math.max(0, ms)); })]);
  } finally {
    clearTimeout(t);
  }
}

/** The soft RLIMIT_NOFILE of this process (what `ulimit -n` shows). */
function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** Throws, saying what to do, unless `n` more descriptors fit under the limit. */
function requireDescriptors(n: number): void {
  const limit = openFileLimit();
  const open = readdirSync('/proc/self/fd').length;
  if (open + n + FD_MARGIN > limit) {
    throw new Error(`${n} connections need ${n} more file descriptors, but ${open} of the soft limit of ${limit} are open: ` +
      `raise it (ulimit -n ${Math.max(4096, 2 * (open + n + FD_MARGIN))}); the server needs the same headroom`);
  }
}

/** Opens `n` connections, CONNECT_BATCH at a time; on any failure closes them all and throws. */
async function openConnections(port: number, n: number, timeoutMs: number): Promise<Socket[]> {
  requireDescriptors(n);
  const socks: Socket[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    for (let i = 0; i < n; i += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, n - i) }, () => {
        const s = connect({ port, host: HOST, noDelay: true });
        socks.push(s);
        // Errors after connecting (a reset, a server closing) are expected here.
        s.on('error', () => {});
        return new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`connection ${socks.length} of ${n} to port ${port} not established in time`)), Math.max(0, deadline - Date.now()));
          s.once('connect', () => { clearTimeout(t); resolve(); });
          s.once('close', () => { clearTimeout(t); reject(new Error(`connection to port ${port} closed while connecting (${socks.length} of ${n} opened)`)); });
        });
      });
      await Promise.all(batch);
    }
    return socks;
  } catch (e) {
    await shapeOf(socks).close();
    throw e;
  }
}

function shapeOf(socks: Socket[]): Shape {
  return {
    get open() { return socks.filter((s) => !s.destroyed).length; },
    async close() {
      await Promise.all(socks.map((s) => new Promise<void>((res) => {
        if (s.closed) { res(); return; }
        s.once('close', () => res());
        s.destroy();
      })));
    },
  };
}

/** Stores each key with a value of `valueBytes` over one connection; throws unless all are STORED. */
async function storeValues(port: number, keys: string[], valueBytes: number, timeoutMs: number): Promise<void> {
  const [s] = await openConnections(port, 1, timeoutMs);
  try {
    const value = Buffer.alloc(valueBytes, 's');
    let got = '';
    const done = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`storing ${keys.length} values: no replies within ${timeoutMs} ms`)), timeoutMs);
      s.on('data', (b: Buffer) => {
        got += b.toString('latin1');
        const lines = got.split('\r\n');
        if (lines.length - 1 < keys.length) return;
        clearTimeout(t);
        const bad = lines.slice(0, keys.length).filter((l) => l !== 'STORED');
        if (bad.length) reject(new Error(`storing ${keys.length} values of ${valueBytes} B: ${bad[0]}`)); else resolve();
      });
      s.once('close', () => { clearTimeout(t); reject(new Error('the server closed the connection while values were stored')); });
    });
    for (const k of keys) {
      s.write(`set ${k} 0 0 ${valueBytes}\r\n`);
      s.write(value);
      s.write('\r\n');
    }
    await done;
  } finally {
    await shapeOf([s]).close();
  }
}
