// Differential test: seeded random pipelined text-protocol traffic goes to
// wasmcached and to a real memcached, and the replies must be identical byte
// for byte (test/support/text-diff.ts). DIFF_SEED=<n> replays a seed,
// DIFF_RUNS=<n> changes the number of runs, DIFF_DEBUG=1 tallies replies.
import { describeTextDiff } from '../support/text-diff.js';
import { PAIR_ARGS } from '../support/reference.js';

describeTextDiff('text protocol: wasmcached answers byte for byte like memcached', PAIR_ARGS);
