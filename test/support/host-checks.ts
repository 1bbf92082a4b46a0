// What every socket host must do the same (the Node.js hosts in
// test/server/stream-socket.test.ts, the Bun host in bun-host.test.ts):
// each check takes a way to connect and asserts on real sockets.
import { expect } from 'vitest';
import type { Socket } from 'node:net';
import { RawClient } from './client.js';

export type Connect = () => Promise<RawClient>;

/** get/set/delete, text and meta, one request at a time. */
export async function oneAtATime(connect: Connect): Promise<void> {
  const c = await connect();
  try {
    expect((await c.request('set k 5 0 3\r\nabc\r\n')).toString()).toBe('STORED\r\n');
    expect((await c.request('get k\r\n')).toString()).toBe('VALUE k 5 3\r\nabc\r\nEND\r\n');
    expect((await c.request('mg k v f\r\n')).toString()).toBe('VA 3 f5\r\nabc\r\n');
    expect((await c.request('delete k\r\n')).toString()).toBe('DELETED\r\n');
    expect((await c.request('get k\r\n')).toString()).toBe('END\r\n');
  } finally {
    c.close();
  }
}

/** 2000 pipelined gets answered in order. */
export async function pipelined(connect: Connect): Promise<void> {
  const c = await connect();
  try {
    await c.request('set p 0 0 5\r\nhello\r\n');
    const n = 2000;
    const replies = await c.request('get p\r\n'.repeat(n), n, 15_000);
    expect(replies.toString()).toBe('VALUE p 0 5\r\nhello\r\nEND\r\n'.repeat(n));
  } finally {
    c.close();
  }
}

/** A 1 MB value asked 8 times at once by a client that starts reading
 *  300 ms later: far more than the socket takes, so the rest waits in the
 *  host (writes finished later) or in the engine; every byte arrives. */
export async function bigValuesToALateReader(connect: Connect): Promise<void> {
  const value = Buffer.alloc(1000 * 1000);
  for (let i = 0; i < value.length; i++) value[i] = (i * 131 + 7) & 0xff;
  const c = await connect();
  try {
    await c.request(Buffer.concat([Buffer.from(`set big 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]));
    const expected = Buffer.concat([Buffer.from(`VALUE big 0 ${value.length}\r\n`), value, Buffer.from('\r\nEND\r\n')]);
    c.pause();
    await c.send('get big\r\n'.repeat(8));
    await new Promise((r) => setTimeout(r, 300));
    c.resume();
    const got = await c.readExactly(expected.length * 8, 20_000);
    expect(got.equals(Buffer.concat(Array(8).fill(expected)))).toBe(true);
  } finally {
    c.close();
  }
}

/** What came before the client's FIN is answered, then the server closes. */
export async function answersBeforeFin(open: () => Socket): Promise<void> {
  const got = await new Promise<string>((resolve, reject) => {
    let out = '';
    const s = open();
    s.once('connect', () => s.end('set f 0 0 1\r\nx\r\nget f\r\n'));
    s.on('data', (b: Buffer) => { out += b.toString('latin1'); });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
  expect(got).toBe('STORED\r\nVALUE f 0 1\r\nx\r\nEND\r\n');
}

/** A binary no-op (opcode 0x0a): a 24-byte response header with magic 0x81. */
export async function binaryNoop(connect: Connect): Promise<void> {
  const c = await connect();
  try {
    const noop = Buffer.alloc(24);
    noop[0] = 0x80;
    noop[1] = 0x0a;
    await c.send(noop);
    const reply = await c.readExactly(24);
    expect(reply[0]).toBe(0x81);
    expect(reply[1]).toBe(0x0a);
  } finally {
    c.close();
  }
}

/** Stores through six new connections (any thread's), reads back through
 *  each, and returns `stats threads`. The connections go into `opened`,
 *  for the caller to close. */
export async function servesOnEveryConnection(port: number, opened: RawClient[]): Promise<number> {
  for (let i = 0; i < 6; i++) {
    const c = await RawClient.connect(port);
    opened.push(c);
    expect((await c.request(`set k${i} 0 0 2\r\nv${i}\r\nget k0\r\n`, 2)).toString('latin1')).toBe('STORED\r\nVALUE k0 0 2\r\nv0\r\nEND\r\n');
  }
  const m = /STAT threads (\d+)/.exec((await opened[0].request('stats\r\n')).toString('latin1'));
  return Number(m?.[1]);
}
