// The engine lock: with -t N, every thread's engine calls run one at a time.
// Most of the CPU a request costs is socket I/O outside the engine, so one
// lock around each call (a few microseconds) lets N event loops overlap
// their I/O. A futex-style mutex on a SharedArrayBuffer word (Drepper's
// "Futexes Are Tricky", mutex 2): 0 free, 1 held, 2 held with waiters. A
// short spin first, because the holder is usually about to let go.
const FREE = 0;
const HELD = 1;
const CONTENDED = 2;
/** Spins before sleeping: about one engine call's worth. */
const SPINS = 200;

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
      c = Atomics.compareExchange(w, 0, FREE, HELD);
      if (c === FREE) return;
    }
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
