// Reads the replies to pipelined `mg <key> ... v f t` requests from a byte
// stream, in order: `VA <len> f<flags> t<ttl>` and the value, `EN`, or any
// other line (an error). Memory is bounded: a value is collected in one
// buffer of its own size only if it is at most `maxValue` bytes; a larger one
// is counted off as it passes and reported as too large, never held.
// Used by warming (src/warm.ts, src/warm-miss.ts).

export type MgReply =
  | { kind: 'hit'; value: Buffer; flags: number; ttl: number }
  | { kind: 'miss' }
  | { kind: 'too-large' }
  | { kind: 'error'; line: string };

/** A reply line longer than this is not an mg reply: the stream is broken. */
const MAX_LINE = 4096;

export class MgReplies {
  /** The unfinished line. */
  private line: Buffer[] = [];
  private lineLen = 0;
  // A value being collected (or skipped when `value` is null).
  private inValue = false;
  private value: Buffer | null = null;
  private got = 0;
  /** Value bytes plus the CRLF after them. */
  private want = 0;
  private flags = 0;
  private ttl = -1;
  private broken = false;

  /**
   * `onReply` gets each reply in order; returning false stops reading (the
   * rest of the chunk is dropped: the owner is closing). `onBroken` is told
   * once when the stream cannot be an mg reply stream.
   */
  constructor(private readonly maxValue: number, private readonly onReply: (r: MgReply) => boolean,
    private readonly onBroken: (why: string) => void) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.inValue) {
        const n = Math.min(this.want - this.got, chunk.length - at);
        if (this.value !== null) chunk.copy(this.value, this.got, at, at + n);
        this.got += n;
        at += n;
        if (this.got < this.want) return;
        this.inValue = false;
        const v = this.value;
        this.value = null;
        const r: MgReply = v === null ? { kind: 'too-large' } : { kind: 'hit', value: v.subarray(0, v.length - 2), flags: this.flags, ttl: this.ttl };
        if (!this.onReply(r)) return;
        continue;
      }
      const nl = chunk.indexOf(10, at);
      if (nl < 0) {
        this.keepLine(chunk.subarray(at));
        return;
      }
      let line: Buffer = chunk.subarray(at, nl);
      if (this.lineLen > 0) {
        this.keepLine(line);
        if (this.broken) return;
        line = Buffer.concat(this.line, this.lineLen);
        this.line = [];
        this.lineLen = 0;
      }
      at = nl + 1;
      if (!this.onLine(line.toString('latin1', 0, line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length))) return;
    }
  }

  /** False to stop reading. */
  private onLine(line: string): boolean {
    if (line.startsWith('VA ')) {
      const tokens = line.split(' ');
      const len = Number(tokens[1]);
      if (!Number.isSafeInteger(len) || len < 0) {
        this.fail(`bad value length in ${JSON.stringify(line.slice(0, 100))}`);
        return false;
      }
      this.flags = 0;
      this.ttl = -1;
      for (const t of tokens.slice(2)) {
        if (t[0] === 'f') this.flags = Number(t.slice(1)) >>> 0;
        else if (t[0] === 't') this.ttl = Number(t.slice(1));
      }
      this.inValue = true;
      this.got = 0;
      this.want = len + 2;
      this.value = len <= this.maxValue ? Buffer.allocUnsafe(len + 2) : null;
      return true;
    }
    return this.onReply(line === 'EN' ? { kind: 'miss' } : { kind: 'error', line });
  }

  private keepLine(part: Buffer): void {
    if (this.lineLen + part.length > MAX_LINE) {
      this.fail(`a reply line longer than ${MAX_LINE} bytes`);
      return;
    }
    // A copy: the chunk may be a reused buffer.
    this.line.push(Buffer.from(part));
    this.lineLen += part.length;
  }

  private fail(why: string): void {
    if (this.broken) return;
    this.broken = true;
    this.line = [];
    this.value = null;
    this.onBroken(why);
  }
}
