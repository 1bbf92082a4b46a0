// The differential test (test/diff/*.diff.test.ts): seeded random pipelined text-protocol traffic goes to
// wasmcached and to a real memcached, and the replies must be identical byte
// for byte. The stream is sent in batches that end at sync points, so a
// mismatch is reported with the batch that caused it. CAS values match too:
// both servers start fresh, every run checks their CAS counters agree at its
// start and end, and after a failing run both are restarted so shrinking
// starts from equal counters. What the generated traffic leaves out, and
// why, is listed at the top of test/support/gen.ts.
//
// DIFF_SEED=<n> replays a seed (printed on failure); DIFF_RUNS=<n> changes
// the number of runs; DIFF_DEBUG=1 prints a tally of the replies seen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PAIR_ARGS, startPair, stopPair, type ServerPair } from './reference.js';
import { RawClient, readThroughSync, show, splitTextReplies, syncRequest, type SyncedReplies } from './client.js';
import { sequenceArb, type RenderContext, type Unit } from './gen.js';

const FIXED_SEED = Number(process.env.DIFF_SEED ?? 20240611);
const FIXED_RUNS = Number(process.env.DIFF_RUNS ?? 400);
const RANDOM_RUNS = 150;
/** Wall-clock budget per property; runs past it pass without executing. */
const RUN_BUDGET_MS = 25_000;
/** Extra time for shrinking once a run has failed. */
const SHRINK_BUDGET_MS = 20_000;

let pair: ServerPair | undefined;
let dirty = true;
/** The subject's arguments for the describe block running now. */
let subjectArgs: string[] = PAIR_ARGS;

async function freshServers(): Promise<void> {
  await stopPair(pair);
  pair = undefined;
  pair = await startPair(PAIR_ARGS, subjectArgs);
  dirty = false;
  if (process.env.DIFF_DEBUG) console.log(`reference: ${pair.ref.name} pid ${pair.ref.pid}; subject: ${pair.sut.name} pid ${pair.sut.pid}`);
}

/** Newest CAS unique per key in `VALUE <key> <flags> <bytes> <cas>` lines. */
function collectCas(replies: Buffer, into: Map<string, bigint>): void {
  for (const r of splitTextReplies(replies)) {
    let off = 0;
    while (off < r.length) {
      const eol = r.indexOf('\r\n', off, 'latin1');
      if (eol < 0) break;
      const toks = r.subarray(off, eol).toString('latin1').split(' ');
      if (toks[0] !== 'VALUE') break;
      if (toks.length === 5) into.set(toks[1], BigInt(toks[4]));
      off = eol + 2 + Number(toks[3]) + 2;
    }
  }
}

class Mismatch extends Error {}

function describeMismatch(what: string, sent: Buffer, units: Unit[], a: SyncedReplies, b: SyncedReplies): string {
  const ra = splitTextReplies(a.bytes);
  const rb = splitTextReplies(b.bytes);
  let i = 0;
  while (i < ra.length && i < rb.length && ra[i].equals(rb[i])) i++;
  const lines = [
    `${what}: replies differ (memcached ${a.bytes.length} bytes, synced=${a.synced}, closed=${a.closed}; ` +
      `wasmcached ${b.bytes.length} bytes, synced=${b.synced}, closed=${b.closed})`,
    `units in this batch:`,
    ...units.map((u, k) => `  [${k}] ${String(u)}`),
    `bytes sent: ${show(sent, 4000)}`,
    `first differing reply is #${i}:`,
    `  memcached : ${ra[i] ? show(ra[i]) : '(none)'}`,
    `  wasmcached: ${rb[i] ? show(rb[i]) : '(none)'}`,
    `memcached replies : ${show(a.bytes, 3000)}`,
    `wasmcached replies: ${show(b.bytes, 3000)}`,
  ];
  return lines.join('\n');
}

let syncCounter = 0;

const debugCounts = new Map<string, number>();

/** With DIFF_DEBUG set, tallies reply kinds so the traffic mix can be checked. */
function debugLog(parts: Buffer[], r: SyncedReplies): void {
  const add = (k: string, n = 1) => debugCounts.set(k, (debugCounts.get(k) ?? 0) + n);
  add('(batches)'); add('(units)', parts.length); add('(bytes sent)', parts.reduce((n, p) => n + p.length, 0));
  for (const rep of splitTextReplies(r.bytes)) {
    const k = rep.subarray(0, Math.min(rep.length, 40)).toString('latin1').split(/[\r ]/)[0];
    add(/^\d+$/.test(k) ? '(number)' : k);
  }
}

/** Sends `payload` to both, then a sync point; both reply streams must match. */
async function exchange(cRef: RawClient, cSut: RawClient, payload: Buffer, units: Unit[], what: string): Promise<SyncedReplies> {
  const id = `s${++syncCounter}`;
  const bytes = Buffer.concat([payload, syncRequest(id)]);
  // Send without awaiting: a big batch must be read while it is written.
  const sends = [cRef.send(bytes).catch(() => {}), cSut.send(bytes).catch(() => {})];
  const [a, b] = await Promise.all([readThroughSync(cRef, id), readThroughSync(cSut, id)]);
  await Promise.all(sends);
  if (!a.synced && !a.closed) throw new Error(`memcached did not answer the sync point (harness bug?)\n${describeMismatch(what, payload, units, a, b)}`);
  if (!a.bytes.equals(b.bytes) || a.synced !== b.synced || a.closed !== b.closed) {
    throw new Mismatch(describeMismatch(what, payload, units, a, b));
  }
  return a;
}

