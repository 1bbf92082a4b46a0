// memcached's -vv and -vvv lines, made from the engine's log records
// (assembly/log.ts): each command and reply of a connection ("<fd get k",
// ">fd sending key k", ">fd END"), binary request and response headers in
// hex, item lookups at -vvv ("> FOUND KEY k"), and the slab class table
// memcached prints at start. Formats are memcached 1.6.18's (proto_text.c,
// proto_bin.c, items.c, slabs.c).
import {
  LR_IN, LR_OUT, LR_PLAIN, LR_BIN_READ, LR_BIN_WRITE, LR_ITEM_GET, LR_SLAB_CLASS, LRF_DETAIL, LG_NOT_FOUND,
  LG_FLUSHED, LG_EXPIRED,
} from '../assembly/abi.js';
import { payloadOf, type LogRecord } from './engine-log.js';

/** Printable text of a payload: its bytes as memcached writes them. */
export function payloadText(r: LogRecord): string {
  return Buffer.from(r.bytes.buffer, r.bytes.byteOffset + r.at, r.len).toString('latin1');
}

/** A binary header as memcached dumps it: four bytes a line after `prefix`. */
function hexHeader(prefix: string, bytes: Uint8Array, out: string[]): void {
  for (let i = 0; i < bytes.length; i += 4) {
    let line = prefix;
    for (let j = i; j < i + 4 && j < bytes.length; j++) line += ' 0x' + bytes[j].toString(16).padStart(2, '0');
    out.push(line);
  }
}

/** Appends the -vv/-vvv lines of record `r` of connection `fd` to `out`;
 *  `level` is the verbosity now (lookups print at 3). */
export function verboseLines(r: LogRecord, fd: number, level: number, out: string[]): void {
  switch (r.kind) {
    case LR_IN:
      out.push(`<${fd} ${payloadText(r)}`);
      break;
    case LR_OUT:
      out.push(`>${fd} ${r.a !== 0 ? 'NOREPLY ' : ''}${payloadText(r)}`);
      break;
    case LR_PLAIN:
      out.push(payloadText(r));
      break;
    case LR_BIN_READ:
      out.push(`<${fd} Read binary protocol data:`);
      hexHeader(`<${fd}   `, payloadOf(r), out);
      break;
    case LR_BIN_WRITE:
      out.push(`>${fd} Writing bin response:`);
      hexHeader(`>${fd}  `, payloadOf(r), out);
      break;
    case LR_ITEM_GET:
      if ((r.c & LRF_DETAIL) !== 0 && level >= 3) out.push(lookupLine(r));
      break;
  }
}

/** items.c do_item_get at -vvv. */
function lookupLine(r: LogRecord): string {
  const key = payloadText(r);
  if (r.a === LG_NOT_FOUND) return `> NOT FOUND ${key}`;
  if (r.a === LG_FLUSHED) return `> FOUND KEY ${key} -nuked by flush`;
  if (r.a === LG_EXPIRED) return `> FOUND KEY ${key} -nuked by expire`;
  return `> FOUND KEY ${key}`;
}

/** slabs_init's line for one class ("slab class   1: chunk size        96 perslab   10922"). */
export function slabClassLine(r: LogRecord): string | null {
  if (r.kind !== LR_SLAB_CLASS) return null;
  return `slab class ${String(r.w0).padStart(3)}: chunk size ${String(r.w1).padStart(9)} perslab ${String(r.w2).padStart(7)}`;
}
