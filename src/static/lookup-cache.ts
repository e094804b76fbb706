/**
 * Short-lived memo of file-system lookups (resolutions, directory listings), so a hot file costs
 * no stat or readdir per request: each key is looked up again at most once per STALE_CHECK_MS.
 * Values are promises, so concurrent requests for one key share one lookup.
 */
import { STALE_CHECK_MS } from './file-cache.js';

/** Keys remembered at most; past this the memo starts over (a crude but bounded policy). */
const MAX_KEYS = 10_000;

export class LookupCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(private readonly load: (key: string) => Promise<T>) {}

  get(key: string): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && now - hit.at < STALE_CHECK_MS) return hit.value;
    if (this.entries.size >= MAX_KEYS) this.entries.clear();
    const value = this.load(key);
    this.entries.set(key, { at: now, value });
    // A failed lookup is not remembered.
    value.catch(() => this.entries.delete(key));
    return value;
  }

  /** Forgets everything (after a write: the tree changed). */
  clear(): void {
    this.entries.clear();
  }
}
