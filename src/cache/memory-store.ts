/**
 * A CacheStore that keeps entries in process memory, bounded by bytes, least recently looked-up
 * entry evicted first (the bookkeeping is StoreIndex's, store-index.ts).
 *
 * Bodies are the very Buffers the writer was given, never copied: a hit hands them to the
 * response writer as they are. Bytes counted per entry are the body's length, a fixed cost per
 * chunk (the Buffer object) and an estimate of the head (estimateHeadBytes below). The count is
 * of view lengths: a writer that passes small views of a large shared buffer pins more memory than
 * counted, so callers should pass buffers sized to their data (socket reads and decoder output are).
 *
 * An entry larger than maxEntryBytes (default maxBytes / 8) is refused: the writer keeps accepting
 * writes but lets go of every chunk as soon as the cap is crossed, and end() rejects with
 * StoreRejected('too-large'). Bytes held by writers not yet ended are not counted in stats().
 */

import type { CacheStore, StoredBody, StoredEntry, StoredHead, StoreWriter } from './store.js';
import { StoreRejected } from './store-errors.js';
import { type IndexedVariant, StoreIndex, type StoreLimits } from './store-index.js';

/** Options of {@link MemoryStore}: the byte budget (the CLI default is 256 MiB) and the entry cap. */
export type MemoryStoreOptions = StoreLimits;

/** The entry, head, body and index objects and the Map slots that hold them, roughly. */
const ENTRY_OVERHEAD_BYTES = 256;
/** A header or Vary pair: the tuple array and two string headers, roughly. */
const FIELD_OVERHEAD_BYTES = 48;
/** One Buffer object (a Uint8Array view and its bookkeeping), roughly. */
const CHUNK_OVERHEAD_BYTES = 96;

/**
 * Estimates the bytes a head occupies in memory: string lengths (V8 keeps header text as one
 * byte per character, since fields are latin1) plus a fixed cost per field and per entry.
 * Deliberately simple and a little generous; the budget is approximate by nature.
 */
export function estimateHeadBytes(head: StoredHead): number {
  let bytes = ENTRY_OVERHEAD_BYTES + head.statusMessage.length;
  for (const [name, value] of head.headers) bytes += FIELD_OVERHEAD_BYTES + name.length + value.length;
  for (const name of Object.keys(head.vary)) {
    bytes += FIELD_OVERHEAD_BYTES + name.length + (head.vary[name]?.length ?? 0);
  }
  return bytes;
}

/**
 * The in-memory CacheStore. Entries do not survive the process; close() drops them all, and
 * every call after close() rejects with StoreRejected('closed'). Buffers passed to write() become
 * the store's (shared with every reader, never modified by anyone); see the module comment.
 */
export class MemoryStore implements CacheStore {
  private readonly index: StoreIndex<IndexedVariant>;
  private readonly writers = new Set<MemoryWriter>();
  /** What writers may do to the store (the store's own methods, kept off its public API). */
  private readonly host: MemoryHost;
  private nextId = 0;
  private closed = false;

  /** Throws a RangeError for a maxBytes or maxEntryBytes that is not a positive integer, or maxEntryBytes > maxBytes. */
  constructor(options: MemoryStoreOptions) {
    // Dropped variants need no cleanup: the garbage collector has their buffers.
    this.index = new StoreIndex(options, () => {});
    this.host = {
      maxEntryBytes: this.index.maxEntryBytes,
      isClosed: () => this.closed,
      forget: (writer) => this.writers.delete(writer),
      commit: (writer, body, bytes) => this.commit(writer, body, bytes),
    };
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
    const writer = new MemoryWriter(this.host, key, head, replaces);
    if (this.closed) writer.abort();
    else this.writers.add(writer);
    return writer;
  }

