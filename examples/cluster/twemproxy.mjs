// twemproxy (Debian's `nutcracker`) in front of the nodes: writes its config
// from nutcracker.yml.in once the nodes' ports are known, starts it, and
// switches it to a new server list.
//
// Nothing here listens on TCP: the pool listens on a unix socket path and
// nutcracker's stats listener (which defaults to 0.0.0.0:22222) is given a
// unix socket path too, so no port is ever fixed or guessed.
//
// nutcracker 0.5.0 cannot reload its config, so a new server list means a new
// nutcracker. Two ways (README.md, "Switching twemproxy"):
//   handoff   start the new one on a side path, rename(2) that path over the
//             public one (new connections reach the new proxy from then on),
//             then stop the old one (its clients reconnect and get the new one)
//   in-place  stop the old one, then start the new one on the public path
//             (clients are refused until it listens: what a TCP listener gets)
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync, writeFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), 'nutcracker.yml.in');
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;

/** Every nutcracker started and not yet stopped, so an interrupted run can stop them all. */
const live = new Set();

/** Stops every nutcracker still running. */
export async function stopAllTwemproxies() {
  await Promise.all([...live].map((p) => p.stop()));
}

/** nutcracker on PATH (Debian puts it in /usr/sbin, which a user's PATH may lack), or null. */
export function findNutcracker() {
  for (const candidate of [process.env.NUTCRACKER, 'nutcracker', '/usr/sbin/nutcracker', '/usr/local/sbin/nutcracker']) {
    if (!candidate) continue;
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /nutcracker/.test(r.stdout + r.stderr)) return candidate;
  }
  return null;
}

/** The pool config: `servers` are [{ name, host, port }]; placement follows `name`. */
export function renderConfig(listenPath, servers) {
  const lines = servers.map((s) => `    - ${s.host}:${s.port}:1 ${s.name}`).join('\n');
  return readFileSync(TEMPLATE, 'utf8').replace('@LISTEN@', listenPath).replace('@SERVERS@', lines);
}

/** Resolves once something accepts connections on the unix socket `path`. */
async function waitAccepting(path, proc, log, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`nutcracker exited (${proc.exitCode ?? proc.signalCode}):\n${readLog(log)}`);
    }
    const ok = existsSync(path) && await new Promise((resolve) => {
      const s = connect({ path });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nutcracker did not listen on ${path} within ${timeoutMs} ms:\n${readLog(log)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function readLog(log) {
  try { return readFileSync(log, 'utf8').slice(-2000); } catch { return '(no log)'; }
}

/**
 * Starts nutcracker for `servers`, listening on `listenPath`. Files go in
 * `dir` under a per-instance tag. Resolves to { pid, listenPath, config, log, stop() }.
 */
export async function startTwemproxy(bin, dir, tag, listenPath, servers) {
  const config = join(dir, `nutcracker-${tag}.yml`);
  const log = join(dir, `nutcracker-${tag}.log`);
  const statsPath = join(dir, `nutcracker-${tag}.stats.sock`);
  writeFileSync(config, renderConfig(listenPath, servers));
  // -s must be a valid port number, but with a unix socket path in -a it is
  // not used: the stats listener binds the path.
  const proc = spawn(bin, ['-c', config, '-a', statsPath, '-s', '1', '-o', log, '-v', '5'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const proxy = {
    pid: proc.pid, listenPath, config, log, statsPath,
    running: () => proc.exitCode === null && proc.signalCode === null,
    /** SIGTERM by PID (nutcracker closes every client connection and exits). */
    async stop() {
      if (proxy.running()) {
        try { process.kill(proc.pid, 'SIGTERM'); } catch { /* already gone */ }
        const kill = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, STOP_GRACE_MS);
        await exited;
        clearTimeout(kill);
      }
      live.delete(proxy);
      // nutcracker leaves its socket files behind; a new one could not bind them.
      rmSync(statsPath, { force: true });
    },
  };
  live.add(proxy);
  try {
    await waitAccepting(listenPath, proc, log, START_TIMEOUT_MS);
  } catch (e) {
    await proxy.stop();
    throw e;
  }
  return proxy;
}

/**
 * Replaces the running proxy `old` (listening on `publicPath`) by a new one
 * for `servers`. Resolves to the new proxy once the old one is gone.
 */
export async function switchTwemproxy(bin, dir, tag, old, publicPath, servers, mode = 'handoff') {
  if (mode === 'in-place') {
    await old.stop();
    rmSync(publicPath, { force: true });
    return startTwemproxy(bin, dir, tag, publicPath, servers);
  }
  const sidePath = join(dir, `proxy-${tag}.sock`);
  const next = await startTwemproxy(bin, dir, tag, sidePath, servers);
  renameSync(sidePath, publicPath);
  next.listenPath = publicPath;
  await old.stop();
  return next;
}
