/**
 * Short-lived memo of file-system lookups (resolutions, directory listings), so a hot file costs
 * no stat or readdir per request: each key is looked up again at most once per STALE_CHECK_MS.
 * Values are promises, so concurrent requests for one key share one lookup.
 */
import { STALE_CHECK_MS } from './file-cache.js';

/** Keys remembered at most; past this the memo starts over (a crude but bounded policy). */
const MAX_KEYS = 10_000;

export class LookupCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T>; settled: T | undefined }>();

  constructor(private readonly load: (key: string) => Promise<T>) {}

  get(key: string): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && now - hit.at < STALE_CHECK_MS) return hit.value;
    if (this.entries.size >= MAX_KEYS) this.entries.clear();
    const value = this.load(key);
    const entry = { at: now, value, settled: undefined as T | undefined };
    this.entries.set(key, entry);
    value.then(
      (settled) => {
        entry.settled = settled;
      },
      // A failed lookup is not remembered.
      () => this.entries.delete(key),
    );
    return value;
  }

  /**
   * The value for key when it is known and fresh, without waiting: the hot path of a hot file
   * then costs no promise at all. Undefined means "call get()".
   */
  peek(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined || Date.now() - hit.at >= STALE_CHECK_MS) return undefined;
    return hit.settled;
  }

  /** Forgets everything (after a write: the tree changed). */
  clear(): void {
    this.entries.clear();
  }
}
