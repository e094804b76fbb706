/**
 * The disk store's StoreWriter (disk-store.ts): streams one body into a temporary file, then hands
 * it to the store to commit. Kept apart from the store so the writer's states read in one place:
 *
 *   open ──write()──▶ open ──end()──▶ ending ──▶ ended (committed, or end() rejected)
 *     │                 │ past maxEntryBytes: too-large (temporary file removed, writes ignored)
 *     └──abort()────────┴──▶ aborted (temporary file removed, writes ignored, end() rejects)
 *
 * abort() during `ending` only flags the writer: the store checks the flag before the entry
 * becomes visible. Writes are queued in order on one promise chain; a failed write fails every
 * later one and end(), and the temporary file goes once the queue drains.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import type { StoredEntry, StoredHead, StoreWriter } from './store.js';
import { StoreRejected } from './store-errors.js';

/** What a DiskWriter needs of its store. */
export type WriterHost = {
  readonly maxEntryBytes: number;
  isClosed(): boolean;
  /** A fresh temporary file name in the store's directory. */
  tmpPath(suffix: '.body'): string;
  /** Keeps close() waiting for `work`. */
  track(work: Promise<unknown>): void;
  /** The writer no longer needs aborting by close(): it ended, is ending, or was aborted. */
  forget(writer: DiskWriter): void;
  /** Moves the closed temporary file into place and makes the entry visible; resolves with it. */
  commit(writer: DiskWriter, tmpPath: string, size: number): Promise<StoredEntry>;
};

/** Writes one body to a temporary file; see DiskStore for the contract. */
export class DiskWriter implements StoreWriter {
  /** The id the entry will have: 32 random hex digits. */
  readonly id = randomUUID().replaceAll('-', '');
  /** Set by abort(); the store checks it before the entry becomes visible. */
  aborted = false;
  private state: 'open' | 'too-large' | 'ending' | 'ended' | 'aborted' = 'open';
  private readonly tmp: string;
  private file: Promise<FileHandle> | undefined;
  /** The last write (or cleanup) in order; a failed write makes every later one fail too. */
  private tail: Promise<void> = Promise.resolve();
  private size = 0;

  constructor(
    private readonly store: WriterHost,
    readonly key: string,
    readonly head: StoredHead,
    readonly replaces: string | undefined,
  ) {
    this.tmp = store.tmpPath('.body');
  }

  /** Resolves once the chunk is in the temporary file: the caller may reuse it afterwards. */
  write(chunk: Buffer): Promise<void> {
    switch (this.state) {
      case 'too-large':
      case 'aborted':
        return Promise.resolve(); // Accepted and let go: end() tells why.
      case 'ending':
      case 'ended':
        return Promise.reject(new Error('StoreWriter.write() after end()'));
      case 'open':
        break;
    }
    this.size += chunk.length;
    if (this.size > this.store.maxEntryBytes) {
      this.state = 'too-large';
      this.discard();
      return Promise.resolve();
    }
    return this.queue(async () => {
      this.file ??= open(this.tmp, 'wx');
      const handle = await this.file;
      for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at)).bytesWritten;
    });
  }

  async end(): Promise<StoredEntry> {
    switch (this.state) {
      case 'open': {
        this.state = 'ending';
        this.store.forget(this); // close() waits for this end() rather than aborting the writer.
        const done = this.finish();
        this.store.track(done);
        return done;
      }
      case 'too-large':
        this.abort();
        await this.tail; // The temporary file is gone when end() rejects.
        throw StoreRejected.tooLarge(this.key, this.store.maxEntryBytes);
      case 'aborted':
        throw this.store.isClosed()
          ? new StoreRejected('closed', 'the disk store was closed before end()')
          : new StoreRejected('aborted', 'StoreWriter.end() after abort()');
      case 'ending':
      case 'ended':
        throw new Error('StoreWriter.end() called twice');
    }
  }

  /** Discards the temporary file; during end() it stops the commit; after end() it does nothing. */
  abort(): void {
    switch (this.state) {
      case 'open':
        this.discard();
        break;
      case 'ending':
        this.aborted = true;
        return;
      case 'too-large':
        break;
      case 'ended':
      case 'aborted':
        return;
    }
    this.aborted = true;
    this.state = 'aborted';
    this.store.forget(this);
  }

  private async finish(): Promise<StoredEntry> {
    try {
      await this.tail;
      this.file ??= open(this.tmp, 'wx');
      const handle = await this.file;
      this.file = undefined;
      await handle.close();
      return await this.store.commit(this, this.tmp, this.size);
    } catch (err) {
      await this.cleanUp();
      throw err;
    } finally {
      this.state = 'ended';
    }
  }

  /** Queues `work` after every earlier write; close() waits for it. */
  private queue(work: () => Promise<void>): Promise<void> {
    const next = this.tail.then(work);
    this.tail = next;
    next.catch(noop); // The caller gets `next` too; this only keeps an ignored failure quiet.
    this.store.track(next);
    return next;
  }

  /** Closes and removes the temporary file once queued writes are done, failed or not. */
  private discard(): void {
    const done = this.tail.catch(noop).then(() => this.cleanUp());
    this.tail = done;
    this.store.track(done);
  }

  private async cleanUp(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) await file.then((handle) => handle.close()).catch(noop);
    await removeFiles(this.tmp);
  }
}

/** Removes files one after another, ignoring any already gone (and any other failure: best effort). */
export async function removeFiles(...paths: string[]): Promise<void> {
  for (const path of paths) await unlink(path).catch(noop);
}

function noop(): void {}
