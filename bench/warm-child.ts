// One measurement of the warm section, in its own process: a fresh server (or
// two) on 127.0.0.1 with -p 0, filled with N items of 100 B values, then one
// of
//   snapshot <wasm|js>      `snapshot` while a probe client sends mn every
//                           5 ms, the blocking write at SIGTERM, and the time
//                           from spawn to `listening` with the file present
//                           (against the same without a file)
//   mc-restart              memcached -e <file>: SIGUSR1 to exit, and spawn
//                           to port file with the memory file present
//   warm-from <memcached|wasmcached>
//                           a new wasmcached --warm-from the filled one,
//                           polling its stats until warm_state leaves copying
//   miss-through <wasm|js>  a new wasmcached --warm-from a filled memcached,
//                           copying at 1 item/s: round trips of single gets
//                           of keys here, of keys read through from the old
//                           node, and of keys on neither, interleaved
// Every process is stopped by its PID and the temp directory is removed.
// Prints the figures as one JSON line.
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWasmcached, startMemcached, type ServerHandle } from '../test/support/servers.js';
import { startProbe, rssOf, type ProbeResult } from '../test/support/loadshapes.js';

export interface WarmPlan {
  /** Items for the snapshot and memcached-restart measurements. */
  items: number;
  /** Items on the old node for --warm-from. */
  warmItems: number;
  valueBytes: number;
  memoryMB: number;
  warmRate: number;
  /** Gets of each kind for miss-through. */
  missGets: number;
  /** Pause between memcached's exit and its restart. */
  mcRestartPauseMs: number;
  /** Bound for any one wait (fill, snapshot, load, warm), ms. */
  timeoutMs: number;
}

export interface SnapshotFigures {
  kind: 'snapshot';
  engine: string;
  items: number;
  fill_ms: number;
  rss_filled: number;
  /** `snapshot` sent to `OK` received, while serving. */
  background_ms: number;
  probe: ProbeResult;
  file_bytes: number;
  /** SIGTERM to exit (the blocking write at stop). */
  stop_ms: number;
  /** Spawn to `listening` with the file present. */
  load_ms: number;
  /** What the server itself logs for the load. */
  load_logged_ms: number | null;
  loaded_items: number;
  /** Spawn to `listening` with no file. */
  cold_start_ms: number;
}

export interface McRestartFigures {
  kind: 'mc-restart';
  items: number;
  fill_ms: number;
  measurable: boolean;
  why?: string;
  /** SIGUSR1 to exit. */
  stop_ms?: number;
  /** Spawn to port file written, with the memory file present. */
  restart_ms?: number;
  restored_items?: number;
  /** Spawn to port file, no memory file. */
  cold_start_ms?: number;
  memory_file_bytes?: number;
}

export interface WarmFromFigures {
  kind: 'warm-from';
  from: string;
  items: number;
  fill_ms: number;
  state: string;
  copied: number;
  skipped: number;
  errors: number;
  /** warm_elapsed from stats (whole seconds). */
  elapsed_s: number;
  /** Spawn of the new node to the first stats with warm_state not copying. */
  wall_ms: number;
  /** wall_ms less spawn to `listening`. */
  copy_ms: number;
  items_here: number;
}

/** Round trips of one kind of get, ms. */
export interface Latency { p50: number; p99: number; mean: number }

export interface MissThroughFigures {
  kind: 'miss-through';
  engine: string;
  gets: number;
  /** A key here. */
  here: Latency;
  /** A key only on the old node: read through it. */
  through: Latency;
  /** A key on neither: asked of the old node, a miss. */
  nowhere: Latency;
  /** The same round trip against the old memcached itself. */
  old_node: Latency;
  /** One multiget of 100 keys only on the old node, and of 100 here. */
  multiget_through_ms: number;
  multiget_here_ms: number;
  stats: Record<string, string>;
}

export type WarmFigures = SnapshotFigures | McRestartFigures | WarmFromFigures | MissThroughFigures;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** Sends `req` and resolves with everything read until `done` matches, bounded by `timeoutMs`. */
function request(s: Socket, req: string, done: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => { s.off('data', onData); reject(new Error(`no reply to ${req.trim().slice(0, 40)} within ${timeoutMs} ms`)); }, timeoutMs);
    const onData = (b: Buffer) => {
      got += b.toString('latin1');
      if (done.test(got)) { clearTimeout(timer); s.off('data', onData); resolve(got); }
    };
    s.on('data', onData);
    s.write(req);
  });
}

async function stats(port: number, timeoutMs: number): Promise<Record<string, string>> {
  const s = await open(port);
  try {
    const text = await request(s, 'stats\r\n', /END\r\n$/, timeoutMs);
    const o: Record<string, string> = {};
    for (const m of text.matchAll(/^STAT (\S+) (.*?)\r$/gm)) o[m[1]] = m[2];
    return o;
  } finally {
    s.destroy();
  }
}

