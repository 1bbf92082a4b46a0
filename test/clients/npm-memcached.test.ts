// The npm `memcached` client (3rd-Eden), the common Node text-protocol client,
// against the server. It is CommonJS with a callback API.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { startWasmcached, type ServerHandle } from '../support/servers.js';

const require = createRequire(import.meta.url);
const Memcached = require('memcached');

describe('npm memcached client', () => {
  let server: ServerHandle;
  let mc: any; // the package ships no type definitions
  const call = <T = unknown>(method: string, ...args: unknown[]): Promise<T> =>
    promisify(mc[method]).call(mc, ...args) as Promise<T>;

  beforeAll(async () => {
    server = await startWasmcached();
    mc = new Memcached(`127.0.0.1:${server.port}`, { retries: 0, timeout: 5000, idle: 1000 });
  });

  afterAll(async () => {
    mc?.end(); // closes the client's sockets, or the test process would wait on them
    await server?.stop();
  });

  test('set/get of strings, numbers and JSON objects', async () => {
    expect(await call('set', 'greeting', 'hello world', 60)).toBe(true);
    expect(await call('get', 'greeting')).toBe('hello world');
    // The client marks numbers and objects with item flags and decodes by them.
    expect(await call('set', 'answer', 42, 60)).toBe(true);
    expect(await call('get', 'answer')).toBe(42);
    expect(await call('set', 'obj', { a: [1, 'two'], b: null }, 60)).toBe(true);
    expect(await call('get', 'obj')).toEqual({ a: [1, 'two'], b: null });
    expect(await call('get', 'no-such-key')).toBeUndefined();
  });

  test('gets/cas: a fresh cas stores, a stale one is refused', async () => {
    await call('set', 'k', 'v1', 60);
    const g = await call<{ k: string; cas: string }>('gets', 'k');
    expect(g.k).toBe('v1');
    expect(g.cas).toMatch(/^\d+$/);
    expect(await call('cas', 'k', 'v2', g.cas, 60)).toBe(true);
    expect(await call('cas', 'k', 'v3', g.cas, 60)).toBe(false);
    expect(await call('get', 'k')).toBe('v2');
  });

  test('incr/decr: decr stops at 0, incr on a missing key is false', async () => {
    await call('set', 'n', '10', 60);
    expect(await call('incr', 'n', 5)).toBe(15);
    expect(await call('decr', 'n', 20)).toBe(0);
    expect(await call('incr', 'n', 3)).toBe(3);
    expect(await call('incr', 'no-such-counter', 1)).toBe(false);
  });

  test('add on an existing key rejects; add on a new key stores', async () => {
    await call('set', 'taken', 'first', 60);
    await expect(call('add', 'taken', 'second', 60)).rejects.toThrow(/not stored/i);
    expect(await call('get', 'taken')).toBe('first');
    expect(await call('add', 'fresh', 'new', 60)).toBe(true);
    expect(await call('get', 'fresh')).toBe('new');
  });

  test('touch, getMulti, del', async () => {
    await call('set', 'a', 'A', 60);
    await call('set', 'b', 'B', 60);
    expect(await call('touch', 'a', 100)).toBe(true);
    expect(await call('touch', 'no-such-key', 100)).toBe(false);
    expect(await call('getMulti', ['a', 'b', 'no-such-key'])).toEqual({ a: 'A', b: 'B' });
    expect(await call('del', 'a')).toBe(true);
    expect(await call('del', 'a')).toBe(false);
    expect(await call('getMulti', ['a', 'b'])).toEqual({ b: 'B' });
  });

  test('version', async () => {
    const [info] = await call<{ server: string; version: string; major: string }[]>('version');
    expect(info.server).toBe(`127.0.0.1:${server.port}`);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
