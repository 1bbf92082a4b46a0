// The TCP listeners of a -l list after the first (memcached's
// `-l addr1,notls:addr2:port`): each binds its own address and port and
// hands its connections to the server, saying whether they are to be
// served over TLS (-Z, unless the entry is marked `notls:`). The first
// entry is the server's own listener (server.ts).
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import type { ListenEntry } from './settings.js';
import type { ListeningPort } from './port-file.js';

export class ExtraListeners {
  private readonly servers: { server: Server; tls: boolean; entry: ListenEntry }[] = [];

  /**
   * `entries`: the -l entries after the first; `port`: where an entry
   * without its own port listens (-p); `tls`: -Z is on.
   */
  constructor(entries: readonly ListenEntry[], private readonly port: number, private readonly backlog: number,
    tls: boolean, onSocket: (socket: Socket, tls: boolean) => void) {
    for (const entry of entries) {
      const useTls = tls && entry.tls;
      const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) => onSocket(socket, useTls));
      this.servers.push({ server, tls: useTls, entry });
    }
  }

  async listen(): Promise<void> {
    for (const { server, entry } of this.servers) {
      const port = entry.port ?? this.port;
      await new Promise<void>((resolve, reject) => {
        const where = `${entry.host}:${port}`;
        const onError = (err: Error) => reject(new Error(`failed to listen on ${where}: ${err.message}`));
        server.once('error', onError);
        server.listen({ host: entry.host, port: port === -1 ? 0 : port, backlog: this.backlog }, () => {
          server.off('error', onError);
          resolve();
        });
      });
    }
  }

  /** For MEMCACHED_PORT_FILENAME, after the first listener's line. */
  ports(): ListeningPort[] {
    return this.bound().map(({ a }) => ({ transport: 'TCP', family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', port: a.port }));
  }

  /** `host:port (tls|notls)` of each, for the start-up lines. */
  describe(): string[] {
    return this.bound().map(({ a, tls }) => `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port} (${tls ? 'tls' : 'notls'})`);
  }

  close(): void {
    for (const { server } of this.servers) server.close();
  }

  private bound(): { a: AddressInfo; tls: boolean }[] {
    return this.servers.filter(({ server }) => server.listening).map(({ server, tls }) => ({ a: server.address() as AddressInfo, tls }));
  }
}