/** `set key:<i> 0 0 <valueBytes> noreply` for every i, in batches that each end with mn/MN. */
async function fill(port: number, n: number, valueBytes: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const s = await open(port);
  const value = 'v'.repeat(valueBytes);
  const BATCH = 5000;
  try {
    for (let i = 0; i < n; i += BATCH) {
      let req = '';
      for (let j = i; j < Math.min(n, i + BATCH); j++) req += `set key:${j} 0 0 ${valueBytes} noreply\r\n${value}\r\n`;
      await request(s, req + 'mn\r\n', /MN\r\n$/, timeoutMs);
      if (performance.now() - started > timeoutMs) throw new Error(`fill of ${n} items took over ${timeoutMs} ms`);
    }
  } finally {
    s.destroy();
  }
  return performance.now() - started;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

async function snapshot(engine: string, p: WarmPlan, dir: string, running: ServerHandle[]): Promise<SnapshotFigures> {
  const file = join(dir, 'snap');
  const base = ['--engine', engine, '-m', String(p.memoryMB), '-e', file];
  const [cold, coldMs] = await timed(() => startWasmcached(base));
  running.push(cold);
  const fillMs = await fill(cold.port, p.items, p.valueBytes, p.timeoutMs);
  const rss = rssOf(cold.pid);
  const probe = await startProbe(cold.port, { intervalMs: 5 });
  await sleep(200);
  const s = await open(cold.port);
  const [reply, backgroundMs] = await timed(() => request(s, 'snapshot\r\n', /\r\n$/, p.timeoutMs));
  s.destroy();
  await sleep(200);
  const pr = await probe.stop();
  if (!reply.startsWith('OK')) throw new Error(`snapshot answered ${reply.trim()}`);
  const fileBytes = statSync(file).size;
  const [, stopMs] = await timed(() => cold.stop());
  running.splice(running.indexOf(cold), 1);
  const [warm, loadMs] = await timed(() => startWasmcached(base));
  running.push(warm);
  const m = /loaded (\d+) of \d+ items from .* in (\d+) ms/.exec(warm.output());
  const st = await stats(warm.port, p.timeoutMs);
  await warm.stop();
  running.splice(running.indexOf(warm), 1);
  return {
    kind: 'snapshot', engine, items: p.items, fill_ms: fillMs, rss_filled: rss, background_ms: backgroundMs, probe: pr,
    file_bytes: fileBytes, stop_ms: stopMs, load_ms: loadMs, load_logged_ms: m ? Number(m[2]) : null,
    loaded_items: Number(st.curr_items ?? (m ? m[1] : 0)), cold_start_ms: coldMs,
  };
}

async function mcRestart(p: WarmPlan, dir: string, running: ServerHandle[]): Promise<McRestartFigures> {
  const file = join(dir, 'memory_file');
  const args = ['-t', '1', '-m', String(p.memoryMB), '-e', file];
  const [mc, coldMs] = await timed(() => startMemcached(args));
  running.push(mc);
  const fillMs = await fill(mc.port, p.items, p.valueBytes, p.timeoutMs);
  const exited = new Promise<void>((res) => { if (mc.proc.exitCode !== null || mc.proc.signalCode !== null) res(); else mc.proc.once('exit', () => res()); });
  const t = performance.now();
  process.kill(mc.pid, 'SIGUSR1');
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), p.timeoutMs); })]);
  clearTimeout(timer);
  const stopMs = performance.now() - t;
  if (!gone) {
    await mc.stop();
    running.splice(running.indexOf(mc), 1);
    return { kind: 'mc-restart', items: p.items, fill_ms: fillMs, measurable: false, why: 'memcached did not exit on SIGUSR1' };
  }
  running.splice(running.indexOf(mc), 1);
  if (!existsSync(file + '.meta')) {
    return { kind: 'mc-restart', items: p.items, fill_ms: fillMs, measurable: false, why: `memcached wrote no ${'<file>'}.meta on SIGUSR1: ${mc.output().trim().slice(-200)}` };
  }
  const bytes = statSync(file).size;
  // memcached refuses its memory file (`restart incompatible due to setting
  // for [stop_time]`) when started again within moments of stopping; a pause
  // lets the restart be measured at all.
  await sleep(p.mcRestartPauseMs);
  const [again, restartMs] = await timed(() => startMemcached(args));
  running.push(again);
  const st = await stats(again.port, p.timeoutMs);
  await again.stop();
  running.splice(running.indexOf(again), 1);
  const restored = Number(st.curr_items ?? 0);
  return {
    kind: 'mc-restart', items: p.items, fill_ms: fillMs, measurable: restored > 0,
    why: restored > 0 ? undefined : `memcached restarted with the memory file but holds no items: ${again.output().trim().slice(-200)}`,
    stop_ms: stopMs, restart_ms: restartMs, restored_items: restored, cold_start_ms: coldMs, memory_file_bytes: bytes,
  };
}

