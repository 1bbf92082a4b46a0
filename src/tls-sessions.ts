// -o ssl_session_cache: TLS sessions kept on the server, so that a client
// that kept its session id resumes it without a full handshake (memcached
// 1.6.18 turns on OpenSSL's server-side cache, one for the process). Node's
// TLS server keeps none of its own: it asks through its 'newSession' and
// 'resumeSession' events. With -t N the sessions live on the main thread and
// the others reach them over the thread relay (thread-relay.ts), so a client
// resumes whichever thread its next connection lands on.
//
// Bounded: at most SESSIONS_MAX_BYTES of serialized sessions, the oldest
// dropped first (a dropped session costs its client one full handshake).

/** Serialized sessions kept, in bytes (a session is about 100 B to a few KB
 *  with a client certificate chain). */
export const SESSIONS_MAX_BYTES = 4 * 1024 * 1024;
/** What a thread waits for the main thread's answer before it does a full handshake. */
export const SESSION_WAIT_MS = 200;

/** Where a TLS server keeps and finds sessions. */
export interface SessionStore {
  put(id: string, data: Uint8Array): void;
  /** The session, or null; `done` may be called later (another thread). */
  get(id: string, done: (data: Uint8Array | null) => void): void;
}

/** The sessions themselves (the main thread's, or a single thread's). */
export class TlsSessions implements SessionStore {
  private readonly byId = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxBytes = SESSIONS_MAX_BYTES) {}

  put(id: string, data: Uint8Array): void {
    this.drop(id);
    if (data.length > this.maxBytes) return;
    this.byId.set(id, data);
    this.bytes += data.length;
    // A Map iterates in insertion order: the first key is the oldest.
    for (const oldest of this.byId.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest);
    }
  }

  get(id: string, done: (data: Uint8Array | null) => void): void {
    done(this.byId.get(id) ?? null);
  }

  get size(): number { return this.byId.size; }
  get heldBytes(): number { return this.bytes; }

  private drop(id: string): void {
    const old = this.byId.get(id);
    if (old === undefined) return;
    this.byId.delete(id);
    this.bytes -= old.length;
  }
}
