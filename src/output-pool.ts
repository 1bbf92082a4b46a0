// Buffers for replies waiting in sockets. One engine call writes at most
// OUTPUT_PER_CALL bytes into the store's output region, which the next call
// overwrites, so every reply is copied out before it is written. Copying
// large replies into a fresh Buffer each time leaves the C heap fragmented:
// after 400 clients that stopped reading had left, about 70 MB stayed in the
// process (malloc's threshold for returning memory rises with every large
// free). So large replies go into fixed slots of blocks bigger than malloc's
// largest threshold, which are always their own mappings: a block whose
// slots are all free again is dropped, and its memory goes back to the OS.
// Small replies use Node's own pooled Buffers.

/** Replies shorter than this are copied into ordinary Buffers. */
const POOL_FROM = 16 * 1024;
/** More than glibc's largest mmap threshold (32 MiB), so never on its heap. */
const SLOTS_PER_BLOCK = 264;

interface Block {
  readonly memory: Buffer;
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
function freeNow(memory: Buffer): void {
  const { port1, port2 } = new MessageChannel();
  port2.close();
  port1.postMessage(null, [memory.buffer]);
  port1.close();
}

export class OutputPool {
  private readonly blocks: Block[] = [];

  constructor(private readonly slotSize: number) {}

  /**
   * A copy of `bytes` and the function to call once the socket is done with
   * it (after the write's callback, whatever its outcome).
   */
  copy(bytes: Uint8Array): { buf: Buffer; release: (() => void) | null } {
    if (bytes.length < POOL_FROM || bytes.length > this.slotSize) return { buf: Buffer.from(bytes), release: null };
    let block = this.blocks.find((b) => b.free.length > 0);
    if (block === undefined) {
      block = {
        memory: Buffer.allocUnsafeSlow(this.slotSize * SLOTS_PER_BLOCK),
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
    return { buf, release: () => this.release(owner, slot) };
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

  private release(block: Block, slot: number): void {
    block.free.push(slot);
  }
}
