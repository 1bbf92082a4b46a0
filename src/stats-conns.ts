// `stats conns`: memcached's per-socket listing, made by the host because the
// sockets are the host's. Lines are ordered by descriptor as memcached's
// (it walks its fd-indexed connection table):
//   STAT <fd>:addr tcp:127.0.0.1:41234
//   STAT <fd>:listen_addr tcp:127.0.0.1:11211
//   STAT <fd>:state conn_read
//   STAT <fd>:secs_since_last_cmd 0
// and for the listening socket its address and `conn_listening`. A
// connection whose value is still arriving is in conn_nread.
export interface ListedConn {
  readonly id: number;
  /** `tcp:<ip>:<port>`, `tcp6:<ip>:<port>` or `unix:` (memcached's addr). */
  readonly address: string;
  readonly lastActive: number;
  /** A `watch` connection (memcached's conn_watch). */
  readonly watching?: boolean;
  isIdle(): boolean;
  isReadingValue(): boolean;
}

export interface ListenerInfo {
  id: number;
  /** `tcp:<addr>:<port>` or `unix:<path>` */
  addr: string;
  /** Seconds; memcached counts from the listener's last accept. */
  lastActive: number;
}

/** One socket's lines, keyed by its descriptor (memcached's order). */
export type ConnRow = [number, string];

export function renderStatsConns(listener: ListenerInfo, conns: Iterable<ListedConn>, requester: ListedConn, now: number,
  udp: ListenerInfo | null = null, others: ConnRow[] = []): string {
  const rows = statsConnRows(listener, conns, requester, now, udp);
  rows.push(...others);
  rows.sort((a, b) => a[0] - b[0]);
  return rows.map(([, text]) => text).join('') + 'END\r\n';
}

/** The rows of the listening socket (when `listener` is given), the UDP
 *  socket and `conns`; with -t N each thread lists its own connections. */
export function statsConnRows(listener: ListenerInfo | null, conns: Iterable<ListedConn>, requester: ListedConn | null, now: number,
  udp: ListenerInfo | null = null, listenAddr = listener?.addr ?? ''): ConnRow[] {
  const rows: ConnRow[] = [];
  const secs = (t: number) => (now > t ? now - t : 0);
  if (listener !== null) {
    rows.push([listener.id,
      `STAT ${listener.id}:addr ${listener.addr}\r\n` +
      `STAT ${listener.id}:state conn_listening\r\n` +
      `STAT ${listener.id}:secs_since_last_cmd ${secs(listener.lastActive)}\r\n`]);
  }
  // memcached lists its UDP socket as a connection reading requests.
  if (udp !== null) {
    rows.push([udp.id,
      `STAT ${udp.id}:addr ${udp.addr}\r\n` +
      `STAT ${udp.id}:state conn_read\r\n` +
      `STAT ${udp.id}:secs_since_last_cmd ${secs(udp.lastActive)}\r\n`]);
  }
  for (const c of conns) {
    // The asking connection is parsing its command; one with output queued is writing.
    const state = c === requester ? 'conn_parse_cmd'
      : c.watching ? 'conn_watch'
        : c.isReadingValue() ? 'conn_nread'
          : c.isIdle() ? 'conn_read' : 'conn_mwrite';
    rows.push([c.id,
      `STAT ${c.id}:addr ${c.address}\r\n` +
      `STAT ${c.id}:listen_addr ${listenAddr}\r\n` +
      `STAT ${c.id}:state ${state}\r\n` +
      `STAT ${c.id}:secs_since_last_cmd ${secs(c.lastActive)}\r\n`]);
  }
  return rows;
}
