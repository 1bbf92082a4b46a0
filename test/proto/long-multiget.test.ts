// Multigets of any length (assembly/proto/text.ts, R_MGET): a get, gets,
// gat or gats line longer than 16 KiB is answered as its keys arrive, with no
// line buffer, on both builds and through the host's per-connection code.
// The bytes equal memcached's answer to the whole line (it buffers it; the
// differential part runs against the real server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, makeStore } from '../support/engine.js';
import { RawClient } from '../support/client.js';
import { startReference } from '../support/reference.js';
import type { ServerHandle } from '../support/servers.js';

const keyOf = (i: number, width = 0) => `key:${String(i).padStart(width, '0')}`;

/** Feeds `data` in pieces of `piece` bytes; returns every reply and the
 *  largest unconsumed input the host held at any point. */
function feed(h: ReturnType<typeof makeStore>, data: Buffer, piece: number): { out: string; maxPending: number } {
  const outs: Buffer[] = [];
  let maxPending = 0;
  for (let off = 0; off < data.length; off += piece) {
    outs.push(h.send(data.subarray(off, off + piece)));
    maxPending = Math.max(maxPending, h.pendingLen());
  }
  return { out: Buffer.concat(outs).toString('latin1'), maxPending };
}

describe.each(ENGINES)('long multigets (%s engine)', (engine) => {
  it('a 50,000-key get answers every hit, in order, holding at most one key of the line', () => {
    const h = makeStore({ engine });
    const stored: string[] = [];
    for (let i = 0; i < 50_000; i += 7) {
      stored.push(keyOf(i));
      h.cmd(`set ${keyOf(i)} ${i} 0 ${String(i).length}\r\n${i}\r\n`);
    }
    const line = Buffer.from(`get ${Array.from({ length: 50_000 }, (_, i) => keyOf(i)).join(' ')}\r\n`);
    const { out, maxPending } = feed(h, line, 65536);
    const expected = stored.map((k) => { const i = k.slice(4); return `VALUE ${k} ${i} ${i.length}\r\n${i}\r\n`; }).join('') + 'END\r\n';
    expect(out).toBe(expected);
    expect(maxPending).toBeLessThanOrEqual(16384 + 256);
    expect(h.stats().cmd_get).toBe('50000');
  });

  it('6,000 keys of 240 bytes (a 1.4 MB line) in small reads, with gets uniques', () => {
    const h = makeStore({ engine });
    const keys = Array.from({ length: 6000 }, (_, i) => `${'k'.repeat(234)}${String(i).padStart(6, '0')}`);
    for (const k of keys.slice(0, 100)) h.cmd(`set ${k} 1 0 1\r\nv\r\n`);
    const { out, maxPending } = feed(h, Buffer.from(`gets ${keys.join(' ')}\r\n`), 1500);
    const values = out.match(/^VALUE \S+ 1 1 \d+\r\nv\r\n/gm) ?? [];
    expect(values.length).toBe(100);
    expect(out.endsWith('END\r\n')).toBe(true);
    expect(maxPending).toBeLessThanOrEqual(16384 + 1500 + 256);
  });

  it('gat and gats lines are answered the same way, touching what they find', () => {
    const h = makeStore({ engine });
    h.cmd('set t 0 0 1\r\nx\r\n');
    const { out } = feed(h, Buffer.from(`gat 100 ${'t '.repeat(10_000)}\r\n`), 4096);
    expect(out).toBe('VALUE t 0 1\r\nx\r\n'.repeat(10_000) + 'END\r\n');
    expect(h.stats().touch_hits).toBe('10000');
    expect(h.cmd('mg t t\r\n')).toMatch(/^HD t(99|100)\r\n$/);
    const bad = feed(h, Buffer.from(`gats nope ${'t '.repeat(10_000)}\r\nversion\r\n`), 4096).out;
    expect(bad).toBe('CLIENT_ERROR invalid exptime argument\r\nVERSION 1.6.18\r\n');
  });

  it('a key over 250 bytes ends the line with CLIENT_ERROR after the values before it; the next command runs', () => {
    const h = makeStore({ engine });
    h.cmd('set a 0 0 1\r\n1\r\n');
    const line = `get ${'a '.repeat(9000)}${'L'.repeat(251)} a a\r\nversion\r\n`;
    const { out } = feed(h, Buffer.from(line), 1000);
    expect(out).toBe('VALUE a 0 1\r\n1\r\n'.repeat(9000) + 'CLIENT_ERROR bad command line format\r\nVERSION 1.6.18\r\n');
    // a partial key that is already too long is refused before it ends
    const h2 = makeStore({ engine });
    const r = feed(h2, Buffer.from(`get ${'b '.repeat(9000)}${'M'.repeat(100_000)}\r\nversion\r\n`), 8192);
    expect(r.out).toBe('CLIENT_ERROR bad command line format\r\nVERSION 1.6.18\r\n');
    expect(r.maxPending).toBeLessThanOrEqual(16384 + 8192);
  });

  it('other commands still close the connection past 2048 bytes without a newline', () => {
    const h = makeStore({ engine });
    h.send(`set ${'x'.repeat(3000)}`);
    expect(h.closed).toBe(true);
  });
});

describe('long multigets: the same bytes as memcached 1.6.18', () => {
  let ref: ServerHandle;
  beforeAll(async () => { ref = await startReference(); });
  afterAll(async () => { await ref?.stop(); });

  it('answers a 20,000-key get with misses, hits and repeats exactly as memcached does', async () => {
    const c = await RawClient.connect(ref.port);
    const script: string[] = [];
    for (let i = 0; i < 20_000; i += 13) script.push(`set ${keyOf(i, 5)} ${i % 5} 0 ${String(i).length}\r\n${i}\r\n`);
    const keys = Array.from({ length: 20_000 }, (_, i) => keyOf((i * 7919) % 20_000, 5));
    const line = `get ${keys.join(' ')}\r\ngets ${keys.slice(0, 3000).join(' ')}\r\nversion\r\n`;
    await c.send(script.join(''));
    await c.readWith((b) => ((b.toString('latin1').match(/STORED\r\n/g) ?? []).length === script.length ? b.length : -1));
    await c.send(line);
    const expected = (await c.readUntil('VERSION 1.6.18\r\n')).toString('latin1');
    c.close();
    for (const engine of ENGINES) {
      const h = makeStore({ engine });
      h.cmd(script.join(''));
      expect(feed(h, Buffer.from(line), 3000).out).toBe(expected);
    }
  });
});
