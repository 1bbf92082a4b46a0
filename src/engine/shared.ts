// -t N: the engine every thread instantiates on one shared memory, for
// either build. The main thread makes it (newSharedEngine) and sends it to
// each worker thread with its data (structured clone keeps the memory and
// the compiled module shared, not copied).
import { readFileSync } from 'node:fs';
import { loadSharedWasmEngine, newSharedMemory, sharedWasmModule } from './wasm.js';
import { loadSharedJsEngine, newSharedJsMemory, SHARED_JS_MIN_BYTES, type SharedJsMemory } from './js.js';
import type { EngineBuild } from './types.js';

export type SharedEngine =
  | { readonly kind: 'wasm'; readonly module: WebAssembly.Module; readonly memory: WebAssembly.Memory }
  | { readonly kind: 'js'; readonly memory: SharedJsMemory };

/** Address space each worker thread's runtime reserves (V8's heap and code
 *  range, its stack): about 600 MB measured on Node 20 x64, with room. */
const ADDRESS_SPACE_PER_WORKER = 768 * 1048576;
/** And what the main thread may still reserve after start. */
const ADDRESS_SPACE_SPARE = 256 * 1048576;

/** The engine for up to `threads` threads on one shared memory, and how
 *  many threads it is for: fewer where the address space is limited; null
 *  when not even two fit (then one thread serves, with no shared memory). */
export function newSharedEngine(kind: 'wasm' | 'js', threads: number): { engine: SharedEngine; threads: number } | null {
  if (kind === 'wasm') return { engine: { kind, module: sharedWasmModule(), memory: newSharedMemory() }, threads };
  // The js build's buffer is allocated whole at once (js.ts). Under a limit
  // on address space (ulimit -v) it must leave room for the worker threads'
  // runtimes, or the first worker that cannot reserve its heap kills the
  // process (V8 treats that as a fatal out-of-memory).
  const left = addressSpaceLeft();
  for (let t = threads; t >= 2; t--) {
    const room = left - (t - 1) * ADDRESS_SPACE_PER_WORKER - ADDRESS_SPACE_SPARE;
    if (room < SHARED_JS_MIN_BYTES) continue;
    try {
      return { engine: { kind, memory: newSharedJsMemory(Number.isFinite(room) ? room : undefined) }, threads: t };
    } catch {
      // Not even the smallest buffer: fewer threads leave more room.
    }
  }
  return null;
}

/** Bytes this process may still map under RLIMIT_AS (Linux's
 *  /proc/self/limits); Infinity without a limit, or where it cannot be read. */
function addressSpaceLeft(): number {
  try {
    const limit = /^Max address space\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (limit === null || limit[1] === 'unlimited') return Infinity;
    const size = /^VmSize:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return size === null ? Infinity : Number(limit[1]) - Number(size[1]) * 1024;
  } catch {
    return Infinity;
  }
}

/** This thread's instance of `shared`. */
export function loadSharedEngine(shared: SharedEngine): EngineBuild {
  return shared.kind === 'js' ? loadSharedJsEngine(shared.memory) : loadSharedWasmEngine(shared.module, shared.memory);
}
