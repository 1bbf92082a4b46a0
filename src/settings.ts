// Command-line settings: memcached 1.6.18's flags, parsed getopt-style
// (`-p 0`, `-p0`, `--port 0`, `--port=0`, clusters such as `-vvMC`). Parsing is
// a pure function of argv so every flag and every rejection is unit-tested
// without starting a server. The option table below is the single list: the
// parser and the -h text are both derived from it; the -o options have their
// own table in settings-extended.ts.
//
// Every flag of memcached 1.6.18 is accepted. Each either has its meaning
// here, or is a documented no-op (its -h line says so, and -vv logs a line at
// start for those a user might count on). A flag or value memcached rejects is
// rejected too; so are malformed numbers memcached would read as 0.
import {
  OPT_NO_EVICTIONS, OPT_NO_CAS, OPT_SHUTDOWN, OPT_NO_FLUSH, OPT_NO_DUMP, OPT_DEBUG_TIME, OPT_SASL, OPT_AUTH_FILE,
  OPT_NO_WATCH, AUTOMOVE_WINDOW_DEFAULT,
} from '../assembly/abi.js';
import type { StoreOptions } from './engine/types.js';
import {
  SettingsError, quote, parseInteger, parseSize, parseFactor, formatSize, MAX_ITEM_SIZE,
} from './settings-values.js';
import { applyExtended, checkExtended, extendedUsage, defaultSslSettings, type SslSettings } from './settings-extended.js';
import { defaultThreads } from './threads.js';
import pkg from '../package.json' with { type: 'json' };

export { SettingsError, MIN_ITEM_SIZE, MAX_ITEM_SIZE, MAX_GROWTH_FACTOR } from './settings-values.js';

/** The memcached release whose text protocol we follow (`version` answers it). */
export const PROTOCOL_VERSION = '1.6.18';
export const VERSION_LINE = `wasmcached ${pkg.version} (memcached ${PROTOCOL_VERSION} protocols)`;

/** A 32-bit WebAssembly memory is 4 GiB in all; the rest holds the hash table and buffers. */
export const MAX_MEMORY_MB = 3072;

/** A line cli.ts prints at start when the verbosity is at least `verbosity`
 *  (0: always): an accepted flag that has no effect here, or a value changed. */
export interface StartupNote {
  verbosity: number;
  text: string;
}

export type Protocol = 'auto' | 'ascii' | 'binary';

/** One address of a -l list: `[notls:]host[:port]`. */
export interface ListenEntry {
  host: string;
  /** null: -p */
  port: number | null;
  /** false: `notls:`, plain TCP even with -Z */
  tls: boolean;
}

