// Loads the WebAssembly build of the engine. The module has no imports (stub
// runtime, no managed objects), so instantiation needs nothing from the host.
import { existsSync, readFileSync } from 'node:fs';
import type { EngineBuild, EngineExports } from './types.js';

/** build/wasmcached.wasm, relative to this file in src/engine/ or bundled in dist/. */
export function wasmPath(): URL {
  for (const rel of ['../build/wasmcached.wasm', '../../build/wasmcached.wasm']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return u;
  }
  throw new Error('build/wasmcached.wasm is missing: run `npm run build`');
}

export function loadWasmEngine(module?: WebAssembly.Module): EngineBuild {
  const mod = module ?? new WebAssembly.Module(readFileSync(wasmPath()));
  const instance = new WebAssembly.Instance(mod, {});
  const exports = instance.exports as unknown as EngineExports & { memory: WebAssembly.Memory };
  return {
    kind: 'wasm',
    exports,
    buffer: () => exports.memory.buffer,
  };
}
