// The host <-> engine contract: every number both sides need, declared once.
// Written in the shared subset (plain `const`s of u32), so the host imports
// this very file and the engine compiles it; nothing here is copied by hand.
//
// A store is one contiguous range of linear memory that begins with a header
// (see H_* below). The host reads results (R_*) and writes its own counters
// (HS_*) at fixed offsets from the store's base; everything else in the store
// is the engine's. Because the header holds all state, a copy of the range is
// a complete copy of the cache (warm restarts use a portable item stream
// instead, see assembly/snapshot.ts).

/** Bumped whenever the header or item layout changes; checked at load. */
export const LAYOUT_VERSION: u32 = 3;
export const STORE_MAGIC: u32 = 0x6d634157; // "WAcm"

// ---- execute / tick status codes (ST_*) ------------------------------------
/** Every complete command ran; R_CONSUMED < len leaves a partial command. */
export const ST_OK: u32 = 0;
/** The output region filled: send R_OUT_LEN bytes, then call again with the
 *  input from R_CONSUMED on (the engine resumes a multiget where it stopped). */
export const ST_OUT_FULL: u32 = 1;
/** Send R_OUT_LEN bytes, then close the connection (quit, junk, HTTP). */
export const ST_CLOSE: u32 = 2;
/** `shutdown` with -A: send R_OUT_LEN bytes, then stop the server. */
export const ST_SHUTDOWN: u32 = 3;
/** mc_init: the arena could not be allocated. */
export const ST_NO_MEMORY: u32 = 4;
/** A storage command's line is complete and its item allocated, but its
 *  value has not all arrived. R_CONSUMED covers the commands before it. The
 *  host keeps the command's first R_VALUE_AT bytes (its line, or binary
 *  header, extras and key), copies the next R_VALUE_LEN bytes of the stream
 *  straight into the item at R_VALUE_PTR as they arrive, keeps the
 *  R_VALUE_TRAILER bytes after them (the CRLF of text and meta) in
 *  R_VALUE_TAIL, and then calls again with the kept bytes followed by the
 *  rest of the stream: the command runs with its value already in place
 *  (memcached's conn_nread, without a per-connection copy of the value). */
export const ST_VALUE: u32 = 5;

/** `snapshot`: send R_OUT_LEN bytes, write a snapshot (-e), then answer the
 *  command (`OK` once it is on disk) and go on with R_CONSUMED. */
export const ST_SNAPSHOT: u32 = 6;

// ---- option bits passed to mc_init (OPT_*) ---------------------------------
export const OPT_NO_EVICTIONS: u32 = 1;   // -M
export const OPT_NO_CAS: u32 = 2;         // -C
export const OPT_SHUTDOWN: u32 = 4;       // -A
export const OPT_NO_FLUSH: u32 = 8;       // -F
export const OPT_DEBUG_TIME: u32 = 16;    // -o debug_time: enables `debugtime <secs>`
export const OPT_SASL: u32 = 32;          // -S: binary protocol only, SASL PLAIN required
export const OPT_AUTH_FILE: u32 = 64;     // -Y: text protocol only, `set` with "user pass" first
export const OPT_NO_DUMP: u32 = 128;      // -X: no `stats cachedump`, `lru_crawler metadump|mgdump`

// ---- limits (LIMIT_*) -------------------------------------------------------
export const LIMIT_KEY_LEN: u32 = 250;
/** A text line with no '\n' within this many bytes closes the connection
 *  (multigets excepted), as memcached does (CVE-2010-1152). */
export const LIMIT_LINE: u32 = 2048;
export const LIMIT_MIN_ITEM_MAX: u32 = 1024;
/** Slab page size; items larger than a page get pages of their own size. */
export const PAGE_SIZE: u32 = 1048576;
export const MAX_CLASSES: u32 = 63;
/** memcached's relative-exptime bound: above it, exptime is a unix time. */
export const REALTIME_MAXDELTA: u32 = 2592000;

// ---- store header: results of the last mc_execute (R_*) --------------------
export const R_CONSUMED: u32 = 64;   // input bytes fully handled
export const R_OUT_LEN: u32 = 68;    // response bytes in the output region
/** Bytes (counted from R_CONSUMED) the pending command needs before another
 *  call can make progress; 0 when unknown (an unterminated line). */
