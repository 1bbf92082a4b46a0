// The load generator of the server section, run as its own process (pinned to
// another CPU than the server) so its work never lands on the server's clock.
// `node loadgen.js '<LoadConfig as JSON>'` prints one LoadResult as JSON.
//
// Kept light so the server, not the generator, is the ceiling: requests are
// encoded once into a ring buffer and written as slices of it; replies are
// counted by scanning for their ends (`END\r\n`, `STORED\r\n`, skipping a hit's
// data by the byte count in its VALUE line) without building strings.
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { build as buildHistogram } from 'hdr-histogram-js';
// mulberry32: reproducible key choice without Math.random's hidden state.
import { prng } from '../test/support/prng.js';

export interface LoadConfig {
  port: number;
  /** prefill: store every key once and exit; run: the timed get/set mix */
  mode: 'prefill' | 'run';
  connections: number;
  /** requests in flight per connection (1: no pipelining) */
  depth: number;
  keys: number;
  keyPrefix: string;
  valueSize: number;
  /** share of gets in the mix; the rest are sets */
  getRatio: number;
  warmupMs: number;
  durationMs: number;
  /** server process whose CPU time is read from /proc around the timed window; 0: none */
  serverPid: number;
  clkTck: number;
  /** hard bounds on the whole process: time, and requests in run mode */
  timeoutMs: number;
  maxRequests: number;
  seed: number;
  /** connect with TLS (the tls section); the server's certificate is not checked */
  tls?: boolean;
}

export interface LoadResult {
  ops: number;
  seconds: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  /** generator CPU time over wall time in the timed window (1 = one full core) */
  generator_cpu: number;
  /** server user+system CPU seconds in the timed window, or -1 if unreadable */
  server_cpu_s: number;
  /** gets answered with a VALUE / all gets answered */
  hit_ratio: number;
  /** replies other than VALUE/END/STORED (SERVER_ERROR, ERROR, ...) */
  bad_replies: number;
  /** connections that failed or closed before the end */
  failed_connections: number;
  timed_out: boolean;
  /** largest share of one CPU the hypervisor took away (steal time) during the timed window */
  steal: number;
  /** share of each CPU busy (user+nice+system) during the timed window, whoever ran there */
  cpu_busy: number[];
}

const READ_BUFFER = new Uint8Array(256 * 1024);
const LF = 10;
const SPACE = 32;
const CH_V = 86;
const CH_E = 69;
const CH_N = 78;
const CH_S = 83;
const CH_T = 84;


function encodeSet(key: string, value: string): string {
  return `set ${key} 0 0 ${value.length}\r\n${value}\r\n`;
}

/**
 * Requests encoded back to back; offsets[i] is where request i starts. The
 * first `depth` requests are repeated past the end so any window of up to
 * `depth` consecutive requests is one contiguous slice.
 */
interface RequestRing {
  bytes: Buffer;
  offsets: Uint32Array;
  count: number;
}

function buildRunRing(cfg: LoadConfig): RequestRing {
  const value = 'x'.repeat(cfg.valueSize);
  const avg = 24 + (1 - cfg.getRatio) * (cfg.valueSize + 32);
  const count = Math.max(16384, Math.min(262144, Math.floor((32 << 20) / avg)));
  const random = prng(cfg.seed);
  const reqs: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = cfg.keyPrefix + Math.floor(random() * cfg.keys);
    reqs.push(random() < cfg.getRatio ? `get ${key}\r\n` : encodeSet(key, value));
  }
  for (let i = 0; i < cfg.depth; i++) reqs.push(reqs[i % count]);
  const offsets = new Uint32Array(reqs.length + 1);
  let total = 0;
  for (let i = 0; i < reqs.length; i++) { offsets[i] = total; total += reqs[i].length; }
  offsets[reqs.length] = total;
  const bytes = Buffer.allocUnsafe(total);
  for (let i = 0; i < reqs.length; i++) bytes.write(reqs[i], offsets[i], 'latin1');
  return { bytes, offsets, count };
}

function serverCpuSeconds(pid: number, clkTck: number): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after "(comm) ": state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck;
  } catch {
    return NaN;
  }
}

/**
 * Busy (user+nice+system) and steal seconds so far of each CPU, from the
 * /proc/stat `cpuN` lines: other processes on a pinned CPU show up as busy
 * time the server or the generator did not use.
 */
function cpuSeconds(clkTck: number): { busy: number; steal: number }[] {
  try {
    return readFileSync('/proc/stat', 'latin1').split('\n')
      .filter((l) => /^cpu\d/.test(l))
      .map((l) => {
        const f = l.trim().split(/\s+/).map(Number);
        return { busy: (f[1] + f[2] + f[3]) / clkTck, steal: (f[8] || 0) / clkTck };
      });
  } catch {
    return [];
  }
}

