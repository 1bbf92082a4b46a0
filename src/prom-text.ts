// The Prometheus text exposition format (version 0.0.4), written the way the
// Go client library writes it, so a scrape of wasmcached reads like a scrape
// of memcached_exporter: families sorted by name, each with its HELP and TYPE
// lines; label pairs sorted by label name; a family's series sorted by their
// label values (as strings, so slab="10" comes before slab="2"); values in
// Go's shortest %g form (67108864 is written 6.7108864e+07).
// A family appears only once it has a series, as in the Go client.

export type MetricType = 'counter' | 'gauge';

/** A metric's name, help text and label names (the Go client's Desc). */
export interface MetricDesc {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
}

export function desc(name: string, help: string, labels: readonly string[] = []): MetricDesc {
  return { name, help, labels };
}

interface Series {
  /** [name, value] pairs, sorted by name */
  labels: [string, string][];
  value: number;
}

interface Family {
  desc: MetricDesc;
  /** The type of its first series (the Go client rejects a mix). */
  type: MetricType;
  series: Series[];
  /** The label values of every series, joined: a series added twice is a bug. */
  seen: Set<string>;
}

/** The series of one scrape, rendered by render(). */
export class Exposition {
  private readonly families = new Map<string, Family>();

  /** Adds one series; its label values are in the order of `d.labels`. A
   *  wrong count of values or a series added twice is a bug: it throws. */
  add(d: MetricDesc, type: MetricType, value: number, ...labelValues: string[]): void {
    if (labelValues.length !== d.labels.length) {
      throw new Error(`${d.name}: ${labelValues.length} label values for labels [${d.labels.join(', ')}]`);
    }
    let f = this.families.get(d.name);
    if (f === undefined) {
      f = { desc: d, type, series: [], seen: new Set() };
      this.families.set(d.name, f);
    }
    const labels: [string, string][] = d.labels.map((n, i) => [n, labelValues[i]]);
    labels.sort((a, b) => compare(a[0], b[0]));
    const key = labels.map((l) => l[1]).join('\u0000');
    if (f.seen.has(key)) {
      throw new Error(`${d.name}{${labels.map(([n, v]) => `${n}="${v}"`).join(',')}} was added twice`);
    }
    f.seen.add(key);
    f.series.push({ labels, value });
  }

  render(): string {
    const out: string[] = [];
    for (const name of [...this.families.keys()].sort(compare)) {
      const f = this.families.get(name)!;
      out.push(`# HELP ${name} ${escapeHelp(f.desc.help)}`);
      out.push(`# TYPE ${name} ${f.type}`);
      f.series.sort(compareSeries);
      for (const s of f.series) {
        const labels = s.labels.length === 0 ? '' : `{${s.labels.map(([n, v]) => `${n}="${escapeLabelValue(v)}"`).join(',')}}`;
        out.push(`${name}${labels} ${formatValue(s.value)}`);
      }
    }
    return out.length === 0 ? '' : out.join('\n') + '\n';
  }
}

/** Byte order, as Go compares strings (names and values here are ASCII). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSeries(a: Series, b: Series): number {
  if (a.labels.length !== b.labels.length) return a.labels.length - b.labels.length;
  for (let i = 0; i < a.labels.length; i++) {
    const c = compare(a.labels[i][1], b.labels[i][1]);
    if (c !== 0) return c;
  }
  return 0;
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * A sample value as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it: the
 * shortest digits that read back as v, in exponent form when the decimal
 * exponent is below -4 or at least 6 (at least two exponent digits).
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return '0';
  // JS gives the same shortest digits; only the switch to exponent form differs.
  const [mantissa, expText] = Math.abs(v).toExponential().split('e');
  const exp = Number(expText);
  if (exp >= -4 && exp < 6) return String(v);
  const digits = exp < 0 ? -exp : exp;
  return `${v < 0 ? '-' : ''}${mantissa}e${exp < 0 ? '-' : '+'}${digits < 10 ? '0' : ''}${digits}`;
}
