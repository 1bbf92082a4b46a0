// Reads into one buffer that every connection reuses. Node otherwise
// allocates a 64 KiB buffer for each read of each socket and keeps whatever
// the application retains of it; here a read's bytes are handled (executed,
// or copied into the arena when they are a value) before the next read
// overwrites them, and the few bytes a connection must keep (a partial
// command line) are copied out (Session.ownPending).
//
// net.Server has no option for this, so an accepted socket's handle is moved
// to a new Socket made with the `onread` option (which net.Socket supports).
// Where the runtime's sockets do not expose a handle, the socket is used as
// it is, with its 'data' events.
import { Socket } from 'node:net';

export const READ_BUFFER_SIZE = 64 * 1024;

interface HandleOwner { _handle?: object | null }

/**
 * A socket over `accepted`'s connection whose reads land in `buffer` and
 * call `onBytes` (a view valid only during the call); null when the handle
 * cannot be taken over. `accepted` must come from a server made with
 * pauseOnConnect, so that nothing has been read yet.
 */
export function withSharedReadBuffer(accepted: Socket, buffer: Buffer, onBytes: (bytes: Buffer) => void): Socket | null {
  const owner = accepted as unknown as HandleOwner;
  const handle = owner._handle;
  if (handle == null) return null;
  owner._handle = null;
  const socket = new Socket({
    handle,
    allowHalfOpen: true,
    readable: true,
    writable: true,
    onread: { buffer, callback: (n: number, buf: Uint8Array) => { onBytes((buf as Buffer).subarray(0, n)); } },
  } as unknown as ConstructorParameters<typeof Socket>[0]);
  return socket;
}
