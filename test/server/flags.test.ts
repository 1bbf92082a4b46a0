// Every flag and -o option of memcached 1.6.18 in one table: what wasmcached
// does with it — a setting it changes, a documented no-op, or a rejection —
// held against what Debian's memcached 1.6.18 does with the same command line
// (it starts, exits 0, or refuses it). The table is also checked against
// `memcached -h` itself: every flag and -o option listed there must have a
// row, and our -h must list every flag.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings, defaultSettings, usage, SettingsError, type Settings, type Command } from '../../src/settings.js';
import { haveTool, which } from '../support/servers.js';
import { memcachedVerdict, type Verdict } from '../support/memcached-verdict.js';

const DIR = mkdtempSync(join(tmpdir(), 'wasmcached-flags-'));
const AUTH_FILE = join(DIR, 'users');
writeFileSync(AUTH_FILE, 'user:secret\n');

type Outcome =
  /** Accepted, and these settings differ from the defaults (`notes` aside). */
  | { kind: 'effect'; settings: Partial<Settings>; action?: undefined }
  /** Accepted; the settings stay the defaults; `note`: what -vv (or, at 0, every run) prints. */
  | { kind: 'no-op'; note?: { verbosity: number; match: RegExp } }
  /** -h, -i, -V: prints and exits 0. */
  | { kind: 'action'; action: Command['action'] }
  /** Refused with this message (exit 2). */
  | { kind: 'rejected'; message: string };

interface Row {
  /** the flag as memcached's -h names it: "-p", "-o hashpower" */
  flag: string;
  argv: string[];
  outcome: Outcome;
  /** What memcached does with argv: by default, start for an accepted line, refuse for a rejected one. */
  memcached?: Verdict | 'not run';
  /** Why memcached is not run, or why its answer differs. */
  why?: string;
}

const effect = (settings: Partial<Settings>): Outcome => ({ kind: 'effect', settings });
const noop = (verbosity?: number, match?: RegExp): Outcome =>
  ({ kind: 'no-op', note: verbosity === undefined ? undefined : { verbosity, match: match! } });
const rejected = (message: string): Outcome => ({ kind: 'rejected', message });

