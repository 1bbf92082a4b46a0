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
export const LAYOUT_VERSION: u32 = 6;
export const STORE_MAGIC: u32 = 0x6d634157; // "WAcm"
/** The first word of a thread context (mc_context). */
export const CONTEXT_MAGIC: u32 = 0x78634157; // "WAcx"

// ---- thread contexts (CTX_*) ------------------------------------------------
// With -t N, N threads execute on one store, one call at a time under the
// engine lock (src/engine/lock.ts). Each thread has a context (mc_context):
// a block laid out like the store's first REGIONS bytes, with its own input
// and output regions. Around each call, under the lock, the host copies the
// context's CTX_IN_* byte ranges into the store's header, makes the call,
// and copies the CTX_OUT_* ranges (and the call's log records) back: so the
// engine keeps working on one header, and a thread reads its results,
// output and connection state from its own context, unlocked, after the
// call. Everything else in the header is the store's and shared.
/** In: the thread's input and output regions (H_IN_PTR .. H_OUT_CAP). */
export const CTX_IN_IO: u32 = 80;
export const CTX_IN_IO_END: u32 = 96;
/** Out: R_CONSUMED .. R_SKIP, and the regions as they were. */
export const CTX_OUT_RESULTS: u32 = 64;
/** Out: R_OP_* and R_SNAP_*. */
export const CTX_OUT_OP: u32 = 224;
export const CTX_OUT_OP_END: u32 = 240;
/** In and out: R_VALUE_* / R_WARM_KEYS_LEN, H_OUT_LIMIT. */
export const CTX_VALUE: u32 = 640;
export const CTX_VALUE_END: u32 = 660;
/** In and out: the connection state (R_CONN_STATE, CONN_WORDS words). */
export const CTX_CONN: u32 = 704;
export const CTX_CONN_END: u32 = 756;
/** In and out: H_REQS_LEFT. */
export const CTX_REQS: u32 = 896;
export const CTX_REQS_END: u32 = 900;

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
/** While warming (H_WARMING): the call stopped before a get-family or
 *  delete-family command whose keys the warmer must see first, leaving it
 *  unconsumed (proto/warm_keys.ts). R_CONSUMED and R_OUT_LEN cover the
 *  commands before it; the R_WARM_KEYS_LEN bytes after the output are the
 *  list (WARM_KEY_* entries). The host handles the list (asks the old node
 *  for missing keys, stores its hits with add semantics, remembers deleted
 *  keys), then calls again with the same input: R_WARM_CHECKED makes the
 *  checked commands run normally, exactly once. */
export const ST_WARM_KEYS: u32 = 7;

/** `stats conns` (text): send R_OUT_LEN bytes, then the host's STAT lines
 *  for each socket and `END`, and go on with R_CONSUMED: the connections are
 *  the host's, not the engine's. */
export const ST_STATS_CONNS: u32 = 9;

/** `watch [kinds]` (text): send R_OUT_LEN bytes, then make the connection a
 *  watcher of the LOGW_* kinds in LOG_WATCH_REQUEST: the host answers `OK`
 *  and streams log lines to it; the rest of its input is ignored. */
export const ST_WATCH: u32 = 12;

/** `refresh_certs` (text): send R_OUT_LEN bytes, then the host's answer
 *  (it reloads the TLS certificates of -Z), and go on with R_CONSUMED. */
export const ST_REFRESH_CERTS: u32 = 14;

// ---- option bits passed to mc_init (OPT_*) ---------------------------------
export const OPT_NO_EVICTIONS: u32 = 1;   // -M
export const OPT_NO_CAS: u32 = 2;         // -C
export const OPT_SHUTDOWN: u32 = 4;       // -A
export const OPT_NO_FLUSH: u32 = 8;       // -F
export const OPT_DEBUG_TIME: u32 = 16;    // -o debug_time: enables `debugtime <secs>`
export const OPT_SASL: u32 = 32;          // -S: binary protocol only, SASL PLAIN required
export const OPT_AUTH_FILE: u32 = 64;     // -Y: text protocol only, `set` with "user pass" first
export const OPT_NO_DUMP: u32 = 128;      // -X: no `stats cachedump`, `lru_crawler metadump|mgdump`
export const OPT_NO_WATCH: u32 = 256;     // -W: no `watch`

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
export const CONN_WORDS: u32 = 13;
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
/** Bytes from the resume point whose watched commands were checked for
 *  warming (ST_WARM_KEYS): they run without being checked again. */
