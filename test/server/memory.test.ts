// Under a write load twice the size of -m the arena stays within -m, the
// process grows by at most -m plus the host overhead stated in the README
// ("Memory outside -m"), and the server keeps answering. The 4 x -m overload
// of mixed sizes over 50 connections is in the bench (hostmem section).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startWasmcached, type ServerHandle } from '../support/servers.js';

const MB = 64;
/** The README's stated bound for what the host adds to -m under load, over
 *  the RSS of a fresh server (Node itself, about 45 MB). */
const HOST_OVERHEAD_MB = 40;

function rssMB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function request(port: number, data: string, until: RegExp): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  let out = '';
  return await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => { s.destroy(); reject(new Error(`timeout, got ${JSON.stringify(out.slice(0, 200))}`)); }, 10000);
    s.on('data', (b) => { out += b.toString('latin1'); if (until.test(out)) { clearTimeout(t); s.end(); resolve(out); } });
    s.on('error', reject);
    s.write(data);
  });
}

describe(`memory under a 2 x -m load (-m ${MB})`, () => {
  let srv: ServerHandle;
  beforeAll(async () => { srv = await startWasmcached(['-m', String(MB)]); });
  afterAll(async () => { await srv?.stop(); });

  it('stays within -m plus the stated overhead and keeps answering', async () => {
    const value = 'v'.repeat(1000);
    const total = Math.ceil((2 * MB * 1024 * 1024) / value.length);
    const sock = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let stored = 0;
    let tail = '';
    sock.on('data', (b) => {
      const s = tail + b.toString('latin1');
      const parts = s.split('STORED\r\n');
      stored += parts.length - 1;
      tail = parts[parts.length - 1];
    });
    const start = rssMB(srv.pid);
    let peak = 0;
    const deadline = Date.now() + 120_000;
    for (let i = 0; i < total && Date.now() < deadline; i += 500) {
      let batch = '';
      for (let j = i; j < Math.min(total, i + 500); j++) batch += `set key:${j} 0 0 ${value.length}\r\n${value}\r\n`;
      if (!sock.write(batch)) await new Promise((r) => sock.once('drain', r));
      if (i % 20000 === 0) peak = Math.max(peak, rssMB(srv.pid));
    }
    while (stored < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    peak = Math.max(peak, rssMB(srv.pid));
    sock.destroy();
    expect(stored).toBe(total);

    // Another connection is served, and the newest items are intact.
    expect(await request(srv.port, 'version\r\n', /\r\n/)).toBe('VERSION 1.6.18\r\n');
    const last = total - 1;
    expect(await request(srv.port, `get key:${last}\r\n`, /END\r\n/)).toBe(`VALUE key:${last} 0 1000\r\n${value}\r\nEND\r\n`);

    const stats = await request(srv.port, 'stats\r\nstats slabs\r\n', /END\r\n[\s\S]*END\r\n/);
    const stat = (name: string) => Number(new RegExp(`STAT ${name} (\\d+)`).exec(stats)![1]);
    expect(stat('evictions')).toBeGreaterThan(0);
    expect(stat('total_malloced')).toBeLessThanOrEqual(MB * 1024 * 1024);
    expect(stat('bytes')).toBeLessThanOrEqual(MB * 1024 * 1024);
    expect(peak - start).toBeLessThan(MB + HOST_OVERHEAD_MB);
  });
});
