// Loads the WebAssembly build of the engine from build/wasmcached.wasm.
import { existsSync, readFileSync } from 'node:fs';
import type { EngineBuild } from './types.js';
import { instantiateWasmEngine } from './wasm_instance.js';

/** build/wasmcached.wasm, relative to this file in src/engine/ or bundled in dist/. */
export function wasmPath(): URL {
  for (const rel of ['../build/wasmcached.wasm', '../../build/wasmcached.wasm']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return u;
  }
  throw new Error('build/wasmcached.wasm is missing: run `npm run build`');
}

export function loadWasmEngine(module?: WebAssembly.Module): EngineBuild {
  return instantiateWasmEngine(module ?? new WebAssembly.Module(readFileSync(wasmPath())));
}