export const R_WARM_CHECKED: u32 = 752;
export const DUMP_META: u32 = 1;
export const DUMP_MG: u32 = 2;
/** `stats cachedump <class> <limit>` (proto/dump.ts). */
export const DUMP_CACHE: u32 = 3;

// ---- results of an ST_VALUE (see ST_VALUE) --------------------------------
export const R_VALUE_PTR: u32 = 640;
export const R_VALUE_LEN: u32 = 644;
export const R_VALUE_AT: u32 = 648;
export const R_VALUE_TRAILER: u32 = 652;
// ---- results of an ST_WARM_KEYS (see ST_WARM_KEYS; never with ST_VALUE) ----
/** Bytes of the key list, which starts right after the R_OUT_LEN bytes of
 *  output. Entry: kind (WARM_KEY_*), key length, key bytes. */
export const R_WARM_KEYS_LEN: u32 = 640;
/** A get-family command will read this key, which is not here (or expired). */
export const WARM_KEY_LOOKUP: u32 = 1;
/** A delete-family command will delete this key. */
export const WARM_KEY_DELETE: u32 = 2;
/** flush_all (text or binary) will run; no key. */
export const WARM_KEY_FLUSH: u32 = 3;
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
/** Set by the host: the UDP port it listens on (-U), 0 = none; `stats
 *  settings` reports it as udpport. */
export const H_UDP_PORT: u32 = 668;
/** In and out, set by the host before each mc_execute: most commands the
 *  call may complete (memcached's -R, requests per event), 0 = no limit.
 *  The engine counts it down per completed command and ends the call with
 *  ST_OK when it reaches 0; R_CONSUMED says how far it got, and the host
 *  lets other connections run before calling again (stats conn_yields). */
export const H_REQS_LEFT: u32 = 896;
/** Set by mc_execute and mc_conn_close as they end: 0 when every connection
 *  word in the header but R_CONN is zero (the usual case: no multiget,
 *  value, send or dump in progress), else 1. The host then saves and loads
 *  only R_CONN for a connection whose other words it knows are zero, and
 *  sets this to 1 whenever it writes the other words itself. The store's,
 *  not a thread context's: it describes the header the next call starts
 *  from, whichever thread makes it. */
export const R_CONN_BUSY: u32 = 900;
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
/** Set by the host while it warms from an old node (--warm-from):
 *  WARMING_* bits saying which commands end a call with ST_WARM_KEYS. */
export const H_WARMING: u32 = 216;
/** Deletes and flushes: a key deleted here must not come back. */
export const WARMING_DELETES: u32 = 1;
/** Gets of keys not here: miss-through to the old node. */
export const WARMING_MISS_THROUGH: u32 = 2;
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
// Slots from HS_EXT2_FIRST on live at HS_EXT2_BASE, after the second
// engine-counter block (ids 32..47 at 768..895) and H_REQS_LEFT (896): 7
// slots up to HOST_SETTINGS (960).
export const HS_EXT2_FIRST: u32 = 20;
export const HS_EXT2_BASE: u32 = 904;
export const HS_RESPONSE_OBJ_COUNT: u32 = 20; // pooled reply slots in use (src/output-pool.ts)
export const HS_RESPONSE_OBJ_BYTES: u32 = 21; // bytes of the pool's blocks
export const HS_READ_BUF_COUNT: u32 = 22;     // read buffers (one shared by every connection)
export const HS_READ_BUF_BYTES: u32 = 23;
export const HS_METRICS_PORT: u32 = 24;       // -o metrics_port once bound; 0 = no metrics endpoint
export const HS_SSL_HANDSHAKE_ERRORS: u32 = 25; // -Z: TLS handshakes that failed
/** -Z: unix seconds when the certificates were last loaded; 0 = TLS off, so
 *  `stats` prints no ssl_* lines (memcached prints them only with -Z). */
