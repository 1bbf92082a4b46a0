// Logging to stderr by verbosity, as memcached does: -v errors and warnings,
// -vv connection events, commands and replies, -vvv details. The level is the
// store's (memcached's settings.verbose): -v sets it at start and the
// `verbosity` command changes it at run time, so it is read on every call.

export interface Logger {
  /** Always printed: fatal conditions. */
  error(msg: string): void;
  /** -v */
  warn(msg: string): void;
  /** -vv: connection open/close */
  info(msg: string): void;
  /** -vvv */
  debug(msg: string): void;
  /** Lines whose level the caller has checked (-vv/-vvv output). */
  lines(msg: string): void;
  level(): number;
}

/** `level` is consulted on each call (the store's verbosity). */
export function createLogger(level: () => number,
  write: (line: string) => void = (line) => { process.stderr.write(line); }): Logger {
  const at = (min: number) => (msg: string) => { if (level() >= min) write(msg + '\n'); };
  return {
    error: (msg) => write(msg + '\n'),
    warn: at(1),
    info: at(2),
    debug: at(3),
    lines: (msg) => write(msg + '\n'),
    level,
  };
}
