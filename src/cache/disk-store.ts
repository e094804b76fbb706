/**
 * A CacheStore that keeps entries as files in one directory, so they survive a restart, with an
 * in-memory index (key → variants, use order, bytes: StoreIndex, store-index.ts) loaded at open.
 *
 * Layout, flat in `dir` (names never contain key text: keys are hashed):
 *   <sha256(key) hex>-<id>.body   the body bytes, exactly as written
 *   <sha256(key) hex>-<id>.json   the head and the key (the metadata; format in disk-meta.ts)
 *   tmp-<uuid>.body / tmp-<uuid>.json   work in progress, removed when the store opens
 * `id` is 32 random hex digits, so names cannot collide across restarts.
 *
 * Life of a write (disk-writer.ts): the body goes to a temporary file; end() closes it, renames it to its final
 * name, then writes the metadata to a temporary file and renames that into place. The metadata's
 * rename is the commit: a body without metadata (a crash between the two renames) is removed on
 * open, and a cut-short response (abort(), a crash) never gets past the temporary file. Nothing is
 * fsync'd: a process crash loses nothing committed, a power loss may lose recent entries, and the
 * size check on load catches most bodies the kernel never wrote out.
 *
 * On open every metadata file is verified (it parses, its name matches the hash of its key and its
 * id, the body exists with the recorded size, deleteAt is in the future); an entry failing any
 * check loses both files. Use order is not persisted: after a restart entries count as used in the
 * order they were stored. Bytes counted per entry are the body's size plus the metadata's.
 *
 * Every file operation on a stored entry (metadata rewrite, removal) is chained per id, so a
 * removal never races a rewrite and leaves a stray metadata file behind. close() waits for all of
 * them and for every end() in flight.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeMeta, encodeMeta, type FileEntry, fileEntry } from './disk-meta.js';
import { DiskWriter, removeFiles, type WriterHost } from './disk-writer.js';
import type { CacheStore, StoredEntry, StoredHead, StoreWriter } from './store.js';
import { StoreRejected } from './store-errors.js';
import { type IndexedVariant, StoreIndex, type StoreLimits } from './store-index.js';

/** Options of {@link DiskStore.open}: the directory (created if missing) and the byte budget. */
export type DiskStoreOptions = StoreLimits & { readonly dir: string };

const TMP_PREFIX = 'tmp-';
const ENTRY_FILE = /^([0-9a-f]{64}-[0-9a-f]{32})\.(json|body)$/;
/** Files verified or removed at once while opening. */
const OPEN_CONCURRENCY = 16;

type DiskVariant = IndexedVariant & {
  readonly entry: FileEntry;
  readonly metaPath: string;
  readonly order: number;
};

/**
 * The on-disk CacheStore. Open with `await DiskStore.open({ dir, maxBytes })`. Lookups return
 * bodies as `{ kind: 'file', path, size }`: the reader opens the file itself, and a failed open
 * means the entry was evicted or replaced meanwhile. write() resolves once the chunk is in the
 * temporary file, so the caller may reuse the Buffer afterwards. Entries larger than maxEntryBytes
 * (default maxBytes / 8) are refused: writes past the cap are dropped, the temporary file is
 * removed at once, and end() rejects with StoreRejected('too-large'). After close() every call
 * rejects with StoreRejected('closed').
 */
export class DiskStore implements CacheStore {
  private readonly index: StoreIndex<DiskVariant>;
  private readonly writers = new Set<DiskWriter>();
  /** What writers may do to the store (the store's own methods, kept off its public API). */
  private readonly host: WriterHost;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly fileOps = new Map<string, Promise<void>>();
  private nextOrder = 0;
  private closing: Promise<void> | undefined;