export const HS_SSL_CERT_LOADED: u32 = 26;
export const HS_EXT2_COUNT: u32 = 7;
// ---- `stats detail` region (assembly/detail.ts) ------------------------------
export const DETAIL_REGION: u32 = 65536;
// words at its start:
export const DETAIL_COUNT: u32 = 0;      // prefixes recorded
export const DETAIL_POOL_USED: u32 = 4;  // bytes of prefix text stored
export const DETAIL_ENABLED: u32 = 8;    // `stats detail on|off`
/** The prefix delimiter byte (-D); the host may write it after mc_init. */
export const DETAIL_DELIM: u32 = 12;

/** Arena offset of host counter `id` (8 bytes). */
export function hostStatOffset(id: u32): u32 {
  if (id < HS_COUNT) return HS_BASE + (id << 3);
  if (id < HS_EXT2_FIRST) return HS_EXT_BASE + ((id - HS_COUNT) << 3);
  return HS_EXT2_BASE + ((id - HS_EXT2_FIRST) << 3);
}

// Miss-through counters, written by the host (32-bit: the rest of the host
// counter blocks is taken).
export const H_WARM_MISS_THROUGH: u32 = 756;  // gets of keys not here while warming
export const H_WARM_MISS_HITS: u32 = 760;     // of those, found on the old node and answered from it
export const H_WARM_MISS_TIMEOUTS: u32 = 764; // of those, answered from here because the old node was too slow
export const WARM_IDLE: u32 = 1;
export const WARM_COPYING: u32 = 2;
export const WARM_DONE: u32 = 3;
export const WARM_FAILED: u32 = 4;

// ---- log records (assembly/log.ts) -------------------------------------------
// What the host prints at -vv / -vvv and streams to `watch` connections. The
// engine writes records here during an mc_execute only when someone wants
// them (verbosity >= 2, or LOG_WATCH != 0); each call starts the records
// afresh, so the host reads them after every call, like the output region.
export const LOG_REGION: u32 = 98304;
export const LOG_REGION_SIZE: u32 = 131072;
// words at its start:
/** In, set by the host: the LOGW_* kinds some watcher wants. */
export const LOG_WATCH: u32 = 0;
/** Record bytes the last mc_execute wrote, from LOG_RECORDS on (mc_init:
 *  the slab class table). */
export const LOG_USED: u32 = 4;
/** After ST_WATCH: the LOGW_* kinds the `watch` command asked for. */
export const LOG_WATCH_REQUEST: u32 = 8;
// 64-bit counters (lo, hi) that `stats` prints and `stats reset` zeroes:
/** Records that did not fit (engine): log_worker_dropped. */
export const LOG_DROPPED: u32 = 16;
/** Log entries made for watchers (host): log_worker_written. */
export const LOG_WRITTEN: u32 = 24;
/** Lines a full watcher did not get (host): log_watcher_skipped. */
export const LOG_SKIPPED: u32 = 32;
/** Lines handed to watchers (host): log_watcher_sent. */
export const LOG_SENT: u32 = 40;
/** Watching connections now (host): log_watchers. */
export const LOG_WATCHERS: u32 = 48;
export const LOG_RECORDS: u32 = 128;
/** Bytes of log lines the host queues for one watcher before it skips
 *  lines (memcached's watcher_logbuf_size). */
export const LOG_WATCHER_QUEUE: u32 = 262144;
/** A record: kind, three byte fields, payload length, three words, then the
 *  payload (text, a key or a binary header), padded to 4 bytes:
 *    +0 kind (LR_*)  +1 a  +2 b  +3 c  +4 payload bytes  +8 w0  +12 w1  +16 w2 */
export const LOG_RECORD_HEADER: u32 = 20;
// record kinds (LR_*), with what a, b, c and w0..w2 hold
/** -vv: "<fd payload" (a command line, a binary request's summary). */
export const LR_IN: u32 = 1;
/** -vv: ">fd payload" (a reply line); a = 1: memcached's "NOREPLY " prefix. */
export const LR_OUT: u32 = 2;
/** -vv: the payload alone. */
export const LR_PLAIN: u32 = 3;
/** -vv: a binary request header (payload: its 24 bytes). */
export const LR_BIN_READ: u32 = 4;
/** -vv: a binary response header (payload: its 24 bytes). */
export const LR_BIN_WRITE: u32 = 5;
/** An item lookup: a = LG_* status, b = class, c = LRF_* bits, w0 = value
 *  bytes; payload: the key. */
