// Fills a small cache with a skewed workload in short slices (so the page
// stays responsive) and shows its stats a few times a second.
import { createCache } from './wasmcached.js';

const BUDGET = 4 * 1024 * 1024;
const KEYS = 20000;
/** Higher = more skew: key i is drawn as KEYS * random^SKEW. */
const SKEW = 4;
const SLICE_MS = 10;
const REFRESH_MS = 250;
/** The demo stops by itself, so a forgotten tab does not spin forever. */
const RUN_FOR_MS = 5 * 60 * 1000;

const $ = (id) => document.getElementById(id);
const cache = await createCache({ memory: BUDGET });
let ops = 0;
let running = true;
let started = performance.now();

function randomKey() {
  return 'key:' + Math.floor(KEYS * Math.random() ** SKEW);
}

/** Log-uniform from 64 B to 4 KiB: many small values, some large. */
function randomValue() {
  return new Uint8Array(Math.floor(64 * 64 ** Math.random()));
}

function slice() {
  if (!running) return;
  const end = performance.now() + SLICE_MS;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) {
      const key = randomKey();
      if (cache.get(key) === undefined) cache.set(key, randomValue());
    }
    ops += 200;
  }
  if (performance.now() - started > RUN_FOR_MS) stop('stopped after 5 minutes; reload to run again');
  else setTimeout(slice, 0);
}

const mib = (n) => (n / 1048576).toFixed(2) + ' MiB';
const int = (n) => n.toLocaleString('en-US');

function show() {
  const s = cache.stats();
  const lookups = s.hits + s.misses;
  const ratio = lookups ? (100 * s.hits) / lookups : 0;
  $('hit-ratio').textContent = ratio.toFixed(1) + ' %';
  $('items').textContent = int(s.items);
  $('evictions').textContent = int(s.evictions);
  $('ops').textContent = int(ops);
  $('bytes').textContent = mib(s.bytes) + ' used';
  $('budget').textContent = 'budget ' + mib(s.limitBytes);
  $('bytes-bar').style.width = Math.min(100, (100 * s.bytes) / s.limitBytes).toFixed(1) + '%';
  // The raw numbers, for anyone inspecting the page (and the browser test).
  Object.assign(document.body.dataset, {
    hitRatio: String(ratio), bytes: String(s.bytes), budget: String(s.limitBytes),
    items: String(s.items), evictions: String(s.evictions),
  });
}

function stop(message) {
  running = false;
  $('toggle').textContent = 'Resume';
  $('status').textContent = message;
}

$('toggle').addEventListener('click', () => {
  if (running) { stop('paused'); return; }
  running = true;
  started = performance.now();
  $('toggle').textContent = 'Pause';
  $('status').textContent = 'running';
  slice();
});
$('toggle').disabled = false;
$('status').textContent = 'running';
setInterval(show, REFRESH_MS);
show();
slice();
