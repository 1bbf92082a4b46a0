// libmemcached's memccapable conformance suite: 27 named ASCII tests (set,
// cas, incr noreply, ...) and, without -a, 27 binary-protocol ones (setq,
// getkq, incrq, stat, ...); it prints `[pass]` per test.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { startWasmcached, haveTool, type ServerHandle } from '../support/servers.js';

const ASCII_TESTS = 27;
const ALL_TESTS = 54;

function memccapable(port: number, asciiOnly = true): Promise<{ code: number | string; out: string }> {
  return new Promise((resolve) => {
    // -t 2: per-operation timeout, so a missing reply fails a test instead of hanging.
    const args = ['-h', '127.0.0.1', '-p', String(port), ...(asciiOnly ? ['-a'] : []), '-t', '2'];
    execFile('memccapable', args, { timeout: 45_000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.signal ?? err.code ?? 1) : 0, out: stdout + stderr }));
  });
}

// Both engine builds (the flag is dropped when the target is memcached itself).
describe.skipIf(!haveTool('memccapable')).each(process.env.TEST_TARGET === 'memcached' ? ['wasm'] : ['wasm', 'js'])('memccapable -a, --engine %s', (engine) => {
  let server: ServerHandle;

  beforeAll(async () => { server = await startWasmcached(process.env.TEST_TARGET === 'memcached' ? [] : ['--engine', engine]); });
  afterAll(async () => { await server?.stop(); });

  test(`all ${ASCII_TESTS} ASCII tests pass`, async () => {
    const { code, out } = await memccapable(server.port);
    const results = [...out.matchAll(/^(ascii .+?)\s+\[(\w+)\]\s*$/gm)].map((m) => ({ name: m[1], result: m[2] }));
    const report = `memccapable exited with ${code}:\n${out}\nserver output:\n${server.output()}`;
    expect(results.filter((r) => r.result !== 'pass'), report).toEqual([]);
    expect(results, report).toHaveLength(ASCII_TESTS);
    expect(out, report).toMatch(/All tests passed/);
    expect(code, report).toBe(0);
  });
});

describe.skipIf(!haveTool('memccapable')).each(process.env.TEST_TARGET === 'memcached' ? ['wasm'] : ['wasm', 'js'])('memccapable (text and binary), --engine %s', (engine) => {
  let server: ServerHandle;

  beforeAll(async () => { server = await startWasmcached(process.env.TEST_TARGET === 'memcached' ? [] : ['--engine', engine]); });
  afterAll(async () => { await server?.stop(); });

  test(`all ${ALL_TESTS} tests pass`, async () => {
    const { code, out } = await memccapable(server.port, false);
    const results = [...out.matchAll(/^((?:ascii|binary) .+?)\s+\[(\w+)\]\s*$/gm)].map((m) => ({ name: m[1], result: m[2] }));
    const report = `memccapable exited with ${code}:\n${out}\nserver output:\n${server.output()}`;
    expect(results.filter((r) => r.result !== 'pass'), report).toEqual([]);
    expect(results.filter((r) => r.name.startsWith('binary ')), report).toHaveLength(ALL_TESTS - ASCII_TESTS);
    expect(results, report).toHaveLength(ALL_TESTS);
    expect(out, report).toMatch(/All tests passed/);
    expect(code, report).toBe(0);
  });
});
