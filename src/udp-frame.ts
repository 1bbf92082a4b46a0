// memcached's UDP frame (doc/protocol.txt, "UDP protocol"): every datagram
// starts with an 8-byte header of four big-endian 16-bit words, then data in
// the TCP protocols' format.
//
//   offset  size  field
//   0       2     request id: chosen by the client, echoed in every reply datagram
//   2       2     sequence number: 0..total-1 within one reply
//   4       2     total datagrams of the message
//   6       2     reserved, 0
//
// A request is one datagram (total = 1). A reply is cut into datagrams of at
// most UDP_MAX_PAYLOAD_SIZE bytes, header included, numbered in order; the
// client concatenates their data by sequence number. This file only reads
// and writes frames; udp.ts decides what to answer.

export const UDP_HEADER_SIZE = 8;
/** memcached's UDP_MAX_PAYLOAD_SIZE: the most bytes of one reply datagram,
 *  its header included (fits an Ethernet MTU with IP and UDP headers). */
export const UDP_MAX_PAYLOAD_SIZE = 1400;
/** Reply bytes carried per datagram (memcached's UDP_DATA_SIZE). */
export const UDP_DATA_SIZE = UDP_MAX_PAYLOAD_SIZE - UDP_HEADER_SIZE;

/**
 * The request id of a datagram to answer, or -1 for one memcached 1.6 drops
 * without a word: 8 bytes or fewer (a header and no request), or a total
 * other than 1 (a request spanning datagrams, which memcached never
 * reassembles). Like memcached, the sequence number and the reserved word
 * are not checked.
 */
export function requestIdOf(datagram: Buffer): number {
  if (datagram.length <= UDP_HEADER_SIZE) return -1;
  if (datagram.readUInt16BE(4) !== 1) return -1;
  return datagram.readUInt16BE(0);
}

/** Datagrams a reply of `bytes` takes. */
export function datagramsFor(bytes: number): number {
  return Math.ceil(bytes / UDP_DATA_SIZE);
}

/**
 * `reply` cut into framed datagrams (views of one new buffer), numbered
 * 0..n-1 with total n. An empty reply is no datagram at all.
 */
export function frameReply(requestId: number, reply: Buffer): Buffer[] {
  const n = datagramsFor(reply.length);
  const all = Buffer.allocUnsafe(reply.length + n * UDP_HEADER_SIZE);
  const out: Buffer[] = [];
  let at = 0;
  for (let seq = 0; seq < n; seq++) {
    const from = seq * UDP_DATA_SIZE;
    const len = Math.min(UDP_DATA_SIZE, reply.length - from);
    all.writeUInt16BE(requestId, at);
    all.writeUInt16BE(seq, at + 2);
    all.writeUInt16BE(n, at + 4);
    all.writeUInt16BE(0, at + 6);
    reply.copy(all, at + UDP_HEADER_SIZE, from, from + len);
    out.push(all.subarray(at, at + UDP_HEADER_SIZE + len));
    at += UDP_HEADER_SIZE + len;
  }
  return out;
}

// ---- replies the host writes itself -----------------------------------------
// Errors about the datagram as a whole (its reply is too large, its last
// request is cut short) are the host's, in the protocol of the request:
// a text line, or a binary response packet.

const BIN_REQ_MAGIC = 0x80;
const BIN_RES_MAGIC = 0x81;
const BIN_HEADER_SIZE = 24;
/** memcached's binary statuses and their messages (protocol_binary.h). */
export const BIN_E2BIG = { status: 0x0003, message: 'Too large.' };
export const BIN_EINVAL = { status: 0x0004, message: 'Invalid arguments' };

/** Whether the request at `at` speaks the binary protocol (its magic byte). */
export function isBinaryAt(request: Buffer, at: number): boolean {
  return at < request.length && request[at] === BIN_REQ_MAGIC;
}

/** A text reply line. */
export function textLine(line: string): Buffer {
  return Buffer.from(`${line}\r\n`, 'latin1');
}

/**
 * A binary error response to the request packet starting at `at` in
 * `request`, with its opcode and opaque (0 for the parts of a header that
 * did not arrive, or when no request header starts there).
 */
export function binaryError(request: Buffer, at: number, error: { status: number; message: string }): Buffer {
  const have = isBinaryAt(request, at) ? request.length - at : 0;
  const body = Buffer.from(error.message, 'latin1');
  const res = Buffer.alloc(BIN_HEADER_SIZE + body.length);
  res[0] = BIN_RES_MAGIC;
  if (have > 1) res[1] = request[at + 1];
  res.writeUInt16BE(error.status, 6);
  res.writeUInt32BE(body.length, 8);
  if (have >= 16) request.copy(res, 12, at + 12, at + 16);
  body.copy(res, BIN_HEADER_SIZE);
  return res;
}
