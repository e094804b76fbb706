/**
 * FileCache: small hot files (and their compressed forms) kept in memory, bounded by bytes,
 * least recently used evicted first. Entries are trusted for STALE_CHECK_MS after their last stat;
 * after that the next request stats the file again (asynchronously) and reloads it if it changed.
 */
import { readFile, stat } from 'node:fs/promises';

/** How long a cached stat is trusted: changes on disk show within about a second. */
export const STALE_CHECK_MS = 1000;
/** Files up to this size are cached whole. */
export const MAX_CACHED_FILE_BYTES = 256 * 1024;

export type CachedFile = {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly data: Buffer;
  /** Compressed forms made on the fly, by encoding ('br', 'gzip'). */
  readonly encoded: Map<string, Buffer>;
  checkedAt: number;
};

export class FileCache {
  private readonly entries = new Map<string, CachedFile>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The cached entry when it matches size and mtime, without waiting (undefined: call get()). */
  peek(path: string, size: number, mtimeMs: number): CachedFile | undefined {
    const entry = this.entries.get(path);
    if (entry === undefined || entry.size !== size || entry.mtimeMs !== mtimeMs) return undefined;
    return entry;
  }

  /**
   * The file's bytes if it is small enough to cache, loaded or revalidated as needed; undefined
   * for files too large to cache (the caller streams them). Throws the fs error if the file went away.
   */
  async get(path: string, size: number, mtimeMs: number): Promise<CachedFile | undefined> {
    if (this.maxBytes === 0 || size > MAX_CACHED_FILE_BYTES || size > this.maxBytes) return undefined;
    const now = Date.now();
    const entry = this.entries.get(path);
    if (entry !== undefined && entry.size === size && entry.mtimeMs === mtimeMs) {
      // Refresh the LRU position: Map iteration order is insertion order.
      this.entries.delete(path);
      this.entries.set(path, entry);
      entry.checkedAt = now;
      return entry;
    }
    if (entry !== undefined) this.remove(path);
    const data = await readFile(path);
    // The file may have changed between the caller's stat and this read: trust the bytes we got.
    const info = data.length === size ? { size, mtimeMs } : await stat(path);
    const fresh: CachedFile = {
      path,
      size: data.length,
      mtimeMs: info.mtimeMs,
      data,
      encoded: new Map(),
      checkedAt: now,
    };
    this.entries.set(path, fresh);
    this.bytes += data.length;
    this.evict();
    return fresh;
  }

  /** Keeps a compressed form of a cached file, counted against the same byte budget. */
  addEncoded(entry: CachedFile, encoding: string, data: Buffer): void {
    if (this.entries.get(entry.path) !== entry || entry.encoded.has(encoding)) return;
    entry.encoded.set(encoding, data);
    this.bytes += data.length;
    this.evict();
  }

  /** Forgets a path (after PUT or DELETE). */
  remove(path: string): void {
    const entry = this.entries.get(path);
    if (entry === undefined) return;
    this.entries.delete(path);
    this.bytes -= entry.data.length;
    for (const data of entry.encoded.values()) this.bytes -= data.length;
  }

  get size(): number {
    return this.bytes;
  }

  private evict(): void {
    for (const path of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) return;
      this.remove(path);
    }
  }
}
