// The idiomatic Node baseline the engine is compared with: the text protocol
// parsed the way a plain TypeScript server would (find "\r\n" with
// Buffer.indexOf, decode the line as latin1, split on spaces, copy each value
// with Buffer.from, Buffer.concat the replies), in front of a Map or an
// lru-cache. Only what the benches send is understood: `get <key>...` and
// `set <key> <flags> <exptime> <bytes> [noreply]`.
import { LRUCache } from 'lru-cache';

export interface BaselineItem {
  flags: number;
  value: Buffer;
}

/** The part of Map and LRUCache the baseline uses. */
export interface KeyValue {
  get(key: string): BaselineItem | undefined;
  set(key: string, item: BaselineItem): unknown;
  readonly size: number;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const END = Buffer.from('END\r\n', 'latin1');
const STORED = Buffer.from('STORED\r\n', 'latin1');
const ERROR = Buffer.from('ERROR\r\n', 'latin1');

export class TextBaseline {
  constructor(readonly kv: KeyValue) {}

  /** Runs every complete command in `input`; returns the replies and the
   *  bytes consumed (a command whose data has not all arrived stays). */
  execute(input: Buffer): { out: Buffer; consumed: number } {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < input.length) {
      const eol = input.indexOf(CRLF, pos);
      if (eol < 0) break;
      const parts = input.toString('latin1', pos, eol).split(' ');
      const cmd = parts[0];
      if (cmd === 'get') {
        for (let i = 1; i < parts.length; i++) {
          const it = this.kv.get(parts[i]);
          if (it) out.push(Buffer.from(`VALUE ${parts[i]} ${it.flags} ${it.value.length}\r\n`, 'latin1'), it.value, CRLF);
        }
        out.push(END);
        pos = eol + 2;
      } else if (cmd === 'set') {
        const n = Number(parts[4]);
        const start = eol + 2;
        if (start + n + 2 > input.length) break;
        this.kv.set(parts[1], { flags: Number(parts[2]), value: Buffer.from(input.subarray(start, start + n)) });
        if (parts[5] !== 'noreply') out.push(STORED);
        pos = start + n + 2;
      } else {
        out.push(ERROR);
        pos = eol + 2;
      }
    }
    return { out: Buffer.concat(out), consumed: pos };
  }
}

export function mapBaseline(): TextBaseline {
  return new TextBaseline(new Map<string, BaselineItem>());
}

export function lruBaseline(max: number): TextBaseline {
  return new TextBaseline(new LRUCache<string, BaselineItem>({ max }));
}
