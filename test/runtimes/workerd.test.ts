// The runtime scenario on workerd (through miniflare, in-process, no
// listener). workerd refuses to compile WebAssembly from bytes, so the worker
// imports the engine as a wasm module (compiled at load, like a deployed
// Worker) and uses createCacheSync({ module }); the library's browser entry
// and the scenario are given as they are, as separate ES modules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Miniflare } from 'miniflare';
// @ts-expect-error: plain JS shared with the other runtimes
import { EXPECTED } from './scenario.js';
import { ROOT } from '../support/servers.js';

const WORKER = `
import module from './build/wasmcached.wasm';
import { createCacheSync } from './dist/index.browser.js';
import { runScenario } from './test/runtimes/scenario.js';

export default {
  async fetch(request) {
    const engine = new URL(request.url).searchParams.get('engine');
    const r = await runScenario((o) => createCacheSync(engine === 'js' ? { ...o, engine } : { ...o, module }));
    return Response.json(r);
  },
};
`;

describe('runtime scenario on workerd (miniflare)', () => {
  let mf: Miniflare;

  beforeAll(async () => {
    const file = (p: string) => readFileSync(join(ROOT, p));
    mf = new Miniflare({
      compatibilityDate: '2024-09-01',
      modulesRoot: ROOT,
      modules: [
        { type: 'ESModule', path: join(ROOT, 'worker.mjs'), contents: WORKER },
        { type: 'ESModule', path: join(ROOT, 'dist/index.browser.js'), contents: file('dist/index.browser.js') },
        { type: 'ESModule', path: join(ROOT, 'test/runtimes/scenario.js'), contents: file('test/runtimes/scenario.js') },
        { type: 'CompiledWasm', path: join(ROOT, 'build/wasmcached.wasm'), contents: file('build/wasmcached.wasm') },
      ],
    });
    await mf.ready;
  }, 30_000);

  afterAll(async () => {
    await mf?.dispose();
  });

  it.each(['wasm', 'js'])('set/get, bytes, TTL, eviction at the budget, fetch coalescing (%s engine)', async (engine) => {
    const res = await mf.dispatchFetch(`http://localhost/?engine=${engine}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toEqual(EXPECTED);
  }, 20_000);
});