export const LR_ITEM_GET: u32 = 6;
/** A store: a = LS_* status, b = class, c = command (memcached's NREAD_*:
 *  1 add, 2 set, 3 replace, 4 append, 5 prepend, 6 cas), w0 = value bytes,
 *  w1 = seconds to expiry (0: none); payload: the key. */
export const LR_ITEM_STORE: u32 = 7;
/** An eviction: a = 1 if fetched, b = class, w0 = value bytes, w1 = seconds
 *  to expiry (signed, -1: none), w2 = seconds since last access; payload: key. */
export const LR_EVICTION: u32 = 8;
/** A delete: a = LD_* command, b = class, w0 = value bytes; payload: key. */
export const LR_DELETED: u32 = 9;
/** The client asked to close (quit): its connection ends normally. */
export const LR_QUIT: u32 = 10;
/** At mc_init, one per slab class: w0 = class, w1 = chunk size, w2 = chunks per page. */
export const LR_SLAB_CLASS: u32 = 11;
/** LR_ITEM_GET: print at -vvv ("> FOUND KEY"); stream to fetchers watchers. */
export const LRF_DETAIL: u32 = 1;
export const LRF_WATCH: u32 = 2;
// LR_ITEM_GET statuses, memcached's was_found
export const LG_NOT_FOUND: u32 = 0;
export const LG_FOUND: u32 = 1;
export const LG_FLUSHED: u32 = 2;
export const LG_EXPIRED: u32 = 3;
// LR_ITEM_STORE statuses, memcached's store_item_type
export const LS_NOT_STORED: u32 = 0;
export const LS_STORED: u32 = 1;
export const LS_EXISTS: u32 = 2;
export const LS_NOT_FOUND: u32 = 3;
export const LS_TOO_LARGE: u32 = 4;
export const LS_NO_MEMORY: u32 = 5;
// LR_DELETED commands
export const LD_DELETE: u32 = 1;
export const LD_MD: u32 = 2;
// watch kinds (LOGW_*): LOG_WATCH, LOG_WATCH_REQUEST
export const LOGW_FETCHERS: u32 = 1;
export const LOGW_MUTATIONS: u32 = 2;
export const LOGW_EVICTIONS: u32 = 4;
export const LOGW_DELETIONS: u32 = 8;
/** Connection opens and closes: the host's own events. */
export const LOGW_CONNEVENTS: u32 = 16;
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
/** -a: the unix socket's access mask (`stats settings` umask). */
export const HSET_UNIX_MASK: u32 = 7;
/** --warm-from: words 8..15 hold the old node's `host:port` as text, NUL
 *  padded (at most HSET_WARM_FROM_BYTES; longer names are cut), for `stats
 *  settings`' warm_from line; all zero when not warming. */
export const HSET_WARM_FROM: u32 = 8;
export const HSET_WARM_FROM_BYTES: u32 = 32;

/** `stats settings`' ssl_* lines, rendered by the host (they hold file
 *  names): a u32 byte count, then that many bytes of STAT lines. 0 bytes
 *  (a store no host has set, as the embedded builds): `ssl_enabled no`. It
 *  is the top of the engine's scratch area, which uses less than 8 KiB. */
export const HOST_TLS_TEXT: u32 = 46080;
export const HOST_TLS_TEXT_MAX: u32 = 3072;

/** `stats settings`' strings that only the host knows, HOST_STRING_SLOT
 *  bytes each (HSTR_* ids): a u32 byte count, then the bytes; 0 bytes: the
 *  engine prints memcached's default. Below HOST_TLS_TEXT in the scratch
 *  area's unused top. */
export const HOST_STRINGS: u32 = 43008;
export const HOST_STRING_SLOT: u32 = 768;
/** -l as given (memcached's `inter`; NULL when not given). */
export const HSTR_INTER: u32 = 0;
/** -s, the unix socket's path (memcached's `domain_socket`). */
export const HSTR_DOMAIN_SOCKET: u32 = 1;
/** -e, the snapshot file (memcached's `memory_file`, listed last; `(null)` when not given). */
export const HSTR_MEMORY_FILE: u32 = 2;
/** -N, the NAPI ids (memcached's `num_napi_ids`: `(null)` when not given). */
export const HSTR_NAPI_IDS: u32 = 3;
export const HSTR_COUNT: u32 = 3 + 1;
