// The pure-JS build is the fallback where WebAssembly cannot run: without
// --engine, a server whose WebAssembly engine cannot start (no WebAssembly
// under node --jitless; not the address space a WebAssembly memory reserves
// under ulimit -v) says why and serves with the js engine, threads and all.
// With --engine wasm given, the failure is final, as asked.
import { afterEach, describe, expect, it } from 'vitest';
import type { RawClient } from '../support/client.js';
import { servesOnEveryConnection } from '../support/host-checks.js';
import { startWasmcached, type ServerHandle } from '../support/servers.js';

let server: ServerHandle | null = null;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = null;
});

describe('no WebAssembly engine: the js engine serves', () => {
  it('node --jitless (no WebAssembly): the js engine on -t 2', async () => {
    server = await startWasmcached(['-t', '2', '-m', '64'], { nodeFlags: ['--jitless'] });
    expect(server.output()).toContain('the WebAssembly engine cannot start (WebAssembly is not defined); serving with the js engine (--engine js)');
    expect(await servesOnEveryConnection(server.port, clients)).toBe(2);
  }, 60_000);

  it('ulimit -v 3.5 GB (no room for a WebAssembly memory): the js engine, its threads sharing a smaller buffer', async () => {
    server = await startWasmcached(['-t', '2', '-m', '64'], { addressSpaceKb: 3_500_000 });
    expect(server.output()).toMatch(/the WebAssembly engine cannot start \(.*memory.*\); serving with the js engine \(--engine js\)/);
    expect(await servesOnEveryConnection(server.port, clients)).toBe(2);
  }, 60_000);

  it('--engine wasm given: its failure is final', async () => {
    await expect(startWasmcached(['-t', '1', '-m', '64', '--engine', 'wasm'], { addressSpaceKb: 3_500_000 }))
      .rejects.toThrow(/exited \(1\) before listening:\n.*(?:Wasm memory|could not allocate memory)/);
  }, 60_000);
});
