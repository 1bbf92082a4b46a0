// Command-line settings: memcached's flags where they apply, parsed getopt-style
// (`-p 0`, `-p0`, `--port 0`, `--port=0`, clusters such as `-vvMC`). Parsing is
// a pure function of argv so every flag and every rejection is unit-tested
// without starting a server. The option table below is the single list: the
// parser and the -h text are both derived from it.
import {
  OPT_NO_EVICTIONS, OPT_NO_CAS, OPT_SHUTDOWN, OPT_NO_FLUSH, OPT_NO_DUMP, OPT_DEBUG_TIME, OPT_SASL, OPT_AUTH_FILE,
  OPT_NO_WATCH, AUTOMOVE_WINDOW_DEFAULT,
} from '../assembly/abi.js';
import type { StoreOptions } from './engine/types.js';
import pkg from '../package.json' with { type: 'json' };

/** The memcached release whose text protocol we follow (`version` answers it). */
export const PROTOCOL_VERSION = '1.6.18';
export const VERSION_LINE = `wasmcached ${pkg.version} (memcached ${PROTOCOL_VERSION} protocols)`;

/** A 32-bit WebAssembly memory is 4 GiB in all; the rest holds the hash table and buffers. */
export const MAX_MEMORY_MB = 3072;
export const MIN_ITEM_SIZE = 1024;
export const MAX_ITEM_SIZE = 1024 * 1024 * 1024;
/** Above this the engine's factor ×100 argument stops making sense. */
export const MAX_GROWTH_FACTOR = 100;

export interface Settings {
  port: number;
  listen: string;
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
  engine: 'wasm' | 'js';
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
}

export type Command =
  | { action: 'run'; settings: Settings }
  | { action: 'help' }
  | { action: 'version' };

/** A bad command line; the message is shown after `wasmcached: `. */
export class SettingsError extends Error {}

export function defaultSettings(): Settings {
  return {
    port: 11211,
    // Safer than memcached's all-interfaces default.
    listen: '127.0.0.1',
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
    threads: 4,
    idleTimeout: 0,
    debugTime: false,
    slabAutomove: 1,
    slabAutomoveWindow: AUTOMOVE_WINDOW_DEFAULT,
    sasl: false,
    authFile: null,
    engine: 'wasm',
    snapshotFile: null,
    snapshotInterval: 0,
    warmFrom: null,
    warmRate: 20000,
    metricsPort: null,
    metricsListen: '127.0.0.1',
    udpPort: 0,
  };
}

interface OptionSpec {
  short?: string;
  long: string;
  /** name of the value in -h, or undefined for a switch */
  arg?: string;
  help: string;
  /** applies the option; `flag` is how the user spelled it, for messages */
  apply(s: Settings, value: string, flag: string): Command | void;
}

/** memcached -o options that ask for what wasmcached always does (the slab
 *  mover, the expiry crawler, LRU upkeep) or that tune nothing here. */
const EXTENDED_ACCEPTED = ['slab_reassign', 'lru_crawler', 'lru_maintainer', 'relaxed_privileges'];

// slab_chunk_max is checked and ignored: items are never split into chunks.
const EXTENDED_OPTIONS = ['idle_timeout=<secs>', 'debug_time', 'slab_automove[=<0-2>]', 'slab_automove_window=<secs>',
  'slab_chunk_max=<bytes>', 'snapshot_interval=<secs>', 'warm_rate=<items/s>', 'metrics_port=<port>', 'metrics_listen=<addr>',
  ...EXTENDED_ACCEPTED].join(', ');