async function warmFrom(from: string, p: WarmPlan, running: ServerHandle[]): Promise<WarmFromFigures> {
  const old = from === 'memcached'
    ? await startMemcached(['-t', '1', '-m', String(p.memoryMB)])
    : await startWasmcached(['-m', String(p.memoryMB)]);
  running.push(old);
  const fillMs = await fill(old.port, p.warmItems, p.valueBytes, p.timeoutMs);
  const t = performance.now();
  const [fresh, startMs] = await timed(() => startWasmcached(['-m', String(p.memoryMB), '--warm-from', `127.0.0.1:${old.port}`, '-o', `warm_rate=${p.warmRate}`]));
  running.push(fresh);
  let st: Record<string, string> = {};
  for (;;) {
    st = await stats(fresh.port, p.timeoutMs);
    if (st.warm_state !== 'copying') break;
    if (performance.now() - t > p.timeoutMs) throw new Error(`still copying after ${p.timeoutMs} ms: ${st.warm_keys_copied} copied`);
    await sleep(25);
  }
  const wallMs = performance.now() - t;
  return {
    kind: 'warm-from', from, items: p.warmItems, fill_ms: fillMs, state: st.warm_state ?? '(none)',
    copied: Number(st.warm_keys_copied ?? 0), skipped: Number(st.warm_keys_skipped ?? 0), errors: Number(st.warm_errors ?? 0),
    elapsed_s: Number(st.warm_elapsed ?? 0), wall_ms: wallMs, copy_ms: wallMs - startMs, items_here: Number(st.curr_items ?? 0),
  };
}

function latency(ms: number[]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
  return { p50: at(0.5), p99: at(0.99), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

async function missThrough(engine: string, p: WarmPlan, running: ServerHandle[]): Promise<MissThroughFigures> {
  const n = p.missGets;
  const old = await startMemcached(['-t', '1', '-m', String(p.memoryMB)]);
  running.push(old);
  // key:0 .. key:<n+100> on the old node only.
  await fill(old.port, n + 100, p.valueBytes, p.timeoutMs);
  const fresh = await startWasmcached(['--engine', engine, '-m', String(p.memoryMB), '--warm-from', `127.0.0.1:${old.port}`, '-o', 'warm_rate=1']);
  running.push(fresh);
  const value = 'v'.repeat(p.valueBytes);
  const s = await open(fresh.port);
  const o = await open(old.port);
  try {
    let req = '';
    for (let i = 0; i < n + 100; i++) req += `set here:${i} 0 0 ${p.valueBytes} noreply\r\n${value}\r\n`;
    await request(s, req + 'mn\r\n', /MN\r\n$/, p.timeoutMs);
    const here: number[] = [];
    const through: number[] = [];
    const nowhere: number[] = [];
    const oldNode: number[] = [];
    const get = async (sock: Socket, key: string, into: number[]) => {
      const t = performance.now();
      await request(sock, `get ${key}\r\n`, /END\r\n$/, p.timeoutMs);
      into.push(performance.now() - t);
    };
    // Interleaved, so that the machine's load falls on every kind alike; the
    // bulk copy (1 item/s, from key:0 on) reaches a few of the first keys.
    for (let i = 0; i < n; i++) {
      await get(s, `here:${i}`, here);
      await get(s, `key:${n - 1 - i}`, through);
      await get(s, `nowhere:${i}`, nowhere);
      await get(o, `key:${i}`, oldNode);
    }
    const keys = (prefix: string) => Array.from({ length: 100 }, (_, i) => `${prefix}:${n + i}`).join(' ');
    const [, mThrough] = await timed(() => request(s, `get ${keys('key')}\r\n`, /END\r\n$/, p.timeoutMs));
    const [, mHere] = await timed(() => request(s, `get ${keys('here')}\r\n`, /END\r\n$/, p.timeoutMs));
    const st = await stats(fresh.port, p.timeoutMs);
    const keep = Object.fromEntries(Object.entries(st).filter(([k]) => k.startsWith('warm_')));
    return {
      kind: 'miss-through', engine, gets: n, here: latency(here), through: latency(through), nowhere: latency(nowhere),
      old_node: latency(oldNode), multiget_through_ms: mThrough, multiget_here_ms: mHere, stats: keep,
    };
  } finally {
    s.destroy();
    o.destroy();
  }
}

async function main(): Promise<void> {
  const [job, arg, planJson] = process.argv.slice(2);
  const plan = JSON.parse(planJson) as WarmPlan;
  const dir = mkdtempSync(join(tmpdir(), 'wasmcached-warm-bench-'));
  const running: ServerHandle[] = [];
  try {
    let f: WarmFigures;
    if (job === 'snapshot') f = await snapshot(arg, plan, dir, running);
    else if (job === 'mc-restart') f = await mcRestart(plan, dir, running);
    else if (job === 'warm-from') f = await warmFrom(arg, plan, running);
    else if (job === 'miss-through') f = await missThrough(arg, plan, running);
    else throw new Error(`unknown job ${job}`);
    process.stdout.write(JSON.stringify(f) + '\n');
  } finally {
    for (const h of running.splice(0)) await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