export const R_NEED: u32 = 72;
/** Bytes the host must drop from the stream after R_CONSUMED: the rest of a
 *  rejected value that had not arrived yet (memcached's conn_swallow). */
export const R_SKIP: u32 = 76;
// ---- per-connection state (R_CONN_STATE) -----------------------------------
// CONN_WORDS words that belong to one connection. The host saves them after
// every call and writes them back before that connection's next call (all 0
// for a new connection), so a connection may pause after any call, and calls
// mc_conn_close with them when the connection goes away (an item receiving
// a value, or pinned while its value is sent, is released there).
export const R_CONN_STATE: u32 = 704;
export const CONN_WORDS: u32 = 12;
/** Where a multiget stopped by ST_OUT_FULL resumes (keys already answered;
 *  0 = start fresh). */
export const R_RESUME: u32 = 704;
/** The protocol the connection speaks, decided from its first byte
 *  (CONN_TEXT / CONN_BINARY), and whether it has authenticated. */
export const R_CONN: u32 = 708;
/** The in-flight item of an ST_VALUE, 0 = none. */
export const R_VALUE_ITEM: u32 = 712;
/** Set by the host when the value is in place: VALUE_READY | the trailer
 *  bytes that followed it (first byte in bits 0-7, second in 8-15). */
export const R_VALUE_TAIL: u32 = 716;
export const VALUE_READY: u32 = 0x10000;
/** A text multiget longer than the input: the command whose keys are
 *  still arriving (MGET_*), 0 = none. */
export const R_MGET: u32 = 720;
/** Its expiry (gat, gats). */
export const R_MGET_EXPTIME: u32 = 724;
/** An item whose value did not fit the output: sent from R_SEND_OFF on at
 *  the start of the next call; pinned until then. */
export const R_SEND_ITEM: u32 = 728;
/** Bytes of the value already sent | SEND_CRLF when "\r\n" follows it. */
export const R_SEND_OFF: u32 = 732;
export const SEND_CRLF: u32 = 0x80000000;
/** A key dump in progress (`lru_crawler metadump|mgdump`, `stats
 *  cachedump`, proto/dump.ts):
 *  its DUMP_* kind, 0 = none. Its command line stays unconsumed and the call
 *  ends with ST_OUT_FULL until the dump's last line is written. */
export const R_DUMP: u32 = 736;
/** Where the dump resumes: page index, then chunk index within the page. */
export const R_DUMP_PAGE: u32 = 740;
export const R_DUMP_CHUNK: u32 = 744;
/** The dump's serial number; the store's H_DUMP_OWNER while it runs. A
 *  DUMP_CACHE owns nothing (memcached answers it outside its crawler), so
 *  this word holds its lines written so far, for its limit. */
export const R_DUMP_ID: u32 = 748;
export const DUMP_META: u32 = 1;
export const DUMP_MG: u32 = 2;
/** `stats cachedump <class> <limit>` (proto/dump.ts). */
export const DUMP_CACHE: u32 = 3;

// ---- results of an ST_VALUE (see ST_VALUE) --------------------------------
export const R_VALUE_PTR: u32 = 640;
export const R_VALUE_LEN: u32 = 644;
export const R_VALUE_AT: u32 = 648;
export const R_VALUE_TRAILER: u32 = 652;
/** In, set by the host: most bytes a call may write to the output region
 *  (0 = the whole region). Bounds what one connection makes the host hold. */
export const H_OUT_LIMIT: u32 = 656;
export const CONN_PROTOCOL: u32 = 3;   // mask: 0 = not decided yet
export const CONN_TEXT: u32 = 1;
export const CONN_BINARY: u32 = 2;
export const CONN_AUTHENTICATED: u32 = 4;
/** A SASL exchange is waiting for its SASL_STEP. */
export const CONN_SASL_STARTED: u32 = 8;

// ---- store header: results of the last mc_op (R_OP_*) ---------------------
// mc_op (assembly/embed.ts) runs one logical operation for an embedding host:
// the key, then the value, at the start of the input region; a value or
// incr/decr digits come back at the start of the output region.
export const R_OP_VLEN: u32 = 224;     // bytes in the output region
export const R_OP_FLAGS: u32 = 228;    // client flags of the item read
export const R_OP_CAS_LO: u32 = 232;   // CAS unique of the item read or stored
export const R_OP_CAS_HI: u32 = 236;

