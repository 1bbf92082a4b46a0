// -t N: the engine every thread instantiates on one shared memory, for
// either build. The main thread makes it (newSharedEngine) and sends it to
// each worker thread with its data (structured clone keeps the memory and
// the compiled module shared, not copied).
import { loadSharedWasmEngine, newSharedMemory, sharedWasmModule } from './wasm.js';
import { loadSharedJsEngine, newSharedJsMemory, type SharedJsMemory } from './js.js';
import type { EngineBuild } from './types.js';

export type SharedEngine =
  | { readonly kind: 'wasm'; readonly module: WebAssembly.Module; readonly memory: WebAssembly.Memory }
  | { readonly kind: 'js'; readonly memory: SharedJsMemory };

export function newSharedEngine(kind: 'wasm' | 'js'): SharedEngine {
  return kind === 'js' ? { kind, memory: newSharedJsMemory() } : { kind, module: sharedWasmModule(), memory: newSharedMemory() };
}

/** This thread's instance of `shared`. */
export function loadSharedEngine(shared: SharedEngine): EngineBuild {
  return shared.kind === 'js' ? loadSharedJsEngine(shared.memory) : loadSharedWasmEngine(shared.module, shared.memory);
}
