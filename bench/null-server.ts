// The "do-nothing" contender of the server section: parses the text protocol
// the plain Node.js way and answers without storing anything (`END` to every
// get, `STORED` to every storage command). Its figures are the ceiling for
// parsing plus socket I/O in Node.js, which no Node.js cache can pass.
// Prints `listening on 127.0.0.1:<port>` once bound, like wasmcached.
import { createServer, type Socket } from 'node:net';

const STORAGE = new Set(['set', 'add', 'replace', 'append', 'prepend', 'cas']);

function serve(sock: Socket): void {
  sock.setNoDelay(true);
  let pending: Buffer | null = null;
  // Data bytes (plus CRLF) of a storage command still to come, and whether
  // its STORED is owed once they have.
  let skip = 0;
  let owed = false;
  sock.on('data', (chunk: Buffer) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let out = '';
    let i = 0;
    while (i < buf.length) {
      if (skip > 0) {
        const k = Math.min(skip, buf.length - i);
        skip -= k;
        i += k;
        if (skip === 0 && owed) out += 'STORED\r\n';
        continue;
      }
      const eol = buf.indexOf(10, i);
      if (eol < 0) {
        pending = Buffer.from(buf.subarray(i));
        break;
      }
      const tokens = buf.toString('latin1', i, buf[eol - 1] === 13 ? eol - 1 : eol).split(' ');
      i = eol + 1;
      const cmd = tokens[0];
      if (cmd === 'get' || cmd === 'gets') {
        out += 'END\r\n';
      } else if (STORAGE.has(cmd)) {
        skip = Number(tokens[4]) + 2;
        owed = tokens[tokens.length - 1] !== 'noreply';
      } else if (cmd === 'quit') {
        sock.end(out);
        return;
      } else {
        out += 'ERROR\r\n';
      }
    }
    // One write per read, never one per reply.
    if (out) sock.write(out);
  });
  sock.on('error', () => sock.destroy());
}

const server = createServer(serve);
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`listening on 127.0.0.1:${addr.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
