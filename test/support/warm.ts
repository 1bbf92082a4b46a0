// What the warming tests (--warm-from) share: items to put on an old node,
// writing and reading them back over real sockets, and the warm_* stats.
import { RawClient } from './client.js';

export interface Item { value: Buffer; flags: number; ttl: number }

/** A deterministic generator (tests must be repeatable). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

/** `n` items of mixed sizes, flags and TTLs (0 = never); some keys need URI-escaping in metadump. */
export function makeItems(n: number, seed: number): Map<string, Item> {
  const r = rng(seed);
  const items = new Map<string, Item>();
  for (let i = 0; i < n; i++) {
    const key = i % 97 === 0 ? `ké%y/${i}` : `key:${i}`;
    const big = r() < 0.01;
    const len = big ? 5000 + Math.floor(r() * 45000) : Math.floor(r() * 400);
    const value = Buffer.alloc(len);
    for (let j = 0; j < len; j++) value[j] = Math.floor(r() * 256);
    const flags = r() < 0.5 ? 0 : Math.floor(r() * 4294967296);
    const ttl = r() < 0.4 ? 0 : 300 + Math.floor(r() * 3000);
    items.set(key, { value, flags, ttl });
  }
  return items;
}

/** Resolves to the time the first item was written (TTLs count from then or later). */
export async function fill(port: number, items: Map<string, Item>): Promise<number> {
  const started = Date.now();
  const c = await RawClient.connect(port);
  let batch: Buffer[] = [];
  const flush = async () => {
    batch.push(Buffer.from('mn\r\n'));
    await c.send(Buffer.concat(batch));
    await c.readUntil('MN\r\n', 30000);
    batch = [];
  };
  for (const [key, it] of items) {
    batch.push(Buffer.from(`set ${key} ${it.flags} ${it.ttl} ${it.value.length} noreply\r\n`), it.value, Buffer.from('\r\n'));
    if (batch.length >= 1500) await flush();
  }
  await flush();
  c.close();
  return started;
}

export interface Got { value: Buffer; flags: number; ttl: number }

/** Fetches every key with pipelined `mg <key> v f t`; missing keys are absent from the result. */
export async function fetchAll(port: number, keys: string[]): Promise<Map<string, Got>> {
  const c = await RawClient.connect(port);
  const out = new Map<string, Got>();
  for (let i = 0; i < keys.length; i += 500) {
    const part = keys.slice(i, i + 500);
    await c.send(Buffer.from(part.map((k) => `mg ${k} v f t\r\n`).join('') + 'mn\r\n'));
    // Replies are walked whole: a value's random bytes may hold "MN\r\n".
    const buf = await c.readWith((b) => mgRepliesLength(b, part.length), 30000);
    let at = 0;
    for (const key of part) {
      const nl = buf.indexOf('\r\n', at);
      const line = buf.toString('latin1', at, nl);
      if (line === 'EN') { at = nl + 2; continue; }
      const m = /^VA (\d+) f(\d+) t(-?\d+)$/.exec(line);
      if (!m) throw new Error(`unexpected reply ${line} for ${key}`);
      const len = Number(m[1]);
      out.set(key, { value: Buffer.from(buf.subarray(nl + 2, nl + 2 + len)), flags: Number(m[2]), ttl: Number(m[3]) });
      at = nl + 2 + len + 2;
    }
  }
  c.close();
  return out;
}

/** Bytes of `count` mg replies (EN or VA with its value) and the MN after
 *  them, or -1 while incomplete. */
function mgRepliesLength(b: Buffer, count: number): number {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const nl = b.indexOf('\r\n', at);
    if (nl < 0) return -1;
    const m = /^VA (\d+)/.exec(b.toString('latin1', at, nl));
    at = nl + 2 + (m ? Number(m[1]) + 2 : 0);
    if (at > b.length) return -1;
  }
  return b.length >= at + 4 ? at + 4 : -1;
}

export async function stats(port: number): Promise<Record<string, string>> {
  const c = await RawClient.connect(port);
  await c.send('stats\r\n');
  const text = (await c.readUntil('\r\nEND\r\n')).toString('latin1');
  c.close();
  const s: Record<string, string> = {};
  for (const m of text.matchAll(/^STAT (\S+) (.*)\r$/gm)) s[m[1]] = m[2];
  return s;
}

export async function waitWarmEnd(port: number, timeoutMs = 120_000): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(port);
    if (s.warm_state === 'done' || s.warm_state === 'failed') return s;
    if (Date.now() > deadline) throw new Error(`warming did not end: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Keys present here byte-exact with flags and TTL ±2 s, over all of `items`
 *  (written from `filled` on: the seconds since then have run off the TTL). */
export function matching(items: Map<string, Item>, got: Map<string, Got>, filled: number): number {
  const spent = (Date.now() - filled) / 1000;
  let ok = 0;
  for (const [key, it] of items) {
    const g = got.get(key);
    if (!g || !g.value.equals(it.value) || g.flags !== it.flags) continue;
    if (it.ttl === 0 ? g.ttl !== -1 : g.ttl > it.ttl + 2 || g.ttl < it.ttl - spent - 2) continue;
    ok++;
  }
  return ok;
}
