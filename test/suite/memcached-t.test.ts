// memcached's own Perl test files (test/memcached-t/, from memcached 1.6.18)
// run against both engine builds: every test a file plans must pass.
//
// The harness (t/lib/MemcachedTest.pm) takes the current directory as
// memcached's build directory and starts `$builddir/timedrun 600
// $builddir/memcached-debug ARGS`; each engine build gets a scratch directory
// whose memcached-debug starts dist/cli.js (so `npm run build` first). Each
// file runs in its own process group, which is killed once perl exits, so no
// server outlives its file. Needs perl with its core modules: skipped without
// it on a developer machine, a failure under CI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, IN_CI, haveTool } from '../support/servers.js';
import { ENGINES, type EngineKind } from '../support/engine.js';

const T_DIR = join(ROOT, 'test', 'memcached-t', 't');
/** Slowest first, so the last ones to start are short: the runner's
 *  protocol set (42 files) less 64bit.t, which skips itself on a 32-bit
 *  engine, and conn-limits.t, which counts memcached's per-thread response
 *  objects (test/memcached-t/README.md), plus slabs-reassign2, chunked-items
 *  and dyn-maxbytes from the rest of t/. */
const FILES = [
  'binary', 'item_size_max', 'idle-timeout', 'slabs-reassign2', 'flush-all', 'chunked-items', 'cas', 'getset', 'dyn-maxbytes',
  'issue_14', 'issue_163', 'malicious-commands', 'metaget', 'getandtouch', 'touch', 'issue_183', 'stats', 'maxconns', 'issue_192',
  'issue_41', 'unixsocket', 'udp', 'issue_68', 'issue_50', 'incrdecr', 'dash-M', 'quit', 'noreply', 'issue_61', 'issue_42',
  'issue_22', 'expirations', 'evictions', 'strtol-testing', 'issue_70', 'issue_3', 'issue_29', 'issue_152', 'issue_108',
  'issue_104', 'flags', 'bogus-commands', 'binary-get',
];
/** Flags a file needs: expirations.t moves the clock with `debugtime`,
 *  which memcached has only in its debug build (the harness's
 *  memcached-debug) and wasmcached with -o debug_time. */
const EXTRA_ARGS: Record<string, string> = { expirations: '-o debug_time' };
/** Files at once, one per core: a file is one server's CPU plus the
 *  harness sleeping or waiting for servers to start. */
const CONCURRENCY = 2;
/** Files that race the wall clock: flush-all.t sends `flush_all <time()+2>`
 *  and then a set it expects to survive, so a second's delay on a loaded
 *  machine (as memcached's own) flushes it. A failure there runs the file
 *  once more, and the second run must pass. dyn-maxbytes.t gives the slab
 *  automover six one-second sleeps to move emptied pages, and idle-timeout.t
 *  expects a kick within a few seconds: a loaded machine stretches both the
 *  same way. */
const WALL_CLOCK_BOUND = new Set(['flush-all', 'dyn-maxbytes', 'idle-timeout']);
const FILE_TIMEOUT_MS = 180_000;
/** Modules the harness and these files load. */
const PERL_MODULES = ['Test::More', 'FindBin', 'IO::Socket::INET', 'IO::Socket::UNIX', 'POSIX', 'Cwd', 'Data::Dumper'];

