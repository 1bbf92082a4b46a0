// What every bench section receives and returns. Sections measure; run.ts
// prints progress, the final tables, and the JSON file.

export interface BenchContext {
  /** --quick: the whole bench must finish in under 90 s. */
  readonly quick: boolean;
  /** Replaces the progress line on the terminal (stderr). */
  progress(text: string): void;
  /** A line kept in the log above the progress line. */
  log(text: string): void;
}

export interface Table {
  title: string;
  headers: string[];
  rows: (string | number)[][];
}

export interface SectionResult {
  tables: Table[];
  /** Merged into the JSON output under the section's key. */
  json: unknown;
  /** Honest remarks printed under the tables (a saturated generator, a skipped contender). */
  notes?: string[];
}

export interface Section {
  /** JSON key and --only name: engine, server, memory, pauses, embedded, hostmem, warm, tls */
  readonly key: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** 1234567 -> "1,234,567"; ratios and small numbers keep 2 decimals. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(2);
}
