// The differential test against memcached with -t 4: every run opens fresh
// connections, which land on any of the four threads, each executing through
// its own thread context on the one shared arena (test/support/text-diff.ts).
import { describeTextDiff } from '../support/text-diff.js';
import { PAIR_ARGS } from '../support/reference.js';

describeTextDiff('-t 4: wasmcached answers byte for byte like memcached', [...PAIR_ARGS, '-t', '4'], 0.6);
