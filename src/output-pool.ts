// Buffers for replies waiting in sockets. One engine call writes at most
// OUTPUT_PER_CALL bytes into the store's output region, which the next call
// overwrites, so every reply is copied out before it is written. Copying
// large replies into a fresh Buffer each time leaves the C heap fragmented:
// after 400 clients that stopped reading had left, about 70 MB stayed in the
// process (malloc's threshold for returning memory rises with every large
// free). So large replies go into fixed slots of blocks bigger than malloc's
// largest threshold, which are always their own mappings: a block whose
// slots are all free again is dropped, and its memory goes back to the OS.
// Small replies to clients that keep up, most replies, go one after another
// into a staging buffer that is reused as soon as what was copied into it
// has been written, which is at once unless the client is slow: a Buffer per
// reply (Buffer.from) was about a tenth of the host's CPU per request. A slow
// client's reply pins its stage until written, so replies to a client whose
// socket already holds output get a Buffer of their own: one stage at most
// is pinned per stalled client.

import { bytesOfOwn, ViewsAt } from './bytes.js';

/** Replies shorter than this go to the staging buffer or an ordinary Buffer. */
const POOL_FROM = 16 * 1024;
/** The staging buffer (a full or pinned one is replaced, not waited for). */
const STAGE_BYTES = 8 * 1024;
/** Replies up to this size are staged; larger small ones get a Buffer each. */
const STAGED_MAX = 4 * 1024;

/** Replies copied back to back; reused from the start once all are written. */
class Stage {
  readonly memory = bytesOfOwn(STAGE_BYTES);
  /** Views of its start: a reply staged at offset 0 (every reply, to
   *  clients that keep up) is handed out without making one. */
  readonly start = new ViewsAt(this.memory, 0);
  used = 0;
  /** Copies handed out and not yet released. */
  held = 0;
  /** One function per stage, not a closure per reply. */
  readonly release = (): void => {
    if (--this.held === 0) this.used = 0;
  };
}
/** More than glibc's largest mmap threshold (32 MiB), so never on its heap. */
const SLOTS_PER_BLOCK = 264;

interface Block {
  readonly memory: Uint8Array;
  readonly free: number[];
  /** All slots were free at the last trim(). */
  idle: boolean;
}

/**
 * Returns a block's memory to the OS now rather than at some later garbage
 * collection (an idle server collects none): moving its ArrayBuffer to a
 * closed message port detaches it, and the message, never delivered, frees
 * the memory. (ArrayBuffer.prototype.transfer, which would say this
 * directly, is not in Node 20.)
 */
function freeNow(memory: Uint8Array): void {
  const { port1, port2 } = new MessageChannel();
  port2.close();
  port1.postMessage(null, [memory.buffer]);
  port1.close();
}

export class OutputPool {
  private readonly blocks: Block[] = [];
  private stage = new Stage();
  /** Set by copy(): call it once the socket is done with that copy (after
   *  the write's callback, whatever its outcome), exactly once; null when
   *  nothing is due. */
  release: (() => void) | null = null;

  constructor(private readonly slotSize: number) {}

  /** A copy of `bytes` to write; see `release`. `soon`: nothing waits in
   *  the socket, so it will probably be written at once (then it is staged). */
  copy(bytes: Uint8Array, soon = false): Uint8Array {
    const n = bytes.length;
    if (soon && n <= STAGED_MAX) {
      let stage = this.stage;
      if (stage.used + n > STAGE_BYTES) stage = this.stage = new Stage();
      const at = stage.used;
      stage.memory.set(bytes, at);
      stage.used = at + n;
      stage.held++;
      this.release = stage.release;
      return at === 0 ? stage.start.of(n) : stage.memory.subarray(at, at + n);
    }
    if (n < POOL_FROM || n > this.slotSize) {
      this.release = null;
      return Buffer.from(bytes);
    }
    let block = this.blocks.find((b) => b.free.length > 0);
    if (block === undefined) {
      block = {
        memory: bytesOfOwn(this.slotSize * SLOTS_PER_BLOCK),
        free: Array.from({ length: SLOTS_PER_BLOCK }, (_, i) => SLOTS_PER_BLOCK - 1 - i),
        idle: false,
      };
      this.blocks.push(block);
    }
    const slot = block.free.pop()!;
    block.idle = false;
    const start = slot * this.slotSize;
    const buf = block.memory.subarray(start, start + bytes.length);
    buf.set(bytes);
    const owner = block;
    this.release = () => this.releaseSlot(owner, slot);
    return buf;
  }

  /** Blocks allocated now (for tests and stats). */
  get blockCount(): number { return this.blocks.length; }

  /** Slots holding a reply not yet written (`stats` response_obj_count). */
  get slotsInUse(): number {
    let n = 0;
    for (const b of this.blocks) n += SLOTS_PER_BLOCK - b.free.length;
    return n;
  }

  /** Bytes of the blocks allocated now (`stats` response_obj_bytes). */
  get bytes(): number { return this.blocks.length * SLOTS_PER_BLOCK * this.slotSize; }

  /**
   * Drops blocks that have had no slot in use since the previous call (the
   * server calls it once a second): a block is not re-made for every reply,
   * and memory a burst needed goes back within two seconds of its end.
   */
  trim(): void {
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const b = this.blocks[i];
      if (b.free.length < SLOTS_PER_BLOCK) continue;
      if (b.idle) {
        this.blocks.splice(i, 1);
        freeNow(b.memory);
      } else {
        b.idle = true;
      }
    }
  }

  private releaseSlot(block: Block, slot: number): void {
    block.free.push(slot);
  }
}
