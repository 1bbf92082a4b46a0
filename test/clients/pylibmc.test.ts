// pylibmc (libmemcached, a separate C implementation of the client side)
// against the server over the text protocol and over the binary protocol.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { startWasmcached, startMemcached, haveTool, type ServerHandle } from '../support/servers.js';
import { havePythonModules, runPython } from './python.js';

const AGAINST_MEMCACHED = process.env.TEST_TARGET === 'memcached';

/** What pylibmc reports for the scripted operations (py/pylibmc_client.py). */
function expected(protocol: 'text' | 'binary') {
  return {
    flush_all: true,
    set: true, get: 'v1', get_missing: null,
    gets_value: 'v1', gets_cas_is_int: true,
    cas_fresh: true, cas_stale: false, get_after_cas: 'v2', cas_missing: { raised: 'NotFound' },
    set_int: true, incr: 15, decr_below_zero: 0, get_after_decr: 0, incr_missing: { raised: 'NotFound' },
    add_existing: false, add_new: true,
    // libmemcached turns a binary KEY_ENOENT on replace into an exception
    replace_existing: true, replace_missing: protocol === 'binary' ? { raised: 'NotFound' } : false,
    append: true, prepend: true, get_after_append_prepend: '<v4!', append_missing: false,
    set_multi_failed: [],
    get_multi: {
      int: 42, bytes: "b'raw\\x00bytes'", text: 'text', pickled: { a: [1, 2.5, null] },
      bool: 1, big: '1180591620717411303424',
    },
    // Each type came back as itself, which only works if the flags did.
    get_multi_types: { int: 'int', bytes: 'bytes', text: 'str', pickled: 'dict', bool: 'int', big: 'int' },
    raw_headers: expect.any(Object),
    touch: true, touch_missing: false,
    delete: true, delete_missing: false, get_after_delete: null,
    delete_multi: true, get_multi_after_delete: ['big', 'bool', 'bytes', 'pickled'],
    flush_all_again: true, get_multi_after_flush: {},
  };
}

describe.skipIf(!havePythonModules(['pylibmc'])).each(['text', 'binary'] as const)('pylibmc, %s protocol', (protocol) => {
  let server: ServerHandle;
  // Real memcached: the flags pylibmc stores per Python type are its own
  // convention, so the raw `VALUE` lines are compared with memcached's.
  let reference: ServerHandle | undefined;

  beforeAll(async () => {
    [server, reference] = await Promise.all([
      startWasmcached(),
      !AGAINST_MEMCACHED && haveTool('memcached') ? startMemcached() : undefined,
    ]);
  });

  afterAll(async () => {
    await Promise.all([server, reference].map((s) => s?.stop()));
  });

  test('storage commands, gets/cas, incr/decr, typed multi-get, touch, delete, flush_all', async () => {
    const r = await runPython('pylibmc_client.py', [server.port, protocol]);
    expect(r).toEqual(expected(protocol));
    expect(r.raw_headers).toMatchObject({ bytes: "b'VALUE bytes 0 9'", text: "b'VALUE text 16 4'" });
    if (reference) expect(r).toEqual(await runPython('pylibmc_client.py', [reference.port, protocol]));
  });
});
