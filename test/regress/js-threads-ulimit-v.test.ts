// Regression: `--engine js -t 2` under `ulimit -v` died at start. The js
// build's threads share one buffer allocated whole (src/engine/js.ts); it
// took the address space the worker thread's runtime then needed, and V8
// ends the process when a new thread cannot reserve its heap ("Fatal process
// OOM"). Now the buffer leaves room for the workers, and where even that
// does not fit the server runs fewer threads and says so
// (src/engine/shared.ts); -t 1 with the js engine needs no shared buffer.
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

describe('--engine js -t 2 under ulimit -v', () => {
  it('3.5 GB of address space: two threads, sharing a smaller buffer', async () => {
    server = await startWasmcached(['-t', '2', '--engine', 'js', '-m', '64'], { addressSpaceKb: 3_500_000 });
    expect(await servesOnEveryConnection(server.port, clients)).toBe(2);
  }, 30_000);

  it('1.4 GB: room for one thread only, which it says and serves on', async () => {
    server = await startWasmcached(['-t', '2', '--engine', 'js', '-m', '64'], { addressSpaceKb: 1_400_000 });
    expect(server.output()).toContain('-t 2: address space for 1 thread(s) only (ulimit -v); serving on 1 thread(s)');
    expect(await servesOnEveryConnection(server.port, clients)).toBe(1);
  }, 30_000);
});
