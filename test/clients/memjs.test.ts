// memjs, the npm binary-protocol client (and the one behind @keyv/memcache),
// against the server on both engine builds: set/get/add/replace/delete,
// increment with an initial value, touch, append, flush, stats and CAS over
// raw frames (memjs has no cas in its API).
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { startWasmcached, type ServerHandle } from '../support/servers.js';

const require = createRequire(import.meta.url);
const memjs = require('memjs');
const { makeRequestBuffer } = require('memjs/lib/memjs/utils');

describe.each(process.env.TEST_TARGET === 'memcached' ? ['wasm'] : ['wasm', 'js'])('memjs (binary protocol), --engine %s', (engine) => {
  let server: ServerHandle;
  let mc: any; // memjs ships no type definitions

  beforeAll(async () => {
    server = await startWasmcached(process.env.TEST_TARGET === 'memcached' ? [] : ['--engine', engine]);
    mc = memjs.Client.create(`127.0.0.1:${server.port}`, { retries: 0, timeout: 5, logger: { log() { /* quiet */ } } });
  });
  afterAll(async () => {
    mc?.close();
    await server?.stop();
  });

  test('set, get, add, replace, delete', async () => {
    expect(await mc.set('k', 'v1', { expires: 60 })).toBe(true);
    const got = await mc.get('k');
    expect(got.value.toString()).toBe('v1');
    expect(await mc.add('k', 'x')).toBe(false);
    expect(await mc.add('fresh', 'x')).toBe(true);
    expect(await mc.replace('k', 'v2')).toBe(true);
    expect(await mc.replace('missing', 'v')).toBe(false);
    expect((await mc.get('k')).value.toString()).toBe('v2');
    expect(await mc.delete('k')).toBe(true);
    expect(await mc.delete('k')).toBe(false);
    expect((await mc.get('k')).value).toBeNull();
  });

  test('binary values and flags round-trip', async () => {
    const bytes = Buffer.from([0, 1, 2, 13, 10, 255, 0x80]);
    expect(await mc.set('bin', bytes, {})).toBe(true);
    expect(Buffer.compare((await mc.get('bin')).value, bytes)).toBe(0);
  });

  test('increment / decrement, with an initial value on a miss', async () => {
    expect(await mc.set('n', '10', {})).toBe(true);
    expect(await mc.increment('n', 5, {})).toEqual({ success: true, value: 15 });
    expect(await mc.decrement('n', 20, {})).toEqual({ success: true, value: 0 });
    expect(await mc.increment('ctr', 1, { initial: 100, expires: 60 })).toEqual({ success: true, value: 100 });
    expect(await mc.increment('ctr', 1, {})).toEqual({ success: true, value: 101 });
    expect((await mc.get('ctr')).value.toString()).toBe('101');
  });

  test('append, prepend, touch', async () => {
    await mc.set('s', 'mid', {});
    expect(await mc.append('s', '>')).toBe(true);
    // memjs 1.3.2 sends prepend with the APPEND opcode (0x0e): the bytes
    // land at the end, exactly as against memcached.
    expect(await mc.prepend('s', '<')).toBe(true);
    expect((await mc.get('s')).value.toString()).toBe('mid><');
    expect(await mc.touch('s', 100)).toBe(true);
    expect(await mc.touch('nope', 100)).toBe(false);
  });

  test('CAS over raw frames: the current unique stores, a stale one is refused', async () => {
    await mc.set('c', 'v1', {});
    const perform = (key: string, mk: (seq: number) => Buffer): Promise<any> => new Promise((resolve, reject) => {
      mc.incrSeq();
      mc.perform(key, mk(mc.seq), mc.seq, (e: Error | null, r: any) => (e ? reject(e) : resolve(r)));
    });
    const cas: Buffer = (await perform('c', (seq) => makeRequestBuffer(0x00, 'c', '', '', seq))).header.cas;
    const setWithCas = (seq: number) => {
      const b = makeRequestBuffer(0x01, 'c', Buffer.alloc(8), 'v2', seq);
      cas.copy(b, 16);
      return b;
    };
    expect((await perform('c', setWithCas)).header.status).toBe(0);
    expect((await perform('c', setWithCas)).header.status).toBe(2); // KEY_EEXISTS
    expect((await mc.get('c')).value.toString()).toBe('v2');
  });

  test('stats and flush', async () => {
    const stats = await new Promise<Record<string, string>>((resolve, reject) => {
      mc.stats((err: Error | null, _server: string, s: Record<string, string>) => (err ? reject(err) : resolve(s)));
    });
    expect(stats.version).toBe('1.6.18');
    expect(Number(stats.cmd_get)).toBeGreaterThan(0);
    expect(await mc.flush()).toEqual({ [`127.0.0.1:${server.port}`]: true });
    expect((await mc.get('s')).value).toBeNull();
  });
});
