// A strict reader of the Prometheus text exposition format (0.0.4), for
// tests of the metrics endpoint: it throws on anything a scraper could
// misread. Every family must open with its HELP line, then its TYPE line,
// then its samples, and appear once; names and labels must have valid
// syntax, label values valid escapes; no series may appear twice.

export interface Sample {
  labels: Record<string, string>;
  value: number;
  /** The value as written. */
  text: string;
}

export interface MetricFamily {
  help: string;
  type: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

interface Open { name: string; family: MetricFamily | null; help: string | null }

export function parseExposition(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const families = new Map<string, MetricFamily>();
  // The family being read (declared through a cast: assignments in the loop
  // would otherwise not widen it from null).
  let current = null as Open | null;
  const lines = text.split('\n').slice(0, -1);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const where = `line ${i + 1} ${JSON.stringify(line)}`;
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      const name = sp < 0 ? rest : rest.slice(0, sp);
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      if (families.has(name) || current?.name === name) throw new Error(`${where}: family ${name} appears twice`);
      if (current !== null && current.family === null) throw new Error(`${where}: family ${current.name} has HELP but no TYPE`);
      current = { name, family: null, help: unescapeHelp(sp < 0 ? '' : rest.slice(sp + 1), where) };
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, ...extra] = line.slice(7).split(' ');
      if (current === null || current.name !== name || current.family !== null) {
        throw new Error(`${where}: TYPE not right after the family's HELP`);
      }
      if (!TYPES.includes(type) || extra.length > 0) throw new Error(`${where}: bad TYPE`);
      current.family = { help: current.help!, type, samples: [] };
      families.set(name, current.family);
      continue;
    }
    if (line.startsWith('#')) throw new Error(`${where}: unexpected comment`);
    if (current === null || current.family === null) throw new Error(`${where}: sample before its family's HELP and TYPE`);
    const sample = parseSample(line, where);
    if (sample.name !== current.name) throw new Error(`${where}: sample of ${sample.name} inside family ${current.name}`);
    const key = JSON.stringify(Object.entries(sample.labels).sort());
    if (current.family.samples.some((s) => JSON.stringify(Object.entries(s.labels).sort()) === key)) {
      throw new Error(`${where}: series appears twice`);
    }
    current.family.samples.push({ labels: sample.labels, value: sample.value, text: sample.text });
  }
  if (current !== null && current.family === null) throw new Error(`family ${current.name} has HELP but no TYPE`);
  for (const [name, f] of families) if (f.samples.length === 0) throw new Error(`family ${name} has no samples`);
  return families;
}

function unescapeHelp(s: string, where: string): string {
  return s.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${where}: bad escape in HELP`);
  });
}

function parseSample(line: string, where: string): { name: string; labels: Record<string, string>; value: number; text: string } {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
  const name = line.slice(0, i);
  if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq < 0) throw new Error(`${where}: label without '='`);
      const label = line.slice(i, eq);
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`${where}: bad label name ${JSON.stringify(label)}`);
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
      let value = '';
      let j = eq + 2;
      for (;; j++) {
        if (j >= line.length) throw new Error(`${where}: unterminated label value`);
        const c = line[j];
        if (c === '"') break;
        if (c === '\\') {
          const e = line[++j];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new Error(`${where}: bad escape in label value`);
        } else {
          value += c;
        }
      }
      labels[label] = value;
      i = j + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected ',' or '}' after a label`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
  const [text, timestamp, ...extra] = line.slice(i + 1).split(' ');
  if (!VALUE.test(text)) throw new Error(`${where}: bad value`);
  if (extra.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`${where}: bad timestamp`);
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  return { name, labels, value, text };
}

/** The value of the one series of `family` whose labels are `labels`; throws if none. */
export function valueOf(families: Map<string, MetricFamily>, family: string, labels: Record<string, string> = {}): number {
  const f = families.get(family);
  if (f === undefined) throw new Error(`no family ${family}`);
  const want = JSON.stringify(Object.entries(labels).sort());
  const s = f.samples.find((x) => JSON.stringify(Object.entries(x.labels).sort()) === want);
  if (s === undefined) throw new Error(`no series ${family}${JSON.stringify(labels)}`);
  return s.value;
}
