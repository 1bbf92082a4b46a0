// -Z: TLS on the TCP port, as memcached 1.6.18's tls.c. The listener stays
// a plain net.Server; each accepted socket is handed to a tls.Server that
// never listens itself (its documented 'connection' injection), which does
// the handshake and client-certificate checks. Once a connection is secure,
// the server treats its TLSSocket as any socket, reading through 'data'
// events: the shared read buffer (read-buffer.ts) reads from the raw
// handle, which under TLS carries ciphertext.
//
// A failed handshake (plain text sent to the port, a missing, unknown or
// expired client certificate when one is asked for, a protocol below
// ssl_min_version, a client that stalls) counts in ssl_handshake_errors and
// closes only that socket. memcached has no handshake timeout; a stalled
// handshake is closed after HANDSHAKE_TIMEOUT_MS here.
//
// Sessions resume on any thread: all share one session id context and one
// set of ticket keys, and -o ssl_session_cache keeps sessions for resumption
// by id on the main thread (tls-sessions.ts).
//
// The server counts a socket against -c before handing it here, as memcached
// counts a connection at accept; each socket handed in then ends in exactly
// one of secure() (it becomes a connection and stays counted) or ended() (it
// is counted out), whichever way its handshake ends.
import {
  createServer as createTlsServer, createSecureContext, type Server as TlsServer, type TLSSocket,
  type SecureContextOptions, type SecureVersion,
} from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import {
  HS_SSL_HANDSHAKE_ERRORS, HS_SSL_CERT_LOADED, HOST_TLS_TEXT, HOST_TLS_TEXT_MAX,
} from '../assembly/abi.js';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';
import type { SslSettings } from './settings-extended.js';
import type { SessionStore } from './tls-sessions.js';

/** The TLS session id context of every thread (memcached's SESSION_ID_CONTEXT). */
const SESSION_ID_CONTEXT = 'wasmcached';
/** A client that has not finished its handshake by then is closed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** memcached's exit code (EX_USAGE) when the certificates cannot be loaded. */
export const EXIT_TLS_SETUP = 64;

/** The certificates or options of -Z cannot be used: the server does not start. */
export class TlsSetupError extends Error {}

const MIN_VERSIONS: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** How memcached's `stats settings` names them (ssl_proto_text). */
const MIN_VERSION_TEXT = ['tlsv1.0', 'tlsv1.1', 'tlsv1.2', 'tlsv1.3'];
/** ssl_verify_mode 0..3 as the OpenSSL SSL_VERIFY_* bits memcached prints:
 *  NONE, PEER, PEER|FAIL_IF_NO_PEER_CERT, and that |CLIENT_ONCE. */
const VERIFY_BITS = [0, 1, 3, 7];
const KEY_PEM = 1;
const KEY_DER = 2;

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads a file of -o ssl_*; `what` is memcached's message for it. */
function readNamed(path: string | null, what: string, option: string): Buffer {
  if (path === null) throw new TlsSetupError(`${what}: (null) : no file given (-o ${option}=<file>)`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsSetupError(`${what}: ${path} : ${reason(err)}`);
  }
}

/** ssl_key in the ssl_keyformat memcached names (1 PEM, 2 DER). */
function readKey(ssl: SslSettings): Buffer | string {
  const what = 'Error loading the key';
  const bytes = readNamed(ssl.key, what, 'ssl_key');
  if (ssl.keyFormat === KEY_PEM) return bytes;
  if (ssl.keyFormat !== KEY_DER) throw new TlsSetupError(`${what}: ${ssl.key} : unsupported ssl_keyformat ${ssl.keyFormat} (1 PEM, 2 DER)`);
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: bytes, format: 'der', type }).export({ format: 'pem', type: 'pkcs8' });
    } catch { /* the next encoding */ }
  }
  throw new TlsSetupError(`${what}: ${ssl.key} : not a DER private key`);
}

/**
 * The secure context options of -Z, read from the files now; in memcached's
 * order (chain, key, CA) and with its messages. `withCiphers`: also check
 * ssl_ciphers (at start only: refresh_certs reloads the files alone, as
 * memcached's does).
 */
