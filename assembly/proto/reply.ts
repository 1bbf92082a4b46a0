// Reply lines and memcached's `noreply` rule: the flag set by a command's
// last token silences the next reply line of that command, errors included
// (memcached's out_string). Counted replies (VALUE, STAT) do not go through
// here.
import { outStr, outCRLF } from './out';
import { tokPtr, tokIs } from './tokens';
import { LOG_MASK, logReply } from '../log';

let NOREPLY: bool = false;

export function noreplyReset(): void { NOREPLY = false; }

/** True (and clears the flag) if the reply must be suppressed. */
export function noreplyTake(): bool {
  if (NOREPLY) {
    NOREPLY = false;
    return true;
  }
  return false;
}

export function noreplyIsSet(): bool { return NOREPLY; }

/** memcached's out_string: the reply line, unless noreply silences it. */
export function outString(s: string): void {
  const silenced = noreplyTake();
  if (LOG_MASK != 0) logReply(s, silenced);
  if (silenced) return;
  outStr(s);
  outCRLF();
}

/** set_noreply_maybe: the last real token is "noreply". */
export function setNoreplyMaybe(ntok: u32): bool {
  const i = ntok - 2;
  if (tokPtr(i) != 0 && tokIs(i, 'noreply')) NOREPLY = true;
  return NOREPLY;
}
