// The library entry for browsers and edge workers: the engine module's bytes
// are inlined in the bundle (no file system), compiled asynchronously once.
// Edge runtimes that forbid compiling from bytes import the .wasm as a
// module themselves and use createCacheSync({ module }).
import wasmBytes from '../../build/wasmcached.wasm';
import { cacheFactory } from './cache.js';

let compiled: Promise<WebAssembly.Module> | null = null;

/** The engine module, compiled once; pass it to createCacheSync({ module }). */
export function loadModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(wasmBytes);
  return compiled;
}

export const createCache = cacheFactory(loadModule);
export { Cache, createCacheSync } from './cache.js';
export type { CacheOptions, SetOptions, Entry, CacheStats, CasResult, Key, Value } from './cache.js';
export type { FetchOptions, Loader } from './fetch.js';
export * from './errors.js';