export interface Settings {
  /** -p; 0 or -1 (memcached's "any free port"): a port the OS picks */
  port: number;
  /** -l: the first address (UDP's too) */
  listen: string;
  /** -l as a list; empty when -l was not given (`listen` on -p) */
  listeners: ListenEntry[];
  /** -l as given, for `stats settings` (memcached's `inter`); null when not given */
  listenArg: string | null;
  /** -N as given (no effect; `stats settings` shows it) */
  napiIds: string | null;
  /** -s: listen on this unix socket instead of TCP */
  unixSocket: string | null;
  unixMask: number;
  memoryMB: number;
  connLimit: number;
  itemSizeMax: number;
  growthFactor: number;
  chunkMin: number;
  disableEvictions: boolean;
  disableCas: boolean;
  enableShutdown: boolean;
  disableFlushAll: boolean;
  /** -X: no key dumps (`stats cachedump`, `lru_crawler metadump|mgdump`) */
  disableDumping: boolean;
  /** -W: no `watch` */
  disableWatch: boolean;
  verbosity: number;
  /** Reported in stats only: one event loop serves every connection. */
  threads: number;
  /** -b: the listen backlog */
  backlog: number;
  /** -R: most commands one connection completes per event before the
   *  others get a turn (stats conn_yields counts the turns given up) */
  requestsPerEvent: number;
  /** -B, or implied by -S (binary) and -Y (ascii) as in memcached */
  protocol: Protocol;
  /** -D: the delimiter of key prefixes in `stats detail`; null: not given (':') */
  prefixDelimiter: string | null;
  /** -d: run in the background (the parent exits once the server listens) */
  daemonize: boolean;
  /** -P: the server's pid is written here (and removed at a clean stop with -d) */
  pidFile: string | null;
  /** -o hashpower: reported by `stats settings` (the table starts at 2^16 buckets and grows) */
  hashpowerInit: number;
  /** -o lru_crawler / no_lru_crawler: the background expiry crawler */
  lruCrawler: boolean;
  /** -o lru_maintainer / no_lru_maintainer: only what `stats` lists changes */
  lruMaintainer: boolean;
  /** -o no_modern: memcached's flat LRU, whose allocations first reclaim a
   *  dead item at the LRU tail (also `lru mode flat`) */
  lruFlat: boolean;
  /** -o idle_timeout, seconds; 0 = never */
  idleTimeout: number;
  /** -o debug_time: enables the `debugtime <secs>` command */
  debugTime: boolean;
  /** -o slab_automove=<0-2>: how freely slab pages move between classes */
  slabAutomove: number;
  /** -o slab_automove_window=<secs>: quiet seconds before a class returns free pages */
  slabAutomoveWindow: number;
  /** -S: binary protocol only, SASL PLAIN against the MEMCACHED_SASL_PWDB file */
  sasl: boolean;
  /** -Y: text protocol only, authenticated by a `set` of "user pass" */
  authFile: string | null;
  /** -Z: TLS on the TCP port (src/tls.ts); UDP and unix sockets stay plain */
  tls: boolean;
  /** -o ssl_*: the certificates and options of -Z */
  ssl: SslSettings;
  engine: 'wasm' | 'js';
  /** --host: what serves TCP and unix sockets: libuv's stream handles
   *  directly (node), node:net's Socket (node-net), or Bun.listen (bun) */
  host: 'node' | 'node-net' | 'bun';
  /** -e: the snapshot file written on stop and loaded at start (warm restarts) */
  snapshotFile: string | null;
  /** -o snapshot_interval=<secs>: background snapshots while serving; 0 = off */
  snapshotInterval: number;
  /** --warm-from HOST:PORT: copy the items of this (old) node in the background */
  warmFrom: { host: string; port: number } | null;
  /** -o warm_rate=<items/s>: most items copied per second while warming */
  warmRate: number;
  /** -o metrics_port=<port>: serve Prometheus metrics at /metrics (0 = any free port); null = off */
  metricsPort: number | null;
  /** -o metrics_listen=<addr>: the metrics port's interface */
  metricsListen: string;
  /** -U: UDP port on the -l address; 0 = off (the default), -1 = any free port */
  udpPort: number;
  /** Printed at start (see StartupNote). */
  notes: StartupNote[];
}

export type Command =
  | { action: 'run'; settings: Settings }
  | { action: 'help' }
  | { action: 'license' }
  | { action: 'version' };

export function defaultSettings(): Settings {
  return {
    port: 11211,
    // Safer than memcached's all-interfaces default.
    listen: '127.0.0.1',
    listeners: [],
    listenArg: null,
    napiIds: null,
    unixSocket: null,
    unixMask: 0o700,
    memoryMB: 64,
    connLimit: 1024,
    itemSizeMax: 1024 * 1024,
    growthFactor: 1.25,
    chunkMin: 48,
    disableEvictions: false,
    disableCas: false,
    enableShutdown: false,
    disableFlushAll: false,
    disableDumping: false,
    disableWatch: false,
    verbosity: 0,
    threads: defaultThreads(),
    backlog: 1024,
    requestsPerEvent: 20,
    protocol: 'auto',
    prefixDelimiter: null,
    daemonize: false,
    pidFile: null,
    hashpowerInit: 0,
    lruCrawler: true,
    lruMaintainer: true,
    lruFlat: false,
    idleTimeout: 0,
    debugTime: false,
    slabAutomove: 1,
    slabAutomoveWindow: AUTOMOVE_WINDOW_DEFAULT,
    sasl: false,
    authFile: null,
    tls: false,
    ssl: defaultSslSettings(),
    engine: 'wasm',
    host: typeof process.versions.bun === 'string' ? 'bun' : 'node',
    snapshotFile: null,
    snapshotInterval: 0,
    warmFrom: null,
    warmRate: 20000,
    metricsPort: null,
    metricsListen: '127.0.0.1',
    udpPort: 0,
    notes: [],
  };
}

