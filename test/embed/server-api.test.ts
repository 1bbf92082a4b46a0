// startServer: the server in-process on an OS-chosen port, reached by a real
// client; close() ends connections and releases the port.
import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { connect, createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server-api.js';
import { ENGINES } from '../support/engine.js';

const require = createRequire(import.meta.url);
const Memcached = require('memcached');

/** One request/reply over a raw socket; resolves with what arrived before `until` matched. */
function exchange(port: number, request: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`timeout; got ${JSON.stringify(got)}`)); }, 5000);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (until.test(got)) { clearTimeout(timer); s.end(); resolve(got); }
    });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.write(request);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  });
}

for (const engine of ENGINES) {
  describe(`startServer (${engine})`, () => {
    it('serves the npm memcached client on port 0', async () => {
      const s = await startServer({ port: 0, memory: 8 * 1048576, engine });
      const mc = new Memcached(`127.0.0.1:${s.port}`, { retries: 0, timeout: 5000, idle: 1000 });
      const call = <T = unknown>(m: string, ...a: unknown[]) => promisify(mc[m]).call(mc, ...a) as Promise<T>;
      try {
        expect(s.port).toBeGreaterThan(0);
        expect(s.host).toBe('127.0.0.1');
        expect(await call('set', 'greeting', 'hello', 60)).toBe(true);
        expect(await call('get', 'greeting')).toBe('hello');
        expect(await call('incr', 'n', 1)).toBe(false);
        expect(await exchange(s.port, 'stats settings\r\n', /END\r\n/)).toContain('STAT maxbytes 8388608\r\n');
      } finally {
        mc.end();
        await s.close();
      }
    });
  });
}

describe('startServer', () => {
  it('passes memcached options through args', async () => {
    const s = await startServer({ args: ['-I', '2m'] });
    try {
      expect(await exchange(s.port, 'stats settings\r\n', /END\r\n/)).toContain('STAT item_size_max 2097152\r\n');
    } finally {
      await s.close();
    }
  });

  it('startServer with -Y loads the credentials file (it was once ignored: no client could authenticate)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-api-'));
    writeFileSync(join(dir, 'users'), 'alice:secret\n');
    const s = await startServer({ args: ['-Y', join(dir, 'users')] });
    try {
      expect(await exchange(s.port, 'set a 0 0 12\r\nalice secret\r\nset k 0 0 1\r\nv\r\n', /STORED\r\n.*\r\n/s)).toBe('STORED\r\nSTORED\r\n');
      expect(await exchange(s.port, 'set a 0 0 12\r\nalice wrong!\r\n', /\r\n/)).toBe('CLIENT_ERROR authentication failure\r\n');
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() ends open connections and releases the port', async () => {
    const s = await startServer();
    const idle = connect({ port: s.port, host: '127.0.0.1' });
    await new Promise<void>((r) => idle.on('connect', () => r()));
    const ended = new Promise<void>((r) => idle.on('close', () => r()));
    await s.close();
    await ended;
    expect(await refused(s.port)).toBe(true);
    // the port can be bound again
    const probe = createServer();
    await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(s.port, '127.0.0.1', () => resolve()); });
    await new Promise<void>((r) => probe.close(() => r()));
  });

  it('rejects a bad option with an error instead of exiting', async () => {
    await expect(startServer({ args: ['-m', 'lots'] })).rejects.toThrow();
    await expect(startServer({ memory: -5 })).rejects.toThrow(RangeError);
    // -d belongs to the command: startServer serves in this process.
    await expect(startServer({ args: ['-d'] })).rejects.toThrow(/^-d runs the command in the background/);
  });
});
