// Warm restarts (-e <file>): the server's side of snapshots. At start the
// file is checked whole, then loaded; on stop, on `snapshot` and every
// -o snapshot_interval seconds a new one is written beside it and renamed
// over it, so a crash at any moment leaves the previous snapshot intact.
// The format is src/snapshot-format.ts.
import {
  openSync, readSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, existsSync, readdirSync,
} from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Store } from './engine/store.js';
import type { Logger } from './log.js';
import { dumpChunks, SnapshotReader, SnapshotError, DUMP_STEP_BYTES } from './snapshot-format.js';

const READ_CHUNK = 1 << 20;

/** Makes a rename in `dir` durable; some systems cannot fsync a directory,
 *  and the rename stands anyway. */
async function syncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try { await h.sync(); } finally { await h.close(); }
  } catch { /* see above */ }
}

interface Running {
  tmp: string;
  aborted: boolean;
  close(): void;
}

export class Snapshotter {
  private running: Running | null = null;
  /** The `snapshot` commands and interval runs waiting, chained. */
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    readonly file: string,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Loads the file into the (empty) store. Never throws: a missing file
   *  starts empty; a bad one is set aside under `<file>.bad-<time>`. */
  loadAtStart(): void {
    const started = Date.now();
    this.removeStaleTemps();
    if (!existsSync(this.file)) {
      this.log.error(`snapshot: ${this.file} does not exist; starting empty`);
      return;
    }
    try {
      // Checked whole first, so a damaged file loads nothing at all.
      this.read(null);
      const r = this.read(this.store);
      this.log.error(`snapshot: loaded ${r.loaded} of ${r.records} items from ${this.file} in ${Date.now() - started} ms` +
        (r.loaded < r.records ? ' (the rest had expired or did not fit)' : ''));
    } catch (err) {
      const why = err instanceof SnapshotError ? err.message : (err as Error).message;
      const aside = `${this.file}.bad-${new Date().toISOString().replace(/[-:.]/g, '')}`;
      let where: string;
      try {
        renameSync(this.file, aside);
        where = `moved to ${aside}`;
      } catch (e) {
        where = `could not be moved aside: ${(e as Error).message}`;
      }
      this.log.error(`snapshot: cannot load ${this.file}: ${why}; starting empty (the file ${where})`);
    }
  }

  /** A crash while writing leaves `<file>.tmp-<pid>`; each would otherwise
   *  stay behind, as large as the cache. */
  private removeStaleTemps(): void {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}.tmp-`;
    try {
      for (const name of readdirSync(dir)) {
        if (name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))) {
          try { unlinkSync(join(dir, name)); } catch { /* someone else's or gone */ }
        }
      }
    } catch { /* an unreadable directory: loading reports the file itself */ }
  }

  private read(store: Store | null) {
    const reader = new SnapshotReader(store, this.now);
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      for (;;) {
        const n = readSync(fd, buf, 0, READ_CHUNK, null);
        if (n === 0) break;
        reader.push(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    return reader.end();
  }

  /** Writes a whole snapshot now, blocking (the server is stopping). A
   *  background snapshot in progress is abandoned. Returns false on error. */
  writeNow(): boolean {
    this.abandon();
    const tmp = this.tmpName();
    let fd = -1;
    try {
      fd = openSync(tmp, 'w', 0o600);
      for (const chunk of dumpChunks(this.store, this.now, 0)) {
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
      }
      this.commit(fd, tmp);
      fd = -1;
      this.log.error(`snapshot: wrote ${this.file}`);
      return true;
    } catch (err) {
      this.fail(fd, tmp, err);
      return false;
    }
  }

  /** Writes a snapshot in bounded steps between event-loop turns; resolves
   *  once it is on disk. Requests made while one runs queue behind it. */
  snapshot(): Promise<void> {
    const next = this.queue.then(() => this.writeInSteps());
    this.queue = next.catch(() => { /* reported to its own caller */ });
    return next;
  }

  /** -o snapshot_interval: a background snapshot every `seconds`. */
  startInterval(seconds: number): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.snapshot().catch(() => { /* logged */ });
    }, seconds * 1000);
    this.timer.unref();
  }

  stopInterval(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async writeInSteps(): Promise<void> {
    const tmp = this.tmpName();
    let file: FileHandle | null = null;
    const run: Running = { tmp, aborted: false, close: () => { void file?.close().catch(() => {}); } };
    this.running = run;
    try {
      file = await open(tmp, 'w', 0o600);
      // Each step is one small engine call and one asynchronous write: the
      // event loop serves clients between steps, and disk waits happen off it.
      // One buffer for every step (clients use the engine's output region
      // while a write is in flight), so a snapshot makes no garbage.
      let copy = new Uint8Array(2 * DUMP_STEP_BYTES);
      for (const chunk of dumpChunks(this.store, this.now)) {
        if (chunk.length > copy.length) copy = new Uint8Array(chunk.length);
        copy.set(chunk);
        const n = chunk.length;
        for (let off = 0; off < n;) off += (await file.write(copy, off, n - off)).bytesWritten;
        // Abandoned for a stop's blocking write: the engine's cursor is its now.
        if (run.aborted) return;
      }
      if (run.aborted) return;
      await file.sync();
      await file.close();
      file = null;
      if (run.aborted) return;
      await rename(tmp, this.file);
      await syncDir(dirname(this.file));
      this.log.info(`snapshot: wrote ${this.file}`);
    } catch (err) {
      if (run.aborted) return;
      await file?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      this.log.error(`snapshot: cannot write ${this.file}: ${(err as Error).message}`);
      throw err;
    } finally {
      if (this.running === run) this.running = null;
    }
  }

  /** Stops a background snapshot, leaving the previous file in place. */
  private abandon(): void {
    const run = this.running;
    if (!run) return;
    run.aborted = true;
    this.running = null;
    run.close();
    try { unlinkSync(run.tmp); } catch { /* gone */ }
  }

  private tmpName(): string { return `${this.file}.tmp-${process.pid}`; }

  /** fsync, rename over the old snapshot, fsync the directory: the new
   *  file is either wholly there or not at all. */
  private commit(fd: number, tmp: string): void {
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    try {
      const dir = openSync(dirname(this.file), 'r');
      try { fsyncSync(dir); } finally { closeSync(dir); }
    } catch { /* some systems cannot fsync a directory; the rename stands */ }
  }


  private fail(fd: number, tmp: string, err: unknown): void {
    if (fd >= 0) { try { closeSync(fd); } catch { /* closed */ } }
    try { unlinkSync(tmp); } catch { /* never created */ }
    this.log.error(`snapshot: cannot write ${this.file}: ${(err as Error).message}`);
  }
}