/** One socket with up to `depth` requests in flight and a streaming reply scanner. */
class LoadConn {
  readonly sock: Socket;
  /** send time of each request in flight, a ring of `depth` slots */
  private readonly sentAt: Float64Array;
  private head = 0;
  private tail = 0;
  inFlight = 0;
  sent = 0;
  replies = 0;
  failed = false;
  // Reply scanner state: bytes of value data still to skip, and the line being read.
  private skip = 0;
  private lineLen = 0;
  private c0 = 0;
  private c1 = 0;
  private token = 0;
  private number = 0;
  /** the reply being read has had a VALUE */
  private hit = false;

  constructor(
    private readonly gen: LoadGen,
    private readonly depth: number,
    /** next request to send: position in the run ring, or next key for prefill */
    public cursor: number,
    /** prefill: send no more than this many */
    private readonly limit: number,
  ) {
    this.sentAt = new Float64Array(depth);
    // onread: every read lands in one shared buffer instead of a new Buffer per read.
    const onread = { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => { this.onData(buf, n); return true; } };
    if (gen.cfg.tls) {
      // Decrypted bytes land in the shared buffer as well.
      this.sock = connectTls({ host: '127.0.0.1', port: gen.cfg.port, rejectUnauthorized: false, onread } as unknown as ConnectionOptions);
      this.sock.setNoDelay(true);
      this.sock.on('secureConnect', () => this.fill());
    } else {
      this.sock = connect({ host: '127.0.0.1', port: gen.cfg.port, noDelay: true, onread });
      this.sock.on('connect', () => this.fill());
    }
    this.sock.on('error', () => this.fail());
    this.sock.on('close', () => { if (!gen.stopping) this.fail(); });
  }

  private fail(): void {
    if (!this.failed) { this.failed = true; this.gen.failedConnections++; }
    this.sock.destroy();
    this.gen.settle(this);
  }

  /** Sends as many requests as fit in the window, in one write. */
  fill(): void {
    if (this.gen.stopping || this.failed) return;
    let n = this.depth - this.inFlight;
    if (this.limit - this.sent < n) n = this.limit - this.sent;
    if (n <= 0) return;
    this.sock.write(this.gen.take(this, n));
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      this.sentAt[this.head] = now;
      this.head = this.head + 1 === this.depth ? 0 : this.head + 1;
    }
    this.inFlight += n;
    this.sent += n;
  }

  private onData(chunk: Uint8Array, len: number): void {
    const now = performance.now();
    const gen = this.gen;
    let i = 0;
    while (i < len) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, len - i);
        this.skip -= k;
        i += k;
        continue;
      }
      const b = chunk[i++];
      if (b !== LF) {
        if (this.lineLen === 0) this.c0 = b;
        else if (this.lineLen === 1) this.c1 = b;
        this.lineLen++;
        if (b === SPACE) this.token++;
        else if (this.token === 3 && b >= 48 && b <= 57) this.number = this.number * 10 + (b - 48);
        continue;
      }
      // End of a line: a VALUE header announces data; anything else ends a reply.
      if (this.c0 === CH_V) {
        this.skip = this.number + 2;
        this.hit = true;
      } else {
        if (this.c0 === CH_E && this.c1 === CH_N) {
          gen.gets++;
          if (this.hit) gen.hits++;
        } else if (!(this.c0 === CH_S && this.c1 === CH_T)) {
          gen.badReplies++;
        }
        this.hit = false;
        if (gen.measuring) gen.record(now - this.sentAt[this.tail]);
        this.tail = this.tail + 1 === this.depth ? 0 : this.tail + 1;
        this.inFlight--;
        this.replies++;
        gen.replies++;
      }
      this.lineLen = 0;
      this.token = 0;
      this.number = 0;
    }
    if (gen.stopping) {
      if (this.inFlight === 0) gen.settle(this);
    } else {
      this.fill();
      if (this.replies >= this.limit) gen.settle(this);
    }
  }
}

