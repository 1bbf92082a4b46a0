// The pure-JS build of the engine: the very same sources as the WebAssembly
// build, compiled as TypeScript, with assembly/mem.portable.ts standing in for
// assembly/mem.ts (the build's resolver swaps them; see scripts/portable.mjs).
// All stores of this build share one ArrayBuffer, as all stores of one WASM
// instance share its memory.
import * as engine from '../../assembly/index';
import { MAX_BYTES, memoryBuffer, memShare } from '../../assembly/mem.portable';
import type { EngineBuild, EngineExports } from './types.js';

export function loadJsEngine(): EngineBuild {
  return {
    kind: 'js',
    exports: engine as unknown as EngineExports,
    buffer: memoryBuffer,
  };
}

/** -t N on the js build: the memory every thread's engine works on. */
export interface SharedJsMemory {
  readonly buffer: SharedArrayBuffer;
  /** One word: the memory's size in bytes (mem.portable.ts). */
  readonly size: SharedArrayBuffer;
}

/** The smallest shared buffer worth trying. */
export const SHARED_JS_MIN_BYTES = 64 * 1048576;

/** Memory threads can share, allocated at once at its largest size (it
 *  cannot be replaced by a copy once shared): address space, not RSS, as
 *  the OS commits a page only when it is first written. Where the process
 *  may not have that much address space (ulimit -v, strict overcommit), a
 *  smaller buffer: the store then reserves less for cache_memlimit, and the
 *  server runs fewer threads if their contexts do not fit (cli.ts), as on a
 *  WebAssembly memory that cannot grow further. */
export function newSharedJsMemory(maxBytes = MAX_BYTES): SharedJsMemory {
  for (let bytes = Math.min(MAX_BYTES, Math.floor(maxBytes / 65536) * 65536); bytes >= SHARED_JS_MIN_BYTES; bytes = Math.floor((bytes * 3) / 4 / 65536) * 65536) {
    try {
      return { buffer: new SharedArrayBuffer(bytes), size: new SharedArrayBuffer(4) };
    } catch {
      // RangeError: that much cannot be had; try less.
    }
  }
  throw new RangeError(`cannot allocate a shared buffer of ${SHARED_JS_MIN_BYTES >> 20} MB or more for the threads (-t); -t 1 needs none`);
}

/** This thread's engine (the build's module state is per thread) on the
 *  shared memory. */
export function loadSharedJsEngine(memory: SharedJsMemory): EngineBuild {
  memShare(memory.buffer, new Uint32Array(memory.size));
  return loadJsEngine();
}
