// The runtime scenario on Bun (the npm-installed binary), through the
// library's browser entry: Bun imports a .wasm file as a path, not a module,
// so the entry with the engine inlined is the one that runs unchanged. The
// runner runs from a temp dir so Bun reads no project config.
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
// @ts-expect-error: plain JS shared with the other runtimes
import { EXPECTED } from './scenario.js';
import { haveTool, ROOT } from '../support/servers.js';
import { runInRuntime } from './runner.js';

const BUN = join(ROOT, 'node_modules', '.bin', 'bun');

describe.skipIf(!haveTool(BUN)).each(['wasm', 'js'] as const)('runtime scenario on Bun (%s engine)', (engine) => {
  it('set/get, bytes, TTL, eviction at the budget, fetch coalescing', async () => {
    const r = await runInRuntime(BUN, (script) => ['run', '--no-install', script], engine, () => ({ NO_COLOR: '1' }));
    expect(r).toEqual(EXPECTED);
  }, 30_000);
});
