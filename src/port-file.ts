// MEMCACHED_PORT_FILENAME: memcached writes the ports it listens on to this
// file, one "<TCP|UDP> <INET|INET6>: <port>" line per socket, so a test
// harness can start it with -p -1 (any free port) and read the port back.
// Written to <file>.lck and renamed over <file>, as memcached does, so a
// reader that polls for the file sees it whole.
import { renameSync, writeFileSync } from 'node:fs';

export const PORT_FILE_ENV = 'MEMCACHED_PORT_FILENAME';

export interface ListeningPort {
  transport: 'TCP' | 'UDP';
  family: 'IPv4' | 'IPv6';
  port: number;
}

export function portFileText(ports: readonly ListeningPort[]): string {
  return ports.map((p) => `${p.transport} ${p.family === 'IPv6' ? 'INET6' : 'INET'}: ${p.port}\n`).join('');
}

export function writePortFile(path: string, ports: readonly ListeningPort[]): void {
  const tmp = `${path}.lck`;
  writeFileSync(tmp, portFileText(ports));
  renameSync(tmp, path);
}