class LoadGen {
  stopping = false;
  measuring = false;
  replies = 0;
  gets = 0;
  hits = 0;
  badReplies = 0;
  failedConnections = 0;
  private readonly conns: LoadConn[] = [];
  /** connections that are done: drained, finished their prefill share, or failed */
  private readonly settled = new Set<LoadConn>();
  private readonly ring: RequestRing | null;
  private readonly value: string;
  private readonly histogram = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, autoResize: false });
  private finish!: (timedOut: boolean) => void;

  constructor(readonly cfg: LoadConfig) {
    this.ring = cfg.mode === 'run' ? buildRunRing(cfg) : null;
    this.value = 'x'.repeat(cfg.valueSize);
  }

  /** Latency in ms into the histogram, kept in µs. */
  record(ms: number): void {
    let us = Math.round(ms * 1000);
    if (us < 1) us = 1;
    else if (us > 120_000_000) us = 120_000_000;
    this.histogram.recordValue(us);
  }

  /** The next n requests of a connection as one buffer. */
  take(conn: LoadConn, n: number): Buffer {
    const ring = this.ring;
    if (ring) {
      const from = conn.cursor;
      conn.cursor = from + n >= ring.count ? from + n - ring.count : from + n;
      return ring.bytes.subarray(ring.offsets[from], ring.offsets[from + n]);
    }
    // Prefill is not timed: building its requests on the fly is fine.
    let s = '';
    for (let i = 0; i < n; i++) s += encodeSet(this.cfg.keyPrefix + conn.cursor++, this.value);
    return Buffer.from(s, 'latin1');
  }

  settle(conn: LoadConn): void {
    this.settled.add(conn);
    if (this.settled.size >= this.conns.length) this.finish(false);
  }

  async run(): Promise<LoadResult> {
    const cfg = this.cfg;
    const done = new Promise<boolean>((resolve) => { this.finish = resolve; });
    const hardStop = setTimeout(() => this.finish(true), cfg.timeoutMs);
    const random = prng(cfg.seed ^ 0x5bd1e995);
    const perConn = Math.ceil(cfg.keys / cfg.connections);
    for (let c = 0; c < cfg.connections; c++) {
      if (cfg.mode === 'run') {
        this.conns.push(new LoadConn(this, cfg.depth, Math.floor(random() * this.ring!.count), Math.ceil(cfg.maxRequests / cfg.connections)));
      } else {
        const first = c * perConn;
        const count = Math.max(0, Math.min(perConn, cfg.keys - first));
        if (count > 0) this.conns.push(new LoadConn(this, cfg.depth, first, count));
      }
    }

    // The timed window: opened after the warm-up, closed at its end or, if
    // every connection is done or failed before that, at that moment.
    let opened: Snapshot | null = cfg.mode === 'prefill' ? this.snapshot() : null;
    let closed: Snapshot | null = null;
    const close = () => { if (opened && !closed) closed = this.snapshot(); this.measuring = false; };
    let timers: NodeJS.Timeout[] = [];
    if (cfg.mode === 'run') {
      timers = [
        setTimeout(() => { opened = this.snapshot(); this.measuring = true; }, cfg.warmupMs),
        setTimeout(() => {
          close();
          // Stop sending and let the requests in flight come back, so no
          // connection closes with unread replies (a reset crashes some servers).
          this.stopping = true;
          for (const c of this.conns) if (c.inFlight === 0) this.settle(c);
        }, cfg.warmupMs + cfg.durationMs),
      ];
    }
    const timedOut = await done;
    clearTimeout(hardStop);
    for (const t of timers) clearTimeout(t);
    close();
    this.stopping = true;
    for (const c of this.conns) c.sock.end();
    return this.result(opened, closed, timedOut);
  }

  private snapshot(): Snapshot {
    return {
      time: performance.now(),
      cpu: process.cpuUsage(),
      server: serverCpuSeconds(this.cfg.serverPid, this.cfg.clkTck),
      cpus: cpuSeconds(this.cfg.clkTck),
      replies: this.replies,
      gets: this.gets,
      hits: this.hits,
    };
  }

  private result(a: Snapshot | null, b: Snapshot | null, timedOut: boolean): LoadResult {
    const seconds = a && b ? (b.time - a.time) / 1000 : 0;
    const ops = a && b ? b.replies - a.replies : 0;
    const gets = a && b ? b.gets - a.gets : 0;
    const h = this.histogram;
    const pct = (p: number) => (h.totalCount ? h.getValueAtPercentile(p) / 1000 : NaN);
    const perCpu = a && b && seconds > 0 && a.cpus.length === b.cpus.length;
    return {
      ops,
      seconds,
      ops_per_s: seconds > 0 ? ops / seconds : 0,
      p50_ms: pct(50),
      p99_ms: pct(99),
      p999_ms: pct(99.9),
      max_ms: h.totalCount ? h.maxValue / 1000 : NaN,
      generator_cpu: a && b && seconds > 0 ? (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e6 / seconds : 0,
      server_cpu_s: a && b && Number.isFinite(b.server - a.server) ? b.server - a.server : -1,
      hit_ratio: a && b && gets ? (b.hits - a.hits) / gets : NaN,
      bad_replies: this.badReplies,
      failed_connections: this.failedConnections,
      timed_out: timedOut,
      steal: perCpu ? Math.max(0, ...b.cpus.map((c, i) => (c.steal - a.cpus[i].steal) / seconds)) : 0,
      cpu_busy: perCpu ? b.cpus.map((c, i) => (c.busy - a.cpus[i].busy) / seconds) : [],
    };
  }
}

interface Snapshot {
  time: number;
  cpu: NodeJS.CpuUsage;
  server: number;
  cpus: { busy: number; steal: number }[];
  replies: number;
  gets: number;
  hits: number;
}

const cfg = JSON.parse(process.argv[2] ?? '') as LoadConfig;
const result = await new LoadGen(cfg).run();
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
