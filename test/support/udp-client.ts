// A raw UDP client for memcached's frame protocol (8-byte header: request
// id, sequence number, total datagrams, reserved), bound to 127.0.0.1 on a
// port the OS picks. Every datagram received is kept whole, header included,
// so tests check the framing as well as the data.
//
// To know that a request's reply is complete without sleeping, exchange()
// sends the request, then a `version` with another id (the barrier), and
// takes every datagram that arrives before the barrier's reply: a server
// that handles one datagram after the other (wasmcached; memcached with
// -t 1) has sent all of the request's reply by then, and loopback keeps the
// order.
import { createSocket, type Socket } from 'node:dgram';

export interface FrameHeader {
  id: number;
  seq: number;
  total: number;
  reserved: number;
}

export interface Datagram extends FrameHeader {
  /** The bytes after the header. */
  data: Buffer;
  /** The whole datagram. */
  raw: Buffer;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const BARRIER_ID = 0xfffe;

export function frame(h: Partial<FrameHeader>, payload: Buffer | string): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(h.id ?? 1, 0);
  head.writeUInt16BE(h.seq ?? 0, 2);
  head.writeUInt16BE(h.total ?? 1, 4);
  head.writeUInt16BE(h.reserved ?? 0, 6);
  return Buffer.concat([head, typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload]);
}

function parse(raw: Buffer): Datagram {
  return {
    id: raw.readUInt16BE(0), seq: raw.readUInt16BE(2), total: raw.readUInt16BE(4), reserved: raw.readUInt16BE(6),
    data: raw.subarray(8), raw,
  };
}

/**
 * The messages of a reply in arrival order: a message starts at a datagram
 * numbered 0 (memcached 1.6 starts one per command or key; wasmcached sends
 * one per request). Each must be complete: sequence 0..total-1, once each.
 */
export function messages(datagrams: Datagram[]): Datagram[][] {
  const out: Datagram[][] = [];
  for (const d of datagrams) {
    if (d.seq === 0 || out.length === 0) out.push([]);
    out[out.length - 1].push(d);
  }
  return out;
}

/** The data of one message, concatenated in sequence order (whatever the
 *  arrival order); throws unless it is complete and consistent. */
export function reassemble(message: Datagram[]): Buffer {
  if (message.length === 0) return Buffer.alloc(0);
  const total = message[0].total;
  const bySeq = [...message].sort((a, b) => a.seq - b.seq);
  bySeq.forEach((d, i) => {
    if (d.seq !== i) throw new Error(`datagram ${i} of ${total} missing or repeated (got seq ${d.seq})`);
    if (d.total !== total) throw new Error(`total changed within a message: ${d.total} after ${total}`);
    if (d.reserved !== 0) throw new Error(`reserved word ${d.reserved}, expected 0`);
  });
  if (bySeq.length !== total && !(total === 0 && bySeq.length === 1)) throw new Error(`${bySeq.length} datagrams of a message of ${total}`);
  return Buffer.concat(bySeq.map((d) => d.data));
}

export class UdpClient {
  private received: Datagram[] = [];
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('message', (raw) => {
      this.received.push(parse(raw));
      const w = this.wake;
      this.wake = null;
      w?.();
    });
  }

  static open(): Promise<UdpClient> {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => { socket.off('error', reject); resolve(new UdpClient(socket)); });
    });
  }

  /** Sends one datagram as given (header included) to 127.0.0.1:port. */
  sendRaw(port: number, datagram: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(datagram, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Sends `datagram`, then the barrier; resolves to the datagrams that
   * arrived before the barrier's reply (whatever their ids).
   */
  async exchange(port: number, datagram: Buffer, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Datagram[]> {
    this.received = [];
    await this.sendRaw(port, datagram);
    await this.sendRaw(port, frame({ id: BARRIER_ID }, 'version\r\n'));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.received.findIndex((d) => d.id === BARRIER_ID);
      if (at >= 0) {
        const got = this.received.slice(0, at);
        this.received = [];
        return got;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply to the barrier within ${timeoutMs} ms; got ${this.received.length} datagrams`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { this.wake = null; resolve(); }, left);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  /** One request (a framed payload); the datagrams of its reply, checked to
   *  carry its id. */
  async request(port: number, payload: Buffer | string, header: Partial<FrameHeader> = {}): Promise<Datagram[]> {
    const id = header.id ?? 1;
    const got = await this.exchange(port, frame({ ...header, id }, payload));
    for (const d of got) if (d.id !== id) throw new Error(`reply datagram with id ${d.id}, request id ${id}`);
    return got;
  }

  /** The reply to one request as one message's data (wasmcached's framing). */
  async reply(port: number, payload: Buffer | string, header: Partial<FrameHeader> = {}): Promise<Buffer> {
    const ms = messages(await this.request(port, payload, header));
    if (ms.length > 1) throw new Error(`reply in ${ms.length} messages, expected one`);
    return ms.length === 0 ? Buffer.alloc(0) : reassemble(ms[0]);
  }

  close(): void {
    this.socket.close();
  }
}
