// Logging to stderr by verbosity, as memcached does: -v errors and warnings,
// -vv connection events, -vvv details. The level can be raised at run time by
// the `verbosity` command (the engine keeps it in the store header), so it is
// read on every call rather than fixed at startup.

export interface Logger {
  /** Always printed: fatal conditions. */
  error(msg: string): void;
  /** -v */
  warn(msg: string): void;
  /** -vv: connection open/close */
  info(msg: string): void;
  /** -vvv */
  debug(msg: string): void;
  level(): number;
}

/**
 * `runtimeLevel` is consulted on each call (the store's verbosity); the
 * effective level is the higher of it and the command-line level.
 */
export function createLogger(cliLevel: number, runtimeLevel: () => number = () => 0,
  write: (line: string) => void = (line) => { process.stderr.write(line); }): Logger {
  const level = () => Math.max(cliLevel, runtimeLevel());
  const at = (min: number) => (msg: string) => { if (level() >= min) write(msg + '\n'); };
  return {
    error: (msg) => write(msg + '\n'),
    warn: at(1),
    info: at(2),
    debug: at(3),
    level,
  };
}
