/**
 * The one error a store uses to say "I declined to keep this" rather than "something broke": the
 * cache handler serves the response anyway and need not log it as a fault. Any other rejection
 * from a store (an I/O error, say) is a real failure.
 */

/** Why a store declined: see {@link StoreRejected}. */
export type StoreRejectedReason =
  /** The entry (body plus head) is larger than the store's `maxEntryBytes`. */
  | 'too-large'
  /** abort() was called while end() was committing. */
  | 'aborted'
  /** The store was closed before the call, or before the writer ended. */
  | 'closed';

/**
 * Rejection of StoreWriter.end() (and of calls on a closed store) when the store declines the
 * entry. Nothing of the entry is stored when this is thrown, and the writer needs no abort().
 */
export class StoreRejected extends Error {
  readonly reason: StoreRejectedReason;

  constructor(reason: StoreRejectedReason, message: string) {
    super(message);
    this.name = 'StoreRejected';
    this.reason = reason;
  }

  /** The rejection for an entry over the store's cap. */
  static tooLarge(key: string, maxEntryBytes: number): StoreRejected {
    return new StoreRejected(
      'too-large',
      `cache entry for ${key} is larger than maxEntryBytes (${maxEntryBytes})`,
    );
  }
}
