// Loads the WebAssembly build of the engine from build/wasmcached.wasm, or
// (-t N) its shared-memory twin build/wasmcached.shared.wasm, which imports
// one shared memory so that several threads' instances execute on it.
import { existsSync, readFileSync } from 'node:fs';
import type { EngineBuild, EngineExports } from './types.js';
import { instantiateWasmEngine } from './wasm_instance.js';

/** A build of the engine, relative to this file in src/engine/ or bundled in dist/. */
function buildPath(file: string): URL {
  for (const rel of [`../build/${file}`, `../../build/${file}`]) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return u;
  }
  throw new Error(`build/${file} is missing: run \`npm run build\``);
}

/** build/wasmcached.wasm */
export function wasmPath(): URL {
  return buildPath('wasmcached.wasm');
}

export function loadWasmEngine(module?: WebAssembly.Module): EngineBuild {
  return instantiateWasmEngine(module ?? new WebAssembly.Module(readFileSync(wasmPath())));
}

/** Pages a 32-bit memory may have (asconfig.json's shared target declares the same). */
const MAX_PAGES = 65535;

/** The shared-memory build, compiled; each thread instantiates it on one memory. */
export function sharedWasmModule(): WebAssembly.Module {
  return new WebAssembly.Module(readFileSync(buildPath('wasmcached.shared.wasm')));
}

/** A memory that threads can share: it grows in place up to 4 GiB. */
export function newSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
}

/** One thread's instance of the shared build on `memory`. Instantiating
 *  writes only the module's constant data again, byte for byte the same. */
export function loadSharedWasmEngine(module: WebAssembly.Module, memory: WebAssembly.Memory): EngineBuild {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return {
    kind: 'wasm',
    exports: instance.exports as unknown as EngineExports,
    buffer: () => memory.buffer as unknown as ArrayBuffer,
  };
}
