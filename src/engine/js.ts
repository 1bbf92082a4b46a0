// The pure-JS build of the engine: the very same sources as the WebAssembly
// build, compiled as TypeScript, with assembly/mem.portable.ts standing in for
// assembly/mem.ts (the build's resolver swaps them; see scripts/portable.mjs).
// All stores of this build share one ArrayBuffer, as all stores of one WASM
// instance share its memory.
import * as engine from '../../assembly/index';
import { memoryBuffer } from '../../assembly/mem.portable';
import type { EngineBuild, EngineExports } from './types.js';

export function loadJsEngine(): EngineBuild {
  return {
    kind: 'js',
    exports: engine as unknown as EngineExports,
    buffer: memoryBuffer,
  };
}
