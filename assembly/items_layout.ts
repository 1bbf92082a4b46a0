// Item header layout. An item is one slab chunk:
//
//   off size field       meaning
//   0   4    IT_HNEXT    next item in the same hash bucket (0 = end)
//   4   4    IT_PREV     LRU neighbour towards the head; free list when free
//   8   4    IT_NEXT     LRU neighbour towards the tail; free list when free
//   12  4    IT_HASH     murmur3 of the key (saves rehashing on expansion)
//   16  4    IT_EXPTIME  relative expiry time, 0 = never
//   20  4    IT_TIME     last store or access time (relative seconds)
//   24  4    IT_FLAGS    client flags
//   28  4    IT_VLEN     value bytes (no CRLF stored)
//   32  8    IT_CAS      CAS unique, lo word then hi word
//   40  1    IT_KLEN     key bytes (1..250)
//   41  1    IT_CLS      slab class
//   42  1    IT_IFLAGS   IF_* bits
//   43  1    IT_REFS     connections sending this item's value (pins it)
//   44  ...  key bytes, then value bytes
//
// All addresses are u32 offsets into linear memory; chunks are 8-aligned.
export const IT_HNEXT: u32 = 0;
export const IT_PREV: u32 = 4;
export const IT_NEXT: u32 = 8;
export const IT_HASH: u32 = 12;
export const IT_EXPTIME: u32 = 16;
export const IT_TIME: u32 = 20;
export const IT_FLAGS: u32 = 24;
export const IT_VLEN: u32 = 28;
export const IT_CAS_LO: u32 = 32;
export const IT_CAS_HI: u32 = 36;
export const IT_KLEN: u32 = 40;
export const IT_CLS: u32 = 41;
export const IT_IFLAGS: u32 = 42;
export const IT_REFS: u32 = 43;
export const IT_KEY: u32 = 44;
export const ITEM_HEADER: u32 = 44;

/** In the hash table and an LRU. */
export const IF_LINKED: u32 = 1;
/** On its class's free list. */
export const IF_FREE: u32 = 2;
/** Read at least once since stored. */
export const IF_FETCHED: u32 = 4;
/** Read again after IF_FETCHED: gets a second chance at the LRU tail. */
export const IF_ACTIVE: u32 = 8;
/** A client was told it won the right to recompute this item (meta `W`);
 *  others get `Z` until a new value replaces it (memcached's ITEM_TOKEN_SENT). */
export const IF_TOKEN_SENT: u32 = 16;
/** Invalidated by `md ... I` or a stale-allowed `ms`: served with `X`. */
export const IF_STALE: u32 = 32;
/** The key was given base64-encoded (meta `b`): print it encoded. */
export const IF_KEY_BINARY: u32 = 64;
