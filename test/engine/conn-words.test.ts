// A connection's engine words (R_CONN_STATE) move between its session and
// the store's header around every call. When nothing is in progress on it
// (no multiget, value, send or dump), only R_CONN differs from zero, and
// only R_CONN is moved (R_CONN_BUSY, src/engine/store.ts). These check that
// the engine says so after ordinary commands, and that connections whose
// words are not all zero, on one thread or on several contexts, still get
// back exactly their own state.
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/engine/store.js';
import { EngineLock } from '../../src/engine/lock.js';
import { ST_OK, ST_VALUE } from '../../assembly/abi.js';
import { ENGINES, loadEngine, makeStore, T0, SessionClient as Client, type EngineKind } from '../support/engine.js';

function stores(engine: EngineKind, contexts: boolean): Store[] {
  const build = loadEngine(engine);
  const main = Store.create(build, { memoryMB: 16, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 }, T0);
  if (!contexts) return [main];
  const lock = new EngineLock(new SharedArrayBuffer(4));
  const other = Store.attach(build, main.base, main.newContext(), lock);
  main.useContext(main.newContext(), lock);
  return [main, other];
}

describe.each(ENGINES)('connection words (%s engine)', (engine) => {
  it('ordinary commands leave nothing in progress: only R_CONN moves', () => {
    const h = makeStore({ engine });
    const commands = [
      'set a 0 0 1\r\n1\r\n', 'get a\r\n', 'gets a\r\n', 'gat 0 a\r\n', 'incr a 1\r\n', 'mg a v\r\n', 'ms b 2\r\nhi\r\n',
      'delete a\r\n', 'get a b c\r\n', 'version\r\n',
    ];
    for (const c of commands) {
      h.cmd(c);
      expect(h.store.connRestZero, JSON.stringify(c)).toBe(true);
    }
    // Binary too: a get of a key that is there.
    const key = Buffer.from('b');
    const header = Buffer.alloc(24);
    header[0] = 0x80; header[1] = 0x00; header.writeUInt16BE(key.length, 2); header.writeUInt32BE(key.length, 8);
    h.reset();
    h.send(Buffer.concat([header, key]));
    expect(h.store.connRestZero).toBe(true);
  });

  it('a value still arriving is in progress until its last byte', () => {
    const h = makeStore({ engine });
    expect(h.cmd(`set v 0 0 10\r\n01234`)).toBe('');
    expect(h.store.connRestZero).toBe(false);
    expect(h.cmd('56789\r\n')).toBe('STORED\r\n');
    expect(h.store.connRestZero).toBe(true);
    expect(h.cmd('get v\r\n')).toBe('VALUE v 0 10\r\n0123456789\r\nEND\r\n');
  });

  for (const contexts of [false, true]) {
    it(`connections in the middle of a value keep their own state between other connections' calls (${contexts ? 'two contexts' : 'one thread'})`, () => {
      const [s0, s1 = s0] = stores(engine, contexts);
      const a = new Client(s0);
      const b = new Client(s1);
      const c = new Client(s0);
      // a and c each leave a value half sent; b runs ordinary commands in
      // between, which must leave it nothing of theirs.
      expect(a.feed('set va 0 0 6\r\naaa')).toBe(ST_VALUE);
      expect(b.feed('set x 0 0 1\r\nx\r\n')).toBe(ST_OK);
      expect(s1.connRestZero).toBe(true);
      expect(c.feed('set vc 0 0 6\r\nccc')).toBe(ST_VALUE);
      expect(b.feed('get x va vc\r\n')).toBe(ST_OK);
      expect(s1.connRestZero).toBe(true);
      expect(b.take()).toBe('STORED\r\nVALUE x 0 1\r\nx\r\nEND\r\n');
      // b, with nothing in progress (only R_CONN moved), starts a value of
      // its own while the header holds c's: its words must all be saved.
      expect(b.feed('set vb 0 0 6\r\nbbb')).toBe(ST_VALUE);
      expect(s1.connRestZero).toBe(false);
      expect(a.feed('AAA\r\nget va\r\n')).toBe(ST_OK);
      expect(c.feed('CCC\r\nget vc va\r\n')).toBe(ST_OK);
      expect(b.feed('BBB\r\nget va vb vc\r\n')).toBe(ST_OK);
      expect(a.take()).toBe('STORED\r\nVALUE va 0 6\r\naaaAAA\r\nEND\r\n');
      expect(c.take()).toBe('STORED\r\nVALUE vc 0 6\r\ncccCCC\r\nVALUE va 0 6\r\naaaAAA\r\nEND\r\n');
      expect(b.take()).toBe('STORED\r\nVALUE va 0 6\r\naaaAAA\r\nVALUE vb 0 6\r\nbbbBBB\r\nVALUE vc 0 6\r\ncccCCC\r\nEND\r\n');
      expect(s1.connRestZero).toBe(true);
    });
  }
});
