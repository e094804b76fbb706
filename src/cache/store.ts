/**
 * The contract between the cache (policy + handler, which do all the HTTP reasoning) and the
 * stores that keep entries (memory-store.ts, disk-store.ts), which do none.
 *
 * An entry is one stored response: a head with precomputed timestamps, and a body. Entries are
 * grouped by primary key (method + effective URI, RFC 9111 §4.1's "cache key"); one key may hold
 * several variants (one per Vary selection), each with its own `id`. Stores compare only keys,
 * ids and the timestamps below; they never parse a header.
 *
 * Every store passes the same conformance suite (store-suite.ts).
 */

/** Header fields in order as they will be written to clients; names lower-case. */
export type StoredFields = readonly (readonly [string, string])[];

/** The head of a stored response and what the cache needs to reason about it later. */
export type StoredHead = {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: StoredFields;
  /**
   * The request header values Vary named, normalised by the cache, name (lower-case) → value
   * (`undefined` when the request lacked that field), for matching later requests (§4.1).
   */
  readonly vary: Readonly<Record<string, string | undefined>>;
  /** Clock time (ms since the epoch) the request that fetched this was sent: `request_time` of §4.2.3. */
  readonly requestTime: number;
  /** Clock time the response head arrived: `response_time` of §4.2.3. */
  readonly responseTime: number;
  /** From here on the entry is stale (the cache may still serve it under stale-* rules). */
  readonly staleAt: number;
  /** From here on the entry is useless to the cache; the store may drop it any time after. */
  readonly deleteAt: number;
};

/**
 * A stored body: bytes in memory (shared, never copied: callers must not modify them), or a
 * file on disk of `size` bytes that the reader opens itself. A file may disappear between lookup
 * and open (evicted or replaced); an open that fails means the entry is gone.
 */
export type StoredBody =
  | { readonly kind: 'memory'; readonly chunks: readonly Buffer[]; readonly size: number }
  | { readonly kind: 'file'; readonly path: string; readonly size: number };

export type StoredEntry = StoredHead & {
  /** Unique within the store for the life of the entry; a replacement gets a new id. */
  readonly id: string;
  readonly body: StoredBody;
};

/**
 * Writes one body into a store. Nothing is visible to lookup() until end() resolves; abort()
 * (a response cut short upstream, a client gone) discards everything written so far, so a partial
 * body is never served.
 */
export interface StoreWriter {
  /** Appends bytes; the store copies or keeps them (the caller will not modify them afterwards). */
  write(chunk: Buffer): Promise<void>;
  /** Commits the entry; it replaces a stored variant with the same `replaces` id, if any. Resolves with the new entry. */
  end(): Promise<StoredEntry>;
  /** Discards the partial entry. Safe to call after end() failed, or twice. */
  abort(): void;
}

export interface CacheStore {
  /**
   * All live variants for a primary key (deleteAt in the future), most recently stored first.
   * Resolves with `[]` when there are none.
   */
  lookup(key: string): Promise<readonly StoredEntry[]>;
  /**
   * Starts storing a response under key. `replaces` names the id of a variant this one supersedes
   * (same Vary selection); it is removed when the new one commits.
   */
  put(key: string, head: StoredHead, replaces?: string): StoreWriter;
  /** Replaces the head of a stored variant, keeping its body (a 304 or HEAD update, §4.3.4). Resolves false when the variant is gone. */
  updateHead(key: string, id: string, head: StoredHead): Promise<boolean>;
  /** Removes every variant of key (§4.4 invalidation, PURGE). Resolves with how many were removed. */
  delete(key: string): Promise<number>;
  /** Removes one variant. */
  deleteVariant(key: string, id: string): Promise<void>;
  /** Bytes held (bodies plus an estimate of heads) and entries, for status pages and tests. */
  stats(): { readonly bytes: number; readonly entries: number };
  /** Flushes and releases resources (timers, file handles). */
  close(): Promise<void>;
}