// mc_op operations (OP_*)
export const OP_GET: u32 = 1;
export const OP_SET: u32 = 2;
export const OP_ADD: u32 = 3;
export const OP_REPLACE: u32 = 4;
export const OP_APPEND: u32 = 5;
export const OP_PREPEND: u32 = 6;
/** Compare-and-set: (casHi, casLo) is the unique from OP_GET. */
export const OP_CAS: u32 = 7;
export const OP_DELETE: u32 = 8;
export const OP_TOUCH: u32 = 9;
/** incr / decr: (casHi, casLo) is the 64-bit delta; digits in the output. */
export const OP_INCR: u32 = 10;
export const OP_DECR: u32 = 11;
export const OP_FLUSH: u32 = 12;
/** Like OP_GET without counting a fetch or copying the value. */
export const OP_HAS: u32 = 13;
/** Counters as u32 words in the output region, at OPS_* indexes. */
export const OP_STATS: u32 = 14;

// mc_op results (OPR_*)
export const OPR_OK: u32 = 0;          // found / stored / deleted / touched
export const OPR_NOT_FOUND: u32 = 1;
export const OPR_NOT_STORED: u32 = 2;
export const OPR_EXISTS: u32 = 3;
export const OPR_TOO_LARGE: u32 = 4;   // over -I: nothing changed
export const OPR_NO_MEMORY: u32 = 5;
export const OPR_NON_NUMERIC: u32 = 6;
export const OPR_BAD_REQUEST: u32 = 7; // key length or operation out of range

// OP_STATS words (OPS_*), 64-bit counters as (lo, hi)
export const OPS_ITEMS: u32 = 0;
export const OPS_BYTES_LO: u32 = 1;
export const OPS_BYTES_HI: u32 = 2;
export const OPS_HITS_LO: u32 = 3;
export const OPS_HITS_HI: u32 = 4;
export const OPS_MISSES_LO: u32 = 5;
export const OPS_MISSES_HI: u32 = 6;
export const OPS_EVICTIONS_LO: u32 = 7;
export const OPS_EVICTIONS_HI: u32 = 8;
export const OPS_LIMIT_MB: u32 = 9;
export const OPS_COUNT: u32 = 10;

// ---- snapshots (assembly/snapshot.ts) --------------------------------------
// mc_dump writes item records to the output region (R_OUT_LEN bytes) and
// mc_load links the records in the input region (R_CONSUMED bytes); the
// record layout is at the top of assembly/snapshot.ts.
/** Records written by the last mc_dump, or linked by the last mc_load. */
export const R_SNAP_ITEMS: u32 = 224;
/** Records the last mc_load dropped: expired, over -I, or no memory. */
export const R_SNAP_DROPPED: u32 = 228;
/** The dump's cursor (page, chunk address), kept across mc_dump calls. */
export const H_SNAP_PAGE: u32 = 660;
export const H_SNAP_CHUNK: u32 = 664;
/** In and out, set by the host before each mc_execute: most commands the
 *  call may complete (memcached's -R, requests per event), 0 = no limit.
 *  The engine counts it down per completed command and ends the call with
 *  ST_OK when it reaches 0; R_CONSUMED says how far it got, and the host
 *  lets other connections run before calling again (stats conn_yields). */
export const H_REQS_LEFT: u32 = 668;
/** Bytes before a record's key. */
export const SNAP_RECORD_HEADER: u32 = 21;

// ---- store header: regions and sizes ----------------------------------------
export const H_IN_PTR: u32 = 80;     // input region address
export const H_IN_CAP: u32 = 84;     // input region size
export const H_OUT_PTR: u32 = 88;    // output region address
export const H_OUT_CAP: u32 = 92;
export const H_VERBOSITY: u32 = 96;  // set by `verbosity N`; the host logs by it
export const H_STORE_BYTES: u32 = 100; // whole store, header to last page

// ---- store header: settings the host may write after mc_init ----------------
/** Slab automove level (memcached's -o slab_automove, `slabs automove`):
 *  0 moves a page only to a class that has none to evict from, 1 (default)
 *  also moves free pages to the pool and pages from a clearly older class. */
export const H_AUTOMOVE: u32 = 204;
/** Seconds a class must go without evicting or growing before its excess
 *  free pages return to the global pool (-o slab_automove_window). */
