// The tutorial's answer to a cold new cluster is client-side: pymemcache's
// FallbackClient over (new, old). With --warm-from the new node does it
// itself, so one plain base.Client against it reads what FallbackClient
// reads, and a delete made during the migration sticks (FallbackClient's
// delete reaches only the new node, so the old value comes back).
import { describe, it, expect, afterEach } from 'vitest';
import { startWasmcached, startMemcached, IN_CI, type ServerHandle } from '../support/servers.js';
import { makeItems, fill } from '../support/warm.js';
import { havePythonModules, runPython } from './python.js';

interface Outcome {
  differ: string[]; plain_hits: number; fallback_hits: number; get_many_same: boolean;
  fallback_written: string; plain_written: string; fallback_after_delete: string | null; plain_after_delete: string | null;
}

const running: ServerHandle[] = [];
afterEach(async () => { for (const h of running.splice(0)) await h.stop(); });

describe.each(['wasm', 'js'] as const)('migrating from an old memcached (%s engine)', (engine) => {
  it('one plain pymemcache Client on a warming node reads what FallbackClient(new, old) reads', async () => {
    if (!havePythonModules(['pymemcache'])) {
      if (IN_CI) throw new Error('python3-pymemcache is missing');
      return;
    }
    const old = await startMemcached(['-m', '64']);
    running.push(old);
    const items = new Map([...makeItems(1200, 21)].filter(([k]) => k.startsWith('key:')));
    await fill(old.port, items);
    const emptyNew = await startWasmcached(['--engine', engine]);
    running.push(emptyNew);
    // The bulk copy crawls (1 item/s): reads go through miss-through.
    const warming = await startWasmcached(['--engine', engine, '--warm-from', `127.0.0.1:${old.port}`, '-o', 'warm_rate=1']);
    running.push(warming);
    const keys = [...items.keys()].slice(0, 400);
    const r = await runPython<Outcome>('migration_plain_client.py', [emptyNew.port, warming.port, old.port, ...keys], 120_000);
    expect(r.differ).toEqual([]);
    expect(r.fallback_hits).toBe(keys.length);
    expect(r.plain_hits).toBe(keys.length);
    expect(r.get_many_same).toBe(true);
    expect(r.fallback_written).toBe("b'new value'");
    expect(r.plain_written).toBe("b'new value'");
    expect(r.fallback_after_delete).not.toBeNull();
    expect(r.plain_after_delete).toBeNull();
  }, 180_000);
});
