// Entry point of `wasmcached` (bundled to dist/cli.js). Exit codes: 0 after
// -h, -V or a graceful stop; 1 when the store cannot be created; 2 for a bad
// command line; 70 after an engine trap; 71 (memcached's EX_OSERR) when the
// address cannot be bound.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseSettings, storeOptions, usage, SettingsError, VERSION_LINE, type Settings } from './settings.js';
import { createLogger } from './log.js';
import { loadWasmEngine } from './engine/wasm.js';
import { loadJsEngine } from './engine/js.js';
import { Store } from './engine/store.js';
import { CacheServer, EXIT_ENGINE_TRAP } from './server.js';
import { Snapshotter } from './snapshot.js';
import { Warmer } from './warm.js';
import { MISS_WAIT_MS } from './warm-miss.js';
import { writePortFile } from './port-file.js';

const EXIT_USAGE = 2;
const EXIT_LISTEN = 71;

/** The `user:password` file -Y names, or for -S the one memcached's
 *  SASL password database setting names. */
function credentialsFile(settings: Settings): string | null {
  if (settings.authFile !== null) return settings.authFile;
  if (!settings.sasl) return null;
  const pwdb = process.env.MEMCACHED_SASL_PWDB;
  if (!pwdb) throw new Error('-S needs MEMCACHED_SASL_PWDB to name a file of user:password lines');
  return pwdb;
}

async function main(argv: string[]): Promise<void> {
  let cmd;
  try {
    cmd = parseSettings(argv);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`wasmcached: ${err.message}\nRun 'wasmcached -h' for the list of options.\n`);
    process.exit(EXIT_USAGE);
  }
  if (cmd.action === 'help') { process.stdout.write(usage()); return; }
  if (cmd.action === 'version') { process.stdout.write(VERSION_LINE + '\n'); return; }
  const settings = cmd.settings;

  let store: Store;
  try {
    store = Store.create(settings.engine === 'js' ? loadJsEngine() : loadWasmEngine(), storeOptions(settings), Math.floor(Date.now() / 1000));
    const credentials = credentialsFile(settings);
    if (credentials !== null) store.setAuth(readFileSync(credentials));
  } catch (err) {
    process.stderr.write(`wasmcached: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
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
  const server = new CacheServer({ settings, store, log, exit: (code) => process.exit(code), snapshotter, warmer });
  try {
    const where = await server.listen();
    if (server.metrics) process.stdout.write(`metrics on ${server.metrics.url}\n`);
    const portFile = process.env.MEMCACHED_PORT_FILENAME;
    if (portFile) writePortFile(portFile, server.boundSockets());
    process.stdout.write(`listening on ${where}\n`);
    if (server.udpPort !== 0) {
      const host = isIP(settings.listen) === 6 ? `[${settings.listen}]` : settings.listen;
      process.stdout.write(`UDP on ${host}:${server.udpPort}\n`);
    }
  } catch (err) {
    process.stderr.write(`wasmcached: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT_LISTEN);
  }
  server.handleSignals();
}

await main(process.argv.slice(2));
