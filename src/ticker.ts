// The host's one periodic timer (memcached's clock_handler): fires just after
// each wall-clock second begins, so the whole-second clock handed to the
// engine advances right after a tick and the timer never drifts. Missed
// seconds (a blocked event loop) are not replayed: the next tick sees the
// current time.

const PERIOD_MS = 1000;
/** Fire slightly after the second boundary so floor(now / 1000) has moved on. */
const SLACK_MS = 5;

/** Calls `fn` once a second until the returned function is called. */
export function startTicker(fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  let stopped = false;
  const schedule = () => {
    const now = Date.now();
    const next = (Math.floor(now / PERIOD_MS) + 1) * PERIOD_MS + SLACK_MS;
    timer = setTimeout(run, next - now);
    // The listening socket keeps the process alive, not the clock.
    timer.unref();
  };
  const run = () => {
    if (stopped) return;
    fn();
    if (!stopped) schedule();
  };
  schedule();
  return () => { stopped = true; clearTimeout(timer); };
}