interface OptionSpec {
  short?: string;
  /** memcached's -D has no long name */
  long?: string;
  /** name of the value in -h, or undefined for a switch */
  arg?: string;
  help: string;
  /** applies the option; `flag` is how the user spelled it, for messages */
  apply(s: Settings, value: string, flag: string): Command | void;
}

/** Where the flags that change nothing here say so at -vv. */
const NO_EFFECT = 2;

function requirePath(v: string, flag: string): string {
  if (v === '') throw new SettingsError(`${flag} needs a path`);
  return v;
}

// The flags that wasmcached had before every memcached flag was accepted come first, in their
// old order; those added for memcached 1.6.18 follow.
const OPTIONS: OptionSpec[] = [
  { short: 'p', long: 'port', arg: 'num', help: 'TCP port to listen on (default: 11211; 0 or -1: a free port the OS picks)',
    apply(s, v, f) { s.port = parseInteger(v, f, -1, 65535); portGiven.add(s); } },
  { short: 'l', long: 'listen', arg: 'addr', help: 'interface to listen on (default: 127.0.0.1); a list: addr1,addr2:port; with -Z, notls:<addr>:<port> listens in plain TCP',
    apply(s, v, f) {
      s.listeners = parseListen(v, f);
      s.listen = s.listeners[0].host;
      s.listenArg = v;
    } },
  { short: 's', long: 'unix-socket', arg: 'file', help: 'unix socket path to listen on (disables TCP)',
    apply(s, v, f) { s.unixSocket = requirePath(v, f); } },
  { short: 'a', long: 'unix-mask', arg: 'mask', help: 'access mask for the unix socket, in octal (default: 0700)',
    apply(s, v, f) {
      if (!/^[0-7]{1,4}$/.test(v) || parseInt(v, 8) > 0o777) throw new SettingsError(`${f} ${quote(v)}: expected an octal mode such as 0700`);
      s.unixMask = parseInt(v, 8);
    } },
  { short: 'm', long: 'memory-limit', arg: 'num', help: `item memory in megabytes (default: 64; at most ${MAX_MEMORY_MB}, larger values are lowered to it)`,
    apply(s, v, f) {
      const mb = parseInteger(v, f, 1, Number.MAX_SAFE_INTEGER, 'memory limit must be at least 1 MB');
      s.memoryMB = Math.min(mb, MAX_MEMORY_MB);
      // Replace the note of an earlier -m.
      s.notes = s.notes.filter((n) => !n.text.startsWith('-m '));
      if (mb > MAX_MEMORY_MB) {
        s.notes.push({ verbosity: 0, text: `-m ${mb}: item memory is limited to ${MAX_MEMORY_MB} MB, using that ` +
          '(the engine is 32-bit WebAssembly: 4 GiB of memory in all, which also holds the hash table and I/O buffers)' });
      }
    } },
  { short: 'c', long: 'conn-limit', arg: 'num', help: 'max simultaneous connections (default: 1024)',
    apply(s, v, f) { s.connLimit = parseInteger(v, f, 1, 1_000_000, 'maximum connections must be greater than 0'); } },
  { short: 'I', long: 'max-item-size', arg: 'size', help: 'max item size, k/m suffix allowed (default: 1m, min: 1k, max: 1024m)',
    apply(s, v, f) { s.itemSizeMax = parseSize(v, f); } },
  { short: 'f', long: 'slab-growth-factor', arg: 'factor', help: 'chunk size growth factor (default: 1.25)',
    apply(s, v, f) { s.growthFactor = parseFactor(v, f); } },
  { short: 'n', long: 'slab-min-size', arg: 'bytes', help: 'min space for key+value+flags (default: 48)',
    apply(s, v, f) { s.chunkMin = parseInteger(v, f, 1, MAX_ITEM_SIZE, 'chunk size must be greater than 0'); } },
  { short: 'M', long: 'disable-evictions', help: 'return an error on memory exhausted instead of evicting',
    apply(s) { s.disableEvictions = true; } },
  { short: 'C', long: 'disable-cas', help: 'disable use of CAS',
    apply(s) { s.disableCas = true; } },
  { short: 'A', long: 'enable-shutdown', help: 'enable the ascii "shutdown" command',
    apply(s) { s.enableShutdown = true; } },
  { short: 'F', long: 'disable-flush-all', help: 'disable the flush_all command',
    apply(s) { s.disableFlushAll = true; } },
  { short: 'X', long: 'disable-dumping', help: 'disable stats cachedump, lru_crawler metadump and mgdump',
    apply(s) { s.disableDumping = true; } },
  { short: 'W', long: 'disable-watch', help: 'disable watch commands (live logging)',
    apply(s) { s.disableWatch = true; } },
  { short: 'v', long: 'verbose', help: 'verbose: errors and warnings (-vv: also connections, -vvv: more)',
    apply(s) { s.verbosity++; } },
  { short: 'U', long: 'udp-port', arg: 'num', help: 'UDP port to listen on (default: 0, off; -1 = any free port)',
    apply(s, v, f) { s.udpPort = parseInteger(v, f, -1, 65535, 'UDP port must be from 1 to 65535, 0 (off) or -1 (any free port)'); } },
  { short: 't', long: 'threads', arg: 'num', help: 'threads, each with its own event loop, sharing one cache (default: the cores, at most 4; -t 1: one event loop)',
    apply(s, v, f) { s.threads = parseInteger(v, f, 1, 1024, 'number of threads must be from 1 to 1024'); threadsGiven.add(s); } },
  { short: 'u', long: 'user', arg: 'user', help: 'accepted, no effect: wasmcached never switches users (start it as the user it should run as)',
    apply() { /* memcached start scripts pass it; memcached needs it as root */ } },
  { short: 'S', long: 'enable-sasl', help: 'require SASL PLAIN (binary protocol only); users from the file named by $MEMCACHED_SASL_PWDB',
    apply(s) { s.sasl = true; } },
  { short: 'Y', long: 'auth-file', arg: 'file', help: 'require text-protocol authentication against "user:password" lines of this file',
    apply(s, v, f) { s.authFile = requirePath(v, f); } },
  { short: 'e', long: 'memory-file', arg: 'file', help: 'snapshot file: written on stop (SIGTERM, SIGINT, SIGUSR1, shutdown), loaded at start',
    apply(s, v, f) { s.snapshotFile = requirePath(v, f); } },
  { short: 'd', long: 'daemon', help: 'run as a daemon: the command exits 0 once the server in the background listens',
    apply(s) { s.daemonize = true; } },
  { short: 'P', long: 'pidfile', arg: 'file', help: 'write the server\'s pid to <file> (removed at a clean stop when run with -d)',
    apply(s, v, f) { s.pidFile = requirePath(v, f); } },
  { short: 'b', long: 'listen-backlog', arg: 'num', help: 'the backlog queue limit of the listening socket (default: 1024)',
    apply(s, v, f) { s.backlog = parseInteger(v, f, 0, 2_147_483_647); } },
  { short: 'R', long: 'max-reqs-per-event', arg: 'num', help: 'most requests one connection has served before the others get a turn (default: 20)',
    apply(s, v, f) { s.requestsPerEvent = parseInteger(v, f, 1, 2_147_483_647, 'number of requests per event must be greater than 0'); } },
  { short: 'B', long: 'protocol', arg: 'name', help: 'protocol: ascii, binary, or auto (default: auto, decided by each connection\'s first byte)',
    apply(s, v, f) {
      if (v !== 'auto' && v !== 'ascii' && v !== 'binary') {
        throw new SettingsError(`${f} ${quote(v)}: invalid value for binding protocol (should be one of auto, binary, or ascii)`);
      }
      s.protocol = v;
      protocolGiven.add(s);
    } },
  { short: 'D', arg: 'char', help: 'the delimiter between key prefixes and ids in `stats detail` (default: ":")',
    apply(s, v, f) {
      if (v.length !== 1) throw new SettingsError(v === '' ? `${f}: no delimiter specified` : `${f} ${quote(v)}: expected one character`);
      s.prefixDelimiter = v;
    } },
  { short: 'W', long: 'disable-watch', help: 'disable watch commands (accepted; wasmcached serves no watch command yet)',
    apply(s) { s.disableWatch = true; } },
  { short: 'Z', long: 'enable-ssl', help: 'serve TLS on the TCP port (certificates: -o ssl_chain_cert,ssl_key; UDP and -s stay plain)',
    apply(s) { s.tls = true; } },
  { short: 'r', long: 'enable-coredumps', help: 'accepted, no effect: the core size limit is the shell\'s (ulimit -c)',
    apply(s) { s.notes.push({ verbosity: NO_EFFECT, text: '-r: core dumps keep the limit the shell set (ulimit -c); wasmcached does not raise it' }); } },
  { short: 'k', long: 'lock-memory', help: 'accepted, no effect: memory is not locked (Node.js cannot call mlockall)',
    apply(s) { s.notes.push({ verbosity: NO_EFFECT, text: '-k: memory is not locked into RAM (Node.js cannot call mlockall); it may be swapped out' }); } },
  { short: 'L', long: 'enable-largepages', help: 'accepted, no effect: the engine\'s memory is one WebAssembly memory, in ordinary pages',
    apply(s) { s.notes.push({ verbosity: NO_EFFECT, text: '-L: large memory pages are not used (the engine\'s memory is one WebAssembly memory)' }); } },
  { short: 'N', long: 'napi-ids', arg: 'num', help: 'accepted, no effect: NAPI ids select worker threads; here the kernel hands each connection to a thread',
    apply(s, v, f) {
      parseInteger(v, f, 1, 2_147_483_647, 'maximum number of NAPI IDs must be greater than 0');
      s.napiIds = v;
      s.notes.push({ verbosity: NO_EFFECT, text: '-N: NAPI ids are not used (the kernel hands each connection to a thread)' });
    } },
  { long: 'warm-from', arg: 'host:port', help: 'warm this new node from an old one (memcached or wasmcached) in the background',
    apply(s, v, f) { s.warmFrom = parseHostPort(v, f); } },
  { short: 'o', long: 'extended', arg: 'opts', help: 'comma-separated list of extended options (below)',
    apply(s, v, f) { applyExtended(s, v, f); } },
  { long: 'engine', arg: 'name', help: 'engine build: wasm (default; js where WebAssembly cannot start) or js (the same engine compiled to plain JavaScript)',
    apply(s, v, f) {
      if (v === 'wasm') s.engine = 'wasm';
      else if (v === 'js') s.engine = 'js';
      else throw new SettingsError(`${f} ${quote(v)}: unknown engine (expected wasm or js)`);
      engineGiven.add(s);
    } },
  { long: 'host', arg: 'name', help: 'socket host: node (libuv streams without node:net\'s Socket, the default under Node.js), node-net (node:net\'s Socket) or bun (Bun.listen, the default under Bun)',
    apply(s, v, f) {
      if (v === 'node') s.host = 'node';
      else if (v === 'node-net') s.host = 'node-net';
      else if (v === 'bun') {
        if (typeof process.versions.bun !== 'string') throw new SettingsError(`${f} bun: this is Node.js; run wasmcached with Bun (bunx --bun wasmcached, or bun bin/wasmcached.js)`);
        s.host = 'bun';
      } else throw new SettingsError(`${f} ${quote(v)}: unknown host (expected node, node-net or bun)`);
    } },
  { short: 'h', long: 'help', help: 'print this help and exit',
    apply() { return { action: 'help' }; } },
  { short: 'i', long: 'license', help: 'print the license and exit',
    apply() { return { action: 'license' }; } },
  { short: 'V', long: 'version', help: 'print version and exit',
    apply() { return { action: 'version' }; } },
];

