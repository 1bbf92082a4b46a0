// -P <file>: the server's pid, as memcached writes it: "<pid>\n" to
// <file>.tmp, renamed over <file> so a reader never sees half a file. Like
// memcached, the file is removed at a clean stop only when the server runs
// as a daemon (-d); a pid file left by a crash names a process that is gone.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

export function writePidFile(path: string, pid: number): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  renameSync(tmp, path);
}

/** Removes the file if it still names `pid` (another server may have taken the path since). */
export function removePidFile(path: string, pid: number): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) unlinkSync(path);
  } catch {
    // Already gone, or unreadable: nothing of ours to remove.
  }
}
