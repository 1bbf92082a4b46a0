// One -t thread past the first (threads.ts): instantiates the engine (either
// build) on the main thread's shared memory, attaches to its store through its own
// thread context, and serves the connections it accepts on the main
// thread's listening socket with a CacheServer of its own.
import { parentPort, workerData } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { loadSharedEngine } from './engine/shared.js';
import { Store } from './engine/store.js';
import { CacheServer, EXIT_ENGINE_TRAP } from './server.js';
import { createLogger } from './log.js';
import { ThreadShared, type ToMain, type ToWorker, type WorkerData } from './threads.js';
import { ThreadRelay } from './thread-relay.js';

const data = workerData as WorkerData;
const port = parentPort!;
const send = (msg: ToMain) => port.postMessage(msg);

const shared = new ThreadShared(data.shared);
const store = Store.attach(loadSharedEngine(data.engine), data.base, data.ctx, shared.lock);
// Straight to the process's stderr, not through the main thread's copy of
// it: a trap's lines must be out before the main thread ends the process.
const log = createLogger(() => store.verbosity, writeStderr);

function writeStderr(text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0, tries = 0; off < bytes.length && tries < 1000;) {
    try {
      off += writeSync(2, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      tries++;
    }
  }
}

// Fault injection for the tests of a trapping thread: the engine call that
// serves this thread's first connection throws as a trap does. Read once;
// nothing is wrapped without it.
if (process.env.WASMCACHED_TEST_TRAP_WORKER === '1') {
  const executeConn = store.executeConn.bind(store);
  store.executeConn = (state: Uint32Array, from: number, len: number, now: number, restZero?: boolean, maxRequests?: number) => {
    if (len > 0) throw new WebAssembly.RuntimeError('unreachable (injected by WASMCACHED_TEST_TRAP_WORKER)');
    return executeConn(state, from, len, now, restZero, maxRequests);
  };
}

let nextSnapshot = 1;
const snapshots = new Map<number, (reply: string) => void>();

const server = new CacheServer({
  settings: data.settings,
  store,
  log,
  // Only the main thread ends the process: a trap here is reported to it.
  exit: (code) => send({ type: 'exit', code }),
  thread: {
    index: data.index,
    shared,
    listenFd: data.listenFd,
    toMain: send,
    relay: new ThreadRelay(data.index, data.relayPorts),
    snapshot: () => new Promise<string>((resolve) => {
      const id = nextSnapshot++;
      snapshots.set(id, resolve);
      send({ type: 'snapshot', id });
    }),
  },
});

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'stop') {
    void server.stop().then(() => send({ type: 'stopped' }));
  } else if (msg.type === 'snapshot-done') {
    snapshots.get(msg.id)?.(msg.reply);
    snapshots.delete(msg.id);
  }
});

try {
  await server.listen();
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  send({ type: 'exit', code: EXIT_ENGINE_TRAP });
}
