// Values that span engine calls (assembly/proto/values.ts), on both builds,
// through the host's own per-connection code (src/session.ts):
//  - in: a value that has not all arrived is copied straight into its item,
//    which is allocated (and counted inside -m) as soon as the line is read;
//  - out: a value larger than the output limit goes out in pieces, its item
//    pinned so that a concurrent delete, overwrite or incr cannot tear it.
import { describe, expect, it } from 'vitest';
import { ENGINES, makeStore, T0, type Harness } from '../support/engine.js';
import { Session } from '../../src/session.js';
import { ST_VALUE, ST_OUT_FULL, OPT_NO_EVICTIONS } from '../../assembly/abi.js';
import { frame, OP, parseResponses } from '../support/binary.js';

const MB = 1024 * 1024;

/** A second connection on the same store, driven by hand. */
function connect(h: Harness): { session: Session; send(data: string | Buffer): { out: string; statuses: number[] } } {
  const session = new Session(h.store);
  return {
    session,
    send(data) {
      session.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      const outs: Uint8Array[] = [];
      const statuses: number[] = [];
      for (let guard = 0; guard < 100_000 && session.runnable(); guard++) {
        const st = session.execute(T0, h.store.inputCapacity);
        statuses.push(st);
        if (session.output) outs.push(session.output);
        if (st !== ST_OUT_FULL && session.consumed === 0) break;
      }
      return { out: Buffer.concat(outs).toString('latin1'), statuses };
    },
  };
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const usedChunks = (h: Harness) =>
  Object.entries(h.stats('slabs')).filter(([k]) => /^\d+:used_chunks$/.test(k)).reduce((a, [, v]) => a + Number(v), 0);

describe.each(ENGINES)('values that span calls (%s engine)', (engine) => {
  it('a 1 MB value sent in 1000-byte pieces goes into its item; the host keeps only the line', () => {
    const h = makeStore({ engine });
    const c = connect(h);
    const value = pattern(MB - 512, 7);
    const first = c.send(`set big 5 0 ${value.length}\r\n`);
    expect(first.statuses).toEqual([ST_VALUE]);
    expect(c.session.receivingValue).toBe(true);
    for (let off = 0; off < value.length; off += 1000) {
      c.send(value.subarray(off, Math.min(off + 1000, value.length)));
      // nothing of the value waits in the host
      expect(c.session.pendingLen).toBe(0);
    }
    expect(c.send('\r\n').out).toBe('STORED\r\n');
    const got = h.send('get big\r\n');
    const head = `VALUE big 5 ${value.length}\r\n`;
    expect(got.subarray(0, head.length).toString('latin1')).toBe(head);
    expect(got.subarray(head.length, head.length + value.length).equals(value)).toBe(true);
    expect(got.subarray(head.length + value.length).toString('latin1')).toBe('\r\nEND\r\n');
    expect(h.stats().cmd_set).toBe('1');
  });

  it('with -I 2m, a 1.5 MB value (larger than a default page) streams in and out in pieces', () => {
    const h = makeStore({ engine, itemSizeMax: 2 * MB });
    h.store.outputLimit = 128 * 1024;
    const c = connect(h);
    const value = pattern(1_500_000, 11);
    expect(c.send(`set huge 0 0 ${value.length}\r\n`).statuses).toEqual([ST_VALUE]);
    for (let off = 0; off < value.length; off += 65536) c.send(value.subarray(off, off + 65536));
    expect(c.send('\r\n').out).toBe('STORED\r\n');
    const reader = connect(h);
    const got = Buffer.from(reader.send('get huge\r\n').out, 'latin1');
    const head = `VALUE huge 0 ${value.length}\r\n`;
    expect(got.subarray(head.length, head.length + value.length).equals(value)).toBe(true);
    expect(got.subarray(head.length + value.length).toString('latin1')).toBe('\r\nEND\r\n');
  });

  it('a half-sent value occupies its chunk inside -m, and a closed connection gives it back', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    const before = usedChunks(h);
    const conns = Array.from({ length: 3 }, () => connect(h));
    for (const [i, c] of conns.entries()) {
      expect(c.send(`set half${i} 0 0 500000\r\n${'x'.repeat(1000)}`).statuses).toEqual([ST_VALUE]);
    }
    expect(usedChunks(h)).toBe(before + 3);
    expect(h.stats().curr_items).toBe('0');
    for (const c of conns) c.session.close();
    expect(usedChunks(h)).toBe(before);
    // the chunks are reusable at once
    expect(h.cmd(`set again 0 0 500000\r\n${'y'.repeat(500000)}\r\n`)).toBe('STORED\r\n');
  });

  it('with -M, half-sent values that fill memory make the next set answer out of memory, swallowing its value', () => {
    const h = makeStore({ engine, memoryMB: 8, opts: OPT_NO_EVICTIONS });
    const conns: ReturnType<typeof connect>[] = [];
    let refused: ReturnType<typeof connect> | null = null;
    let reply = '';
    for (let i = 0; i < 40 && !refused; i++) {
      const c = connect(h);
      const r = c.send(`set v${i} 0 0 700000\r\n${'z'.repeat(10)}`);
      if (r.statuses[0] === ST_VALUE) conns.push(c);
      else { refused = c; reply = r.out; }
    }
    // memory held by values still arriving is memory: the limit holds
    expect(conns.length).toBeGreaterThanOrEqual(5);
    expect(conns.length).toBeLessThanOrEqual(8);
    expect(reply).toBe('SERVER_ERROR out of memory storing object\r\n');
    expect(refused!.session.skipping).toBe(true);
    refused!.send(Buffer.alloc(700000 - 10, 0x61));
    expect(refused!.send('\r\nget v0\r\n').out).toBe('END\r\n');
    // the accepted ones complete normally
    expect(conns[0].send(Buffer.concat([Buffer.alloc(700000 - 10, 0x62), Buffer.from('\r\n')])).out).toBe('STORED\r\n');
  });

  it('a streamed value with a bad trailer is a bad data chunk and stores nothing', () => {
    const h = makeStore({ engine });
    const c = connect(h);
    c.send('set k 0 0 5\r\nab');
    expect(c.send('cdeXYget k\r\n').out).toBe('CLIENT_ERROR bad data chunk\r\nEND\r\n');
  });

  it('meta and binary sets split anywhere answer with every flag, as when whole', () => {
    const h = makeStore({ engine });
    const c = connect(h);
    const ms = 'ms mk 10 T0 F7 O123 k c\r\n0123456789\r\n';
    let out = '';
    for (const ch of ms) out += c.send(ch).out;
    expect(out).toMatch(/^HD O123 kmk c\d+\r\n$/);
    expect(h.cmd('mg mk v f\r\n')).toBe('VA 10 f7\r\n0123456789\r\n');

    const b = makeStore({ engine });
    const bc = connect(b);
    const pkt = frame({ opcode: OP.SET, key: 'bk', extras: Buffer.from([0, 0, 0, 9, 0, 0, 0, 0]), value: Buffer.from('binary value') });
    const outs: Buffer[] = [];
    for (let i = 0; i < pkt.length; i += 5) outs.push(Buffer.from(bc.send(pkt.subarray(i, i + 5)).out, 'latin1'));
    const replies = parseResponses(Buffer.concat(outs)).packets;
    expect(replies.map((p) => p.status)).toEqual([0]);
    const got = parseResponses(b.send(frame({ opcode: OP.GET, key: 'bk' }))).packets;
    expect(got[0].value.toString()).toBe('binary value');
  });

  it('a value larger than the output limit goes out whole, in pieces, even when deleted or overwritten meanwhile', () => {
    const h = makeStore({ engine });
    h.store.outputLimit = 128 * 1024;
    const value = pattern(900_000, 3);
    expect(h.cmd(`set big 0 0 ${value.length}\r\n`)).toBe('');
    h.send(Buffer.concat([value, Buffer.from('\r\n')]));
    const reader = connect(h);
    reader.session.push(Buffer.from('get big\r\nmg big s v\r\n'));
    const outs: Uint8Array[] = [];
    // one call: the first piece only
    reader.session.execute(T0, 65536);
    expect(reader.session.output!.length).toBeLessThanOrEqual(128 * 1024);
    outs.push(reader.session.output!);
    // meanwhile another client deletes, overwrites and re-adds the key
    expect(h.cmd('delete big\r\n')).toBe('DELETED\r\n');
    expect(h.cmd(`set big 0 0 3\r\nnew\r\n`)).toBe('STORED\r\n');
    for (let guard = 0; guard < 100 && reader.session.runnable(); guard++) {
      reader.session.execute(T0, 65536);
      if (reader.session.output) {
        expect(reader.session.output.length).toBeLessThanOrEqual(128 * 1024);
        outs.push(reader.session.output);
      }
    }
    const all = Buffer.concat(outs);
    const head = Buffer.from(`VALUE big 0 ${value.length}\r\n`);
    expect(all.subarray(0, head.length).equals(head)).toBe(true);
    expect(all.subarray(head.length, head.length + value.length).equals(value)).toBe(true);
    expect(all.subarray(head.length + value.length).toString('latin1')).toBe('\r\nEND\r\nVA 3 s3\r\nnew\r\n');
    // the old item's chunk was freed when the last piece went out
    expect(h.stats().curr_items).toBe('1');
  });

  it('incr of a value being sent makes a new item instead of rewriting the digits in place', () => {
    const h = makeStore({ engine });
    h.store.outputLimit = 128 * 1024;
    const digits = '1' + ' '.repeat(300_000);
    h.send(`set n 0 0 ${digits.length}\r\n${digits}\r\n`);
    const reader = connect(h);
    reader.session.push(Buffer.from('get n\r\n'));
    reader.session.execute(T0, 65536);
    const outs = [reader.session.output!];
    expect(h.cmd('incr n 1\r\n')).toBe('2\r\n');
    for (let guard = 0; guard < 100 && reader.session.runnable(); guard++) {
      reader.session.execute(T0, 65536);
      if (reader.session.output) outs.push(reader.session.output);
    }
    expect(Buffer.concat(outs).toString('latin1')).toBe(`VALUE n 0 ${digits.length}\r\n${digits}\r\nEND\r\n`);
    // the new item holds just the new digits (memcached does the same when it
    // cannot rewrite in place)
    expect(h.cmd('get n\r\n')).toBe('VALUE n 0 1\r\n2\r\nEND\r\n');
  });

  it('a reader that goes away in the middle of a value unpins it', () => {
    const h = makeStore({ engine, memoryMB: 8 });
    h.store.outputLimit = 128 * 1024;
    h.send(`set big 0 0 600000\r\n${'q'.repeat(600000)}\r\n`);
    const before = usedChunks(h);
    const reader = connect(h);
    reader.session.push(Buffer.from('get big\r\n'));
    reader.session.execute(T0, 65536);
    expect(h.cmd('delete big\r\n')).toBe('DELETED\r\n');
    // unlinked but still pinned by the reader
    expect(usedChunks(h)).toBe(before);
    reader.session.close();
    expect(usedChunks(h)).toBe(before - 1);
  });
});
