// The floor of a Node.js server on libuv handles: the do-nothing server of
// bench/null-server.ts, but served the way wasmcached's default host serves
// (src/stream-socket.ts: the stream_wrap binding, one shared read buffer, one
// write per read straight to the handle), and answering every get with a
// 100-byte value, so that its replies are as long as a cache hit's. What it
// costs per request is what any Node.js server on these handles costs before
// it does any work; BENCHMARKS.md compares it with wasmcached and memcached
// under memcaslap (run by hand: `node <bench output>/null-handle-server.js`).
// Text protocol only, and only what memcaslap sends: `get` and `set` lines
// that fit in one read.
import { createServer } from 'node:net';

interface Binding {
  WriteWrap: new () => { handle: unknown; oncomplete: () => void };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}
interface Handle {
  onread: (this: Handle) => void;
  useUserBuffer(b: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  setNoDelay(on: boolean): number;
  writeBuffer(req: object, b: Uint8Array): number;
  close(cb: () => void): void;
  /** Value bytes of a `set` still to come. */
  skip: number;
}

const legacy = (process as unknown as { binding(name: string): unknown }).binding;
const b = legacy.call(process, 'stream_wrap') as Binding;
const state = b.streamBaseState;
const kRead = b.kReadBytesOrError;
const kAsync = b.kLastWriteWasAsync;
const readBuffer = Buffer.allocUnsafe(64 * 1024);
const VALUE = Buffer.from(' 0 100\r\n' + 'v'.repeat(100) + '\r\nEND\r\n', 'latin1');
const STORED = Buffer.from('STORED\r\n', 'latin1');
let spare: InstanceType<Binding['WriteWrap']> | null = null;

function onRead(this: Handle): void {
  const n = state[kRead];
  if (n <= 0) {
    if (n < 0) { this.readStop(); this.close(() => {}); }
    return;
  }
  // A fresh buffer per write: libuv may keep it when the socket is full.
  const out = Buffer.allocUnsafe(n * 2 + 256);
  let o = 0;
  for (let i = 0; i < n;) {
    if (this.skip > 0) {
      const k = Math.min(this.skip, n - i);
      this.skip -= k;
      i += k;
      if (this.skip === 0) o += STORED.copy(out, o);
      continue;
    }
    const eol = readBuffer.indexOf(10, i);
    if (eol < 0 || eol >= n) break;
    if (readBuffer[i] === 0x67) { // get <key>\r\n
      o += out.write('VALUE ', o, 'latin1');
      o += readBuffer.copy(out, o, i + 4, eol - 1);
      o += VALUE.copy(out, o);
    } else if (readBuffer[i] === 0x73) { // set <key> <flags> <exptime> <bytes>\r\n
      let v = 0;
      for (let j = readBuffer.lastIndexOf(32, eol) + 1; j < eol - 1; j++) v = v * 10 + readBuffer[j] - 48;
      this.skip = v + 2;
    }
    i = eol + 1;
  }
  if (o === 0) return;
  const req = spare ?? new b.WriteWrap();
  req.handle = this;
  req.oncomplete = () => {};
  this.writeBuffer(req, out.subarray(0, o));
  spare = state[kAsync] === 0 ? req : null;
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const listen = (server as unknown as { _handle: { onconnection: (err: number, h: Handle) => void } })._handle;
  listen.onconnection = (err, h) => {
    if (err !== 0 || h === undefined) return;
    h.skip = 0;
    h.setNoDelay(true);
    h.useUserBuffer(readBuffer);
    h.onread = onRead;
    h.readStart();
  };
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`listening on 127.0.0.1:${addr.port}\n`);
});
