// The one difference between the two engine builds: inside assembly/, the
// import './mem' (linear-memory primitives over WebAssembly memory) resolves
// to './mem.portable' (the same primitives over an ArrayBuffer). Used by the
// esbuild host bundle and by vitest (a Vite plugin of the same rule).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ASSEMBLY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'assembly');
export const PORTABLE_MEM = join(ASSEMBLY_DIR, 'mem.portable.ts');

export function isEngineMemImport(source, importer) {
  return (source === './mem' || source === '../mem') && !!importer && resolve(dirname(importer)).startsWith(ASSEMBLY_DIR);
}

/** esbuild plugin */
export const portableEsbuild = {
  name: 'wasmcached-portable-engine',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/mem$/ }, (args) =>
      isEngineMemImport(args.path, args.importer) ? { path: PORTABLE_MEM } : undefined);
  },
};

/** Vite / vitest plugin */
export const portableVite = {
  name: 'wasmcached-portable-engine',
  enforce: 'pre',
  resolveId(source, importer) {
    return isEngineMemImport(source, importer) ? PORTABLE_MEM : null;
  },
};