  /**
   * Opens the store in `options.dir`: removes temporary files, verifies and indexes committed
   * entries (dropping bad or expired ones, evicting down to maxBytes). Rejects with a RangeError
   * for bad limits, or with the file-system error when the directory cannot be created or read.
   */
  static async open(options: DiskStoreOptions): Promise<DiskStore> {
    const store = new DiskStore(resolve(options.dir), options);
    await mkdir(store.dir, { recursive: true });
    await store.load();
    return store;
  }

  private constructor(
    /** The absolute directory holding the files. */
    readonly dir: string,
    limits: StoreLimits,
  ) {
    this.index = new StoreIndex(limits, (variant) => {
      void this.chain(variant.entry.id, () => removeFiles(variant.metaPath, variant.entry.body.path));
    });
    this.host = {
      maxEntryBytes: this.index.maxEntryBytes,
      isClosed: () => this.isClosed,
      tmpPath: (suffix) => this.tmpPath(suffix),
      track: (work) => this.track(work),
      forget: (writer) => this.writers.delete(writer),
      commit: (writer, tmpPath, size) => this.commit(writer, tmpPath, size),
    };
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** The entry cap in effect (maxEntryBytes, or its default). */
  get maxEntryBytes(): number {
    return this.index.maxEntryBytes;
  }

  async lookup(key: string): Promise<readonly StoredEntry[]> {
    this.assertOpen();
    return this.index.lookup(key, Date.now()).map((variant) => variant.entry);
  }

  put(key: string, head: StoredHead, replaces?: string): StoreWriter {
    const writer = new DiskWriter(this.host, key, head, replaces);
    if (this.isClosed) writer.abort();
    else this.writers.add(writer);
    return writer;
  }

  async updateHead(key: string, id: string, head: StoredHead): Promise<boolean> {
    this.assertOpen();
    const old = this.index.find(key, id);
    if (old === undefined) return false;
    const entry = fileEntry(head, id, old.entry.body.path, old.entry.body.size);
    const json = encodeMeta(key, entry, old.order);
    const next: DiskVariant = { ...old, entry, bytes: entry.body.size + Buffer.byteLength(json) };
    this.index.update(old, next, Date.now());
    if (!this.index.holds(next)) return false;
    return this.chain(id, async () => {
      // Superseded by a later updateHead (whose own write follows), or removed meanwhile.
      if (!this.index.holds(next)) return this.index.find(key, id) !== undefined;
      try {
        await this.writeAtomic(next.metaPath, json);
        return true;
      } catch {
        // The file still holds the old head; drop the entry rather than serve two truths.
        this.index.remove(next);
        return false;
      }
    });
  }

  async delete(key: string): Promise<number> {
    this.assertOpen();
    return this.index.removeKey(key);
  }

  async deleteVariant(key: string, id: string): Promise<void> {
    this.assertOpen();
    const variant = this.index.find(key, id);
    if (variant !== undefined) this.index.remove(variant);
  }

  stats(): { readonly bytes: number; readonly entries: number } {
    return { bytes: this.index.bytes, entries: this.index.entries };
  }

  /**
   * Aborts writers that have not called end(), then waits for every end() in flight and every
   * file removal or metadata rewrite. Entries stay on disk for the next open. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const writer of this.writers) writer.abort();
      while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    })();
    return this.closing;
  }

  /** Keeps close() waiting for `work`. */
  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    const done = () => this.pending.delete(work);
    work.then(done, done);
  }

  /** Moves an ended writer's body into place, writes its metadata (the commit point), indexes it. */
  private async commit(writer: DiskWriter, tmpPath: string, size: number): Promise<StoredEntry> {
    if (writer.aborted) throw new StoreRejected('aborted', 'StoreWriter.abort() was called during end()');
    const base = join(this.dir, `${hashKey(writer.key)}-${writer.id}`);
    const entry = fileEntry(writer.head, writer.id, `${base}.body`, size);
    const order = this.nextOrder++;
    const json = encodeMeta(writer.key, entry, order);
    const bytes = size + Buffer.byteLength(json);
    if (bytes > this.index.maxEntryBytes) throw StoreRejected.tooLarge(writer.key, this.index.maxEntryBytes);
    const metaPath = `${base}.json`;
    await rename(tmpPath, entry.body.path);
    try {
      await this.writeAtomic(metaPath, json);
      if (writer.aborted) throw new StoreRejected('aborted', 'StoreWriter.abort() was called during end()');
    } catch (err) {
      await removeFiles(metaPath, entry.body.path);
      throw err;
    }
    this.index.add({ key: writer.key, entry, bytes, metaPath, order }, writer.replaces, Date.now());
    return entry;
  }

