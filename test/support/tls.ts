// TLS fixtures for -Z tests: certificates made with the openssl command
// line (a CA, a server certificate for 127.0.0.1 and localhost, client
// certificates signed by that CA, by an unknown CA, and an expired one),
// and a TLS text-protocol client.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket, type ConnectionOptions } from 'node:tls';

export interface CertSet {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A second server certificate from the same CA (refresh_certs). */
  otherServerCert: string;
  otherServerKey: string;
  clientCert: string;
  clientKey: string;
  /** Signed by a CA the server does not know. */
  rogueCert: string;
  rogueKey: string;
  /** Signed by the CA, expired yesterday. */
  expiredCert: string;
  expiredKey: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A key and a certificate for `cn` signed by `ca` (a base name in dir); `days` < 0 makes it expired. */
function issue(dir: string, name: string, cn: string, ca: string, days: number, ext?: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', String(days)];
  if (ext) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    args.push('-extfile', `${name}.ext`);
  }
  openssl(args, dir);
}

export function makeCerts(): CertSet {
  const dir = mkdtempSync(join(tmpdir(), 'wasmcached-tls-'));
  for (const ca of ['ca', 'rogue-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`,
      '-days', '30', '-subj', `/CN=wasmcached test ${ca}`], dir);
  }
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost\n';
  issue(dir, 'server', 'localhost', 'ca', 30, san);
  issue(dir, 'server2', 'localhost', 'ca', 30, san);
  issue(dir, 'client', 'client', 'ca', 30);
  issue(dir, 'rogue', 'rogue client', 'rogue-ca', 30);
  // OpenSSL 3.0 accepts a negative -days: notAfter lies before notBefore.
  issue(dir, 'expired', 'expired client', 'ca', -1);
  const verify = spawnSync('openssl', ['verify', '-CAfile', 'ca.crt', 'expired.crt'], { cwd: dir, encoding: 'utf8' });
  if (!/expired/.test(verify.stdout + verify.stderr)) throw new Error(`expired.crt is not expired:\n${verify.stdout}${verify.stderr}`);
  const f = (n: string) => join(dir, n);
  return {
    dir, caCert: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'),
    otherServerCert: f('server2.crt'), otherServerKey: f('server2.key'),
    clientCert: f('client.crt'), clientKey: f('client.key'), rogueCert: f('rogue.crt'), rogueKey: f('rogue.key'),
    expiredCert: f('expired.crt'), expiredKey: f('expired.key'),
  };
}

/** Options for a client of 127.0.0.1 that checks the server against the test CA. */
export function clientOptions(certs: CertSet, client?: { cert: string; key: string }, extra: ConnectionOptions = {}): ConnectionOptions {
  return {
    host: '127.0.0.1', servername: 'localhost', ca: readFileSync(certs.caCert),
    ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
    ...extra,
  };
}

/** A text-protocol client over TLS: one request at a time. */
export class TlsLineClient {
  private buf = '';
  private closed = false;
  private wake: (() => void) | null = null;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (b: Buffer) => { this.buf += b.toString('latin1'); this.notify(); });
    socket.on('error', () => { this.closed = true; this.notify(); });
    socket.on('close', () => { this.closed = true; this.notify(); });
  }

  /** Connects; rejects if the handshake fails on the client's side. */
  static connect(port: number, options: ConnectionOptions): Promise<TlsLineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ ...options, port });
      const onError = (e: Error) => reject(e);
      socket.once('error', onError);
      socket.once('secureConnect', () => { socket.off('error', onError); resolve(new TlsLineClient(socket)); });
    });
  }

  get isClosed(): boolean { return this.closed; }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Sends `text` and reads until `done` matches what arrived (or the
   *  connection closes, or `timeoutMs` passes: then throws). */
  async request(text: string, done: RegExp = /\r\n$/, timeoutMs = 5000): Promise<string> {
    this.buf = '';
    if (!this.closed) this.socket.write(text);
    const deadline = Date.now() + timeoutMs;
    while (!done.test(this.buf)) {
      if (this.closed) throw new Error(`closed before the reply (got ${JSON.stringify(this.buf)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms (got ${JSON.stringify(this.buf)})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
    const out = this.buf;
    this.buf = '';
    return out;
  }

  /** Resolves once the server has closed the connection (false after `timeoutMs`). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
    return this.closed;
  }

  close(): void { this.socket.destroy(); }
}

/** `stats` or `stats <sub>` as name -> value. */
export async function statsOver(client: TlsLineClient, sub = ''): Promise<Map<string, string>> {
  const text = await client.request(`stats${sub ? ` ${sub}` : ''}\r\n`, /END\r\n$/);
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^STAT (\S+) (.*)\r$/gm)) out.set(m[1], m[2]);
  return out;
}

/**
 * What a client with these options sees when it tries `version`: the reply,
 * or how it failed (the handshake on the client's side, or the server
 * closing the connection without answering).
 */
export async function tryVersion(port: number, options: ConnectionOptions): Promise<string> {
  let c: TlsLineClient;
  try {
    c = await TlsLineClient.connect(port, options);
  } catch (err) {
    return `handshake failed: ${(err as Error).message}`;
  }
  try {
    return (await c.request('version\r\n')).trim();
  } catch (err) {
    return `no reply: ${(err as Error).message}`;
  } finally {
    c.close();
  }
}
