// memcached's -vv lines for the binary protocol (proto_bin.c): each request
// and response header as hex, a line naming the command and its key, and the
// text of error replies. Text-protocol lines are logged where their replies
// are written (proto/reply.ts, log.ts). Records only; the host prints them.
import { ld8, strLen } from '../mem';
import { LR_IN, LR_OUT, LR_PLAIN, LR_BIN_READ, LR_BIN_WRITE } from '../abi';
import {
  LOG_MASK, LOGV_COMMANDS, logOpen, logClose, logPutBytes, logPutStr, logPutI32, logPutU64, logIsRerun,
} from '../log';

const HEADER: u32 = 24;

function on(): bool { return (LOG_MASK & LOGV_COMMANDS) != 0; }

function be32(p: u32): u32 { return ((ld8(p) << 24) | (ld8(p + 1) << 16) | (ld8(p + 2) << 8) | ld8(p + 3)) >>> 0; }

/** "<fd Read binary protocol data:" and the request header at `req`. */
export function vvBinRead(req: u32): void {
  if (!on() || logIsRerun(req)) return;
  if (!logOpen(LR_BIN_READ, 0, 0, 0, HEADER)) return;
  logPutBytes(req, HEADER);
  logClose();
}

/** ">fd Writing bin response:" and the response header at `p`. */
export function vvBinWrite(p: u32): void {
  if (!on()) return;
  if (!logOpen(LR_BIN_WRITE, 0, 0, 0, HEADER)) return;
  logPutBytes(p, HEADER);
  logClose();
}

/** ">fd Writing an error: <s>" (write_bin_error). */
export function vvBinError(s: string): void {
  if (!on()) return;
  if (!logOpen(LR_OUT, 0, 0, 0, 18 + strLen(s))) return;
  logPutStr('Writing an error: ');
  logPutStr(s);
  logClose();
}

/** "<fd GET <key>" or "<fd TOUCH <key>". */
export function vvBinGet(touch: bool, key: u32, nkey: u32): void {
  if (!on()) return;
  if (!logOpen(LR_IN, 0, 0, 0, 6 + nkey)) return;
  logPutStr(touch ? 'TOUCH ' : 'GET ');
  logPutBytes(key, nkey);
  logClose();
}

/** "<fd SET <key> Value len is <n>" (ADD, REPLACE alike); append and
 *  prepend print "Value len is <n>" alone. Not again when the packet runs
 *  again with its value in place. */
export function vvBinUpdate(req: u32, name: string, key: u32, nkey: u32, vlen: u32): void {
  if (!on() || logIsRerun(req)) return;
  const plain = strLen(name) == 0;
  if (!logOpen(plain ? LR_PLAIN : LR_IN, 0, 0, 0, 40 + nkey)) return;
  if (!plain) {
    logPutStr(name);
    logPutStr(' ');
    logPutBytes(key, nkey);
    logPutStr(' ');
  }
  logPutStr('Value len is ');
  logPutI32(vlen);
  logClose();
}

/** "Deleting <key>". */
export function vvBinDelete(key: u32, nkey: u32): void {
  if (!on()) return;
  if (!logOpen(LR_PLAIN, 0, 0, 0, 9 + nkey)) return;
  logPutStr('Deleting ');
  logPutBytes(key, nkey);
  logClose();
}

/** "incr <key> <delta>, <initial>, <expiration>" (decr too, as memcached):
 *  the delta and expiration signed, from the 20 bytes of extras at `ext`. */
export function vvBinArithmetic(key: u32, nkey: u32, ext: u32): void {
  if (!on()) return;
  if (!logOpen(LR_PLAIN, 0, 0, 0, 80 + nkey)) return;
  logPutStr('incr ');
  logPutBytes(key, nkey);
  logPutStr(' ');
  let hi = be32(ext);
  let lo = be32(ext + 4);
  if ((hi & 0x80000000) != 0) {
    // two's complement of a negative %lld
    logPutStr('-');
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo == 0) hi = (hi + 1) >>> 0;
  }
  logPutU64(hi, lo);
  logPutStr(', ');
  logPutU64(be32(ext + 8), be32(ext + 12));
  logPutStr(', ');
  logPutI32(be32(ext + 16));
  logClose();
}

/** "<fd STATS <group>". */
export function vvBinStat(key: u32, nkey: u32): void {
  if (!on()) return;
  if (!logOpen(LR_IN, 0, 0, 0, 6 + nkey)) return;
  logPutStr('STATS ');
  logPutBytes(key, nkey);
  logClose();
}
