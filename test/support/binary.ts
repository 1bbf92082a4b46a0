// Binary-protocol frames for tests: a request builder whose every length
// field can be overridden (for malformed packets) and a response parser.
export interface Request {
  opcode: number;
  key?: Buffer | string;
  extras?: Buffer;
  value?: Buffer | string;
  cas?: bigint;
  opaque?: number;
  magic?: number;
  /** Override the header's length fields (default: the real lengths). */
  keylen?: number;
  extlen?: number;
  bodylen?: number;
}

export const OP = {
  GET: 0x00, SET: 0x01, ADD: 0x02, REPLACE: 0x03, DELETE: 0x04, INCREMENT: 0x05, DECREMENT: 0x06,
  QUIT: 0x07, FLUSH: 0x08, GETQ: 0x09, NOOP: 0x0a, VERSION: 0x0b, GETK: 0x0c, GETKQ: 0x0d,
  APPEND: 0x0e, PREPEND: 0x0f, STAT: 0x10, SETQ: 0x11, ADDQ: 0x12, REPLACEQ: 0x13, DELETEQ: 0x14,
  INCREMENTQ: 0x15, DECREMENTQ: 0x16, QUITQ: 0x17, FLUSHQ: 0x18, APPENDQ: 0x19, PREPENDQ: 0x1a,
  TOUCH: 0x1c, GAT: 0x1d, GATQ: 0x1e, SASL_LIST_MECHS: 0x20, SASL_AUTH: 0x21, SASL_STEP: 0x22,
  GATK: 0x23, GATKQ: 0x24,
} as const;

const bytes = (b: Buffer | string | undefined): Buffer =>
  b === undefined ? Buffer.alloc(0) : typeof b === 'string' ? Buffer.from(b, 'latin1') : b;

export function frame(r: Request): Buffer {
  const key = bytes(r.key);
  const extras = r.extras ?? Buffer.alloc(0);
  const value = bytes(r.value);
  const h = Buffer.alloc(24);
  h[0] = r.magic ?? 0x80;
  h[1] = r.opcode;
  h.writeUInt16BE(r.keylen ?? key.length, 2);
  h[4] = r.extlen ?? extras.length;
  h.writeUInt32BE((r.bodylen ?? extras.length + key.length + value.length) >>> 0, 8);
  h.writeUInt32BE((r.opaque ?? 0xdeadbeef) >>> 0, 12);
  h.writeBigUInt64BE(r.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}

/** flags, exptime: the extras of SET / ADD / REPLACE. */
export function setExtras(flags: number, exptime: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(flags >>> 0, 0);
  b.writeUInt32BE(exptime >>> 0, 4);
  return b;
}

/** delta, initial, exptime: the extras of INCREMENT / DECREMENT. */
export function incrExtras(delta: bigint, initial: bigint, exptime: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeBigUInt64BE(delta, 0);
  b.writeBigUInt64BE(initial, 8);
  b.writeUInt32BE(exptime >>> 0, 16);
  return b;
}

export function expExtras(exptime: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(exptime >>> 0, 0);
  return b;
}

export interface Response {
  opcode: number;
  status: number;
  opaque: number;
  cas: bigint;
  extras: Buffer;
  key: string;
  value: Buffer;
}

/** Complete response packets from the front of `buf`, and leftover bytes. */
export function parseResponses(buf: Buffer): { packets: Response[]; rest: Buffer } {
  const packets: Response[] = [];
  let off = 0;
  while (buf.length - off >= 24) {
    const keylen = buf.readUInt16BE(off + 2);
    const extlen = buf[off + 4];
    const bodylen = buf.readUInt32BE(off + 8);
    if (buf.length - off < 24 + bodylen) break;
    const body = buf.subarray(off + 24, off + 24 + bodylen);
    packets.push({
      opcode: buf[off + 1],
      status: buf.readUInt16BE(off + 6),
      opaque: buf.readUInt32BE(off + 12),
      cas: buf.readBigUInt64BE(off + 16),
      extras: Buffer.from(body.subarray(0, extlen)),
      key: body.subarray(extlen, extlen + keylen).toString('latin1'),
      value: Buffer.from(body.subarray(extlen + keylen)),
    });
    off += 24 + bodylen;
  }
  return { packets, rest: buf.subarray(off) };
}

/** A packet as a short readable line, for failure messages and snapshots. */
export function describe(p: Response): string {
  const printable = p.value.every((c) => c >= 0x20 && c < 0x7f);
  const head = p.value.subarray(0, 60);
  const v = (printable ? head.toString('latin1') : `0x${head.toString('hex')}`) + (p.value.length > 60 ? '...' : '');
  return `op=${p.opcode.toString(16)} st=${p.status.toString(16)} cas=${p.cas} ext=${p.extras.toString('hex')} key=${JSON.stringify(p.key)} val=${JSON.stringify(v)}`;
}