/** Settings whose -B was given: -S and -Y then check it instead of setting it. */
const protocolGiven = new WeakSet<Settings>();
const threadsGiven = new WeakSet<Settings>();
const engineGiven = new WeakSet<Settings>();

/** --engine was on the command line: no fallback to the other build. */
export function engineChosen(s: Settings): boolean {
  return engineGiven.has(s);
}
/** -p was given: without it, a -U port is the TCP port too (memcached's rule). */
const portGiven = new WeakSet<Settings>();

/**
 * Parses argv (without node and the script). Returns what to do, or throws
 * SettingsError with a one-line message. Like getopt, -h and -V act as soon as
 * they are reached, and a later occurrence of a flag overrides an earlier one.
 */
export function parseSettings(argv: readonly string[]): Command {
  const s = defaultSettings();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      if (i + 1 < argv.length) throw new SettingsError(`unexpected argument ${quote(argv[i + 1])}`);
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const spec = OPTIONS.find((o) => o.long === name);
      if (!spec) throw new SettingsError(`unknown option --${name}`);
      const flag = `--${name}`;
      let value = '';
      if (spec.arg) {
        if (eq >= 0) value = word.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        else throw new SettingsError(`option ${flag} needs a value <${spec.arg}>`);
      } else if (eq >= 0) {
        throw new SettingsError(`option ${flag} takes no value`);
      }
      const cmd = spec.apply(s, value, flag);
      if (cmd) return cmd;
      continue;
    }
    if (word.length < 2 || word[0] !== '-') throw new SettingsError(`unexpected argument ${quote(word)}`);
    // A cluster of short options: switches, then at most one option whose
    // value is the rest of the word or the next word.
    for (let j = 1; j < word.length; j++) {
      const spec = OPTIONS.find((o) => o.short === word[j]);
      if (!spec) throw new SettingsError(`unknown option -${word[j]}`);
      const flag = `-${word[j]}`;
      let value = '';
      if (spec.arg) {
        if (j + 1 < word.length) value = word.slice(j + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        else throw new SettingsError(`option ${flag} needs a value <${spec.arg}>`);
        j = word.length;
      }
      const cmd = spec.apply(s, value, flag);
      if (cmd) return cmd;
    }
  }
  checkCombination(s);
  return { action: 'run', settings: s };
}

