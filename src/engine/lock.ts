// The engine lock: with -t N, every thread's engine calls run one at a time.
// Most of the CPU a request costs is socket I/O outside the engine, so one
// lock around each call (a few microseconds) lets N event loops overlap
// their I/O. A futex-style mutex on a SharedArrayBuffer word (Drepper's
// "Futexes Are Tricky", mutex 2): 0 free, 1 held, 2 held with waiters. A
// spin first, because the holder is usually about to let go: a call at
// pipeline depth 32 holds the lock about 10 µs, and a thread that sleeps
// instead pays a futex wake and a reschedule, by which time the other has
// often taken the lock again (a convoy). Spinning up to about that long made
// pipelined -t 2 as fast as -t 1 where a 200-try spin gave 0.7x
// (BENCHMARKS.md, Threads).
const FREE = 0;
const HELD = 1;
const CONTENDED = 2;
/** Reads of the word before sleeping: tens of microseconds, about the
 *  longest ordinary engine call. */
const SPINS = 20_000;

export class EngineLock {
  private readonly word: Int32Array;
  /** Times a thread found the lock held (contention, for the bench). */
  waits = 0;

  /** `buffer` and `index` name a word every thread sees (threads.ts). */
  constructor(buffer: SharedArrayBuffer, index = 0) {
    this.word = new Int32Array(buffer, index * 4, 1);
  }

  acquire(): void {
    const w = this.word;
    let c = Atomics.compareExchange(w, 0, FREE, HELD);
    if (c === FREE) return;
    this.waits++;
    for (let i = 0; i < SPINS; i++) {
      // Read until it looks free, then try: spinning on a plain load keeps
      // the word's cache line shared instead of bouncing it between cores.
      if (Atomics.load(w, 0) !== FREE) continue;
      c = Atomics.compareExchange(w, 0, FREE, HELD);
      if (c === FREE) return;
    }
    c = Atomics.load(w, 0);
    if (c !== CONTENDED) c = Atomics.exchange(w, 0, CONTENDED);
    while (c !== FREE) {
      Atomics.wait(w, 0, CONTENDED);
      c = Atomics.exchange(w, 0, CONTENDED);
    }
  }

  release(): void {
    if (Atomics.sub(this.word, 0, 1) !== HELD) {
      Atomics.store(this.word, 0, FREE);
      Atomics.notify(this.word, 0, 1);
    }
  }
}