export function loadTlsOptions(ssl: SslSettings, withCiphers: boolean): SecureContextOptions {
  const chain = readNamed(ssl.chainCert, 'Error loading the certificate chain', 'ssl_chain_cert');
  try {
    new X509Certificate(chain);
    createSecureContext({ cert: chain });
  } catch (err) {
    throw new TlsSetupError(`Error loading the certificate chain: ${ssl.chainCert} : ${reason(err)}`);
  }
  const key = readKey(ssl);
  try {
    createSecureContext({ cert: chain, key });
  } catch (err) {
    throw new TlsSetupError(`Error loading the key: ${ssl.key} : ${reason(err)}`);
  }
  // Without ssl_ca_cert no client certificate verifies, as with memcached
  // (Node.js would otherwise trust its bundled public CAs).
  let ca: Buffer[] = [];
  if (ssl.caCert !== null) {
    const bytes = readNamed(ssl.caCert, 'Error loading the CA certificate', 'ssl_ca_cert');
    try {
      new X509Certificate(bytes);
      createSecureContext({ cert: chain, key, ca: bytes });
    } catch (err) {
      throw new TlsSetupError(`Error loading the CA certificate: ${ssl.caCert} : ${reason(err)}`);
    }
    ca = [bytes];
  }
  const options: SecureContextOptions = { cert: chain, key, ca, minVersion: MIN_VERSIONS[ssl.minVersion] };
  if (ssl.ciphers !== null) {
    options.ciphers = ssl.ciphers;
    if (withCiphers) {
      try {
        createSecureContext(options);
      } catch {
        throw new TlsSetupError(`Error setting the provided cipher(s): ${ssl.ciphers}`);
      }
    }
  }
  return options;
}

/** `stats settings`' ssl_* lines, as memcached built with TLS prints them
 *  (with or without -Z). */
export function renderTlsSettings(enabled: boolean, ssl: SslSettings): string {
  // A file name is one token of one line.
  const text = (v: string | null, none: string) => (v === null ? none : v.replace(/[\x00-\x20\x7f]/g, '?'));
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  return [
    `ssl_enabled ${yes(enabled)}`,
    `ssl_chain_cert ${text(ssl.chainCert, '(null)')}`,
    `ssl_key ${text(ssl.key, '(null)')}`,
    `ssl_verify_mode ${VERIFY_BITS[ssl.verifyMode]}`,
    `ssl_keyformat ${ssl.keyFormat}`,
    `ssl_ciphers ${text(ssl.ciphers, 'NULL')}`,
    `ssl_ca_cert ${text(ssl.caCert, 'NULL')}`,
    `ssl_wbuf_size ${ssl.wbufSize * 1024}`,
    `ssl_session_cache ${yes(ssl.sessionCache)}`,
    `ssl_kernel_tls ${yes(ssl.kernelTls)}`,
    `ssl_min_version ${MIN_VERSION_TEXT[ssl.minVersion]}`,
  ].map((l) => `STAT ${l}\r\n`).join('');
}

/** Hands the engine the ssl_* lines of `stats settings` (HOST_TLS_TEXT). */
export function writeTlsSettings(store: Store, enabled: boolean, ssl: SslSettings): void {
  let bytes = Buffer.from(renderTlsSettings(enabled, ssl), 'latin1');
  if (bytes.length > HOST_TLS_TEXT_MAX - 4) {
    // Absurdly long file names: the lines that fit, whole.
    const cut = bytes.lastIndexOf('\r\n', HOST_TLS_TEXT_MAX - 6);
    bytes = bytes.subarray(0, cut + 2);
  }
  const region = store.bytes(store.base + HOST_TLS_TEXT, HOST_TLS_TEXT_MAX);
  new DataView(region.buffer, region.byteOffset, 4).setUint32(0, bytes.length, true);
  region.set(bytes, 4);
}

export interface TlsFrontOptions {
  ssl: SslSettings;
  store: Store;
  log: Logger;
  /** A connection finished its handshake and passed the certificate checks. */
  secure(socket: TLSSocket): void;
  /** A socket given to accept() closed without becoming a connection. */
  ended(): void;
  /** Sets a host counter (with -t N, this thread's share of a summed one). */
  setStat?(id: number, value: number): void;
  /** -o ssl_session_cache: where sessions are kept (tls-sessions.ts); null: none. */
  sessions?: SessionStore | null;
}

/** The TLS side of the TCP listener (see the top of this file). */
export class TlsFront {
  private readonly ssl: SslSettings;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly server: TlsServer;
  /** Raw sockets whose handshake has not ended: each leaves it once, and
   *  that is when it is handed on (secure) or counted out (ended). */
  private readonly handshaking = new Set<Socket>();
  private handshakeErrors = 0;

  /** Throws TlsSetupError when the certificates cannot be used. */
  private setStat(id: number, value: number): void {
    if (this.opts.setStat) this.opts.setStat(id, value);
    else this.store.setHostStat(id, value);
  }

  private readonly opts: TlsFrontOptions;