/** Rules between flags, checked once all are read (memcached checks the same). */
function checkCombination(s: Settings): void {
  if (s.itemSizeMax > (s.memoryMB * 1024 * 1024) / 2) {
    throw new SettingsError(`cannot set item size limit higher than 1/2 of memory max (-I ${formatSize(s.itemSizeMax)} with -m ${s.memoryMB})`);
  }
  if (s.snapshotInterval > 0 && s.snapshotFile === null) {
    throw new SettingsError('-o snapshot_interval needs -e <file> to write to');
  }
  if (s.metricsPort === null && s.metricsListen !== defaultSettings().metricsListen) {
    throw new SettingsError('-o metrics_listen needs -o metrics_port=<port> to serve metrics on');
  }
  if (s.sasl && s.authFile !== null) {
    throw new SettingsError('-S (binary protocol only) and -Y (text protocol only) cannot be combined');
  }
  // memcached: -S implies -B binary and -Y -B ascii; a -B that allows the
  // other protocol is refused.
  if (s.sasl) {
    if (protocolGiven.has(s) && s.protocol !== 'binary') throw new SettingsError('-S: you cannot allow the ASCII protocol while using SASL (use -B binary)');
    s.protocol = 'binary';
  }
  if (s.authFile !== null) {
    if (protocolGiven.has(s) && s.protocol !== 'ascii') throw new SettingsError('-Y: you cannot allow the BINARY protocol while using ascii authentication tokens (use -B ascii)');
    s.protocol = 'ascii';
  }
  checkExtended(s);
  // As memcached 1.6: `-U 11222` alone listens on TCP 11222 as well, and
  // `-U -1` alone on a free TCP port, not on the default 11211.
  if (s.udpPort !== 0 && !portGiven.has(s)) s.port = s.udpPort;
  if (s.threads > 1 && s.host === 'bun') {
    // Threads share node:net's listening descriptor (threads.ts); Bun.listen
    // sockets have none to share.
    if (threadsGiven.has(s)) s.notes.push({ verbosity: 0, text: `-t ${s.threads}: the bun host runs on one thread` });
    s.threads = 1;
  }
  if (s.chunkMin >= s.itemSizeMax) {
    throw new SettingsError(`slab min size (-n ${s.chunkMin}) must be smaller than the max item size (-I ${formatSize(s.itemSizeMax)})`);
  }
  if (s.udpPort !== 0 && (s.sasl || s.authFile !== null)) {
    // As memcached: a datagram cannot carry a login.
    throw new SettingsError(`-U cannot be combined with ${s.sasl ? '-S' : '-Y'}: UDP has no authentication (-U 0 to disable)`);
  }
}

