// Outcomes of one command, shared by the protocol front ends: done (advance
// past it), need more input (R_NEED), output full (call again), swallow the
// rest of the stream (R_SKIP), close, shutdown.
import { hget, hset } from '../arena';
import { R_CONSUMED, R_OUT_LEN, R_NEED, R_SKIP, H_REQS_LEFT } from '../abi';
import { outBegin, OUT } from './out';
import { statAdd, C_BYTES_READ, C_BYTES_WRITTEN } from '../stats';

export const P_DONE: u32 = 0;
export const P_NEED: u32 = 1;
export const P_OUT_FULL: u32 = 2;
export const P_SKIP: u32 = 3;
export const P_CLOSE: u32 = 4;
export const P_SHUTDOWN: u32 = 5;
/** The command's value is arriving: end the call with ST_VALUE (values.ts). */
export const P_VALUE: u32 = 6;
/** `snapshot`: end the call with ST_SNAPSHOT; the host answers it. */
export const P_SNAPSHOT: u32 = 7;
/** `stats conns`: end the call with ST_STATS_CONNS; the host lists its connections. */
export const P_STATS_CONNS: u32 = 10;
/** `watch`: end the call with ST_WATCH; the host makes the connection a watcher. */
export const P_WATCH: u32 = 12;
/** `refresh_certs`: end the call with ST_REFRESH_CERTS; the host reloads and answers. */
export const P_REFRESH_CERTS: u32 = 14;

/** Output room kept free before starting a command: every reply other than
 *  a value (stats included) fits in it; values larger than the room left are
 *  sent in pieces (values.ts). The host's output limit must be at least
 *  twice this (binary STAT renders text, then packets, in one call). */
export const OUT_RESERVE: u32 = 65536;
/** Room for the line (text, meta) or header (binary) in front of a value. */
export const VALUE_HEAD_ROOM: u32 = 1024;

// The bookkeeping every executor does around one mc_execute call.
/** Starts a call: replies go to [outPtr, outPtr+outCap); no need, no skip yet. */
export function execBegin(outPtr: u32, outCap: u32): void {
  outBegin(outPtr, outPtr + outCap);
  hset(R_NEED, 0);
  hset(R_SKIP, 0);
}

/** Ends a call: reports how far input was consumed and output written. */
export function execEnd(inPtr: u32, pos: u32, outPtr: u32): void {
  hset(R_CONSUMED, pos - inPtr);
  hset(R_OUT_LEN, OUT - outPtr);
  statAdd(C_BYTES_READ, pos - inPtr);
  statAdd(C_BYTES_WRITTEN, OUT - outPtr);
}

/** Counts one completed command against the call's request budget
 *  (H_REQS_LEFT, memcached's -R); true when the budget is spent and the call
 *  must end so that other connections get their turn. */
export function requestDone(): bool {
  const left = hget(H_REQS_LEFT);
  if (left == 0) return false; // no limit
  hset(H_REQS_LEFT, left - 1);
  return left == 1;
}
