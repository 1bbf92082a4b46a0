// The library entry for Node, Deno and Bun: the engine module is read from
// build/wasmcached.wasm next to the package and compiled once per process.
import { readFile } from 'node:fs/promises';
import { wasmPath } from '../engine/wasm.js';
import { cacheFactory } from './cache.js';

let compiled: Promise<WebAssembly.Module> | null = null;

/** The engine module, compiled once; pass it to createCacheSync({ module }). */
export function loadModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(wasmPath()).then((bytes) => WebAssembly.compile(bytes));
  return compiled;
}

export const createCache = cacheFactory(loadModule);
export { Cache, createCacheSync } from './cache.js';
export type { CacheOptions, SetOptions, Entry, CacheStats, CasResult, Key, Value } from './cache.js';
export type { FetchOptions, Loader } from './fetch.js';
export * from './errors.js';
