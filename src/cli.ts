// Entry point of `wasmcached` (bundled to dist/cli.js). Exit codes: 0 after
// -h, -i, -V or a graceful stop; 1 when the store cannot be created; 2 for a
// bad command line; 64 (memcached's EX_USAGE) when -Z's certificates cannot
// be loaded; 70 after an engine trap; 71 (memcached's EX_OSERR) when
// the address cannot be bound. With -d the command exits 0 once the server
// in the background listens, or with the server's code and reason.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  parseSettings, storeOptions, usage, license, SettingsError, VERSION_LINE, credentialsFile, engineChosen, type Settings,
} from './settings.js';
import { createLogger } from './log.js';
import { loadWasmEngine } from './engine/wasm.js';
import { loadSharedEngine, newSharedEngine, type SharedEngine } from './engine/shared.js';
import { ThreadGroup, ThreadShared } from './threads.js';
import { ThreadRelay, relayPorts } from './thread-relay.js';
import { loadJsEngine } from './engine/js.js';
import { Store } from './engine/store.js';
import { CacheServer, EXIT_ENGINE_TRAP } from './server.js';
import { Snapshotter } from './snapshot.js';
import { Warmer } from './warm.js';
import { MISS_WAIT_MS } from './warm-miss.js';
import { isDaemonChild, reportToParent, startDaemonChild } from './daemon.js';
import { writePidFile, removePidFile } from './pid-file.js';
import { writePortFile, PORT_FILE_ENV } from './port-file.js';
import { TlsSetupError, EXIT_TLS_SETUP } from './tls.js';
import { keepYoungGenerationSmall } from './young-gen.js';

const EXIT_USAGE = 2;
const EXIT_LISTEN = 71;

/** The server started by `wasmcached -d` reports to the command that started it. */
const daemonChild = isDaemonChild();

/** Ends the process after a startup failure, telling a waiting -d parent why. */
async function fail(code: number, message: string): Promise<never> {
  process.stderr.write(`wasmcached: ${message}\n`);
  if (daemonChild) await reportToParent({ failed: message, code });
  process.exit(code);
}

/** Accepted flags that change nothing here, and values changed, as the verbosity asks. */
function printNotes(settings: Settings): void {
  for (const note of settings.notes) {
    if (settings.verbosity >= note.verbosity) process.stderr.write(`wasmcached: ${note.text}\n`);
  }
}

/** -d in the command the user ran: start the server in the background, wait until it listens. */
async function daemonize(argv: string[], settings: Settings): Promise<never> {
  printNotes(settings);
  const outcome = await startDaemonChild(argv, settings.verbosity > 0);
  if (outcome.failure !== null) {
    process.stderr.write(`wasmcached: ${outcome.failure.message}\n`);
    process.exit(outcome.failure.code);
  }
  process.stdout.write(`listening on ${outcome.listening}\n`);
  process.exit(0);
}

/** -t N: the shared engine and what the threads share (threads.ts). */
interface ThreadsSetup {
  engine: SharedEngine; shared: ThreadShared; relay: ThreadRelay;
  ports: ReturnType<typeof relayPorts>; contexts: number[];
}

interface EngineSetup {
  store: Store;
  threads: ThreadsSetup | null;
}

/** The store on settings.engine's build: with -t N, one shared memory and
 *  an engine instance per thread; settings.threads is lowered to what fits. */