const OPTIONS: OptionSpec[] = [
  { short: 'p', long: 'port', arg: 'num', help: 'TCP port to listen on (default: 11211; 0 = any free port)',
    apply(s, v, f) { s.port = parseInteger(v, f, 0, 65535); } },
  { short: 'l', long: 'listen', arg: 'addr', help: 'interface to listen on (default: 127.0.0.1)',
    apply(s, v, f) {
      if (v === '') throw new SettingsError(`${f} needs an address`);
      if (v.includes(',')) throw new SettingsError(`${f} ${v}: listening on several addresses is not supported`);
      s.listen = v;
    } },
  { short: 's', long: 'unix-socket', arg: 'file', help: 'unix socket path to listen on (disables TCP)',
    apply(s, v, f) {
      if (v === '') throw new SettingsError(`${f} needs a path`);
      s.unixSocket = v;
    } },
  { short: 'a', long: 'unix-mask', arg: 'mask', help: 'access mask for the unix socket, in octal (default: 0700)',
    apply(s, v, f) {
      if (!/^[0-7]{1,4}$/.test(v) || parseInt(v, 8) > 0o777) throw new SettingsError(`${f} ${quote(v)}: expected an octal mode such as 0700`);
      s.unixMask = parseInt(v, 8);
    } },
  { short: 'm', long: 'memory-limit', arg: 'num', help: `item memory in megabytes (default: 64, at most ${MAX_MEMORY_MB})`,
    apply(s, v, f) {
      s.memoryMB = parseInteger(v, f, 1, MAX_MEMORY_MB,
        `memory limit must be from 1 to ${MAX_MEMORY_MB} MB (a 32-bit WebAssembly memory is 4 GiB in all)`);
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
  { short: 'X', long: 'disable-dumping', help: 'disable stats cachedump and lru_crawler metadump',
    apply(s) { s.disableDumping = true; } },
  { short: 'W', long: 'disable-watch', help: 'disable watch commands (live logging)',
    apply(s) { s.disableWatch = true; } },
  { short: 'v', long: 'verbose', help: 'verbose: errors and warnings (-vv: also connections, -vvv: more)',
    apply(s) { s.verbosity++; } },
  { short: 'U', long: 'udp-port', arg: 'num', help: 'UDP port to listen on (default: 0, off; -1 = any free port)',
    apply(s, v, f) { s.udpPort = parseInteger(v, f, -1, 65535, 'UDP port must be from 1 to 65535, 0 (off) or -1 (any free port)'); } },
  { short: 't', long: 'threads', arg: 'num', help: 'reported in stats; one event loop serves all connections (default: 4)',
    apply(s, v, f) { s.threads = parseInteger(v, f, 1, 1024, 'number of threads must be from 1 to 1024'); } },
  { short: 'u', long: 'user', arg: 'user', help: 'accepted for compatibility and ignored',
    apply() { /* memcached start scripts pass it; we never switch users */ } },
  { short: 'S', long: 'enable-sasl', help: 'require SASL PLAIN (binary protocol only); users from the file named by $MEMCACHED_SASL_PWDB',
    apply(s) { s.sasl = true; } },
  { short: 'Y', long: 'auth-file', arg: 'file', help: 'require text-protocol authentication against "user:password" lines of this file',
    apply(s, v, f) {
      if (v === '') throw new SettingsError(`${f} needs a path`);
      s.authFile = v;
    } },
  { short: 'e', long: 'memory-file', arg: 'file', help: 'snapshot file: written on stop (SIGTERM, SIGINT, SIGUSR1, shutdown), loaded at start',
    apply(s, v, f) {
      if (v === '') throw new SettingsError(`${f} needs a path`);
      s.snapshotFile = v;
    } },
  { long: 'warm-from', arg: 'host:port', help: 'warm this new node from an old one (memcached or wasmcached) in the background',
    apply(s, v, f) { s.warmFrom = parseHostPort(v, f); } },
  { short: 'o', long: 'extended', arg: 'opts', help: `comma-separated: ${EXTENDED_OPTIONS}`,
    apply(s, v, f) { applyExtended(s, v, f); } },
  { long: 'engine', arg: 'name', help: 'engine build: wasm (default) or js (the same engine compiled to plain JavaScript)',
    apply(s, v, f) {
      if (v === 'wasm') s.engine = 'wasm';
      else if (v === 'js') s.engine = 'js';
      else throw new SettingsError(`${f} ${quote(v)}: unknown engine (expected wasm or js)`);
    } },
  { short: 'h', long: 'help', help: 'print this help and exit',
    apply() { return { action: 'help' }; } },
  { short: 'V', long: 'version', help: 'print version and exit',
    apply() { return { action: 'version' }; } },
];

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
  if (s.chunkMin >= s.itemSizeMax) {
    throw new SettingsError(`slab min size (-n ${s.chunkMin}) must be smaller than the max item size (-I ${formatSize(s.itemSizeMax)})`);
  }
  if (s.udpPort !== 0 && (s.sasl || s.authFile !== null)) {
    // As memcached: a datagram cannot carry a login.
    throw new SettingsError(`-U cannot be combined with ${s.sasl ? '-S' : '-Y'}: UDP has no authentication (-U 0 to disable)`);
  }
}

function applyExtended(s: Settings, list: string, flag: string): void {
  for (const item of list.split(',')) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? null : item.slice(eq + 1);
    switch (name) {
      case 'snapshot_interval':
        if (value === null) throw new SettingsError(`${flag} snapshot_interval needs a value in seconds (snapshot_interval=<secs>)`);
        s.snapshotInterval = parseInteger(value, `${flag} snapshot_interval`, 0, 2_147_483_647);
        break;
      case 'warm_rate':
        if (value === null) throw new SettingsError(`${flag} warm_rate needs a value in items per second (warm_rate=<items/s>)`);
        s.warmRate = parseInteger(value, `${flag} warm_rate`, 1, 10_000_000);
        break;
      case 'metrics_port':
        if (value === null) throw new SettingsError(`${flag} metrics_port needs a port (metrics_port=<port>, 0 = any free port)`);
        s.metricsPort = parseInteger(value, `${flag} metrics_port`, 0, 65535);
        break;
      case 'metrics_listen':
        if (!value) throw new SettingsError(`${flag} metrics_listen needs an address (metrics_listen=<addr>)`);
        s.metricsListen = value;
        break;
      case 'idle_timeout':
        if (value === null) throw new SettingsError(`${flag} idle_timeout needs a value in seconds (idle_timeout=<secs>)`);
        s.idleTimeout = parseInteger(value, `${flag} idle_timeout`, 0, 2_147_483_647);
        break;
      case 'debug_time':
        if (value !== null) throw new SettingsError(`${flag} debug_time takes no value`);
        s.debugTime = true;
        break;
      case 'slab_automove':
        s.slabAutomove = value === null ? 1 : parseInteger(value, `${flag} slab_automove`, 0, 2);
        break;
      case 'slab_automove_window':
        if (value === null) throw new SettingsError(`${flag} slab_automove_window needs a value in seconds`);
        s.slabAutomoveWindow = parseInteger(value, `${flag} slab_automove_window`, 1, 2_147_483_647);
        break;
      case 'slab_chunk_max':
        if (value === null) throw new SettingsError(`${flag} slab_chunk_max needs a value in bytes`);
        parseInteger(value, `${flag} slab_chunk_max`, 1, MAX_ITEM_SIZE);
        break;
      default:
        if (EXTENDED_ACCEPTED.includes(name)) {
          if (value !== null) throw new SettingsError(`${flag} ${name} takes no value`);
          break;
        }
        throw new SettingsError(`unknown ${flag} option ${quote(name)} (supported: ${EXTENDED_OPTIONS})`);
    }
  }
}