  constructor(opts: TlsFrontOptions) {
    this.opts = opts;
    this.ssl = opts.ssl;
    this.store = opts.store;
    this.log = opts.log;
    const context = loadTlsOptions(this.ssl, true);
    // Certificates are checked once the handshake is done (secured()), so
    // that every failure, a missing certificate too, is counted the same way.
    this.server = createTlsServer({
      ...context,
      ...this.sharedSessionOptions(),
      requestCert: this.ssl.verifyMode >= 1,
      rejectUnauthorized: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      allowHalfOpen: true,
    });
    const sessions = opts.sessions ?? null;
    if (sessions !== null) {
      this.server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
        sessions.put(id.toString('hex'), data);
        done();
      });
      this.server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
        sessions.get(id.toString('hex'), (data) => done(null, data === null ? null : Buffer.from(data.buffer, data.byteOffset, data.length)));
      });
    }
    this.server.on('secureConnection', (socket: TLSSocket) => this.secured(socket, opts.secure));
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.failed(socket, err.code ?? err.message);
    });
    // It never listens; whatever it might still report must not end the process.
    this.server.on('error', (err: Error) => this.log.warn(`TLS: ${err.message}`));
    this.setStat(HS_SSL_HANDSHAKE_ERRORS, 0);
    this.loaded();
  }

  /** What every thread's TLS server shares so that a session made on one
   *  resumes on another: the session id context and the session-ticket keys
   *  (SslSettings.ticketKeys). */
  private sharedSessionOptions(): { ticketKeys?: Buffer; sessionIdContext: string } {
    const k = this.ssl.ticketKeys;
    // Node's default context is a hash of process.argv, which a worker
    // thread's differs from: sessions would resume only on the thread that
    // made them.
    const sessionIdContext = SESSION_ID_CONTEXT;
    return k ? { ticketKeys: Buffer.from(k.buffer, k.byteOffset, k.length), sessionIdContext } : { sessionIdContext };
  }

  /** A connection accepted (and counted) on a TLS port: its handshake begins. */
  accept(raw: Socket): void {
    this.handshaking.add(raw);
    // A client that closes its side before its handshake ends is closed
    // then (and counted out), not left half open until the timeout; the
    // TLS socket takes this from the raw one, and secured() turns it back.
    raw.allowHalfOpen = false;
    // The raw socket closes whichever way a handshake ends (reset, timeout, a
    // failure, a stop); this catches the ends no other path reports.
    raw.once('close', () => this.endHandshake(raw));
    raw.on('error', () => { /* reported by the TLS socket, or a reset before the handshake */ });
    this.server.emit('connection', raw);
  }

  /** `refresh_certs`: reloads the files; new connections use them. */
  refresh(): string {
    try {
      this.server.setSecureContext({ ...loadTlsOptions(this.ssl, false), ...this.sharedSessionOptions() });
    } catch (err) {
      return err instanceof TlsSetupError ? err.message : `Error loading the certificates: ${reason(err)}`;
    }
    this.loaded();
    this.log.info('TLS certificates reloaded (refresh_certs)');
    return 'OK';
  }

  /** Closes the connections still in their handshake (the server stops). */
  stop(): void {
    for (const raw of [...this.handshaking]) {
      raw.destroy();
      this.endHandshake(raw);
    }
  }

  private loaded(): void {
    this.store.setHostStat(HS_SSL_CERT_LOADED, Math.floor(Date.now() / 1000));
  }

  private secured(socket: TLSSocket, secure: (socket: TLSSocket) => void): void {
    // A connection is half open as on every listener: a client that ends
    // its side after its requests still gets the replies.
    socket.allowHalfOpen = true;
    if (this.ssl.verifyMode >= 1 && !socket.authorized) {
      // Mode 1 (OpenSSL's SSL_VERIFY_PEER alone) lets a client without a
      // certificate in; a certificate that does not verify fails in every mode.
      const peer = socket.getPeerCertificate();
      const none = peer === null || Object.keys(peer).length === 0;
      if (!(this.ssl.verifyMode === 1 && none)) {
        this.failed(socket, `client certificate: ${socket.authorizationError ?? 'none'}`);
        return;
      }
    }
    // From here its count is the connection's; one counted out meanwhile
    // (closed, or the server stopping) must not come back uncounted.
    const raw = rawOf(socket);
    if (raw === undefined || !this.handshaking.delete(raw)) {
      socket.destroy();
      return;
    }
    secure(socket);
  }

  private failed(socket: TLSSocket, why: string | Error): void {
    this.handshakeErrors++;
    this.setStat(HS_SSL_HANDSHAKE_ERRORS, this.handshakeErrors);
    this.log.info(`TLS handshake failed (${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}): ${String(why)}`);
    socket.destroy();
    const raw = rawOf(socket);
    if (raw !== undefined) this.endHandshake(raw);
  }

  /** Counts `raw` out, the first time only (several paths may report one end). */
  private endHandshake(raw: Socket): void {
    if (this.handshaking.delete(raw)) this.opts.ended();
  }
}

/** The accepted socket a TLSSocket of the server wraps. */
function rawOf(socket: TLSSocket): Socket | undefined {
  return (socket as unknown as { _parent?: Socket })._parent;
}
