// The runtime scenario on Node, through the published entry points.
import { describe, it, expect } from 'vitest';
// @ts-expect-error: plain JS shared with the other runtimes
import { runScenario, EXPECTED } from './scenario.js';
import { createCache } from '../../src/embed/node.js';

describe.each(['wasm', 'js'] as const)('runtime scenario on Node (%s engine)', (engine) => {
  it('set/get, bytes, TTL, eviction at the budget, fetch coalescing', async () => {
    const r = await runScenario((o: object) => createCache({ ...o, engine }));
    expect(r).toEqual(EXPECTED);
  });
});
