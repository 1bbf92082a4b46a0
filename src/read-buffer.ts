// Reads into one buffer that every connection reuses. Node otherwise
// allocates a 64 KiB buffer for each read of each socket and keeps whatever
// the application retains of it; here a read's bytes are handled (executed,
// or copied into the arena when they are a value) before the next read
// overwrites them, and the few bytes a connection must keep (a partial
// command line) are copied out (Session.ownPending).
//
// net.Server has no option for this, but net.Socket does (`onread`), so the
// listening handle's connection callback is replaced by one that makes each
// accepted socket with it: one Socket per connection, as net.Server would
// make. Where the runtime's server exposes no handle, its 'connection'
// sockets are used as they are, with their 'data' events.
import { Socket, type Server } from 'node:net';
import { StreamSocket, isStreamHandle, streamBinding, type StreamHandle } from './stream-socket.js';

export const READ_BUFFER_SIZE = 64 * 1024;

/** Where stream sockets come from when the caller keeps spares (conn.ts,
 *  SpareParts): one on `buffer` serving `handle`. */
export interface SpareSockets {
  socketFor(handle: StreamHandle): StreamSocket;
}

interface ListenHandle {
  onconnection?: (err: number, clientHandle: object | undefined) => void;
}

/**
 * After `listener` is bound: calls `onSocket(socket, bind)` for each accepted
 * connection, with a socket whose reads land in `buffer`; `bind(onBytes)`
 * says where they go (a view valid only during the call), and is null for a
 * StreamSocket, which hands them to the Conn attached to it. Returns false when
 * the listener cannot be set up so (the caller keeps its 'connection' handler).
 * `direct`: serve each connection on its libuv handle (stream-socket.ts)
 * where this runtime allows, rather than through node:net's Socket.
 */
export function acceptWithSharedReads(listener: Server, buffer: Uint8Array,
  onSocket: (socket: Socket, bind: ((onBytes: (bytes: Uint8Array) => void) => void) | null) => void, direct = false,
  spares: SpareSockets | null = null): boolean {
  // Bun's node:net has a handle-like object but no libuv stream under it:
  // a Socket made on it throws at its first error. Its 'data' events it is.
  if (typeof process.versions.bun === 'string') return false;
  const handle = (listener as unknown as { _handle?: ListenHandle | null })._handle;
  const original = handle?.onconnection;
  if (!handle || typeof original !== 'function') return false;
  const allowHalfOpen = (listener as unknown as { allowHalfOpen?: boolean }).allowHalfOpen ?? true;
  const stream = direct ? streamBinding() : null;
  handle.onconnection = (err, clientHandle) => {
    // Errors (EMFILE and the like) keep net.Server's own handling.
    if (err || !clientHandle) { original.call(handle, err, clientHandle); return; }
    if (stream !== null && isStreamHandle(clientHandle)) {
      // No bind: its reads go to the Conn that attaches to it (stream-socket.ts).
      const sock = spares !== null ? spares.socketFor(clientHandle) : new StreamSocket(clientHandle, buffer, stream);
      onSocket(sock as unknown as Socket, null);
      return;
    }
    let onBytes: (bytes: Uint8Array) => void = () => {};
    const socket = new Socket({
      handle: clientHandle,
      allowHalfOpen,
      readable: true,
      writable: true,
      onread: { buffer, callback: (n: number, buf: Uint8Array) => { onBytes(buf.subarray(0, n)); } },
    } as unknown as ConstructorParameters<typeof Socket>[0]);
    socket.pause();
    onSocket(socket, (fn) => { onBytes = fn; });
  };
  return true;
}
