// -d: run in the background. The command starts itself again as a detached
// child (its own session, no terminal; stdin and stdout on /dev/null, stderr
// too unless -v asked for logs, as memcached's daemonize keeps it then),
// waits until the child listens, then prints where and exits 0. If the
// child fails before listening, its reason is printed and the command exits
// with the child's code. The child gets the same arguments (as memcached's
// forked child has them) and knows it is the child by DAEMON_CHILD_ENV and
// the IPC channel it reports on, which it then closes.
import { spawn } from 'node:child_process';

export const DAEMON_CHILD_ENV = 'WASMCACHED_DAEMON_CHILD';

/** What the child reports on the IPC channel. */
export type DaemonReport = { ready: string } | { failed: string; code: number };

/** True in the child a daemonizing parent started. */
export function isDaemonChild(): boolean {
  return process.env[DAEMON_CHILD_ENV] === '1' && typeof process.send === 'function';
}

/** In the child: tells the parent, then closes the channel; resolves once sent. */
export function reportToParent(report: DaemonReport): Promise<void> {
  return new Promise((resolve) => {
    if (typeof process.send !== 'function' || !process.connected) { resolve(); return; }
    process.send(report, () => {
      if (process.connected) process.disconnect();
      resolve();
    });
  });
}

export interface DaemonOutcome {
  /** the child's pid */
  pid: number;
  /** where it listens, or null if it failed */
  listening: string | null;
  /** why it failed, and the exit code for the parent */
  failure: { message: string; code: number } | null;
}

/**
 * In the parent: starts the detached child with `argv` and resolves once it
 * listens or has failed. `keepStderr` (-v) leaves the child the parent's stderr.
 */
export function startDaemonChild(argv: readonly string[], keepStderr: boolean): Promise<DaemonOutcome> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', keepStderr ? 'inherit' : 'ignore', 'ipc'],
    env: { ...process.env, [DAEMON_CHILD_ENV]: '1' },
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: DaemonOutcome) => {
      if (settled) return;
      settled = true;
      child.removeAllListeners();
      // The parent is about to exit; the child must not keep it alive or be tied to it.
      if (child.connected) child.disconnect();
      child.unref();
      resolve(o);
    };
    child.on('message', (m: DaemonReport) => {
      if ('ready' in m) settle({ pid: child.pid!, listening: m.ready, failure: null });
      else settle({ pid: child.pid!, listening: null, failure: { message: m.failed, code: m.code } });
    });
    child.on('error', (err) => settle({ pid: child.pid ?? 0, listening: null, failure: { message: `cannot start the daemon: ${err.message}`, code: 1 } }));
    child.on('exit', (code, signal) => settle({
      pid: child.pid!, listening: null,
      failure: { message: `the daemon exited before listening (${signal ?? `exit code ${code}`})`, code: code || 1 },
    }));
  });
}
