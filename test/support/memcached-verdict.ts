// What Debian's memcached does with a command line: starts (it wrote its
// port file), exits at once (-h, -V), or refuses it (exits non-zero). The
// flag tests hold wasmcached's answer for every memcached 1.6.18 flag against
// this. memcached listens on 127.0.0.1 on a port the OS picks (-p -1) and is
// stopped by its PID as soon as it has started.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './servers.js';

export type Verdict = 'started' | 'exited 0' | 'refused';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const VERDICT_TIMEOUT_MS = 10_000;

/** The flags memcached gets before `argv`, so that a later one in argv wins. */
export function memcachedBaseArgs(): string[] {
  return ['-p', '-1', '-U', '0', '-l', '127.0.0.1', ...(asRoot ? ['-u', 'root'] : [])];
}

export async function memcachedVerdict(argv: readonly string[]): Promise<{ verdict: Verdict; stderr: string }> {
  const bin = which('memcached');
  if (!bin) throw new Error('memcached is not installed (apt-get install -y memcached)');
  const dir = mkdtempSync(join(tmpdir(), 'mc-verdict-'));
  // memcached may drop to another user (-u) before it writes the port file.
  chmodSync(dir, 0o777);
  const portFile = join(dir, 'ports');
  const proc = spawn(bin, [...memcachedBaseArgs(), ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MEMCACHED_PORT_FILENAME: portFile },
  });
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + VERDICT_TIMEOUT_MS;
    for (;;) {
      const code = await Promise.race([exited, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 20))]);
      if (code !== 'wait') return { verdict: code === 0 ? 'exited 0' : 'refused', stderr };
      if (existsSync(portFile)) return { verdict: 'started', stderr };
      if (Date.now() > deadline) throw new Error(`memcached ${argv.join(' ')}: neither started nor exited in ${VERDICT_TIMEOUT_MS} ms`);
    }
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(proc.pid!, 'SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
