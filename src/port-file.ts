// MEMCACHED_PORT_FILENAME, as memcached reads it: once the server listens,
// it writes one line per listening socket, `TCP INET: <port>` then
// `UDP INET: <port>` (INET6 for IPv6), so a script that lets the OS pick the
// ports (-p 0, -U -1) learns them. The file is written under another name
// and renamed, so a reader never sees half of it (memcached uses `<file>.lck`).
import { renameSync, writeFileSync } from 'node:fs';

export interface BoundSocket {
  protocol: 'TCP' | 'UDP';
  family: 'IPv4' | 'IPv6';
  port: number;
}

export function portFileText(sockets: readonly BoundSocket[]): string {
  return sockets.map((s) => `${s.protocol} INET${s.family === 'IPv6' ? '6' : ''}: ${s.port}\n`).join('');
}

export function writePortFile(path: string, sockets: readonly BoundSocket[]): void {
  const temp = `${path}.lck`;
  writeFileSync(temp, portFileText(sockets));
  renameSync(temp, path);
}
