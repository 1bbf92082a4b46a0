// `import { startServer } from 'wasmcached/server'`: the server in-process,
// for test suites of memcached clients that need a memcached without
// installing one. The same CacheServer as the CLI; nothing here ends the
// process (an engine trap stops this server and is logged).
import { readFileSync } from 'node:fs';
import { parseSettings, storeOptions, credentialsFile, SettingsError } from './settings.js';
import { createLogger } from './log.js';
import { loadWasmEngine } from './engine/wasm.js';
import { loadJsEngine } from './engine/js.js';
import { Store } from './engine/store.js';
import { CacheServer } from './server.js';

export interface StartServerOptions {
  /** TCP port; 0 (default) lets the OS choose one (read it from `port`). */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Item memory in bytes, rounded up to whole MiB (as -m); default 64 MiB. */
  memory?: number;
  /** Engine build: 'wasm' (default) or 'js'. */
  engine?: 'wasm' | 'js';
  /** Further memcached command-line options, e.g. ['-I', '2m', '-C']. */
  args?: string[];
  /** Log lines (memcached's -v output); default: discarded. */
  log?: (line: string) => void;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** The UDP port with args ['-U', '-1'] or ['-U', '<port>'], else 0. */
  readonly udpPort: number;
  /** Stops accepting, ends every connection and releases the port. */
  close(): Promise<void>;
}

export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const argv = ['-p', String(options.port ?? 0), '-l', host, ...(options.args ?? [])];
  if (options.memory !== undefined) {
    if (!(Number.isFinite(options.memory) && options.memory > 0)) throw new RangeError('memory must be a positive number of bytes');
    argv.push('-m', String(Math.ceil(options.memory / 1048576)));
  }
  if (options.engine !== undefined) argv.push('--engine', options.engine);
  const cmd = parseSettings(argv);
  if (cmd.action !== 'run') throw new SettingsError('args must not ask for help or version');
  const settings = cmd.settings;
  if (settings.daemonize) throw new SettingsError('-d runs the command in the background; startServer serves in this process');
  const store = Store.create(settings.engine === 'js' ? loadJsEngine() : loadWasmEngine(), storeOptions(settings), Math.floor(Date.now() / 1000));
  // -Y / -S: the CLI's credentials, loaded the same way (they were once
  // ignored here, and every client then failed to authenticate).
  const credentials = credentialsFile(settings);
  if (credentials !== null) store.setAuth(readFileSync(credentials));
  const write = options.log ?? (() => {});
  store.verbosity = settings.verbosity;
  const log = createLogger(() => store.verbosity, (line) => write(line));
  const server: CacheServer = new CacheServer({ settings, store, log, exit: () => { void server.stop(); } });
  const where = await server.listen();
  const port = Number(where.slice(where.lastIndexOf(':') + 1));
  return { host, port, udpPort: server.udpPort, close: () => server.stop() };
}
