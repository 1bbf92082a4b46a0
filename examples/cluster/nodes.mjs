// The cache nodes of the example pool: wasmcached processes on 127.0.0.1,
// each on a port the OS picks (`-p 0`; the node prints `listening on
// 127.0.0.1:<port>` once bound), and the few admin requests the swap needs
// straight from a node: stats, warming state, and which keys it holds
// (`lru_crawler metadump all`), which is how the script learns where the pool
// put each key without re-implementing the pool's hashing.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This checkout's server; WASMCACHED=<path to bin/wasmcached.js> runs another. */
export const WASMCACHED_BIN = process.env.WASMCACHED
  ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'wasmcached.js');

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

/** Every node started and not yet stopped, so an interrupted run can stop them all. */
const live = new Set();

/** Stops every node still running. */
export async function stopAllNodes() {
  await Promise.all([...live].map((n) => n.stop()));
}

/**
 * Starts `wasmcached -p 0 <args>` and resolves once it listens, to
 * { name, host, port, addr, pid, stop(), output() }.
 */
export async function startNode(name, args = []) {
  if (!existsSync(WASMCACHED_BIN)) throw new Error(`no wasmcached at ${WASMCACHED_BIN} (set WASMCACHED)`);
  const proc = spawn(process.execPath, [WASMCACHED_BIN, '-l', '127.0.0.1', '-p', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (b) => { out += b; });
  proc.stderr.on('data', (b) => { out += b; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const node = {
    name, host: '127.0.0.1', port: 0, addr: '', pid: proc.pid,
    output: () => out,
    running: () => proc.exitCode === null && proc.signalCode === null,
    /** SIGTERM by PID, SIGKILL if it is still there after a grace period. */
    async stop() {
      if (node.running()) {
        try { process.kill(proc.pid, 'SIGTERM'); } catch { /* already gone */ }
        const kill = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, STOP_GRACE_MS);
        await exited;
        clearTimeout(kill);
      }
      live.delete(node);
    },
  };
  live.add(node);
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    const onData = () => {
      const m = /listening on \S*:(\d+)\s*$/m.exec(out);
      if (m) { clearTimeout(timer); proc.stdout.off('data', onData); resolve(Number(m[1])); }
    };
    proc.stdout.on('data', onData);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}) before listening:\n${out}`)); });
  }).catch(async (e) => {
    await node.stop();
    throw e;
  });
  node.port = port;
  node.addr = `127.0.0.1:${port}`;
  return node;
}

/** Sends one admin request to a node and resolves to the reply up to `END\r\n`. */
export function adminRequest(node, request, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const s = connect({ host: node.host, port: node.port });
    let text = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`${node.name}: no END to ${request.trim()} within ${timeoutMs} ms`)); }, timeoutMs);
    s.on('data', (b) => {
      text += b.toString('latin1');
      if (/(^|\n)END\r\n$/.test(text.slice(-7))) {
        clearTimeout(timer);
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', (e) => { clearTimeout(timer); reject(new Error(`${node.name}: ${e.message}`)); });
    s.write(request);
  });
}

/** `stats` as an object of strings. */
export async function nodeStats(node) {
  const text = await adminRequest(node, 'stats\r\n');
  const stats = {};
  for (const m of text.matchAll(/^STAT (\S+) (.*?)\r$/gm)) stats[m[1]] = m[2];
  return stats;
}

/** Polls the node's warm_state until it leaves `copying`; resolves to its stats. */
export async function waitWarmed(node, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await nodeStats(node);
    if (stats.warm_state !== 'copying') return stats;
    if (Date.now() > deadline) throw new Error(`${node.name} still warming after ${timeoutMs} ms (${stats.warm_keys_copied} copied)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The keys a node holds, from `lru_crawler metadump all` (its key= fields are URI-escaped). */
export async function nodeKeys(node) {
  const text = await adminRequest(node, 'lru_crawler metadump all\r\n', 30_000);
  const keys = [];
  for (const m of text.matchAll(/^key=(\S+)/gm)) keys.push(decodeURIComponent(m[1]));
  return keys;
}