  async updateHead(key: string, id: string, head: StoredHead): Promise<boolean> {
    this.assertOpen();
    const old = this.index.find(key, id);
    if (old === undefined) return false;
    const entry: StoredEntry = { ...head, id, body: old.entry.body };
    const next = { key, entry, bytes: old.bytes - estimateHeadBytes(old.entry) + estimateHeadBytes(head) };
    this.index.update(old, next, Date.now());
    return this.index.holds(next);
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

  /** Aborts writers not yet ended and drops every entry. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const writer of this.writers) writer.abort();
    this.index.clear();
  }

  private commit(writer: MemoryWriter, body: MemoryBody, bytes: number): StoredEntry {
    this.writers.delete(writer);
    if (this.closed) throw new StoreRejected('closed', 'the memory store was closed before end()');
    const entry: StoredEntry = { ...writer.head, id: (this.nextId++).toString(36), body };
    this.index.add({ key: writer.key, entry, bytes }, writer.replaces, Date.now());
    return entry;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreRejected('closed', 'the memory store is closed');
  }
}

type MemoryBody = Extract<StoredBody, { kind: 'memory' }>;

/** What a MemoryWriter needs of its store. */
type MemoryHost = {
  readonly maxEntryBytes: number;
  isClosed(): boolean;
  /** The writer no longer needs aborting by close(). */
  forget(writer: MemoryWriter): void;
  /** Makes the entry visible; throws StoreRejected('closed') after close(). */
  commit(writer: MemoryWriter, body: MemoryBody, bytes: number): StoredEntry;
};

type WriterState =
  | { readonly kind: 'open'; chunks: Buffer[]; size: number }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'ended' };

class MemoryWriter implements StoreWriter {
  private state: WriterState = { kind: 'open', chunks: [], size: 0 };
  private readonly headBytes: number;

  constructor(
    private readonly store: MemoryHost,
    readonly key: string,
    readonly head: StoredHead,
    readonly replaces: string | undefined,
  ) {
    this.headBytes = estimateHeadBytes(head);
  }

  async write(chunk: Buffer): Promise<void> {
    const state = this.state;
    switch (state.kind) {
      case 'too-large':
      case 'aborted':
        return; // Accepted and let go: end() tells why.
      case 'ended':
        throw new Error('StoreWriter.write() after end()');
      case 'open':
        state.chunks.push(ownBytes(chunk));
        state.size += chunk.length;
        if (this.bytes(state) > this.store.maxEntryBytes) this.state = { kind: 'too-large' };
        return;
      default:
        assertNever(state);
    }
  }

  async end(): Promise<StoredEntry> {
    const state = this.state;
    switch (state.kind) {
      case 'too-large':
        this.abort();
        throw StoreRejected.tooLarge(this.key, this.store.maxEntryBytes);
      case 'aborted':
        throw this.store.isClosed()
          ? new StoreRejected('closed', 'the memory store was closed before end()')
          : new StoreRejected('aborted', 'StoreWriter.end() after abort()');
      case 'ended':
        throw new Error('StoreWriter.end() called twice');
      case 'open': {
        this.state = { kind: 'ended' };
        Object.freeze(state.chunks);
        return this.store.commit(
          this,
          { kind: 'memory', chunks: state.chunks, size: state.size },
          this.bytes(state),
        );
      }
      default:
        return assertNever(state);
    }
  }

  /** Lets go of the chunks; a no-op after end(). */
  abort(): void {
    if (this.state.kind === 'ended' || this.state.kind === 'aborted') return;
    this.state = { kind: 'aborted' };
    this.store.forget(this);
  }

  private bytes(state: { chunks: Buffer[]; size: number }): number {
    return this.headBytes + state.size + state.chunks.length * CHUNK_OVERHEAD_BYTES;
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected writer state ${JSON.stringify(value)}`);
}

/**
 * The chunk itself, or a copy when it is a small view of a much larger buffer (a socket read
 * that also held the head, or a pooled allocation): kept as is, it would pin the whole buffer for
 * the life of the entry, uncounted. The one place the store copies, to keep bytes past the read
 * buffer's life.
 */
function ownBytes(chunk: Buffer): Buffer {
  return chunk.buffer.byteLength > 2 * chunk.length + 1024 ? Buffer.from(chunk) : chunk;
}
