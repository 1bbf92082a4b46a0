// The runtime scenario on Deno (the npm-installed binary), through the
// library's browser entry: Deno has fetch and WebAssembly but no need for the
// node: shims, and the inlined .wasm means read access to the repo is the only
// permission (no network, no env, no write).
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
// @ts-expect-error: plain JS shared with the other runtimes
import { EXPECTED } from './scenario.js';
import { haveTool, ROOT } from '../support/servers.js';
import { runInRuntime } from './runner.js';

// Deno's npm package lists per-platform binaries the registry we install
// from does not all carry, so it cannot be in package-lock.json: `npm run
// setup:deno` (run by .ci/run) installs it into .tools/.
const DENO = join(ROOT, '.tools', 'node_modules', '.bin', 'deno');

describe.skipIf(!haveTool(DENO)).each(['wasm', 'js'] as const)('runtime scenario on Deno (%s engine)', (engine) => {
  it('set/get, bytes, TTL, eviction at the budget, fetch coalescing', async () => {
    const r = await runInRuntime(
      DENO,
      (script) => ['run', '--no-config', '--no-lock', '--no-remote', '--no-npm', `--allow-read=${ROOT}`, script],
      engine,
      // A cache dir in the temp dir: nothing is fetched, nothing is left behind.
      (dir) => ({ DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', DENO_DIR: join(dir, 'deno'), NO_COLOR: '1' }),
    );
    expect(r).toEqual(EXPECTED);
  }, 30_000);
});
