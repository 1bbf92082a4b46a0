// Authentication: SASL PLAIN on the binary protocol (-S) and memcached's
// text-protocol tokens (-Y: the first command must be `set <any> <f> <e> <n>`
// whose data is "user pass"). Both check against the credentials file the
// host copied in with mc_set_auth: one `user:password` per line.
//
// The connection's state is the CONN_AUTHENTICATED bit of R_CONN. It is set
// only by a successful exchange and cleared by every failed or aborted one,
// so a bad attempt never leaves a connection authenticated (the class of bug
// behind memcached's CVE-2013-7239).
import { ld8, find, eq } from '../mem';
import { S, hget, hset, AUTH_DATA, H_AUTH_LEN, H_IN_CAP } from '../arena';
import { R_CONN, R_NEED, CONN_AUTHENTICATED, CONN_SASL_STARTED } from '../abi';
import { outStr, outCRLF } from './out';
import { tokenize, tokPtr, tokLen, tokIs, bytesAre } from './tokens';
import { parseU32, N_LO } from '../numbers';
import { statInc, C_AUTH_CMDS, C_AUTH_ERRORS } from '../stats';
import { P_DONE, P_NEED, P_CLOSE } from './flow';
import { binHeader, binError, BS_SUCCESS, BS_AUTH_ERROR, BS_AUTH_CONTINUE, BS_EINVAL } from './binary';

/** memcached's MAX_SASL_MECH_LEN. */
const MAX_MECH_LEN: u32 = 32;

export function connAuthenticated(): bool { return (hget(R_CONN) & CONN_AUTHENTICATED) != 0; }

function setAuthenticated(ok: bool): void {
  const c = hget(R_CONN);
  hset(R_CONN, ok ? (c | CONN_AUTHENTICATED) >>> 0 : (c & ~CONN_AUTHENTICATED) >>> 0);
}

/** Whether user/password appear as one `user:password` line of the file. */
export function credentialsMatch(user: u32, nuser: u32, pass: u32, npass: u32): bool {
  const base = S + AUTH_DATA;
  const end = base + hget(H_AUTH_LEN);
  let p = base;
  while (p < end) {
    const nl = find(p, end, 10);
    let e = nl;
    if (e > p && ld8(e - 1) == 13) e--;
    const colon = find(p, e, 58);
    if (colon < e && colon - p == nuser && e - colon - 1 == npass && nuser > 0 &&
        eq(p, user, nuser) && eq(colon + 1, pass, npass)) return true;
    p = nl + 1;
  }
  return false;
}

/** The outcome of one attempt: counted, and the connection's state set. */
function authResult(ok: bool): void {
  statInc(C_AUTH_CMDS);
  if (!ok) statInc(C_AUTH_ERRORS);
  setAuthenticated(ok);
}

// ---- binary SASL ---------------------------------------------------------------

export function saslListMechs(): void {
  binHeader(BS_SUCCESS, 0, 0, 5);
  outStr('PLAIN');
}

/**
 * SASL_AUTH / SASL_STEP with mechanism [mech, mech+nmech) and data
 * [data, data+n). PLAIN is "[authzid] NUL user NUL pass" (authzid empty or
 * the user); an AUTH with no data asks for it (status 0x21, as Cyrus SASL
 * does) and the STEP that follows carries it. Anything else fails.
 */
export function saslAuth(step: bool, mech: u32, nmech: u32, data: u32, n: u32): void {
  const conn = hget(R_CONN);
  const started = (conn & CONN_SASL_STARTED) != 0;
  hset(R_CONN, (conn & ~CONN_SASL_STARTED) >>> 0);
  if (nmech > MAX_MECH_LEN) {
    binError(BS_EINVAL);
    setAuthenticated(false);
    return;
  }
  const plain = bytesAre(mech, nmech, 'PLAIN');
  if (!step && plain && n == 0) {
    setAuthenticated(false);
    hset(R_CONN, (hget(R_CONN) | CONN_SASL_STARTED) >>> 0);
    binHeader(BS_AUTH_CONTINUE, 0, 0, 0);
    return;
  }
  let ok = false;
  if (plain && (!step || started)) ok = plainMatches(data, n);
  authResult(ok);
  if (ok) {
    binHeader(BS_SUCCESS, 0, 0, 13);
    outStr('Authenticated');
  } else {
    binError(BS_AUTH_ERROR);
  }
}

function plainMatches(data: u32, n: u32): bool {
  const end = data + n;
  const z1 = find(data, end, 0);
  if (z1 == end) return false;
  const user = z1 + 1;
  const z2 = find(user, end, 0);
  if (z2 == end) return false;
  const nuser = z2 - user;
  // authzid: empty, or the user itself (no one may act for another)
  if (z1 != data && (z1 - data != nuser || !eq(data, user, nuser))) return false;
  return credentialsMatch(user, nuser, z2 + 1, end - z2 - 1);
}

// ---- text tokens (-Y) -------------------------------------------------------------

/** The longest "user pass" value a -Y connection may send. */
const AUTH_VALUE_MAX: u32 = 8192;

/** Where the input continues after processAsciiAuth. */
export let AUTH_NEXT: u32 = 0;

/**
 * The first command of a -Y connection: `set <key> <flags> <exptime> <bytes>`
 * with "user pass" as data (memcached's try_read_command_asciiauth).
 */
export function processAsciiAuth(lineStart: u32, lineEnd: u32, next: u32, inEnd: u32): u32 {
  AUTH_NEXT = next;
  const ntok = tokenize(lineStart, lineEnd);
  if (ntok < 6 || !tokIs(0, 'set') || !parseU32(tokPtr(4), tokPtr(4) + tokLen(4))) {
    outStr('CLIENT_ERROR unauthenticated');
    outCRLF();
    return P_DONE;
  }
  const size = N_LO;
  // Credentials are short; a larger value is not an auth attempt.
  if (size > AUTH_VALUE_MAX) return P_CLOSE;
  const total = size + 2;
  if (inEnd - next < total) {
    hset(R_NEED, next - lineStart + total);
    return P_NEED;
  }
  AUTH_NEXT = next + total;
  if (ld8(next + size) != 13 || ld8(next + size + 1) != 10) {
    outStr('CLIENT_ERROR bad command line termination');
    outCRLF();
    return P_DONE;
  }
  const n = tokenize(next, next + size);
  if (n < 3) {
    outStr('CLIENT_ERROR bad authentication token format');
    outCRLF();
    return P_DONE;
  }
  const ok = credentialsMatch(tokPtr(0), tokLen(0), tokPtr(1), tokLen(1));
  authResult(ok);
  if (ok) outStr('STORED');
  else outStr('CLIENT_ERROR authentication failure');
  outCRLF();
  return P_DONE;
}
