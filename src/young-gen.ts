// The server process keeps V8's young generation at its starting size.
//
// V8 doubles the young generation (its "semi-spaces") whenever many
// objects survive a scavenge, up to 16 MiB a semi-space on 64-bit, and
// what it has grown to stays resident. Accepting connections in a burst is
// exactly that: every accepted handle's JavaScript object survives. So a
// burst of a few thousand connections left up to 32 MiB more RSS behind for
// good, a tenth of an idle connection's cost in the bench, and a part of
// what the server held over -m after an overload. The server itself makes
// little garbage per request (reads land in one reused buffer, replies in
// pooled blocks), so a young generation of V8's starting size only means
// more, shorter scavenges; BENCHMARKS.md has the measurement.
//
// Only the command-line server does this: a library import must not change
// the V8 flags of the application that embeds it.
import { setFlagsFromString } from 'node:v8';

/** A -t thread's young generation, MiB: V8 sizes it as three semi-spaces
 *  (two and the large-object part), so this is the 1 MiB semi-space the
 *  main thread starts with. A worker's heap does not follow the flag below
 *  (measured on Node.js 20: it grew to 32 MiB with the flag set), so its
 *  limit is given when it is made (threads.ts). */
export const THREAD_YOUNG_GENERATION_MB = 3;

/** Stops the young generation from growing past its starting size
 *  (V8's --semi-space-growth-factor=1, read by V8 at each resize, so it
 *  applies after startup; the main thread's heap only, see above). Call
 *  it before the engine is made, and again once the worker threads have
 *  started: making a Worker puts V8's flags back as the command line had
 *  them. No-op where the runtime is not V8 under Node.js. */
export function keepYoungGenerationSmall(): void {
  if (typeof process.versions.bun === 'string' || typeof process.versions.node !== 'string') return;
  try {
    setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    // A runtime whose node:v8 lacks it: the young generation grows as usual.
  }
}
