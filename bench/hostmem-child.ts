// One contender of the host-memory section, in its own process so that no
// client-side sockets or buffers carry over between contenders. Each load
// shape of test/support/loadshapes.ts gets a fresh server (memory one shape
// freed but kept would hide what the next one costs): RSS (VmRSS from /proc)
// is read before, during and after the shape's clients have left, and the
// server is stopped by its PID. Prints the figures as one JSON line.
//
//   hostmem-child <wasmcached (wasm)|wasmcached (js)|memcached -t 1> <plan JSON>
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contenders, type ServerProcess } from './contenders.js';
import {
  settledRss, lowestRss, rssSampler, startProbe, overload, stalledReaders, idleConnections, halfSentValues,
  type ProbeResult, type OverloadResult,
} from '../test/support/loadshapes.js';

export interface HostmemPlan {
  memoryMB: number;
  overloadFactor: number;
  overloadConnections: number;
  stalledReaders: number;
  /** Idle connections in all; the first `idleFirst` of them are opened
   *  before the reading the rest are measured from. */
  idleConnections: number;
  idleFirst: number;
  halfSent: number;
  halfSentValueBytes: number;
  /** Bound for each shape's own work, ms. */
  shapeTimeoutMs: number;
  /** RSS counts as settled once it stayed within 1 MB for this long. */
  settleQuietMs: number;
  /** Idle connections: the lowest RSS over this long is taken with each part connected (lowestRss()). */
  idleLowestMs: number;
  /** Pause after a shape's last client left, before the settled reading. */
  afterLeaveMs: number;
}

/** RSS of one fresh server around one shape, bytes. */
export interface ShapeRss {
  /** Before any client connected. */
  start: number;
  /** While the shape's clients are connected (settled). */
  with: number;
  /** Once they have all left (settled). */
  after: number;
}

export interface HostmemFigures {
  contender: string;
  overload?: ShapeRss & { peak: number; result: OverloadResult; probe: ProbeResult };
  stalled?: ShapeRss & { readers: number; open: number; requested_bytes_per_reader: number; probe: ProbeResult };
  /** `halfway`: RSS with the first `first` connected (the rest's growth is the marginal cost). */
  idle?: ShapeRss & { connections: number; first: number; open: number; halfway: number; full: number };
  half_sent?: ShapeRss & { connections: number; delivered: number; open: number; value_bytes: number };
  /** Shapes that failed, and how a server ended if it did. */
  errors: string[];
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Longest wait for the RSS to settle: hundreds of stalled readers take seconds to fill. */
const SETTLE_MAX_MS = 30_000;

async function main(): Promise<void> {
  const [name, planJson] = process.argv.slice(2);
  const plan = JSON.parse(planJson) as HostmemPlan;
  const contender = contenders({ root: ROOT, nullServer: '', cpu: null, memoryMb: plan.memoryMB }).list.find((c) => c.name === name);
  if (!contender) throw new Error(`unknown or unavailable contender: ${name}`);
  const f: HostmemFigures = { contender: name, errors: [] };

  /**
   * Runs one shape on a fresh server. `open` connects the shape's clients and
   * returns what to record plus how to close them; a failure is recorded and
   * the next shape still runs.
   */
  const shape = async <T>(what: string, open: (srv: ServerProcess) => Promise<{ figures: T; close(): Promise<void> }>,
    record: (r: ShapeRss & T) => void): Promise<void> => {
    let srv: ServerProcess | null = null;
    try {
      srv = await contender.start();
      const pid = srv.pid;
      const settle = () => settledRss(pid, { quietMs: plan.settleQuietMs, maxMs: SETTLE_MAX_MS });
      const start = await settle();
      const o = await open(srv);
      let withClients: number;
      try {
        withClients = await settle();
      } finally {
        await o.close();
      }
      await new Promise((r) => setTimeout(r, plan.afterLeaveMs));
      record({ ...o.figures, start, with: withClients, after: await settle() });
    } catch (e) {
      f.errors.push(`${what}: ${(e as Error).message.slice(0, 300)}`);
    } finally {
      if (srv && !srv.alive()) f.errors.push(`${what}: server ${srv.describeExit()}`);
      await srv?.stop();
    }
  };

  await shape('overload', async (srv) => {
    const sampler = rssSampler(srv.pid, 25);
    const probe = await startProbe(srv.port, { intervalMs: 10 });
    const result = await overload(srv.port, {
      memoryMB: plan.memoryMB, factor: plan.overloadFactor, connections: plan.overloadConnections, timeoutMs: plan.shapeTimeoutMs,
    });
    const p = await probe.stop();
    const { peak } = sampler.stop();
    // overload() has closed its connections already.
    return { figures: { peak, result, probe: p }, close: async () => {} };
  }, (r) => { f.overload = r; });

  await shape('stalled readers', async (srv) => {
    const probe = await startProbe(srv.port, { intervalMs: 10 });
    const readers = await stalledReaders(srv.port, plan.stalledReaders, { timeoutMs: plan.shapeTimeoutMs });
    // The probe runs on until the RSS has settled with the readers connected.
    const figures = {
      readers: plan.stalledReaders, open: readers.open, requested_bytes_per_reader: readers.requestedBytesPerReader,
      probe: null as ProbeResult | null,
    };
    return { figures, close: async () => { figures.probe = await probe.stop(); await readers.close(); } };
  }, (r) => { f.stalled = { ...r, probe: r.probe! }; });

  await shape('idle connections', async (srv) => {
    // In two parts: the first part's growth includes one-time costs (heap
    // spaces growing to their working size, runtime code touched for the
    // first time), the second's is what each further connection costs. The
    // second part is the larger: V8's heap grows in steps of up to a few MB,
    // and one step more or less in a part of 4,000 connections moved the
    // figure by hundreds of bytes per connection.
    const firstCount = Math.min(plan.idleFirst, plan.idleConnections - 1);
    const first = await idleConnections(srv.port, firstCount, { timeoutMs: plan.shapeTimeoutMs, speakEvery: 2 });
    const halfway = await lowestRss(srv.pid, plan.idleLowestMs);
    const second = await idleConnections(srv.port, plan.idleConnections - firstCount, { timeoutMs: plan.shapeTimeoutMs, speakEvery: 2 });
    const full = await lowestRss(srv.pid, plan.idleLowestMs);
    return {
      figures: { connections: plan.idleConnections, first: firstCount, open: first.open + second.open, halfway, full },
      close: async () => { await first.close(); await second.close(); },
    };
  }, (r) => { f.idle = r; });

  await shape('half-sent values', async (srv) => {
    const half = await halfSentValues(srv.port, plan.halfSent, plan.halfSentValueBytes, { timeoutMs: plan.shapeTimeoutMs });
    return {
      figures: { connections: plan.halfSent, delivered: half.delivered, open: half.open, value_bytes: plan.halfSentValueBytes },
      close: () => half.close(),
    };
  }, (r) => { f.half_sent = r; });

  process.stdout.write(JSON.stringify(f) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
