/**
 * The bookkeeping both stores share: which variants each key holds (most recently stored first),
 * which variant was used least recently, and how many bytes they hold against a budget. The
 * stores differ only in where bodies live, so this is written once; it does no I/O and tells its
 * owner about every variant it lets go through the `dropped` callback (the disk store deletes
 * files there).
 *
 * LRU bookkeeping: one Map from id to variant in use order; a use deletes and re-inserts the id,
 * so the first key of the Map is the least recently used and every operation is O(1) (plus the
 * handful of variants one key holds). A plain LRU rather than a segmented one: a cache in front
 * of an origin sees no scans worth resisting, and SLRU would add a tuning knob nobody could set.
 *
 * Expiry: a variant whose deleteAt has passed is dropped when a lookup meets it, and, once the
 * store is over budget, by a sweep of the whole index before any live variant is evicted. The
 * sweep costs O(entries), so it runs at most once per SWEEP_INTERVAL_MS.
 */
import type { StoredEntry } from './store.js';

/** One committed variant: what the store returns, plus what it costs against the budget. */
export type IndexedVariant = {
  readonly key: string;
  readonly entry: StoredEntry;
  /** Bytes this variant counts for in stats() and against maxBytes. */
  readonly bytes: number;
};

/** The size limits of a store, as its options give them. */
export type StoreLimits = {
  /** Bytes held at most after every commit (bodies plus an estimate of heads). */
  readonly maxBytes: number;
  /** Largest single entry stored; larger ones are refused. Defaults to maxBytes / 8. */
  readonly maxEntryBytes?: number;
};

/** At most one full expiry sweep per this many ms, however busy eviction is. */
const SWEEP_INTERVAL_MS = 1000;

const NONE: readonly never[] = Object.freeze([]);

export class StoreIndex<V extends IndexedVariant> {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  /** Variants per key, most recently stored first. */
  private readonly byKey = new Map<string, V[]>();
  /** Every variant by id, least recently used first. */
  private readonly byUse = new Map<string, V>();
  private heldBytes = 0;
  private nextSweepAt = 0;

  /**
   * Throws a RangeError unless maxBytes is a positive integer and maxEntryBytes (when given) a
   * positive integer no larger than maxBytes. `dropped` is called once for every variant that
   * leaves the index, whatever the reason, except when update() swaps it for a new head.
   */
  constructor(
    limits: StoreLimits,
    private readonly dropped: (variant: V) => void,
  ) {
    const { maxBytes } = limits;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new RangeError(`maxBytes must be a positive integer, not ${maxBytes}`);
    }
    const maxEntryBytes = limits.maxEntryBytes ?? Math.max(1, Math.floor(maxBytes / 8));
    if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes <= 0 || maxEntryBytes > maxBytes) {
      throw new RangeError(`maxEntryBytes must be a positive integer up to maxBytes, not ${maxEntryBytes}`);
    }
    this.maxBytes = maxBytes;
    this.maxEntryBytes = maxEntryBytes;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get entries(): number {
    return this.byUse.size;
  }

  /**
   * The live variants of key, most recently stored first, each marked as just used. Variants
   * whose deleteAt is not after `now` are dropped on the way. The array is the caller's.
   */
  lookup(key: string, now: number): readonly V[] {
    const list = this.byKey.get(key);
    if (list === undefined) return NONE;
    const live: V[] = [];
    let expired = false;
    for (const variant of list) {
      if (variant.entry.deleteAt > now) live.push(variant);
      else expired = true;
    }
    if (expired) for (const variant of list.filter((v) => v.entry.deleteAt <= now)) this.remove(variant);
    for (const variant of live) this.touch(variant);
    return live;
  }

  /** The variant of key with this id, live or not, without marking it used. */
  find(key: string, id: string): V | undefined {
    const variant = this.byUse.get(id);
    return variant !== undefined && variant.key === key ? variant : undefined;
  }

  /** Whether this very variant (not just its id) is still in the index. */
  holds(variant: V): boolean {
    return this.byUse.get(variant.entry.id) === variant;
  }

  /**
   * Adds a committed variant as the newest of its key and the most recently used, removes the
   * variant of the same key whose id is `replaces` (if still there), then evicts to fit. A
   * variant whose id the index already holds is refused (dropped at once) and false returned.
   */
  add(variant: V, replaces: string | undefined, now: number): boolean {
    if (this.byUse.has(variant.entry.id)) {
      this.dropped(variant);
      return false;
    }
    if (replaces !== undefined) {
      const old = this.find(variant.key, replaces);
      if (old !== undefined) this.remove(old);
    }
    let list = this.byKey.get(variant.key);
    if (list === undefined) this.byKey.set(variant.key, (list = []));
    list.unshift(variant);
    this.byUse.set(variant.entry.id, variant);
    this.heldBytes += variant.bytes;
    this.fit(now);
    return true;
  }

  /**
   * Swaps `old` for `next` (same key and id, a new head over the same body) in its place among
   * its key's variants, marks it used and evicts to fit. `dropped` is not called for `old`.
   */
  update(old: V, next: V, now: number): void {
    const list = this.byKey.get(old.key);
    const at = list === undefined ? -1 : list.indexOf(old);
    if (list === undefined || at < 0) throw new Error('StoreIndex.update() of a variant it does not hold');
    list[at] = next;
    this.byUse.delete(old.entry.id);
    this.byUse.set(next.entry.id, next);
    this.heldBytes += next.bytes - old.bytes;
    this.fit(now);
  }

  /** Removes one variant (no-op when it is gone already) and reports it dropped. */
  remove(variant: V): void {
    if (!this.holds(variant)) return;
    this.byUse.delete(variant.entry.id);
    const list = this.byKey.get(variant.key)!;
    list.splice(list.indexOf(variant), 1);
    if (list.length === 0) this.byKey.delete(variant.key);
    this.heldBytes -= variant.bytes;
    this.dropped(variant);
  }

  /** Removes every variant of key; returns how many there were. */
  removeKey(key: string): number {
    const list = this.byKey.get(key);
    if (list === undefined) return 0;
    const all = list.slice();
    for (const variant of all) this.remove(variant);
    return all.length;
  }

  /** Removes everything (close()). */
  clear(): void {
    for (const variant of [...this.byUse.values()]) this.remove(variant);
  }

  private touch(variant: V): void {
    this.byUse.delete(variant.entry.id);
    this.byUse.set(variant.entry.id, variant);
  }

  /** Drops expired variants (rate-limited), then least recently used ones, until under budget. */
  private fit(now: number): void {
    if (this.heldBytes <= this.maxBytes) return;
    if (now >= this.nextSweepAt) {
      this.nextSweepAt = now + SWEEP_INTERVAL_MS;
      for (const variant of [...this.byUse.values()]) if (variant.entry.deleteAt <= now) this.remove(variant);
    }
    while (this.heldBytes > this.maxBytes) {
      const oldest = this.byUse.values().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
    }
  }
}
