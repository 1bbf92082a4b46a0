// Drives one store in-process the way the server does: copy bytes into the
// input region, execute, copy the output out, keep the unconsumed tail,
// honour R_NEED / R_SKIP and ST_OUT_FULL. The clock is the test's to move.
import { loadWasmEngine } from '../../src/engine/wasm.js';
import { loadJsEngine } from '../../src/engine/js.js';
import { Store } from '../../src/engine/store.js';
import { ST_OUT_FULL, ST_CLOSE, ST_SHUTDOWN } from '../../assembly/abi.js';
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
  closed: boolean;
  shutdown: boolean;
  tick(): void;
  stats(sub?: string): Record<string, string>;
}

export function makeStore(opts: Partial<StoreOptions> & { engine?: EngineKind } = {}): Harness {
  const store = Store.create(loadEngine(opts.engine ?? 'wasm'), {
    memoryMB: 64, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0, ...opts,
  }, T0);
  let pending = Buffer.alloc(0);
  let skip = 0;
  const h: Harness = {
    store, now: T0, closed: false, shutdown: false,
    send(data) {
      let chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        chunk = chunk.subarray(n);
        skip -= n;
      }
      pending = Buffer.concat([pending, chunk]);
      const outs: Buffer[] = [];
      for (let guard = 0; guard < 1_000_000 && pending.length > 0; guard++) {
        const n = Math.min(pending.length, store.inputCapacity);
        store.input().set(pending.subarray(0, n));
        const st = store.execute(n, h.now);
        outs.push(Buffer.from(store.output()));
        const consumed = store.consumed;
        pending = pending.subarray(consumed);
        if (store.skip > 0) {
          const drop = Math.min(store.skip, pending.length);
          pending = pending.subarray(drop);
          skip = store.skip - drop;
        }
        if (st === ST_CLOSE) { h.closed = true; pending = Buffer.alloc(0); break; }
        if (st === ST_SHUTDOWN) { h.shutdown = true; break; }
        if (st === ST_OUT_FULL) continue;
        if (consumed === 0) break;
      }
      pending = Buffer.from(pending);
      return Buffer.concat(outs);
    },
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