const ROWS: Row[] = [
  // ---- flags, in memcached's -h order ----
  { flag: '-p', argv: ['-p', '-1'], outcome: effect({ port: -1 }) },
  { flag: '-p', argv: ['--port=11311'], outcome: effect({ port: 11311 }), memcached: 'not run', why: 'a fixed port' },
  { flag: '-p', argv: ['-p', '65536'], outcome: rejected('-p 65536: must be from -1 to 65535') },
  { flag: '-p', argv: ['-p', 'abc'], outcome: rejected('-p "abc": expected an integer'), memcached: 'started', why: 'memcached reads it with atoi, as 0' },
  { flag: '-U', argv: ['-U', '0'], outcome: noop() },
  { flag: '-s', argv: ['-s', join(DIR, 'mc.sock')], outcome: effect({ unixSocket: join(DIR, 'mc.sock') }), memcached: 'not run', why: 'no port file on a unix socket' },
  { flag: '-a', argv: ['-a', '0600'], outcome: effect({ unixMask: 0o600 }) },
  { flag: '-A', argv: ['--enable-shutdown'], outcome: effect({ enableShutdown: true }) },
  { flag: '-l', argv: ['-l', '127.0.0.1'], outcome: effect({ listenArg: '127.0.0.1', listeners: [{ host: '127.0.0.1', port: null, tls: true }] }) },
  { flag: '-l', argv: ['--listen=localhost'], outcome: effect({ listen: 'localhost', listenArg: 'localhost', listeners: [{ host: 'localhost', port: null, tls: true }] }) },
  { flag: '-l', argv: ['-l', '127.0.0.1,notls:127.0.0.1:-1'], outcome: effect({ listenArg: '127.0.0.1,notls:127.0.0.1:-1', listeners: [{ host: '127.0.0.1', port: null, tls: true }, { host: '127.0.0.1', port: -1, tls: false }] }),
    memcached: 'not run', why: 'memcached appends each -l to one list, so the harness\'s own -l 127.0.0.1 would be bound twice (tls.test.ts runs a list)' },
  { flag: '-d', argv: ['-d'], outcome: effect({ daemonize: true }), memcached: 'not run', why: 'it would leave a daemon (daemon.test.ts runs it)' },
  { flag: '-r', argv: ['--enable-coredumps'], outcome: noop(2, /^-r: core dumps/) },
  { flag: '-u', argv: ['-u', 'nobody'], outcome: noop() },
  { flag: '-m', argv: ['-m', '128'], outcome: effect({ memoryMB: 128 }) },
  { flag: '-m', argv: ['-m', '4098'], outcome: { kind: 'effect', settings: { memoryMB: 3072 } } },
  { flag: '-m', argv: ['-m', '0'], outcome: rejected('-m 0: memory limit must be at least 1 MB') },
  { flag: '-M', argv: ['--disable-evictions'], outcome: effect({ disableEvictions: true }) },
  { flag: '-c', argv: ['-c', '100'], outcome: effect({ connLimit: 100 }) },
  { flag: '-c', argv: ['-c', '0'], outcome: rejected('-c 0: maximum connections must be greater than 0') },
  { flag: '-k', argv: ['--lock-memory'], outcome: noop(2, /^-k: memory is not locked/) },
  { flag: '-v', argv: ['-vv'], outcome: effect({ verbosity: 2 }) },
  { flag: '-h', argv: ['--help'], outcome: { kind: 'action', action: 'help' }, memcached: 'exited 0' },
  { flag: '-i', argv: ['--license'], outcome: { kind: 'action', action: 'license' }, memcached: 'exited 0' },
  { flag: '-V', argv: ['--version'], outcome: { kind: 'action', action: 'version' }, memcached: 'exited 0' },
  { flag: '-P', argv: ['--pidfile', join(DIR, 'mc.pid')], outcome: effect({ pidFile: join(DIR, 'mc.pid') }) },
  { flag: '-f', argv: ['-f', '1.5'], outcome: effect({ growthFactor: 1.5 }) },
  { flag: '-f', argv: ['-f', '1'], outcome: rejected('-f 1: factor must be greater than 1 (at least 1.01)') },
  { flag: '-n', argv: ['--slab-min-size=64'], outcome: effect({ chunkMin: 64 }) },
  { flag: '-n', argv: ['-n', '0'], outcome: rejected('-n 0: chunk size must be greater than 0') },
  { flag: '-L', argv: ['--enable-largepages'], outcome: noop(2, /^-L: large memory pages/) },
  { flag: '-D', argv: ['-D', '#'], outcome: effect({ prefixDelimiter: '#' }) },
  { flag: '-D', argv: ['-D', ''], outcome: rejected('-D: no delimiter specified') },
  { flag: '-D', argv: ['-D', 'ab'], outcome: rejected('-D "ab": expected one character'), memcached: 'started', why: 'memcached takes the first character' },
  { flag: '-t', argv: ['--threads=8'], outcome: effect({ threads: 8 }) },
  { flag: '-t', argv: ['-t', '0'], outcome: rejected('-t 0: number of threads must be from 1 to 1024') },
  { flag: '-R', argv: ['-R', '5'], outcome: effect({ requestsPerEvent: 5 }) },
  { flag: '-R', argv: ['--max-reqs-per-event=0'], outcome: rejected('--max-reqs-per-event 0: number of requests per event must be greater than 0') },
  { flag: '-C', argv: ['--disable-cas'], outcome: effect({ disableCas: true }) },
  { flag: '-b', argv: ['--listen-backlog=512'], outcome: effect({ backlog: 512 }) },
  { flag: '-B', argv: ['-B', 'ascii'], outcome: effect({ protocol: 'ascii' }) },
  { flag: '-B', argv: ['--protocol=binary'], outcome: effect({ protocol: 'binary' }) },
  { flag: '-B', argv: ['-B', 'auto'], outcome: noop() },
  { flag: '-B', argv: ['-B', 'http'], outcome: rejected('-B "http": invalid value for binding protocol (should be one of auto, binary, or ascii)') },
  { flag: '-I', argv: ['-I', '2m'], outcome: effect({ itemSizeMax: 2 * 1024 * 1024 }) },
  { flag: '-I', argv: ['-I', '500'], outcome: rejected('-I 500: item max size cannot be less than 1024 bytes') },
  { flag: '-S', argv: ['--enable-sasl'], outcome: effect({ sasl: true, protocol: 'binary' }), memcached: 'not run', why: 'needs a SASL configuration' },
  { flag: '-S', argv: ['-S', '-B', 'ascii'], outcome: rejected('-S: you cannot allow the ASCII protocol while using SASL (use -B binary)') },
  { flag: '-F', argv: ['--disable-flush-all'], outcome: effect({ disableFlushAll: true }) },
  { flag: '-X', argv: ['--disable-dumping'], outcome: effect({ disableDumping: true }) },
  { flag: '-W', argv: ['--disable-watch'], outcome: effect({ disableWatch: true }) },
  { flag: '-Y', argv: ['--auth-file', AUTH_FILE], outcome: effect({ authFile: AUTH_FILE, protocol: 'ascii' }) },
  { flag: '-Y', argv: ['-Y', AUTH_FILE, '-B', 'binary'], outcome: rejected('-Y: you cannot allow the BINARY protocol while using ascii authentication tokens (use -B ascii)') },
  { flag: '-e', argv: ['--memory-file', join(DIR, 'mem')], outcome: effect({ snapshotFile: join(DIR, 'mem') }), memcached: 'not run', why: 'memcached maps a file of -m bytes' },
  // Certificates are read at start, not while parsing (tls.test.ts starts it; without them it exits 64, as memcached).
  { flag: '-Z', argv: ['--enable-ssl'], outcome: effect({ tls: true }), memcached: 'refused', why: 'no certificate given: both refuse to start (exit 64, tls.test.ts)' },
  // No effect on serving; stats settings shows it (num_napi_ids), as memcached's.
  { flag: '-N', argv: ['--napi-ids=2'], outcome: effect({ napiIds: '2' }) },
  { flag: '-N', argv: ['-N', '0'], outcome: rejected('-N 0: maximum number of NAPI IDs must be greater than 0') },
  { flag: '-o', argv: ['--extended=idle_timeout=5,no_lru_crawler', '-o', 'slab_automove=0'], outcome: effect({ idleTimeout: 5, lruCrawler: false, slabAutomove: 0 }) },
  { flag: '-o', argv: ['-o', 'bogus'], outcome: rejected('unknown -o option "bogus" (see wasmcached -h)') },
  // ---- -o options of memcached 1.6.18 ----
  { flag: '-o maxconns_fast', argv: ['-o', 'maxconns_fast'], outcome: noop() },
  { flag: '-o no_maxconns_fast', argv: ['-o', 'no_maxconns_fast'], outcome: noop(2, /no_maxconns_fast: no effect/) },
  { flag: '-o hashpower', argv: ['-o', 'hashpower=20'], outcome: effect({ hashpowerInit: 20 }) },
  { flag: '-o hashpower', argv: ['-o', 'hashpower=11'], outcome: rejected('-o hashpower 11: initial hashtable multiplier of 11 is too low') },
  { flag: '-o hashpower', argv: ['-o', 'hashpower=33'], outcome: rejected('-o hashpower 33: initial hashtable multiplier of 33 is too high (choose a value based on "STAT hash_power_level" from a running instance)') },
  { flag: '-o hashpower', argv: ['-o', 'hashpower'], outcome: rejected('-o hashpower needs a value (hashpower=<num>)') },
  { flag: '-o no_hashexpand', argv: ['-o', 'no_hashexpand'], outcome: noop(2, /no_hashexpand: no effect/) },
  { flag: '-o tail_repair_time', argv: ['-o', 'tail_repair_time=30'], outcome: noop(2, /tail_repair_time: no effect/) },
  { flag: '-o tail_repair_time', argv: ['-o', 'tail_repair_time=5'], outcome: rejected('-o tail_repair_time 5: cannot set tail_repair_time to less than 10 seconds') },
  { flag: '-o hash_algorithm', argv: ['-o', 'hash_algorithm=xxh3'], outcome: noop(2, /hash_algorithm: no effect/) },
  { flag: '-o hash_algorithm', argv: ['-o', 'hash_algorithm=md5'], outcome: rejected('-o hash_algorithm "md5": unknown hash_algorithm option (jenkins, murmur3, xxh3)') },
  { flag: '-o lru_crawler', argv: ['-o', 'lru_crawler'], outcome: noop() },
  { flag: '-o no_lru_crawler', argv: ['-o', 'no_lru_crawler'], outcome: effect({ lruCrawler: false }) },
  { flag: '-o lru_crawler_sleep', argv: ['-o', 'lru_crawler_sleep=50'], outcome: noop(2, /lru_crawler_sleep: no effect/) },
  { flag: '-o lru_crawler_sleep', argv: ['-o', 'lru_crawler_sleep=2000000'], outcome: rejected('-o lru_crawler_sleep 2000000: LRU crawler sleep must be between 0 and 1 second') },
  { flag: '-o lru_crawler_tocrawl', argv: ['-o', 'lru_crawler_tocrawl=5'], outcome: noop(2, /lru_crawler_tocrawl: no effect/) },
  { flag: '-o lru_crawler_tocrawl', argv: ['-o', 'lru_crawler_tocrawl=abc'], outcome: rejected('-o lru_crawler_tocrawl "abc": lru_crawler_tocrawl takes a numeric 32bit value') },
  { flag: '-o read_buf_mem_limit', argv: ['-o', 'read_buf_mem_limit=10'], outcome: noop(2, /read_buf_mem_limit: no effect/) },
  { flag: '-o read_buf_mem_limit', argv: ['-o', 'read_buf_mem_limit=abc'], outcome: rejected('-o read_buf_mem_limit "abc": could not parse argument to read_buf_mem_limit') },
  { flag: '-o lru_maintainer', argv: ['-o', 'lru_maintainer'], outcome: noop() },
  { flag: '-o no_lru_maintainer', argv: ['-o', 'no_lru_maintainer'], outcome: effect({ lruMaintainer: false }) },
  { flag: '-o hot_lru_pct', argv: ['-o', 'hot_lru_pct=10'], outcome: noop(2, /hot_lru_pct: no effect/) },
  { flag: '-o hot_lru_pct', argv: ['-o', 'hot_lru_pct=90'], outcome: rejected('-o hot_lru_pct 90: hot_lru_pct must be > 1 and < 80') },
  { flag: '-o warm_lru_pct', argv: ['-o', 'warm_lru_pct=30'], outcome: noop(2, /warm_lru_pct: no effect/) },
  { flag: '-o warm_lru_pct', argv: ['-o', 'hot_lru_pct=50,warm_lru_pct=50'], outcome: rejected('hot_lru_pct + warm_lru_pct cannot be more than 80% combined') },
  { flag: '-o hot_max_factor', argv: ['-o', 'hot_max_factor=0.5'], outcome: noop(2, /hot_max_factor: no effect/) },
  { flag: '-o hot_max_factor', argv: ['-o', 'hot_max_factor=0'], outcome: rejected('-o hot_max_factor 0: hot_max_factor must be > 0') },
  { flag: '-o warm_max_factor', argv: ['-o', 'warm_max_factor=1.5'], outcome: noop(2, /warm_max_factor: no effect/) },
  { flag: '-o warm_max_factor', argv: ['-o', 'warm_max_factor=-1'], outcome: rejected('-o warm_max_factor -1: warm_max_factor must be > 0') },
  { flag: '-o temporary_ttl', argv: ['-o', 'temporary_ttl=30'], outcome: noop(2, /temporary_ttl: no effect/) },
  { flag: '-o idle_timeout', argv: ['-o', 'idle_timeout=5'], outcome: effect({ idleTimeout: 5 }) },
  { flag: '-o slab_chunk_max', argv: ['-o', 'slab_chunk_max=524288'], outcome: noop() },
  { flag: '-o slab_chunk_max', argv: ['-o', 'slab_chunk_max=2000'], outcome: rejected('-I (item_size_max: 1048576) must be evenly divisible by slab_chunk_max (bytes: 2000)') },
  { flag: '-o watcher_logbuf_size', argv: ['-o', 'watcher_logbuf_size=128'], outcome: noop(2, /watcher_logbuf_size: no effect/) },
  { flag: '-o watcher_logbuf_size', argv: ['-o', 'watcher_logbuf_size=abc'], outcome: rejected('-o watcher_logbuf_size "abc": could not parse argument to watcher_logbuf_size') },
  { flag: '-o worker_logbuf_size', argv: ['-o', 'worker_logbuf_size=64'], outcome: noop(2, /worker_logbuf_size: no effect/) },
  { flag: '-o worker_logbuf_size', argv: ['-o', 'worker_logbuf_size=32'], outcome: noop(2, /worker_logbuf_size: no effect/), memcached: 'refused', why: 'memcached 1.6.18 also reads the value as slab_sizes (a missing break), and 32 is too small a slab' },
  { flag: '-o track_sizes', argv: ['-o', 'track_sizes'], outcome: noop(2, /track_sizes: no effect/) },
  { flag: '-o modern', argv: ['-o', 'modern'], outcome: noop() },
  { flag: '-o no_modern', argv: ['-o', 'no_modern'], outcome: effect({ lruFlat: true, lruCrawler: false, lruMaintainer: false, slabAutomove: 0 }) },
  { flag: '-o sock_cookie_id', argv: ['-o', 'sock_cookie_id=1'], outcome: noop(2, /sock_cookie_id: no effect/) },
  { flag: '-o ext_path', argv: ['-o', `ext_path=${join(DIR, 'ext')}:64m`], outcome: noop(0, /ext_path: wasmcached has no external storage/), memcached: 'not run', why: 'memcached would write a 64 MB file' },
  { flag: '-o ext_path', argv: ['-o', 'ext_path=/x'], outcome: rejected('-o ext_path "/x": must supply size to ext_path, ie: ext_path=/f/e:64m (M|G|T|P supported)') },
  ...['ext_page_size=8', 'ext_wbuf_size=2', 'ext_threads=2', 'ext_io_depth=2', 'ext_item_size=100', 'ext_item_age=10',
    'ext_low_ttl=5', 'ext_recache_rate=100', 'ext_compact_under=2', 'ext_drop_under=2', 'ext_max_sleep=100', 'ext_drop_unread',
    'ext_max_frag=0.5', 'slab_automove_freeratio=0.02'].map((o): Row => ({
    flag: `-o ${o.split('=')[0]}`, argv: ['-o', o], outcome: noop(2, /no effect: wasmcached has no external storage/),
  })),
  { flag: '-o ext_page_size', argv: ['-o', 'ext_page_size=abc'], outcome: rejected('-o ext_page_size "abc": could not parse argument to ext_page_size') },
  // Without -Z memcached reads them and uses nothing; so do we (they are kept for `stats settings`).
  { flag: '-o ssl_chain_cert', argv: ['-o', 'ssl_chain_cert=/x.pem'], outcome: effect({ ssl: { ...defaultSettings().ssl, chainCert: '/x.pem' } }) },
  { flag: '-o ssl_key', argv: ['-o', 'ssl_key=/x.key'], outcome: effect({ ssl: { ...defaultSettings().ssl, key: '/x.key' } }) },
  { flag: '-o ssl_keyformat', argv: ['-o', 'ssl_keyformat=2'], outcome: effect({ ssl: { ...defaultSettings().ssl, keyFormat: 2 } }) },
  { flag: '-o ssl_verify_mode', argv: ['-o', 'ssl_verify_mode=1'], outcome: effect({ ssl: { ...defaultSettings().ssl, verifyMode: 1 } }) },
  { flag: '-o ssl_ciphers', argv: ['-o', 'ssl_ciphers=HIGH'], outcome: effect({ ssl: { ...defaultSettings().ssl, ciphers: 'HIGH' } }) },
  { flag: '-o ssl_ca_cert', argv: ['-o', 'ssl_ca_cert=/ca.pem'], outcome: effect({ ssl: { ...defaultSettings().ssl, caCert: '/ca.pem' } }) },
  { flag: '-o ssl_wbuf_size', argv: ['-o', 'ssl_wbuf_size=8'], outcome: effect({ ssl: { ...defaultSettings().ssl, wbufSize: 8 } }) },
  { flag: '-o ssl_session_cache', argv: ['-o', 'ssl_session_cache'], outcome: effect({ ssl: { ...defaultSettings().ssl, sessionCache: true } }) },
  { flag: '-o ssl_kernel_tls', argv: ['-o', 'ssl_kernel_tls'], outcome: effect({ ssl: { ...defaultSettings().ssl, kernelTls: true } }) },
  { flag: '-o ssl_min_version', argv: ['-o', 'ssl_min_version=3'], outcome: effect({ ssl: { ...defaultSettings().ssl, minVersion: 3 } }) },
  { flag: '-o ssl_verify_mode', argv: ['-o', 'ssl_verify_mode=7'], outcome: rejected('-o ssl_verify_mode "7": invalid ssl_verify_mode (valid values are 0, 1, 2 and 3)') },
  { flag: '-o ssl_min_version', argv: ['-o', 'ssl_min_version=9'], outcome: rejected('-o ssl_min_version "9": invalid ssl_min_version (valid values are 0, 1, 2 and 3)') },
  // In memcached 1.6.18, not in its -h.
  { flag: '-o slab_reassign', argv: ['-o', 'slab_reassign'], outcome: noop() },
  { flag: '-o no_slab_reassign', argv: ['-o', 'no_slab_reassign'], outcome: noop(2, /no_slab_reassign: no effect/) },
  { flag: '-o slab_automove', argv: ['-o', 'slab_automove=2'], outcome: effect({ slabAutomove: 2 }) },
  { flag: '-o slab_automove', argv: ['-o', 'slab_automove=3'], outcome: rejected('-o slab_automove 3: slab_automove must be between 0 and 2') },
  { flag: '-o no_slab_automove', argv: ['-o', 'no_slab_automove'], outcome: effect({ slabAutomove: 0 }) },
  { flag: '-o slab_automove_ratio', argv: ['-o', 'slab_automove_ratio=0.5'], outcome: noop(2, /slab_automove_ratio: no effect/) },
  { flag: '-o slab_automove_ratio', argv: ['-o', 'slab_automove_ratio=abc'], outcome: rejected('-o slab_automove_ratio "abc": expected a number such as 0.5') },
  { flag: '-o slab_automove_window', argv: ['-o', 'slab_automove_window=10'], outcome: effect({ slabAutomoveWindow: 10 }) },
  { flag: '-o slab_sizes', argv: ['-o', 'slab_sizes=100-200'], outcome: noop(2, /slab_sizes: no effect/) },
  { flag: '-o slab_sizes', argv: ['-o', 'slab_sizes=100-50'], outcome: rejected('-o slab_sizes "100-50": slab size 50 cannot be lower than or equal to a previous class size') },
  { flag: '-o no_chunked_items', argv: ['-o', 'no_chunked_items'], outcome: noop() },
  { flag: '-o inline_ascii_resp', argv: ['-o', 'inline_ascii_resp,no_inline_ascii_resp'], outcome: noop() },
  { flag: '-o resp_obj_mem_limit', argv: ['-o', 'resp_obj_mem_limit=10'], outcome: noop(2, /resp_obj_mem_limit: no effect/) },
  { flag: '-o drop_privileges', argv: ['-o', 'drop_privileges,no_drop_privileges'], outcome: noop() },
  { flag: '-o relaxed_privileges', argv: ['-o', 'relaxed_privileges'], outcome: noop(), memcached: 'refused', why: 'only memcached\'s debug builds (which its tests run) accept it' },
];