function perlReady(): boolean {
  if (!haveTool('perl')) return false;
  const r = spawnSync('perl', [...PERL_MODULES.map((m) => `-M${m}`), '-e', '1'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  if (IN_CI) throw new Error(`perl lacks modules the memcached tests need: ${r.stderr}`);
  return false;
}

interface Outcome {
  code: number | null;
  timedOut: boolean;
  planned: number;
  ran: number;
  notOk: number;
  /** stderr (the harness's diagnostics), then stdout (TAP) */
  log: string;
}

/** Top-level TAP counts (subtests are indented; these files have none). */
function parseTap(log: string): Pick<Outcome, 'planned' | 'ran' | 'notOk'> {
  let planned = 0;
  let ran = 0;
  let notOk = 0;
  for (const line of log.split('\n')) {
    const plan = /^1\.\.(\d+)/.exec(line);
    if (plan) planned = Number(plan[1]);
    else if (/^ok \d+/.test(line)) ran++;
    else if (/^not ok \d+/.test(line)) { ran++; notOk++; }
  }
  return { planned, ran, notOk };
}

/** A scratch build directory whose memcached-debug runs this checkout's server. */
function makeBuildDir(engine: EngineKind): string {
  const dir = mkdtempSync(join(tmpdir(), `wasmcached-mct-${engine}-`));
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(join(dir, 'memcached-debug'),
    // $MCT_ARGS: a file's EXTRA_ARGS, split into words on purpose.
    `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(ROOT, 'dist', 'cli.js'))} --engine ${engine} $MCT_ARGS "$@"\n`);
  // memcached's timedrun stops its command after N seconds; here the
  // runner's own timeout does, so it only drops N.
  writeFileSync(join(dir, 'timedrun'), '#!/bin/sh\nshift\nexec "$@"\n');
  chmodSync(join(dir, 'memcached-debug'), 0o755);
  chmodSync(join(dir, 'timedrun'), 0o755);
  return dir;
}

function runFile(buildDir: string, file: string): Promise<Outcome> {
  const env = { ...process.env };
  // Harness switches that would point it elsewhere (a running daemon, TLS, valgrind).
  for (const k of ['T_MEMD_USE_DAEMON', 'SSL_TEST', 'VALGRIND_TEST']) delete env[k];
  env.MCT_ARGS = EXTRA_ARGS[file] ?? '';
  // Output goes to files: TAP lines of half a megabyte came through a pipe
  // cut short, and the servers the file starts would hold a pipe open.
  const tapPath = join(buildDir, `${file}.tap`);
  const diagPath = join(buildDir, `${file}.err`);
  const tapFd = openSync(tapPath, 'w');
  const diagFd = openSync(diagPath, 'w');
  return new Promise((resolve) => {
    const proc = spawn('perl', [join(T_DIR, `${file}.t`)], { cwd: buildDir, env, detached: true, stdio: ['ignore', tapFd, diagFd] });
    closeSync(tapFd);
    closeSync(diagFd);
    let timedOut = false;
    const killGroup = () => { try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* group already gone */ } };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, FILE_TIMEOUT_MS);
    const finish = (code: number | null, extra: string) => {
      clearTimeout(timer);
      // No server of the file outlives it.
      killGroup();
      const tap = readFileSync(tapPath, 'latin1');
      resolve({ code, timedOut, log: `${readFileSync(diagPath, 'latin1')}${extra}\n${tap}`, ...parseTap(tap) });
    };
    proc.once('exit', (code) => finish(code, ''));
    proc.once('error', (err) => finish(null, err.message));
  });
}

/** Runs tasks, at most `limit` at once; one promise per task, in order. */
function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T>[] {
  const done = tasks.map(() => {
    let resolve!: (v: T) => void;
    const promise = new Promise<T>((r) => { resolve = r; });
    return { promise, resolve };
  });
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      done[i].resolve(await tasks[i]());
    }
  };
  for (let w = 0; w < limit; w++) void worker();
  return done.map((d) => d.promise);
}

/** The lines that explain a failure: failed tests, their diagnostics, perl's errors. */
function failureLines(log: string): string {
  return log.split('\n').filter((l) => !/^ok \d+/.test(l)).slice(0, 40).join('\n');
}

describe.skipIf(!perlReady())('memcached 1.6.18 test files', () => {
  const outcomes = new Map<string, Promise<Outcome>>();
  const dirs: string[] = [];

  beforeAll(() => {
    const tasks: Array<() => Promise<Outcome>> = [];
    const keys: string[] = [];
    for (const engine of ENGINES) dirs.push(makeBuildDir(engine));
    for (const file of FILES) {
      ENGINES.forEach((engine, e) => {
        keys.push(`${engine}/${file}`);
        tasks.push(() => runFile(dirs[e], file));
      });
    }
    pool(tasks, CONCURRENCY).forEach((p, i) => outcomes.set(keys[i], p));
  });

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  ENGINES.forEach((engine, e) => {
    for (const file of FILES) {
      it(`${file}.t passes on the ${engine} build`, async () => {
        let o = await outcomes.get(`${engine}/${file}`)!;
        if (WALL_CLOCK_BOUND.has(file) && (o.notOk > 0 || o.code !== 0)) {
          console.warn(`${file}.t (${engine}) failed once, run again (it races the wall clock):\n${failureLines(o.log)}`);
          o = await runFile(dirs[e], file);
        }
        const summary = `${file}.t (${engine}): exit ${o.code}${o.timedOut ? ', timed out' : ''}, ` +
          `planned ${o.planned}, ran ${o.ran}, failed ${o.notOk}\n${failureLines(o.log)}`;
        expect(o.timedOut, summary).toBe(false);
        expect(o.planned, summary).toBeGreaterThan(0);
        expect(o.ran, summary).toBe(o.planned);
        expect(o.notOk, summary).toBe(0);
        expect(o.code, summary).toBe(0);
      }, FILE_TIMEOUT_MS * (FILES.length + 1));
    }
  });
});
