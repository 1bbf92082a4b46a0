// `npm run bench [-- --quick] [-- --out FILE] [-- --only engine,server]`:
// runs the sections in one process (the server section starts its contenders
// as child processes), shows progress on stderr, prints one table per
// measurement at the end and optionally writes everything as JSON.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { BenchContext, Section, SectionResult, Table } from './types.js';
import { engineSection } from './engine.bench.js';
import { serverSection } from './server.bench.js';
import { memorySection } from './memory.bench.js';
import { pausesSection } from './pauses.bench.js';
import { embeddedSection } from './embedded.bench.js';
import { hostmemSection } from './hostmem.bench.js';
import { warmSection } from './warm.bench.js';
import { hostSection } from './host.bench.js';
import { tlsSection } from './tls.bench.js';
import { threadsSection } from './threads.bench.js';

const SECTIONS: Section[] = [engineSection, serverSection, hostSection, memorySection, pausesSection, embeddedSection, hostmemSection, warmSection, tlsSection, threadsSection];

function parseArgs(argv: string[]): { quick: boolean; out?: string; only?: Set<string> } {
  const o: { quick: boolean; out?: string; only?: Set<string> } = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--out') o.out = argv[++i];
    else if (a.startsWith('--out=')) o.out = a.slice(6);
    else if (a === '--only') o.only = new Set(argv[++i].split(','));
    else if (a.startsWith('--only=')) o.only = new Set(a.slice(7).split(','));
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: npm run bench -- [--quick] [--out FILE] [--only engine,server,host,memory,pauses,embedded,hostmem,warm,tls,threads]\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return o;
}

function renderTable(t: Table): string {
  const cells = [t.headers, ...t.rows.map((r) => r.map(String))];
  const widths = t.headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ') + ' |';
  return [`### ${t.title}`, '', line(t.headers), '|' + widths.map((w, c) => (c === 0 ? '-'.repeat(w + 1) + '-' : '-'.repeat(w + 1) + ':')).join('|') + '|', ...t.rows.map((r) => line(r.map(String)))].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tty = process.stderr.isTTY;
  const started = Date.now();
  let current = '';
  const ctx = (title: string): BenchContext => ({
    quick: args.quick,
    progress(text) {
      const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
      const line = `[${elapsed}s] ${title}: ${text}`;
      if (tty) process.stderr.write('\r\x1b[2K' + line.slice(0, process.stderr.columns - 1));
      else if (line !== current) process.stderr.write(line + '\n');
      current = line;
    },
    log(text) {
      process.stderr.write((tty ? '\r\x1b[2K' : '') + text + '\n');
    },
  });

  const results: [Section, SectionResult][] = [];
  const json: Record<string, unknown> = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg: loadavg(), quick: args.quick, date: new Date().toISOString() },
  };
  for (const s of SECTIONS) {
    if (args.only && !args.only.has(s.key)) continue;
    const c = ctx(s.title);
    c.progress('starting');
    const r = await s.run(c);
    if (tty) process.stderr.write('\r\x1b[2K');
    c.log(`${s.title}: done`);
    results.push([s, r]);
    json[s.key] = r.json;
  }
  json.duration_s = (Date.now() - started) / 1000;

  const out: string[] = [`wasmcached bench (${args.quick ? 'quick' : 'full'}), ${cpus().length} cores, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`, ''];
  for (const [s, r] of results) {
    out.push(`## ${s.title}`, '');
    for (const t of r.tables) out.push(renderTable(t), '');
    for (const n of r.notes ?? []) out.push(`- ${n}`);
    if (r.notes?.length) out.push('');
  }
  out.push(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(out.join('\n') + '\n');
  if (args.out) writeFileSync(args.out, JSON.stringify(json, null, 2) + '\n');
}

await main();
