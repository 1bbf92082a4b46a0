// The differential test against memcached with threads: every run opens
// fresh connections, which land on any of the threads, each executing
// through its own thread context on the one shared arena
// (test/support/text-diff.ts): -t 4 on the WebAssembly build's shared
// memory, -t 2 on the js build's SharedArrayBuffer.
import { describeTextDiff } from '../support/text-diff.js';
import { PAIR_ARGS } from '../support/reference.js';

describeTextDiff('-t 4: wasmcached answers byte for byte like memcached', [...PAIR_ARGS, '-t', '4'], 0.6);
describeTextDiff('--engine js -t 2: wasmcached answers byte for byte like memcached', [...PAIR_ARGS, '--engine', 'js', '-t', '2'], 0.4);
