// Drives one store in-process the way the server does: copy bytes into the
// input region, execute, copy the output out, keep the unconsumed tail,
// honour R_NEED / R_SKIP and ST_OUT_FULL. The clock is the test's to move.
import { loadWasmEngine } from '../../src/engine/wasm.js';
import { loadJsEngine } from '../../src/engine/js.js';
import { Store } from '../../src/engine/store.js';
import { Session } from '../../src/session.js';
import { ST_OK, ST_OUT_FULL, ST_CLOSE, ST_SHUTDOWN } from '../../assembly/abi.js';
import type { StoreOptions, EngineBuild } from '../../src/engine/types.js';

export type EngineKind = 'wasm' | 'js';
/** Engine tests run on both builds of the one source. */
export const ENGINES: EngineKind[] = ['wasm', 'js'];

export function loadEngine(kind: EngineKind): EngineBuild {
  return kind === 'js' ? loadJsEngine() : loadWasmEngine();
}

export const T0 = 1_700_000_000;

export interface Harness {
  store: Store;
  now: number;
  /** Sends bytes as one read; returns every response byte produced. */
  send(data: string | Uint8Array): Buffer;
  /** send() and decode as latin1. */
  cmd(data: string): string;
  /** Drops the connection (releasing what it held) and starts a new one. */
  reset(): void;
  /** Received bytes the connection holds unconsumed. */
  pendingLen(): number;
  closed: boolean;
  shutdown: boolean;
  tick(): void;
  stats(sub?: string): Record<string, string>;
}

export function makeStore(opts: Partial<StoreOptions> & { engine?: EngineKind } = {}): Harness {
  const store = Store.create(loadEngine(opts.engine ?? 'wasm'), {
    memoryMB: 64, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0, ...opts,
  }, T0);
  // One connection, driven by the host's own per-connection code.
  let session = new Session(store);
  const h: Harness = {
    store, now: T0, closed: false, shutdown: false,
    send(data) {
      session.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data));
      const outs: Uint8Array[] = [];
      for (let guard = 0; guard < 1_000_000 && session.runnable(); guard++) {
        const st = session.execute(h.now, store.inputCapacity);
        if (session.output) outs.push(session.output);
        if (st === ST_CLOSE) { h.closed = true; session.close(); session = new Session(store); break; }
        if (st === ST_SHUTDOWN) { h.shutdown = true; break; }
        if (st === ST_OUT_FULL) continue;
        if (session.consumed === 0) break;
      }
      return Buffer.concat(outs);
    },
    reset() {
      session.close();
      session = new Session(store);
    },
    pendingLen() { return session.pendingLen; },
    cmd(data) { return h.send(data).toString('latin1'); },
    tick() { store.tick(h.now); },
    stats(sub = '') {
      const out = h.cmd(sub ? `stats ${sub}\r\n` : 'stats\r\n');
      const r: Record<string, string> = {};
      for (const line of out.split('\r\n')) {
        const m = /^STAT (\S+) (.*)$/.exec(line);
        if (m) r[m[1]] = m[2];
      }
      return r;
    },
  };
  return h;
}

/** A connection driven call by call (on one store, or one thread context of
 *  it): its session and what it has been answered. */
export class SessionClient {
  readonly session: Session;
  answered = '';
  constructor(readonly store: Store) { this.session = new Session(store); }

  /** Pushes bytes and makes at most `calls` engine calls. */
  feed(bytes: string, calls = 1_000): number {
    if (bytes) this.session.push(Buffer.from(bytes, 'latin1'));
    let status = ST_OK;
    for (let i = 0; i < calls && this.session.runnable(); i++) {
      status = this.session.execute(T0, this.store.inputCapacity);
      if (this.session.output) this.answered += Buffer.from(this.session.output).toString('latin1');
      if (status !== ST_OUT_FULL && this.session.consumed === 0) break;
    }
    return status;
  }

  take(): string {
    const a = this.answered;
    this.answered = '';
    return a;
  }
}
