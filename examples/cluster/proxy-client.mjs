// An application's view of the pool behind twemproxy: memcached's text
// protocol over the proxy's unix socket. It loads the keys, keeps reading
// them at a fixed rate the way a cache-aside application does (a miss is
// "loaded from the database" and written back with `set`), and counts what
// every read got in 10 ms buckets: a hit (and whether its value is the right
// one), a miss, or an error (an error reply, a connection lost with the read
// in flight, or a read that could not be sent because the proxy was not
// accepting connections).
import { connect } from 'node:net';

export const BUCKET_MS = 10;
const TICK_MS = 10;

/** Key i of the data set; the hex part spreads keys over the ring (sequential keys cluster with fnv1a_64). */
export function keyOf(i) {
  return `k${i}:${(Math.imul(i, 2654435761) >>> 0).toString(16).padStart(8, '0')}`;
}

/** The value the "database" holds for a key: the key repeated to `bytes` bytes. */
export function valueOf(key, bytes) {
  return Buffer.from(`${key}|`.repeat(Math.ceil(bytes / (key.length + 1))).slice(0, bytes), 'latin1');
}

/**
 * Splits memcached text replies into events: { type: 'value', key, data },
 * { type: 'end' }, { type: 'stored' }, { type: 'error', line }.
 */
class ReplyParser {
  buf = Buffer.alloc(0);

  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const events = [];
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      if (nl < 0) break;
      const line = this.buf.toString('latin1', 0, nl);
      if (line.startsWith('VALUE ')) {
        const [, key, , bytes] = line.split(' ');
        const end = nl + 2 + Number(bytes) + 2;
        if (this.buf.length < end) break;
        events.push({ type: 'value', key, data: this.buf.subarray(nl + 2, end - 2) });
        this.buf = this.buf.subarray(end);
        continue;
      }
      this.buf = this.buf.subarray(nl + 2);
      if (line === 'END') events.push({ type: 'end' });
      else if (line === 'STORED') events.push({ type: 'stored' });
      else events.push({ type: 'error', line });
    }
    return events;
  }
}

