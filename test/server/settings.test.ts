// Command-line parsing: every flag, both spellings, the size suffixes, and the
// message for every rejected value. parseSettings is pure, so no server runs.
import { describe, it, expect } from 'vitest';
import { availableParallelism } from 'node:os';
import { defaultThreads } from '../../src/threads.js';
import {
  parseSettings, defaultSettings, storeOptions, usage, SettingsError, VERSION_LINE, type Settings, listenPort,
} from '../../src/settings.js';
import {
  OPT_NO_EVICTIONS, OPT_NO_CAS, OPT_SHUTDOWN, OPT_NO_FLUSH, OPT_DEBUG_TIME, OPT_SASL, OPT_AUTH_FILE,
} from '../../assembly/abi.js';

function run(...argv: string[]): Settings {
  const cmd = parseSettings(argv);
  if (cmd.action !== 'run') throw new Error(`expected run, got ${cmd.action}`);
  return cmd.settings;
}

/** The SettingsError message for argv; fails the test if parsing succeeds. */
function rejection(...argv: string[]): string {
  try {
    parseSettings(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be rejected`);
}

describe('defaults', () => {
  it('match memcached except the listen address and -t (the cores, at most 4; memcached: 4)', () => {
    expect(defaultThreads()).toBe(Math.min(4, availableParallelism()));
    const s = run();
    expect(s).toEqual(defaultSettings());
    expect(s).toMatchObject({
      port: 11211, listen: '127.0.0.1', unixSocket: null, unixMask: 0o700, memoryMB: 64, connLimit: 1024,
      itemSizeMax: 1048576, growthFactor: 1.25, chunkMin: 48, disableEvictions: false, disableCas: false,
      enableShutdown: false, disableFlushAll: false, verbosity: 0, threads: defaultThreads(), idleTimeout: 0,
      debugTime: false, slabAutomove: 1, slabAutomoveWindow: 30, engine: 'wasm',
    });
  });

  it('map to store options with no option bits', () => {
    expect(storeOptions(run())).toEqual({
      memoryMB: 64, memoryCapMB: 3072, itemSizeMax: 1048576, chunkMin: 48, growthFactor: 1.25, opts: 0, automove: 1,
      automoveWindow: 30, crawler: true,
    });
  });
});

describe('spellings', () => {
  it.each([
    [['-p', '0']], [['-p0']], [['--port', '0']], [['--port=0']],
  ])('%j sets the port', (argv) => {
    expect(run(...argv).port).toBe(0);
  });

  it('a later flag overrides an earlier one', () => {
    expect(run('-p', '1', '-p', '2').port).toBe(2);
  });

  it('switches cluster, and a value may end the cluster', () => {
    const s = run('-vvMC', '-Ap', '0');
    expect(s).toMatchObject({ verbosity: 2, disableEvictions: true, disableCas: true, enableShutdown: true, port: 0 });
    expect(run('-MFm128').memoryMB).toBe(128);
  });

  it('a value may start with a dash, as getopt takes the next word', () => {
    expect(run('-p', '-1').port).toBe(-1);
    expect(rejection('-p', '-2')).toBe('-p -2: must be from -1 to 65535');
    expect(run('-P', '-d').pidFile).toBe('-d');
  });

  it('-- ends the options', () => {
    expect(run('-p', '5', '--').port).toBe(5);
    expect(rejection('--', 'x')).toBe('unexpected argument "x"');
  });
});

describe('every flag', () => {
  it('-p / --port', () => {
    expect(run('-p', '11311').port).toBe(11311);
    expect(run('--port=65535').port).toBe(65535);
  });

  it('-l / --listen', () => {
    expect(run('-l', '::1').listen).toBe('::1');
    expect(run('--listen=localhost').listen).toBe('localhost');
    // memcached's lists, with `notls:` for a plain listener under -Z and ports of their own.
    const listed = run('-l', '127.0.0.1,notls:127.0.0.1:0;[::1]:11311');
    expect(listed.listen).toBe('127.0.0.1');
    expect(listed.listeners).toEqual([
      { host: '127.0.0.1', port: null, tls: true },
      { host: '127.0.0.1', port: 0, tls: false },
      { host: '::1', port: 11311, tls: true },
    ]);
    expect(listenPort(run('-p', '5', '-l', '127.0.0.1:7'))).toBe(7);
    expect(listenPort(run('-p', '-1', '-l', 'notls:127.0.0.1'))).toBe(0);
  });

  it('-s / --unix-socket and -a / --unix-mask', () => {
    expect(run('-s', 'mc.sock').unixSocket).toBe('mc.sock');
    expect(run('--unix-socket=a b').unixSocket).toBe('a b');
    expect(run('-a', '0766').unixMask).toBe(0o766);
    expect(run('--unix-mask=600').unixMask).toBe(0o600);
  });

  it('-m / --memory-limit', () => {
    expect(run('-m', '1024').memoryMB).toBe(1024);
    expect(run('--memory-limit=3072').memoryMB).toBe(3072);
    expect(run('-m', '2', '-I', '1m').memoryMB).toBe(2);
  });

  it('-c / --conn-limit', () => {
    expect(run('-c', '2').connLimit).toBe(2);
    expect(run('--conn-limit=10000').connLimit).toBe(10000);
  });

  it.each([
    ['1024', 1024], ['1k', 1024], ['1K', 1024], ['512k', 524288], ['2m', 2097152], ['2M', 2097152],
    ['1048576', 1048576], ['32m', 33554432],
  ])('-I %s is %d bytes', (v, bytes) => {
    expect(run('-I', v).itemSizeMax).toBe(bytes);
  });

  it('-I up to 1024m when -m is large enough', () => {
    expect(run('-m', '2048', '--max-item-size=1024m').itemSizeMax).toBe(1073741824);
  });

  it('-f / --slab-growth-factor and -n / --slab-min-size', () => {
    expect(run('-f', '1.08').growthFactor).toBe(1.08);
    expect(run('--slab-growth-factor=2').growthFactor).toBe(2);
    expect(run('-n', '96').chunkMin).toBe(96);
    expect(run('--slab-min-size=1').chunkMin).toBe(1);
  });

  it('the switches and their option bits', () => {
    const s = run('-M', '-C', '-A', '-F', '-o', 'debug_time');
    expect(storeOptions(s).opts).toBe(OPT_NO_EVICTIONS | OPT_NO_CAS | OPT_SHUTDOWN | OPT_NO_FLUSH | OPT_DEBUG_TIME);
    const l = run('--disable-evictions', '--disable-cas', '--enable-shutdown', '--disable-flush-all');
    expect(storeOptions(l).opts).toBe(OPT_NO_EVICTIONS | OPT_NO_CAS | OPT_SHUTDOWN | OPT_NO_FLUSH);
    expect(storeOptions(run('-C')).opts).toBe(OPT_NO_CAS);
  });

  it('-v, -vv, -vvv, repeated -v and --verbose', () => {
    expect(run('-v').verbosity).toBe(1);
    expect(run('-vv').verbosity).toBe(2);
    expect(run('-vvv').verbosity).toBe(3);
    expect(run('-v', '-v').verbosity).toBe(2);
    expect(run('--verbose').verbosity).toBe(1);
  });

  it('-U: 0 (off, the default), -1 (any free port) or a port', () => {
    expect(defaultSettings().udpPort).toBe(0);
    expect(run('-U', '0').udpPort).toBe(0);
    expect(run('-U', '-1').udpPort).toBe(-1);
    expect(run('--udp-port=11211').udpPort).toBe(11211);
    // As memcached 1.6 (its t/issue_67.t): without -p, TCP takes the UDP port.
    expect(run('-U', '11222').port).toBe(11222);
    expect(run('-U', '-1').port).toBe(-1);
    expect(run('-U', '0').port).toBe(11211);
    expect(run('-p', '11212', '-U', '11222').port).toBe(11212);
    expect(run('-U', '11222', '-p', '11212').port).toBe(11212);
  });

  it('-t / --threads', () => {
    expect(run('-t', '8').threads).toBe(8);
    expect(run('--threads=1').threads).toBe(1);
  });

  it('-u / --user is accepted and ignored', () => {
    expect(run('-u', 'memcache')).toEqual(defaultSettings());
    expect(run('--user=nobody')).toEqual(defaultSettings());
  });

  it('-o idle_timeout and debug_time, alone and as a comma list', () => {
    expect(run('-o', 'idle_timeout=30').idleTimeout).toBe(30);
    expect(run('-o', 'debug_time').debugTime).toBe(true);
    const s = run('-o', 'idle_timeout=5,debug_time');
    expect(s.idleTimeout).toBe(5);
    expect(s.debugTime).toBe(true);
    expect(run('--extended=idle_timeout=0').idleTimeout).toBe(0);
  });

  it('-o slab_automove and slab_automove_window reach the engine; memcached\'s other slab and LRU options are accepted', () => {
    expect(run('-o', 'slab_automove=0').slabAutomove).toBe(0);
    expect(run('-o', 'slab_automove').slabAutomove).toBe(1);
    expect(storeOptions(run('-o', 'slab_automove=2,slab_automove_window=3'))).toMatchObject({ automove: 2, automoveWindow: 3 });
    const s = run('-o', 'slab_reassign,slab_automove,lru_crawler,lru_maintainer,slab_chunk_max=16384,relaxed_privileges');
    expect(s).toEqual(defaultSettings());
  });

  it('--engine wasm', () => {
    expect(run('--engine', 'wasm').engine).toBe('wasm');
    expect(run('--engine=wasm').engine).toBe('wasm');
    expect(run('--engine', 'js').engine).toBe('js');
  });

  it('-S / --enable-sasl and -Y / --auth-file, which exclude each other', () => {
    expect(run('-S').sasl).toBe(true);
    expect(storeOptions(run('--enable-sasl')).opts).toBe(OPT_SASL);
    expect(run('-Y', 'users.txt').authFile).toBe('users.txt');
    expect(storeOptions(run('--auth-file=users.txt')).opts).toBe(OPT_AUTH_FILE);
    expect(rejection('-Y', '')).toBe('-Y needs a path');
    expect(rejection('-S', '-Y', 'users.txt')).toBe('-S (binary protocol only) and -Y (text protocol only) cannot be combined');
  });

  it('-h / --help and -V / --version act where they appear', () => {
    expect(parseSettings(['-h'])).toEqual({ action: 'help' });
    expect(parseSettings(['--help'])).toEqual({ action: 'help' });
    expect(parseSettings(['-V'])).toEqual({ action: 'version' });
    expect(parseSettings(['--version'])).toEqual({ action: 'version' });
    // Like getopt: -h acts before later (even invalid) flags are read...
    expect(parseSettings(['-p', '1', '-h', '--bogus'])).toEqual({ action: 'help' });
    // ...but not before earlier ones.
    expect(rejection('--bogus', '-h')).toBe('unknown option --bogus');
  });

  it('the usage text names every long option', () => {
    const text = usage();
    expect(text.startsWith(VERSION_LINE)).toBe(true);
    for (const long of ['port', 'listen', 'unix-socket', 'unix-mask', 'memory-limit', 'conn-limit', 'max-item-size',
      'slab-growth-factor', 'slab-min-size', 'disable-evictions', 'disable-cas', 'enable-shutdown',
      'disable-flush-all', 'verbose', 'udp-port', 'threads', 'user', 'extended', 'engine', 'help', 'version']) {
      expect(text).toContain(`--${long}`);
    }
  });

  it('the version line', () => {
    expect(VERSION_LINE).toBe('wasmcached 0.1.0 (memcached 1.6.18 protocols)');
  });
});

describe('rejections', () => {
  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['-x'], 'unknown option -x'],
    [['-vx'], 'unknown option -x'],
    [['-q'], 'unknown option -q'],
    [['stray'], 'unexpected argument "stray"'],
    [['-'], 'unexpected argument "-"'],
    [['-p'], 'option -p needs a value <num>'],
    [['--port'], 'option --port needs a value <num>'],
    [['--disable-cas=1'], 'option --disable-cas takes no value'],
    [['-p', 'abc'], '-p "abc": expected an integer'],
    [['-p', '65536'], '-p 65536: must be from -1 to 65535'],
    [['--port=1.5'], '--port "1.5": expected an integer'],
    [['-p', ''], '-p "": expected an integer'],
    [['-l', ''], '-l needs an address'],
    [['-l', 'notls:'], '-l "notls:": expected [notls:]<addr>[:<port>]'],
    [['-l', '127.0.0.1:70000'], '-l "127.0.0.1:70000": the port must be from -1 to 65535'],
    [['-s', ''], '-s needs a path'],
    [['-a', '0800'], '-a "0800": expected an octal mode such as 0700'],
    [['-a', '1777'], '-a "1777": expected an octal mode such as 0700'],
    [['-a', 'rw'], '-a "rw": expected an octal mode such as 0700'],
    [['-m', '0'], '-m 0: memory limit must be at least 1 MB'],
    [['-m', '-5'], '-m -5: memory limit must be at least 1 MB'],
    [['-m', '64m'], '-m "64m": expected an integer'],
    [['-c', '0'], '-c 0: maximum connections must be greater than 0'],
    [['-c', 'many'], '-c "many": expected an integer'],
    [['-I', '1023'], '-I 1023: item max size cannot be less than 1024 bytes'],
    [['-I', '0k'], '-I 0k: item max size cannot be less than 1024 bytes'],
    [['-I', '1025m'], '-I 1025m: cannot set item size limit higher than 1024 mb'],
    [['-I', '1g'], '-I "1g": expected a size such as 512k or 2m'],
    [['-I', '1.5m'], '-I "1.5m": expected a size such as 512k or 2m'],
    [['-I', '64m'], 'cannot set item size limit higher than 1/2 of memory max (-I 64m with -m 64)'],
    [['-m', '2', '-I', '2m'], 'cannot set item size limit higher than 1/2 of memory max (-I 2m with -m 2)'],
    [['-m', '1'], 'cannot set item size limit higher than 1/2 of memory max (-I 1m with -m 1)'],
    [['-f', '1'], '-f 1: factor must be greater than 1 (at least 1.01)'],
    [['-f', '1.001'], '-f 1.001: factor must be greater than 1 (at least 1.01)'],
    [['-f', '0.5'], '-f 0.5: factor must be greater than 1 (at least 1.01)'],
    [['-f', '101'], '-f 101: factor must be at most 100'],
    [['-f', 'fast'], '-f "fast": expected a number such as 1.25'],
    [['-n', '0'], '-n 0: chunk size must be greater than 0'],
    [['-n', '-5'], '-n -5: chunk size must be greater than 0'],
    [['-n', '2048', '-I', '2k'], 'slab min size (-n 2048) must be smaller than the max item size (-I 2k)'],
    [['-U', '65536'], '-U 65536: UDP port must be from 1 to 65535, 0 (off) or -1 (any free port)'],
    [['-U', '-2'], '-U -2: UDP port must be from 1 to 65535, 0 (off) or -1 (any free port)'],
    [['--udp-port=udp'], '--udp-port "udp": expected an integer'],
    [['-U', '11211', '-S'], '-U cannot be combined with -S: UDP has no authentication (-U 0 to disable)'],
    [['-Y', 'users', '-U', '-1'], '-U cannot be combined with -Y: UDP has no authentication (-U 0 to disable)'],
    [['-t', '0'], '-t 0: number of threads must be from 1 to 1024'],
    [['-o', 'modernish'], 'unknown -o option "modernish" (see wasmcached -h)'],
    [['-o', 'idle_timeout=5,bogus'], 'unknown -o option "bogus" (see wasmcached -h)'],
    [['-o', 'snapshot_interval=5'], '-o snapshot_interval needs -e <file> to write to'],
    [['-o', 'slab_automove=3'], '-o slab_automove 3: slab_automove must be between 0 and 2'],
    [['-o', 'slab_automove_window=0'], '-o slab_automove_window 0: must be from 1 to 2147483647'],
    [['-o', 'slab_automove_window'], '-o slab_automove_window needs a value (slab_automove_window=<secs>)'],
    [['-o', 'slab_chunk_max=big'], '-o slab_chunk_max "big": expected an integer'],
    [['-o', 'lru_crawler=1'], '-o lru_crawler takes no value'],
    [['-o', 'idle_timeout'], '-o idle_timeout needs a value (idle_timeout=<secs>)'],
    [['-o', 'idle_timeout=soon'], '-o idle_timeout "soon": expected an integer'],
    [['-o', 'debug_time=1'], '-o debug_time takes no value'],
    [['--engine', 'asm'], '--engine "asm": unknown engine (expected wasm or js)'],
    [['--engine=native'], '--engine "native": unknown engine (expected wasm or js)'],
    [['--warm-from', 'oldhost'], '--warm-from "oldhost": expected HOST:PORT such as 10.0.0.5:11211'],
    [['--warm-from=10.0.0.5:0'], '--warm-from "10.0.0.5:0": expected HOST:PORT such as 10.0.0.5:11211'],
    [['--warm-from', '10.0.0.5:99999'], '--warm-from "10.0.0.5:99999": expected HOST:PORT such as 10.0.0.5:11211'],
    [['--warm-from', ':11211'], '--warm-from ":11211": expected HOST:PORT such as 10.0.0.5:11211'],
    [['-o', 'warm_rate=0'], '-o warm_rate 0: must be from 1 to 10000000'],
    [['-o', 'warm_rate'], '-o warm_rate needs a value (warm_rate=<items/s>)'],
  ])('%j → %s', (argv, message) => {
    expect(rejection(...argv)).toBe(message);
  });
});

describe('--warm-from', () => {
  it('takes HOST:PORT, a bracketed IPv6 address, and -o warm_rate', () => {
    const a = parseSettings(['--warm-from', '127.0.0.1:11211']) as { settings: Settings };
    expect(a.settings.warmFrom).toEqual({ host: '127.0.0.1', port: 11211 });
    expect(a.settings.warmRate).toBe(20000);
    const b = parseSettings(['--warm-from=[::1]:2000', '-o', 'warm_rate=500']) as { settings: Settings };
    expect(b.settings.warmFrom).toEqual({ host: '::1', port: 2000 });
    expect(b.settings.warmRate).toBe(500);
    const c = parseSettings(['--warm-from', 'cache-old.internal:11211']) as { settings: Settings };
    expect(c.settings.warmFrom).toEqual({ host: 'cache-old.internal', port: 11211 });
  });
});
