// `watch [kinds]`, after memcached's process_watch_command: checks the
// command and names the kinds of log lines wanted; the host then turns the
// connection into a watcher (ST_WATCH) and streams the lines to it.
import { st32 } from '../mem';
import { S, hget, H_OPTS } from '../arena';
import {
  OPT_NO_WATCH, LOG_REGION, LOG_WATCH_REQUEST, LOGW_FETCHERS, LOGW_MUTATIONS, LOGW_EVICTIONS, LOGW_DELETIONS,
  LOGW_CONNEVENTS,
} from '../abi';
import { tokIs } from './tokens';
import { outString, setNoreplyMaybe } from './reply';
import { OUT } from './out';
import { P_DONE, P_WATCH } from './flow';

/** `callOutStart`: where this call's replies began; a watcher may not
 *  follow other replies of the same read. */
export function processWatch(ntok: u32, callOutStart: u32): u32 {
  setNoreplyMaybe(ntok);
  if ((hget(H_OPTS) & OPT_NO_WATCH) != 0) {
    outString('CLIENT_ERROR watch commands not allowed');
    return P_DONE;
  }
  if (OUT != callOutStart) {
    outString('ERROR cannot pipeline other commands before watch');
    return P_DONE;
  }
  let kinds: u32 = 0;
  if (ntok > 2) {
    // memcached's list; `deletions` is newer than 1.6.18 (which answers
    // ERROR), the rest are accepted and have nothing to log here.
    for (let i: u32 = 1; i < ntok - 1; i++) {
      if (tokIs(i, 'fetchers')) kinds |= LOGW_FETCHERS;
      else if (tokIs(i, 'mutations')) kinds |= LOGW_MUTATIONS;
      else if (tokIs(i, 'evictions')) kinds |= LOGW_EVICTIONS;
      else if (tokIs(i, 'connevents')) kinds |= LOGW_CONNEVENTS;
      else if (tokIs(i, 'deletions')) kinds |= LOGW_DELETIONS;
      else if (!(tokIs(i, 'rawcmds') || tokIs(i, 'sysevents') || tokIs(i, 'proxyreqs') || tokIs(i, 'proxyevents') ||
        tokIs(i, 'proxyuser'))) {
        outString('ERROR');
        return P_DONE;
      }
    }
  } else {
    kinds = LOGW_FETCHERS;
  }
  st32(S + LOG_REGION + LOG_WATCH_REQUEST, kinds);
  return P_WATCH;
}