/** Opens a connection to the proxy's socket. */
function open(path) {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** Sends `request` and collects parser events until `done(events)` is true. */
function exchange(sock, parser, request, done, timeoutMs) {
  return new Promise((resolve, reject) => {
    const events = [];
    const timer = setTimeout(() => finish(new Error(`no complete reply within ${timeoutMs} ms`)), timeoutMs);
    const onData = (b) => {
      events.push(...parser.push(b));
      if (done(events)) finish(null);
    };
    const onClose = () => finish(new Error('the proxy closed the connection'));
    function finish(err) {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      if (err) reject(err); else resolve(events);
    }
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.write(request);
  });
}

/** Writes keys 0..n-1 through the proxy (pipelined `set`s, 500 at a time); resolves to how many were STORED. */
export async function loadThroughProxy(path, n, valueBytes, timeoutMs = 60_000) {
  const sock = await open(path);
  const parser = new ReplyParser();
  let stored = 0;
  try {
    for (let i = 0; i < n; i += 500) {
      const parts = [];
      const count = Math.min(500, n - i);
      for (let j = i; j < i + count; j++) {
        const key = keyOf(j);
        const value = valueOf(key, valueBytes);
        parts.push(Buffer.from(`set ${key} 0 0 ${value.length}\r\n`, 'latin1'), value, Buffer.from('\r\n'));
      }
      const events = await exchange(sock, parser, Buffer.concat(parts), (ev) => ev.length >= count, timeoutMs);
      stored += events.filter((e) => e.type === 'stored').length;
    }
  } finally {
    sock.destroy();
  }
  return stored;
}

/** Reads every one of `keys` once through the proxy (multi-key gets, no refill); resolves to the keys that missed. */
export async function sweepThroughProxy(path, keys, timeoutMs = 30_000) {
  const sock = await open(path);
  const parser = new ReplyParser();
  const hit = new Set();
  try {
    for (let i = 0; i < keys.length; i += 100) {
      const part = keys.slice(i, i + 100);
      const events = await exchange(sock, parser, `get ${part.join(' ')}\r\n`,
        (ev) => ev.some((e) => e.type === 'end' || e.type === 'error'), timeoutMs);
      const bad = events.find((e) => e.type === 'error');
      if (bad) throw new Error(`sweep: ${bad.line}`);
      for (const e of events) if (e.type === 'value') hit.add(e.key);
    }
  } finally {
    sock.destroy();
  }
  return keys.filter((k) => !hit.has(k));
}

/**
 * Reads random keys of 0..n-1 through the proxy at `rate` gets per second
 * (at most `window` in flight), refilling misses; `stop()` resolves to the
 * buckets [startMs, hits, misses, errors, wrongValues].
 */
export class ProxyReader {
  constructor(path, { keys, valueBytes, rate, window = 16, seed = 1 }) {
    this.path = path;
    this.n = keys;
    this.valueBytes = valueBytes;
    this.rate = rate;
    this.window = window;
    this.random = xorshift(seed);
    this.buckets = new Map();
    this.sock = null;
    this.connecting = false;
    this.inFlight = [];
    /** Whether the VALUE of the read being answered was right; undefined before its VALUE (a miss). */
    this.value = undefined;
    this.budget = 0;
    this.last = 0;
    this.timer = null;
  }

  count(field) {
    const at = Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS;
    let b = this.buckets.get(at);
    if (!b) this.buckets.set(at, b = [at, 0, 0, 0, 0]);
    b[field]++;
  }

  start() {
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  tick() {
    const now = performance.now();
    // Reads not sent for want of a free slot in the window are dropped, not
    // saved up: the budget holds at most two ticks' worth.
    this.budget = Math.min(this.budget + ((now - this.last) / 1000) * this.rate, Math.max(1, (2 * TICK_MS * this.rate) / 1000));
    this.last = now;
    if (!this.sock) {
      // An application whose proxy is not there fails the reads it would have made.
      for (; this.budget >= 1; this.budget--) this.count(3);
      if (!this.connecting) this.reconnect();
      return;
    }
    const parts = [];
    for (; this.budget >= 1 && this.inFlight.length < this.window; this.budget--) {
      const key = keyOf(Math.floor(this.random() * this.n));
      this.inFlight.push(key);
      parts.push(`get ${key}\r\n`);
    }
    if (parts.length) this.sock.write(parts.join(''));
  }

  reconnect() {
    this.connecting = true;
    open(this.path).then((sock) => {
      this.connecting = false;
      if (!this.timer) { sock.destroy(); return; }
      const parser = new ReplyParser();
      this.sock = sock;
      sock.on('data', (b) => this.onReplies(sock, parser.push(b)));
      const lost = () => {
        if (this.sock !== sock) return;
        this.sock = null;
        this.value = undefined;
        this.budget = 0;
        for (let i = this.inFlight.splice(0).length; i > 0; i--) this.count(3);
      };
      sock.on('error', lost);
      sock.on('close', lost);
    }, () => { this.connecting = false; });
  }

  onReplies(sock, events) {
    const refills = [];
    for (const e of events) {
      if (e.type === 'value') {
        // The answer to the oldest read in flight; its END follows.
        this.value = e.key === this.inFlight[0] && valueOf(e.key, this.valueBytes).equals(e.data);
        continue;
      }
      const key = this.inFlight.shift();
      if (e.type === 'end' && this.value !== undefined) {
        this.count(this.value ? 1 : 4);
      } else if (e.type === 'end') {
        this.count(2);
        const value = valueOf(key, this.valueBytes);
        refills.push(Buffer.from(`set ${key} 0 0 ${value.length} noreply\r\n`, 'latin1'), value, Buffer.from('\r\n'));
      } else {
        this.count(3);
      }
      this.value = undefined;
    }
    if (refills.length && this.sock === sock) sock.write(Buffer.concat(refills));
  }

  async stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.sock?.destroy();
    this.sock = null;
    return [...this.buckets.values()].sort((a, b) => a[0] - b[0]);
  }
}

function xorshift(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}