/** --warm-from: `host:port` or `[v6]:port`; the port must be a real one (not 0). */
function parseHostPort(v: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) throw new SettingsError(`${flag} ${quote(v)}: expected HOST:PORT such as 10.0.0.5:11211`);
  return { host: m[1] ?? m[2], port };
}

/** -l: `[notls:]host[:port]` entries separated by `,` or `;` (a v6 host with a port in brackets). */
function parseListen(v: string, flag: string): ListenEntry[] {
  const out: ListenEntry[] = [];
  for (const item of v.split(/[,;]/)) {
    if (item === '') continue;
    const tls = !item.startsWith('notls:');
    const rest = tls ? item : item.slice(6);
    const m = /^\[([^\]]+)\](?::(-?\d+))?$/.exec(rest) ?? /^([^:\s]+)(?::(-?\d+))?$/.exec(rest) ?? /^([^\s]*:[^\s]*)()$/.exec(rest);
    if (!m || m[1] === '') throw new SettingsError(`${flag} ${quote(item)}: expected [notls:]<addr>[:<port>]`);
    const port = m[2] ? Number(m[2]) : null;
    if (port !== null && (port < -1 || port > 65535)) throw new SettingsError(`${flag} ${quote(item)}: the port must be from -1 to 65535`);
    out.push({ host: m[1], port, tls });
  }
  if (out.length === 0) throw new SettingsError(`${flag} needs an address`);
  return out;
}