function parseInteger(v: string, flag: string, min: number, max: number, rangeMessage?: string): number {
  if (!/^-?\d+$/.test(v)) throw new SettingsError(`${flag} ${quote(v)}: expected an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new SettingsError(rangeMessage ? `${flag} ${v}: ${rangeMessage}` : `${flag} ${v}: must be from ${min} to ${max}`);
  return n;
}

/** --warm-from: `host:port` or `[v6]:port`; the port must be a real one (not 0). */
function parseHostPort(v: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) throw new SettingsError(`${flag} ${quote(v)}: expected HOST:PORT such as 10.0.0.5:11211`);
  return { host: m[1] ?? m[2], port };
}

/** -I: bytes, or a k/m suffix (memcached accepts either case). */
function parseSize(v: string, flag: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(v);
  if (!m) throw new SettingsError(`${flag} ${quote(v)}: expected a size such as 512k or 2m`);
  const unit = m[2].toLowerCase();
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  if (n < MIN_ITEM_SIZE) throw new SettingsError(`${flag} ${v}: item max size cannot be less than 1024 bytes`);
  if (n > MAX_ITEM_SIZE) throw new SettingsError(`${flag} ${v}: cannot set item size limit higher than 1024 mb`);
  return n;
}

function parseFactor(v: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new SettingsError(`${flag} ${quote(v)}: expected a number such as 1.25`);
  const f = Number(v);
  // The engine takes the factor in hundredths: 1.001 would become 1.00.
  if (Math.round(f * 100) <= 100) throw new SettingsError(`${flag} ${v}: factor must be greater than 1 (at least 1.01)`);
  if (f > MAX_GROWTH_FACTOR) throw new SettingsError(`${flag} ${v}: factor must be at most ${MAX_GROWTH_FACTOR}`);
  return f;
}

function formatSize(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}m`;
  if (n % 1024 === 0) return `${n / 1024}k`;
  return String(n);
}

function quote(v: string): string {
  return JSON.stringify(v);
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
  };
}

/** The -h text. */
export function usage(): string {
  const lines = [VERSION_LINE, '', 'usage: wasmcached [options]', ''];
  for (const o of OPTIONS) {
    const names = (o.short ? `-${o.short}, ` : '    ') + `--${o.long}` + (o.arg ? `=<${o.arg}>` : '');
    lines.push(`${names.padEnd(34)} ${o.help}`);
  }
  return lines.join('\n') + '\n';
}