  private tmpPath(suffix: '.body' | '.json'): string {
    return join(this.dir, `${TMP_PREFIX}${randomUUID()}${suffix}`);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new StoreRejected('closed', 'the disk store is closed');
  }

  /** Runs `work` after every earlier file operation on the entry `id`, tracked for close(). */
  private chain<T>(id: string, work: () => Promise<T>): Promise<T> {
    const result = (this.fileOps.get(id) ?? Promise.resolve()).then(work);
    const settled = result.then(noop, noop);
    this.fileOps.set(id, settled);
    this.track(settled);
    void settled.then(() => {
      if (this.fileOps.get(id) === settled) this.fileOps.delete(id);
    });
    return result;
  }

  private async writeAtomic(path: string, data: string): Promise<void> {
    const tmp = this.tmpPath('.json');
    try {
      await writeFile(tmp, data, { flag: 'wx' });
      await rename(tmp, path);
    } catch (err) {
      await removeFiles(tmp);
      throw err;
    }
  }

  private async load(): Promise<void> {
    const names = await readdir(this.dir);
    const metas: string[] = [];
    const bodies: string[] = [];
    const stray: string[] = [];
    for (const name of names) {
      const match = ENTRY_FILE.exec(name);
      if (match !== null) (match[2] === 'json' ? metas : bodies).push(match[1]!);
      else if (name.startsWith(TMP_PREFIX)) stray.push(join(this.dir, name));
    }
    await eachLimited(stray, (path) => removeFiles(path));
    const now = Date.now();
    const loaded: DiskVariant[] = [];
    await eachLimited(metas, async (base) => {
      const variant = await this.verify(base, now);
      if (variant !== undefined) loaded.push(variant);
      else await removeFiles(join(this.dir, `${base}.json`), join(this.dir, `${base}.body`));
    });
    const kept = new Set(loaded.map((variant) => variant.entry.body.path));
    const orphans = bodies.map((base) => join(this.dir, `${base}.body`)).filter((path) => !kept.has(path));
    await eachLimited(orphans, (path) => removeFiles(path));
    loaded.sort((a, b) => a.order - b.order);
    for (const variant of loaded) this.index.add(variant, undefined, now);
    this.nextOrder = (loaded.at(-1)?.order ?? -1) + 1;
  }

  /** The entry whose files are named `base`, or undefined when any check fails. */
  private async verify(base: string, now: number): Promise<DiskVariant | undefined> {
    const metaPath = join(this.dir, `${base}.json`);
    const bodyPath = join(this.dir, `${base}.body`);
    let json: string;
    try {
      json = await readFile(metaPath, 'utf8');
    } catch {
      return undefined;
    }
    const meta = decodeMeta(json);
    if (meta === undefined || `${hashKey(meta.key)}-${meta.id}` !== base || meta.head.deleteAt <= now) {
      return undefined;
    }
    const found = await stat(bodyPath).catch(() => undefined);
    if (found === undefined || !found.isFile() || found.size !== meta.size) return undefined;
    const entry = fileEntry(meta.head, meta.id, bodyPath, meta.size);
    return { key: meta.key, entry, bytes: meta.size + Buffer.byteLength(json), metaPath, order: meta.order };
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Runs `work` on every item, at most OPEN_CONCURRENCY at a time. */
async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, items.length) }, worker));
}

function noop(): void {}
