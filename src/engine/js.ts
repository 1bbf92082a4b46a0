// The pure-JS build of the engine: the very same sources as the WebAssembly
// build, compiled as TypeScript, with assembly/mem.portable.ts standing in for
// assembly/mem.ts (the build's resolver swaps them; see scripts/portable.mjs).
// All stores of this build share one ArrayBuffer, as all stores of one WASM
// instance share its memory.
import * as engine from '../../assembly/index';
import { memoryBuffer, memShare } from '../../assembly/mem.portable';
import type { EngineBuild, EngineExports } from './types.js';

export function loadJsEngine(): EngineBuild {
  return {
    kind: 'js',
    exports: engine as unknown as EngineExports,
    buffer: memoryBuffer,
  };
}

/** The most memory the build addresses: 65535 pages, as the WebAssembly build. */
const MAX_BYTES = 65535 * 65536;

/** -t N on the js build: the memory every thread's engine works on. */
export interface SharedJsMemory {
  readonly buffer: SharedArrayBuffer;
  /** One word: the memory's size in bytes (mem.portable.ts). */
  readonly size: SharedArrayBuffer;
}

/** Memory threads can share, allocated at once at its largest size (it
 *  cannot be replaced by a copy once shared): address space, not RSS, as
 *  the OS commits a page only when it is first written. */
export function newSharedJsMemory(): SharedJsMemory {
  return { buffer: new SharedArrayBuffer(MAX_BYTES), size: new SharedArrayBuffer(4) };
}

/** This thread's engine (the build's module state is per thread) on the
 *  shared memory. */
export function loadSharedJsEngine(memory: SharedJsMemory): EngineBuild {
  memShare(memory.buffer, new Uint32Array(memory.size));
  return loadJsEngine();
}