const PROBE = Buffer.from('set __base 0 0 1\r\nx\r\ngets __base\r\n', 'latin1');

/** CAS unique of a fresh store, which both servers must agree on. */
async function casProbe(cRef: RawClient, cSut: RawClient, what: string): Promise<bigint> {
  const r = await exchange(cRef, cSut, PROBE, [], what);
  const m = /VALUE __base 0 1 (\d+)\r\n/.exec(r.bytes.toString('latin1'));
  if (!m) throw new Error(`no CAS in probe reply ${show(r.bytes)}`);
  return BigInt(m[1]);
}

/** One property run: fresh connections, flush, the sequence in sync'd batches. */
async function runSequence(units: Unit[]): Promise<void> {
  if (dirty) await freshServers();
  const [cRef, cSut] = await Promise.all([RawClient.connect(pair!.ref.port), RawClient.connect(pair!.sut.port)]);
  try {
    await exchange(cRef, cSut, Buffer.from('flush_all\r\n'), [], 'flush_all before the run');
    const casBase = await casProbe(cRef, cSut, 'CAS probe before the run (counters diverged in an earlier run?)');
    const seen = new Map<string, bigint>();
    const ctx: RenderContext = { casBase, latestCas: (k) => seen.get(k.toString('latin1')) };
    let batch: Unit[] = [];
    let parts: Buffer[] = [];
    let first = 0;
    let closed = false;
    const flush = async () => {
      if (!batch.length) return;
      const where = `units #${first}..#${first + batch.length - 1} of ${units.length}`;
      const r = await exchange(cRef, cSut, Buffer.concat(parts), batch, where);
      first += batch.length;
      collectCas(r.bytes, seen);
      if (process.env.DIFF_DEBUG) debugLog(parts, r);
      closed = r.closed;
      batch = [];
      parts = [];
    };
    for (const u of units) {
      if (u.needsSync) await flush();
      if (closed) return;
      batch.push(u);
      parts.push(u.render(ctx));
    }
    await flush();
    if (closed) return;
    // Commands that leave no trace in replies may still advance CAS.
    await casProbe(cRef, cSut, 'CAS probe after the run (a command advanced the CAS counter differently)');
  } catch (e) {
    dirty = true;
    throw e;
  } finally {
    cRef.close();
    cSut.close();
  }
}

function budgeted(budgetMs: number) {
  const deadline = Date.now() + budgetMs;
  let failedAt = 0;
  return async (units: Unit[]): Promise<void> => {
    const now = Date.now();
    // Past the budget remaining runs pass untested; after a failure shrinking
    // gets its own budget and then keeps the smallest failure found so far.
    if (failedAt ? now > failedAt + SHRINK_BUDGET_MS : now > deadline) return;
    try {
      await runSequence(units);
    } catch (e) {
      if (!failedAt) failedAt = Date.now();
      throw e;
    }
  };
}

/** The differential test against memcached, with the subject started with
 *  `args` (memcached with PAIR_ARGS); `share` scales the time budgets. */
export function describeTextDiff(title: string, args: string[], share = 1): void {
describe(title, () => {
  beforeAll(async () => { subjectArgs = args; dirty = true; await freshServers(); });
  afterAll(async () => {
    await stopPair(pair);
    if (process.env.DIFF_DEBUG) console.log(Object.fromEntries([...debugCounts].sort()));
  });

  it(`random pipelined traffic, fixed seed ${FIXED_SEED}`, async () => {
    await fc.assert(fc.asyncProperty(sequenceArb(10, 200), budgeted(RUN_BUDGET_MS * share)), {
      seed: FIXED_SEED, numRuns: FIXED_RUNS,
    });
  }, 120_000);

  it('random pipelined traffic, random seed', async () => {
    const seed = (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
    console.log(`text.diff random seed: ${seed} (rerun with DIFF_SEED=${seed})`);
    await fc.assert(fc.asyncProperty(sequenceArb(10, 200), budgeted((RUN_BUDGET_MS / 2) * share)), {
      seed, numRuns: RANDOM_RUNS,
    });
  }, 120_000);

  it('catches a difference (the harness is not blind)', async () => {
    // A get of a key that only memcached holds must be reported.
    const [cRef, cSut] = await Promise.all([RawClient.connect(pair!.ref.port), RawClient.connect(pair!.sut.port)]);
    try {
      await cRef.request('set __only_ref 0 0 1\r\nx\r\n');
      await expect(exchange(cRef, cSut, Buffer.from('get __only_ref\r\n'), [], 'planted')).rejects.toThrow(Mismatch);
    } finally {
      cRef.close();
      cSut.close();
      dirty = true; // the planted store advanced only memcached's CAS counter
    }
  });
});
}
