// Regression: with -t N, `shutdown` (or SIGTERM) now and then ended the
// process with SIGABRT instead of exit code 0. Thread 0 closed the
// listening socket that every thread polls by the same descriptor number,
// and another thread's libuv, touching its watcher on that descriptor
// afterwards, aborted (epoll_ctl on a closed descriptor). Seen in about 1
// shutdown in 6 on a loaded machine; the socket now stays open until the
// process ends. A busy child process loads the machine meanwhile, as the
// failures needed.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { startWasmcached } from '../support/servers.js';

describe('-t 2: shutdown exits 0', () => {
  it('`shutdown` over UDP with -A ends the process with code 0, 20 times in a row, with the machine loaded', async () => {
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end);'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 20; i++) {
        // -U -1: UDP on a port of the OS's choosing, and TCP on the same one.
        const s = await startWasmcached(['-t', '2', '-A', '-U', '-1']);
        const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => s.proc.once('exit', (code, sig) => r([code, sig])));
        const udp = createSocket('udp4');
        try {
          // The 8-byte UDP frame (request id 1, datagram 0 of 1), then the command.
          udp.send(Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0]), Buffer.from('shutdown\r\n')]), s.udpPort, '127.0.0.1');
          expect(await exited, `shutdown ${i + 1}`).toEqual([0, null]);
        } finally {
          udp.close();
          await s.stop();
        }
      }
    } finally {
      busy.kill('SIGKILL');
    }
  }, 180_000);
});
