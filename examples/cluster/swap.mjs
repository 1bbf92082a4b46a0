#!/usr/bin/env node
// Replaces one node of a three-node wasmcached pool while an application
// keeps reading, and prints the hit ratio it saw each second.
//
//   node examples/cluster/swap.mjs [--cold] [--warm-first] [--client twemproxy|hashclient] ...
//
// Steps (README.md in this folder explains each one and why):
//   1. start mc1, mc2, mc3 (wasmcached, ports chosen by the OS)
//   2. put the pool in front of them: twemproxy (nutcracker, ketama over the
//      servers' names) on a unix socket, or pymemcache's HashClient in a
//      Python process, placing keys by the servers' names too
//   3. load --keys keys through the pool; list each node's keys to learn
//      where the pool put them
//   4. start the reader: --rate random gets per second, cache-aside (a miss
//      is written back), counted per 10 ms
//   5. start the new node: `--warm-from <old node>` (or empty with --cold)
//   6. switch the pool: the new node takes the old node's name at its own
//      address (twemproxy: a new config and a new nutcracker; HashClient: a
//      new server list). With --warm-first, wait for the copy before this.
//   7. wait for the copy to end, read every key once through the pool (how
//      many of the replaced node's keys are still cached), stop the old node
//   8. keep reading for --after seconds after the switch (and at least a
//      second past the end of the copy), then print the table
//
// Every process started here is stopped by its PID on exit, on an error, on
// SIGINT/SIGTERM, and when --timeout runs out.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, stopAllNodes, waitWarmed, nodeKeys } from './nodes.mjs';
import { twemproxyPool } from './twemproxy-pool.mjs';
import { hashClientPool } from './hashclient-pool.mjs';

const USAGE = `usage: node examples/cluster/swap.mjs [options]
  --client twemproxy|hashclient   the pool: twemproxy in front of the nodes, or pymemcache's HashClient (default twemproxy)
  --cold                  start the replacement empty instead of --warm-from the old node
  --warm-first            wait for the copy to finish before switching the pool (default: switch at once, copy in the background)
  --proxy-switch handoff|in-place
                          how twemproxy is switched (default handoff; see README.md)
  --replace NAME          the node to replace: mc1, mc2 or mc3 (default mc2)
  --keys N                keys loaded before the swap (default 30000)
  --value-bytes N         bytes per value (default 100)
  --rate N                reader's gets per second (default 2000)
  --before S              seconds of reading before the swap (default 2)
  --after S               seconds of reading after the switch (default 8)
  --memory MB             each node's -m (default 64)
  --timeout S             give up (and stop everything) after S seconds (default 120)
  --json                  print the results as one JSON object instead of a table`;

const NAMES = ['mc1', 'mc2', 'mc3'];

