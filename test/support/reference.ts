// The server pair of the differential tests: a real memcached as the
// reference and the server under test (wasmcached, or a second memcached
// when TEST_TARGET=memcached, which checks the tests themselves).
import { startMemcached, startWasmcached, type ServerHandle } from './servers.js';

export const PAIR_ARGS = ['-m', '64'];

/**
 * memcached rewrites an incr/decr result in place (space-padded) only when
 * nothing else holds a reference to the item; its LRU maintainer (async LRU
 * bumps) and crawler threads take references at moments of their own, so
 * they are turned off to make that outcome depend on the traffic alone.
 */
const REFERENCE_ONLY_ARGS = ['-o', 'no_lru_maintainer,no_lru_crawler'];

export function startReference(args: string[] = PAIR_ARGS): Promise<ServerHandle> {
  return startMemcached([...args, ...REFERENCE_ONLY_ARGS]);
}

export function startSubject(args: string[] = PAIR_ARGS): Promise<ServerHandle> {
  return process.env.TEST_TARGET === 'memcached' ? startReference(args) : startWasmcached(args);
}

export interface ServerPair { ref: ServerHandle; sut: ServerHandle }

export async function startPair(args: string[] = PAIR_ARGS, subjectArgs: string[] = args): Promise<ServerPair> {
  const [ref, sut] = await Promise.allSettled([startReference(args), startSubject(subjectArgs)]);
  if (ref.status === 'rejected' || sut.status === 'rejected') {
    if (ref.status === 'fulfilled') await ref.value.stop();
    if (sut.status === 'fulfilled') await sut.value.stop();
    throw ref.status === 'rejected' ? ref.reason : (sut as PromiseRejectedResult).reason;
  }
  return { ref: ref.value, sut: sut.value };
}

export async function stopPair(p: ServerPair | undefined): Promise<void> {
  if (p) await Promise.all([p.ref.stop(), p.sut.stop()]);
}
