// The request path hands out views it made once per length instead of one
// per call (ViewsAt in src/bytes.ts): of the read buffer, of the engine's
// output region (Store.output()) and of the reply stage (output-pool.ts,
// whose property test covers it). A reused view must always show the bytes
// a new one would: after the memory under it grows or moves, and when
// lengths come and go in any order.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ViewsAt, prefixViewsOf } from '../../src/bytes.js';
import { Store } from '../../src/engine/store.js';
import { ENGINES, loadEngine, T0, SessionClient } from '../support/engine.js';

describe('ViewsAt', () => {
  it('every view is bytes[at, at + n), whatever lengths came before', () => {
    fc.assert(fc.property(fc.nat({ max: 64 }), fc.array(fc.nat({ max: 1200 }), { maxLength: 200 }), (at, lengths) => {
      const bytes = new Uint8Array(at + 1300);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 13) & 0xff;
      const views = new ViewsAt(bytes, at);
      for (const n of lengths) {
        const v = views.of(n);
        expect(v.length).toBe(n);
        expect(v.byteOffset).toBe(at);
        expect(v.buffer).toBe(bytes.buffer);
      }
    }));
  });

  it('a length seen before gets the same view again; one above the cache a new one', () => {
    const views = new ViewsAt(new Uint8Array(4096), 8);
    expect(views.of(100)).toBe(views.of(100));
    expect(views.of(0).length).toBe(0);
    expect(views.of(2000)).not.toBe(views.of(2000));
    expect(views.of(2000).length).toBe(2000);
  });

  it('sockets on one read buffer share its views', () => {
    const buffer = new Uint8Array(64);
    expect(prefixViewsOf(buffer)).toBe(prefixViewsOf(buffer));
    expect(prefixViewsOf(new Uint8Array(64))).not.toBe(prefixViewsOf(buffer));
  });
});

describe.each(ENGINES)('Store.output() across memory growth (%s engine)', (engine) => {
  it('replies of a length seen before are read from the memory as it is now', () => {
    const build = loadEngine(engine);
    const options = { memoryMB: 8, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 };
    const store = Store.create(build, options, T0);
    const client = new SessionClient(store);
    client.feed('set k 0 0 5\r\nfirst\r\n');
    client.feed('get k\r\n');
    expect(client.take()).toBe('STORED\r\nVALUE k 0 5\r\nfirst\r\nEND\r\n');
    // Another store in the same module grows its memory: a WebAssembly
    // memory detaches its old buffer, the js build's moves to a new one.
    const before = build.buffer();
    Store.create(build, options, T0);
    expect(build.buffer() === before && before.byteLength === build.buffer().byteLength).toBe(false);
    // The same reply lengths as before, with other bytes.
    client.feed('set k 0 0 5\r\nsecnd\r\n');
    client.feed('get k\r\n');
    expect(client.take()).toBe('STORED\r\nVALUE k 0 5\r\nsecnd\r\nEND\r\n');
  });
});