function parse(argv: string[]): { cmd?: Command; error?: string } {
  try {
    return { cmd: parseSettings(argv) };
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    return { error: err.message };
  }
}

const withoutNotes = (s: Settings): Omit<Settings, 'notes'> => {
  const { notes: _notes, ...rest } = s;
  return rest;
};

describe('every memcached 1.6.18 flag: what wasmcached does with it', () => {
  for (const row of ROWS) {
    it(`${row.flag}: ${JSON.stringify(row.argv)} → ${row.outcome.kind}`, () => {
      const { cmd, error } = parse(row.argv);
      const o = row.outcome;
      if (o.kind === 'rejected') {
        expect(error).toBe(o.message);
        return;
      }
      expect(error, `unexpectedly rejected`).toBeUndefined();
      if (o.kind === 'action') {
        expect(cmd!.action).toBe(o.action);
        return;
      }
      expect(cmd!.action).toBe('run');
      const s = (cmd as { settings: Settings }).settings;
      if (o.kind === 'effect') {
        expect(s).toMatchObject(o.settings);
        expect(withoutNotes(s)).not.toEqual(withoutNotes(defaultSettings()));
        expect(withoutNotes(s)).toEqual(withoutNotes({ ...defaultSettings(), ...o.settings }));
      } else {
        expect(withoutNotes(s)).toEqual(withoutNotes(defaultSettings()));
        if (o.note) {
          expect(s.notes.map((n) => n.verbosity)).toEqual([o.note.verbosity]);
          expect(s.notes[0].text).toMatch(o.note.match);
        } else {
          expect(s.notes).toEqual([]);
        }
      }
    });
  }

  it('-m above 3072 is lowered to 3072 with a note printed at every verbosity', () => {
    const s = (parseSettings(['-m', '4098']) as { settings: Settings }).settings;
    expect(s.memoryMB).toBe(3072);
    expect(s.notes).toEqual([{ verbosity: 0, text: expect.stringMatching(/^-m 4098: item memory is limited to 3072 MB, using that \(the engine is 32-bit WebAssembly: 4 GiB/) }]);
    // A later -m replaces the note with its own.
    expect((parseSettings(['-m', '9000', '-m', '64']) as { settings: Settings }).settings.notes).toEqual([]);
  });

  it('our -h lists every flag and every -o option of the table, extstore and system call filter options as groups', () => {
    const text = usage();
    for (const row of ROWS) {
      const name = row.flag.startsWith('-o ') ? row.flag.slice(3) : row.flag;
      if (/^ext_/.test(name)) expect(text).toMatch(/^ {3}- ext_<option>=<value> .*accepted, no effect/m);
      else if (/privileges$/.test(name)) expect(text).toMatch(/^ {3}- \(no_\)drop \/ relaxed privileges .*accepted, no effect/m);
      else if (row.flag.startsWith('-o ')) expect(text).toMatch(new RegExp(`^   - ${name}\\b`, 'm'));
      else expect(text).toMatch(new RegExp(`^${name}\\b`, 'm'));
    }
    // memcached's test harness reads -h to decide what to test: no extstore, no seccomp here.
    expect(text).not.toMatch(/ext_path|no_drop_privileges|proxy_config/);
  });
});

const referenceReady = haveTool('memcached');

describe.skipIf(!referenceReady)('the table against memcached 1.6.18 itself', () => {
  let help = '';
  beforeAll(() => {
    help = spawnSync(which('memcached')!, ['-h'], { encoding: 'utf8' }).stdout;
    expect(help).toMatch(/^memcached 1\.6\.18/);
  });
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));

  it('every flag in `memcached -h` has a row, and its long name is ours too', () => {
    const shorts = [...help.matchAll(/^-(\w)[, ]/gm)].map((m) => `-${m[1]}`);
    expect(shorts.length).toBeGreaterThan(35);
    for (const f of shorts) expect(ROWS.some((r) => r.flag === f), `no row for ${f}`).toBe(true);
    const longs = [...help.matchAll(/^-\w,? +--([\w-]+)/gm)].map((m) => m[1].replace(/_/g, '-'));
    expect(longs.length).toBeGreaterThan(30);
    for (const l of longs) {
      // Alone, a long option either acts or asks for its value; it is never unknown.
      const { error } = parse([`--${l}`]);
      expect(error ?? '', `--${l}`).not.toMatch(/^unknown option/);
    }
  });

  it('every -o option in `memcached -h` has a row', () => {
    const names = [...help.matchAll(/^ {3}- (\w+):/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(40);
    for (const n of names) expect(ROWS.some((r) => r.flag === `-o ${n}`), `no row for -o ${n}`).toBe(true);
  });

  for (const row of ROWS) {
    const expected: Verdict | 'not run' = row.memcached ?? (row.outcome.kind === 'rejected' ? 'refused' : 'started');
    if (expected === 'not run') continue;
    it(`memcached ${row.argv.join(' ')}: ${expected}${row.why ? ` (${row.why})` : ''}`, async () => {
      const { verdict, stderr } = await memcachedVerdict(row.argv);
      expect(verdict, stderr).toBe(expected);
    }, 20_000);
  }
});