/** The port of the first listener: its -l port, or -p; memcached's -1 ("any") is 0 to the OS. */
export function listenPort(s: Settings): number {
  const p = s.listeners[0]?.port ?? s.port;
  return p === -1 ? 0 : p;
}

/** Whether the first listener serves TLS (-Z, and no `notls:`); a unix socket (-s) stays plain, as memcached's. */
export function firstListenerTls(s: Settings): boolean {
  return s.tls && s.unixSocket === null && (s.listeners[0]?.tls ?? true);
}

/** What the engine is created with. */
export function storeOptions(s: Settings): StoreOptions {
  let opts = 0;
  if (s.disableEvictions) opts |= OPT_NO_EVICTIONS;
  if (s.disableCas) opts |= OPT_NO_CAS;
  if (s.enableShutdown) opts |= OPT_SHUTDOWN;
  if (s.disableFlushAll) opts |= OPT_NO_FLUSH;
  if (s.disableDumping) opts |= OPT_NO_DUMP;
  if (s.disableWatch) opts |= OPT_NO_WATCH;
  if (s.debugTime) opts |= OPT_DEBUG_TIME;
  if (s.sasl) opts |= OPT_SASL;
  if (s.authFile !== null) opts |= OPT_AUTH_FILE;
  return {
    memoryMB: s.memoryMB,
    // cache_memlimit may go as far as -m could have.
    memoryCapMB: MAX_MEMORY_MB,
    itemSizeMax: s.itemSizeMax,
    chunkMin: s.chunkMin,
    growthFactor: s.growthFactor,
    opts,
    automove: s.slabAutomove,
    automoveWindow: s.slabAutomoveWindow,
    crawler: s.lruCrawler,
  };
}

/** The -h text. */
export function usage(): string {
  const lines = [VERSION_LINE, '', 'usage: wasmcached [options]', ''];
  for (const o of OPTIONS) {
    const names = (o.short ? `-${o.short}` : '  ') + (o.long ? `${o.short ? ',' : ' '} --${o.long}` : '') +
      (o.arg ? (o.long ? `=<${o.arg}>` : ` <${o.arg}>`) : '');
    lines.push(`${names.padEnd(34)} ${o.help}`);
  }
  lines.push('', ...extendedUsage());
  return lines.join('\n') + '\n';
}

/** The -i text. */
export function license(): string {
  return `${VERSION_LINE}\nLicense: ${pkg.license} (the BSD 3-Clause license).\n`;
}

/** The `user:password` file -Y names, or for -S the one memcached's
 *  SASL password database setting names (MEMCACHED_SASL_PWDB). */
export function credentialsFile(settings: Settings): string | null {
  if (settings.authFile !== null) return settings.authFile;
  if (!settings.sasl) return null;
  const pwdb = process.env.MEMCACHED_SASL_PWDB;
  if (!pwdb) throw new Error('-S needs MEMCACHED_SASL_PWDB to name a file of user:password lines');
  return pwdb;
}
