// Instantiates the WebAssembly build from a compiled module. Kept apart from
// wasm.ts, which reads the module from disk, so that bundles for browsers and
// edge workers never import node:fs. The module has no imports (stub runtime,
// no managed objects), so instantiation needs nothing from the host.
import type { EngineBuild, EngineExports } from './types.js';

export function instantiateWasmEngine(module: WebAssembly.Module): EngineBuild {
  const instance = new WebAssembly.Instance(module, {});
  const exports = instance.exports as unknown as EngineExports & { memory: WebAssembly.Memory };
  return {
    kind: 'wasm',
    exports,
    buffer: () => exports.memory.buffer,
  };
}
