// The errors the library throws. Every one is a CacheError with a stable
// `code`; an operation that throws has changed nothing in the cache.

export type CacheErrorCode =
  | 'INVALID_KEY' | 'INVALID_ARGUMENT' | 'ITEM_TOO_LARGE' | 'OUT_OF_MEMORY' | 'NON_NUMERIC_VALUE' | 'CREATE_FAILED'
  | 'INVALID_SNAPSHOT';

export class CacheError extends Error {
  constructor(readonly code: CacheErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Not a string or Uint8Array, empty, or over 250 bytes. */
export class InvalidKeyError extends CacheError {
  constructor(message: string) { super('INVALID_KEY', message); }
}

/** A value, TTL, flags, delta or option of the wrong type or range. */
export class InvalidArgumentError extends CacheError {
  constructor(message: string) { super('INVALID_ARGUMENT', message); }
}

/** Key, value and item header exceed the largest item (maxItemSize). */
export class ItemTooLargeError extends CacheError {
  constructor(message: string) { super('ITEM_TOO_LARGE', message); }
}

/** No memory could be found or evicted for the item. */
export class OutOfMemoryError extends CacheError {
  constructor(message: string) { super('OUT_OF_MEMORY', message); }
}

/** incr/decr on a value that is not a decimal number below 2^64. */
export class NonNumericValueError extends CacheError {
  constructor(message: string) { super('NON_NUMERIC_VALUE', message); }
}

/** The store could not be created (its memory could not be allocated). */
export class CreateCacheError extends CacheError {
  constructor(message: string) { super('CREATE_FAILED', message); }
}

/** load(): the bytes are not a whole, intact snapshot (truncated, corrupt,
 *  another format or version). */
export class InvalidSnapshotError extends CacheError {
  constructor(message: string) { super('INVALID_SNAPSHOT', message); }
}