export const H_AUTOMOVE_WINDOW: u32 = 212;
export const AUTOMOVE_WINDOW_DEFAULT: u32 = 30;
/** The background expiry crawler: 1 (default) or 0 (-o no_lru_crawler,
 *  `lru_crawler enable|disable`). */
export const H_CRAWLER_ON: u32 = 208;

// ---- host-maintained counters (HS_*), 8 bytes each (lo u32, hi u32) --------
// The host writes these; `stats` prints them.
export const HS_BASE: u32 = 512;
export const HS_PID: u32 = 0;
export const HS_CURR_CONNECTIONS: u32 = 1;
export const HS_TOTAL_CONNECTIONS: u32 = 2;
export const HS_REJECTED_CONNECTIONS: u32 = 3;
export const HS_CONNECTION_STRUCTURES: u32 = 4;
export const HS_MAX_CONNECTIONS: u32 = 5;
export const HS_RUSAGE_USER_US: u32 = 6;
export const HS_RUSAGE_SYSTEM_US: u32 = 7;
export const HS_IDLE_KICKS: u32 = 8;
export const HS_TCP_PORT: u32 = 9;
export const HS_IDLE_TIMEOUT: u32 = 10;
export const HS_THREADS: u32 = 11;
export const HS_LISTEN_DISABLED: u32 = 12;
export const HS_CONN_YIELDS: u32 = 13;
export const HS_UNIX_SOCKET: u32 = 14;   // 1 when listening on a unix socket
/** --warm-from (WARM_*): 0 when not warming from another node, so `stats`
 *  prints no warm_* lines and stays memcached's otherwise. */
export const HS_WARM_STATE: u32 = 15;
export const HS_COUNT: u32 = 16;
// Slots from HS_COUNT on live at HS_EXT_BASE (the first block is full; the
// header words 672..703 were unused).
export const HS_EXT_BASE: u32 = 672;
export const HS_WARM_COPIED: u32 = 16;   // items stored here from the old node
export const HS_WARM_SKIPPED: u32 = 17;  // listed but not stored: newer here, deleted here, gone there, too large
export const HS_WARM_ERRORS: u32 = 18;   // error replies from the old node, items this node could not store
export const HS_WARM_ELAPSED: u32 = 19;  // seconds since warming began (frozen when it ends)
export const HS_EXT_COUNT: u32 = 4;
export const WARM_IDLE: u32 = 1;
export const WARM_COPYING: u32 = 2;
export const WARM_DONE: u32 = 3;
export const WARM_FAILED: u32 = 4;

// ---- settings of the host's command line (HSET_*), one u32 word each ------
// Written by the host after mc_init; the engine reads them for `stats
// settings` and (HSET_PROTOCOL) for the protocol a connection may speak.
// They sit at the end of the second engine-counter block, whose first slots
// hold counters 32.. (assembly/stats.ts).
export const HOST_SETTINGS: u32 = 960;
export const HSET_WORDS: u32 = 16;
/** -B: which protocol connections may speak (BIND_*). */
export const HSET_PROTOCOL: u32 = 0;
export const BIND_AUTO: u32 = 0;
export const BIND_ASCII: u32 = 1;
export const BIND_BINARY: u32 = 2;
/** -R: requests per event (the host enforces it through H_REQS_LEFT). */
export const HSET_REQS_PER_EVENT: u32 = 1;
/** -b: the listen backlog. */
export const HSET_TCP_BACKLOG: u32 = 2;
/** -D: the stats prefix delimiter's byte; 0 = not given (':', detail off). */
export const HSET_PREFIX_DELIMITER: u32 = 3;
/** -o hashpower: the initial hash power asked for, 0 = not given. */
export const HSET_HASHPOWER_INIT: u32 = 4;
/** -o no_lru_maintainer (or no_modern): 1; `stats` then leaves out the
 *  LRU maintainer's fields, as memcached's does. */
export const HSET_NO_LRU_MAINTAINER: u32 = 5;
/** -o no_modern, or `lru mode flat` (the engine writes it too): 1 makes every
 *  allocation first reclaim an expired or flushed item near its class's LRU
 *  tail, as memcached's flat LRU does before taking free memory. */
export const HSET_LRU_FLAT: u32 = 6;