function makeEngine(settings: Settings): EngineSetup {
  let store: Store;
  let threads: ThreadsSetup | null = null;
  const sharedEngine = settings.threads > 1 ? newSharedEngine(settings.engine, settings.threads) : null;
  if (settings.threads > 1 && (sharedEngine === null || sharedEngine.threads < settings.threads)) {
    // Only the js build's buffer is sized to the address space (ulimit -v).
    const fit = sharedEngine?.threads ?? 1;
    process.stderr.write(`-t ${settings.threads}: address space for ${fit} thread(s) only (ulimit -v); serving on ${fit} thread(s)\n`);
    settings.threads = fit;
  }
  if (sharedEngine !== null && settings.threads > 1) {
    const engine = sharedEngine.engine;
    store = Store.create(loadSharedEngine(engine), storeOptions(settings), Math.floor(Date.now() / 1000));
    // A context per thread (2 x the input region each) after the range
    // reserved for cache_memlimit: with a huge -I, 4 GiB may hold fewer.
    const contexts: number[] = [];
    for (let t = 0; t < settings.threads; t++) {
      const ctx = store.tryNewContext();
      if (ctx === 0) break;
      contexts.push(ctx);
    }
    if (contexts.length < settings.threads) {
      process.stderr.write(`-t ${settings.threads}: memory for ${contexts.length} thread context(s) only (each holds 2 x the input region of -I); ` +
        `serving on ${Math.max(1, contexts.length)} thread(s)\n`);
      settings.threads = Math.max(1, contexts.length);
    }
    if (contexts.length > 1) {
      const shared = ThreadShared.create(contexts.length);
      // Thread 0 too works through a context of its own, under the lock.
      store.useContext(contexts[0], shared.lock);
      const ports = relayPorts(contexts.length);
      threads = { engine, shared, relay: new ThreadRelay(0, ports[0]), ports, contexts: contexts.slice(1) };
    }
  } else {
    store = Store.create(settings.engine === 'js' ? loadJsEngine() : loadWasmEngine(), storeOptions(settings), Math.floor(Date.now() / 1000));
  }
  return { store, threads };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function main(argv: string[]): Promise<void> {
  let cmd;
  try {
    cmd = parseSettings(argv);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`wasmcached: ${err.message}\nRun 'wasmcached -h' for the list of options.\n`);
    if (daemonChild) await reportToParent({ failed: err.message, code: EXIT_USAGE });
    process.exit(EXIT_USAGE);
  }
  if (cmd.action === 'help') { process.stdout.write(usage()); return; }
  if (cmd.action === 'license') { process.stdout.write(license()); return; }
  if (cmd.action === 'version') { process.stdout.write(VERSION_LINE + '\n'); return; }
  const settings = cmd.settings;
  if (settings.daemonize && !daemonChild) await daemonize(argv, settings);
  // Before the engine is made (its start allocates enough to grow it) ...
  keepYoungGenerationSmall();
  // The parent of a daemon printed them already.
  if (!daemonChild) printNotes(settings);

  // -Z -t N: one set of session-ticket keys for every thread (it goes to
  // them with the settings), so a ticket resumes on any of them.
  if (settings.tls) settings.ssl.ticketKeys = randomBytes(48);

  let made: EngineSetup;
  const threadsAsked = settings.threads;
  try {
    made = makeEngine(settings);
  } catch (err) {
    if (settings.engine !== 'wasm' || engineChosen(settings)) return fail(1, messageOf(err));
    // The pure-JS build is the fallback where WebAssembly cannot run: no
    // WebAssembly at all (node --jitless), or not the address space it
    // reserves (ulimit -v). With --engine given, its failure is final.
    process.stderr.write(`the WebAssembly engine cannot start (${messageOf(err)}); serving with the js engine (--engine js)\n`);
    settings.engine = 'js';
    settings.threads = threadsAsked;
    try {
      made = makeEngine(settings);
    } catch (err2) {
      return fail(1, messageOf(err2));
    }
  }
  const { store, threads } = made;
  try {
    const credentials = credentialsFile(settings);
    if (credentials !== null) store.setAuth(readFileSync(credentials));
  } catch (err) {
    return fail(1, messageOf(err));
  }
  store.verbosity = settings.verbosity;
  const log = createLogger(() => store.verbosity);
  let snapshotter: Snapshotter | undefined;
  if (settings.snapshotFile !== null) {
    snapshotter = new Snapshotter(store, settings.snapshotFile, log, () => Math.floor(Date.now() / 1000));
    snapshotter.loadAtStart();
    if (settings.snapshotInterval > 0) snapshotter.startInterval(settings.snapshotInterval);
  }
  const warmer = settings.warmFrom === null ? undefined : new Warmer({
    store, host: settings.warmFrom.host, port: settings.warmFrom.port, rate: settings.warmRate, missWaitMs: MISS_WAIT_MS, log,
    trapped: (err) => {
      log.error(`engine trap while warming: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(EXIT_ENGINE_TRAP);
    },
  });
  const pidFile = settings.pidFile;
  const exit = (code: number) => {
    // memcached removes its pid file at a clean stop only as a daemon.
    if (code === 0 && pidFile !== null && settings.daemonize) removePidFile(pidFile, process.pid);
    process.exit(code);
  };
  let server: CacheServer | undefined;
  const threadGroup = threads === null ? undefined : new ThreadGroup({
    store, engine: threads.engine, shared: threads.shared, settings, log, relayPorts: threads.ports,
    contexts: threads.contexts,
    onExit: exit,
    onShutdown: () => server?.shutdown(),
    snapshot: () => server!.snapshot(),
  });
  try {
    server = new CacheServer({
      settings, store, log, exit, snapshotter, warmer, threadGroup,
      thread: threads === null ? undefined : { index: 0, shared: threads.shared, relay: threads.relay },
    });
  } catch (err) {
    // -Z whose certificates cannot be loaded: memcached's message and exit code.
    if (err instanceof TlsSetupError) return fail(EXIT_TLS_SETUP, err.message);
    throw err;
  }
  let where: string;
  try {
    where = await server.listen();
  } catch (err) {
    return fail(EXIT_LISTEN, err instanceof Error ? err.message : String(err));
  }
  // ... and again now: starting a worker thread (-t N, in listen()) puts
  // V8's flags back as the command line had them (Node.js 20, measured).
  keepYoungGenerationSmall();
  // As memcached: a file that cannot be written is reported, and the server serves on.
  const portFile = process.env[PORT_FILE_ENV];
  if (portFile && settings.unixSocket === null) {
    try {
      writePortFile(portFile, server.listeningPorts());
    } catch (err) {
      log.error(`cannot write the port file ${PORT_FILE_ENV}=${portFile}: ${(err as Error).message}`);
    }
  }
  if (pidFile !== null) {
    try {
      writePidFile(pidFile, process.pid);
    } catch (err) {
      log.error(`cannot write the pid file ${pidFile}: ${(err as Error).message}`);
    }
  }
  if (server.metrics) process.stdout.write(`metrics on ${server.metrics.url}\n`);
  process.stdout.write(`listening on ${where}\n`);
  for (const other of server.otherListeners) process.stdout.write(`also listening on ${other}\n`);
  if (server.udpPort !== 0) {
    const host = isIP(settings.listen) === 6 ? `[${settings.listen}]` : settings.listen;
    process.stdout.write(`UDP on ${host}:${server.udpPort}\n`);
  }
  server.handleSignals();
  if (daemonChild) await reportToParent({ ready: where });
}

await main(process.argv.slice(2));