function options() {
  const { values } = parseArgs({
    options: {
      client: { type: 'string', default: 'twemproxy' },
      cold: { type: 'boolean', default: false },
      'warm-first': { type: 'boolean', default: false },
      'proxy-switch': { type: 'string', default: 'handoff' },
      replace: { type: 'string', default: 'mc2' },
      keys: { type: 'string', default: '30000' },
      'value-bytes': { type: 'string', default: '100' },
      rate: { type: 'string', default: '2000' },
      before: { type: 'string', default: '2' },
      after: { type: 'string', default: '8' },
      memory: { type: 'string', default: '64' },
      timeout: { type: 'string', default: '120' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(USAGE); process.exit(0); }
  const num = (name, min, max) => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < min || v > max) usageError(`--${name} ${values[name]}: must be a number from ${min} to ${max}`);
    return v;
  };
  if (!['twemproxy', 'hashclient'].includes(values.client)) usageError(`--client ${values.client}: twemproxy or hashclient`);
  if (!['handoff', 'in-place'].includes(values['proxy-switch'])) usageError(`--proxy-switch ${values['proxy-switch']}: handoff or in-place`);
  if (!NAMES.includes(values.replace)) usageError(`--replace ${values.replace}: one of ${NAMES.join(', ')}`);
  if (values.cold && values['warm-first']) usageError('--cold and --warm-first: a cold node has nothing to wait for');
  return {
    client: values.client, cold: values.cold, warmFirst: values['warm-first'], proxySwitch: values['proxy-switch'],
    replace: values.replace, keys: num('keys', 1, 10_000_000), valueBytes: num('value-bytes', 1, 500_000),
    rate: num('rate', 1, 1_000_000), before: num('before', 0, 3600), after: num('after', 1, 3600),
    memory: num('memory', 1, 3072), timeout: num('timeout', 1, 86_400), json: values.json,
  };
}

function usageError(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Sums the reader's 10 ms buckets over [from, to). */
function window(buckets, from, to) {
  const w = { gets: 0, hits: 0, misses: 0, errors: 0, wrong: 0 };
  for (const [at, hits, misses, errors, wrong] of buckets) {
    if (at < from || at >= to) continue;
    w.hits += hits; w.misses += misses; w.errors += errors; w.wrong += wrong;
    w.gets += hits + misses + errors + wrong;
  }
  // The hit ratio is over the reads that got an answer; errors are shown apart.
  const answered = w.hits + w.misses + w.wrong;
  return { ...w, ratio: answered ? w.hits / answered : null };
}

async function main() {
  const opt = options();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'wasmcached-cluster-'));
  const log = opt.json ? () => {} : (line) => console.log(line);
  const nodes = new Map();
  let pool = null;
  let finished = false;
  const cleanup = async () => {
    if (finished) return;
    finished = true;
    await pool?.close().catch(() => {});
    await stopAllNodes();
    rmSync(dir, { recursive: true, force: true });
  };
  const bail = (why) => {
    console.error(why);
    cleanup().finally(() => process.exit(1));
  };
  process.once('SIGINT', () => bail('interrupted'));
  process.once('SIGTERM', () => bail('terminated'));
  const deadline = setTimeout(() => bail(`gave up after --timeout ${opt.timeout} s`), opt.timeout * 1000);

  try {
    // 1. Three nodes.
    // Each node is tracked as soon as it listens, so a failed start stops the others.
    const starts = NAMES.map((name) => startNode(name, ['-m', String(opt.memory)]).then((node) => { nodes.set(name, node); }));
    await Promise.all(starts.map((p) => p.catch(() => {})));
    await Promise.all(starts);
    log(`nodes: ${NAMES.map((n) => `${n} ${nodes.get(n).addr} (pid ${nodes.get(n).pid})`).join(', ')}`);

    // 2. The pool in front of them.
    const poolOptions = { keys: opt.keys, valueBytes: opt.valueBytes, rate: opt.rate, proxySwitch: opt.proxySwitch };
    pool = opt.client === 'twemproxy'
      ? await twemproxyPool(dir, NAMES.map((n) => nodes.get(n)), poolOptions)
      : await hashClientPool(NAMES.map((n) => nodes.get(n)), poolOptions);
    log(`pool: ${pool.describe()}`);

    // 3. Load, and learn the placement from the nodes themselves.
    const loaded = await pool.load();
    const owner = new Map();
    const placement = {};
    for (const name of NAMES) {
      const keys = await nodeKeys(nodes.get(name));
      placement[name] = keys.length;
      for (const k of keys) owner.set(k, name);
    }
    log(`loaded ${loaded} of ${opt.keys} keys through the pool: ${NAMES.map((n) => `${n} ${placement[n]}`).join(', ')}`);

    // 4. The reader.
    const readerStart = Date.now();
    pool.startReading();
    log(`reading ${opt.rate} random keys per second, cache-aside; replacing ${opt.replace} in ${opt.before} s`);
    await sleep(opt.before * 1000);

    // 5. The new node.
    const old = nodes.get(opt.replace);
    const marks = { swap: Date.now() };
    const fresh = await startNode(`${opt.replace}'`, ['-m', String(opt.memory), ...(opt.cold ? [] : ['--warm-from', old.addr])]);
    nodes.set(fresh.name, fresh);
    marks.listening = Date.now();
    log(`new ${opt.replace}: ${fresh.addr} (pid ${fresh.pid})${opt.cold ? ', empty (--cold)' : `, --warm-from ${old.addr}`}`);
    let warm = null;
    if (opt.warmFirst) {
      warm = await waitWarmed(fresh, opt.timeout * 1000);
      marks.warmed = Date.now();
      log(`warming ended before the switch: ${warm.warm_state}, ${warm.warm_keys_copied} items copied`);
    }

    // 6. Switch the pool: same name, new address.
    const servers = NAMES.map((n) => (n === opt.replace ? { ...fresh, name: n } : nodes.get(n)));
    marks.switching = Date.now();
    await pool.switchTo(servers);
    marks.switched = Date.now();
    log(`pool switched to ${opt.replace} = ${fresh.addr} in ${marks.switched - marks.switching} ms (${pool.describe()})`);

    // 7. The copy ends; what is still cached; the old node goes.
    if (!opt.cold && !warm) {
      warm = await waitWarmed(fresh, opt.timeout * 1000);
      marks.warmed = Date.now();
      log(`warming ended ${marks.warmed - marks.switched} ms after the switch: ${warm.warm_state}, ${warm.warm_keys_copied} items copied`);
    }
    const missed = new Set(await pool.sweep());
    marks.swept = Date.now();
    const sweep = { replaced: { keys: 0, hits: 0 }, others: { keys: 0, hits: 0 } };
    for (const [key, name] of owner) {
      const group = name === opt.replace ? sweep.replaced : sweep.others;
      group.keys++;
      if (!missed.has(key)) group.hits++;
    }
    log(`read back through the pool: ${opt.replace}'s keys ${sweep.replaced.hits}/${sweep.replaced.keys}, the other nodes' ${sweep.others.hits}/${sweep.others.keys}`);
    await old.stop();
    marks.oldStopped = Date.now();
    log(`old ${opt.replace} stopped`);

    // 8. Keep reading, then report.
    // At least a second past the end of the copy, so that second is measured whole.
    await sleep(Math.max(0, marks.switched + opt.after * 1000 - Date.now(), (marks.warmed ?? 0) + 1000 - Date.now()));
    const buckets = await pool.stopReading();
    const from = -Math.floor((marks.switched - readerStart) / 1000);
    const seconds = [];
    for (let s = from; s < opt.after; s++) {
      seconds.push({ second: s, ...window(buckets, marks.switched + s * 1000, marks.switched + (s + 1) * 1000) });
    }
    const result = {
      options: opt,
      nodes: Object.fromEntries([...nodes].map(([n, node]) => [n, node.addr])),
      loaded, placement,
      // Milliseconds relative to the moment the pool finished switching.
      marks: Object.fromEntries(Object.entries(marks).map(([k, t]) => [k, t - marks.switched])),
      warm: warm && {
        state: warm.warm_state, copied: Number(warm.warm_keys_copied), skipped: Number(warm.warm_keys_skipped),
        errors: Number(warm.warm_errors),
      },
      sweep,
      beforeSwap: window(buckets, readerStart, marks.swap),
      firstSecond: window(buckets, marks.switched, marks.switched + 1000),
      // The first second with the copy over (cold: the first after the switch).
      afterCopy: window(buckets, Math.max(marks.switched, marks.warmed ?? 0), Math.max(marks.switched, marks.warmed ?? 0) + 1000),
      afterSwitch: window(buckets, marks.switched, marks.switched + opt.after * 1000),
      // Reads that failed from the start of the swap to a second after the switch.
      switchErrors: window(buckets, marks.swap, marks.switched + 1000).errors,
      seconds,
      elapsedMs: Date.now() - started,
    };
    if (opt.json) {
      process.stdout.write(JSON.stringify(result) + '\n');
    } else {
      printTable(result);
    }
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

function printTable(r) {
  const pct = (x) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  const row = (cells) => cells.map((c, i) => String(c).padStart([6, 7, 7, 8, 8, 7, 11][i])).join('');
  console.log(`\nper second, 0 = the first second after the switch:`);
  console.log(row(['second', 'gets', 'hits', 'misses', 'errors', 'wrong', 'hit ratio']));
  for (const s of r.seconds) console.log(row([s.second, s.gets, s.hits, s.misses, s.errors, s.wrong, pct(s.ratio)]));
  console.log(`\nhit ratio: before the swap ${pct(r.beforeSwap.ratio)}, first second after the switch ${pct(r.firstSecond.ratio)}, ` +
    `all ${r.options.after} s after it ${pct(r.afterSwitch.ratio)}; failed reads around the switch: ${r.switchErrors}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
