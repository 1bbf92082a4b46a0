// The engine as the host sees it. Both builds (WebAssembly, and later the
// pure-JS build of the same source) provide EngineExports over one linear
// memory; Store wraps one store inside it. Only numbers cross: bytes go
// through the store's input and output regions.

/** The exports of assembly/index.ts, identical in every build. */
export interface EngineExports {
  /** Allocates a store that cache_memlimit may grow up to memoryCapMB (its
   *  address range is reserved now); returns its base address, or 0 if
   *  memory ran out. */
  mc_init(memoryMB: number, memoryCapMB: number, itemSizeMax: number, chunkMin: number, factorX100: number, opts: number, now: number): number;
  /** A context for one more thread executing on the store (CTX_* in
   *  assembly/abi.ts); its address, or 0 if memory ran out. */
  mc_context(store: number): number;
  /** Runs every complete command in input[0, len); returns an ST_* code. */
  mc_execute(store: number, len: number, now: number): number;
  /** Clock, expiry crawler and hash-table expansion; bounded work per call. */
  mc_tick(store: number, now: number): number;
  /** Copies input[0, len) in as the credentials file (-S, -Y); an ST_* code. */
  mc_set_auth(store: number, len: number): number;
  /** One logical operation (OP_* of assembly/abi.ts); an OPR_* code. */
  mc_op(store: number, op: number, keyLen: number, valueLen: number, flags: number, ttl: number, casHi: number, casLo: number, now: number): number;
  /** A connection is gone: releases the items its state (R_CONN_STATE) holds. */
  mc_conn_close(store: number): number;
  /** One bounded step of a snapshot: about maxBytes (0: the whole output
   *  region) of item records in the output region; ST_OUT_FULL while more
   *  remain, ST_OK when done. */
  mc_dump(store: number, restart: number, maxBytes: number, now: number): number;
  /** Links the snapshot records in input[0, len); R_CONSUMED bytes handled. */
  mc_load(store: number, len: number, now: number): number;
}

export interface EngineBuild {
  readonly kind: 'wasm' | 'js';
  readonly exports: EngineExports;
  /** The current linear memory; it is replaced when memory grows. */
  buffer(): ArrayBuffer;
}

export interface StoreOptions {
  /** -m, megabytes of item memory */
  memoryMB: number;
  /** The largest limit `cache_memlimit` may set, MB (default memoryMB).
   *  Address space for it is reserved at creation, which the JS build
   *  allocates as one buffer: a server's decision, not an embedder's. */
  memoryCapMB?: number;
  /** -I, bytes */
  itemSizeMax: number;
  /** -n, bytes */
  chunkMin: number;
  /** -f */
  growthFactor: number;
  /** OPT_* bits from assembly/abi.ts */
  opts: number;
  /** -o slab_automove (H_AUTOMOVE); the engine's default when absent */
  automove?: number;
  /** -o slab_automove_window, seconds (H_AUTOMOVE_WINDOW) */
  automoveWindow?: number;
  /** -o lru_crawler / no_lru_crawler (H_CRAWLER_ON); on when absent */
  crawler?: boolean;
}
