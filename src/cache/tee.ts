/**
 * Feeding one response body from `next` to its two consumers at once: the client's Response and
 * the store's writer (either may be absent).
 */
import type { Response } from '../handler/types.js';
import type { BodyConsumer, OriginFetch } from './origin-fetch.js';
import type { StoreWriter } from './store.js';
import { StoreRejected } from './store-errors.js';

/**
 * Feeds one body to the client and the store at once. Backpressure: the exchange pauses while
 * the client's socket is backed up or a store write is pending. A client that leaves stops
 * getting bytes, but the store keeps filling so the next request finds the response; if nothing
 * is being stored, the exchange is cancelled instead. A failure after the head aborts the store
 * write (a short body is never stored) and rejects, so the engine cuts the client connection.
 */
export class Tee implements BodyConsumer {
  private pendingWrites = 0;
  private clientGone = false;
  private failedStore = false;

  constructor(
    private readonly fetch: OriginFetch,
    private readonly res: Response | undefined,
    private writer: StoreWriter | undefined,
    private readonly onError: (error: unknown) => void,
    private readonly resolve: () => void,
    private readonly reject: (error: unknown) => void,
    private release: (() => void) | undefined,
  ) {
    res?.once('close', () => {
      if (res.writableEnded) return;
      this.clientGone = true;
      if (this.writer === undefined) {
        fetch.cancel();
        this.resolve();
      }
    });
    res?.on('drain', () => fetch.resume());
  }

  data(chunk: Buffer): boolean {
    let ok = true;
    if (this.res !== undefined && !this.clientGone) ok = this.res.write(chunk);
    const writer = this.writer;
    if (writer !== undefined) {
      this.pendingWrites++;
      writer.write(chunk).then(
        () => {
          this.pendingWrites--;
          if (this.pendingWrites === 0) this.fetch.resume();
        },
        (error: unknown) => {
          this.pendingWrites--;
          this.dropStore(error);
          this.fetch.resume();
        },
      );
      ok = false;
    }
    return ok || (this.clientGone && this.writer === undefined);
  }

  end(trailers: Readonly<Record<string, string>> | undefined): void {
    if (this.res !== undefined && !this.clientGone) {
      if (trailers !== undefined) this.res.addTrailers(trailers);
      this.res.end();
    }
    const writer = this.writer;
    if (writer === undefined) {
      this.releaseWaiters();
      this.resolve();
      return;
    }
    writer.end().then(
      () => {
        this.releaseWaiters();
        this.resolve();
      },
      (error: unknown) => {
        this.dropStore(error);
        this.resolve();
      },
    );
  }

  fail(error: unknown): void {
    this.writer?.abort();
    this.writer = undefined;
    this.releaseWaiters();
    if (this.clientGone || this.res === undefined) this.resolve();
    else this.reject(error);
  }

  private dropStore(error: unknown): void {
    if (this.failedStore) return;
    this.failedStore = true;
    this.writer?.abort();
    this.writer = undefined;
    this.releaseWaiters();
    // A store declining an entry (too large for it) is policy, not a fault.
    if (!(error instanceof StoreRejected)) this.onError(error);
    if (this.clientGone) {
      this.fetch.cancel();
      this.resolve();
    }
  }

  private releaseWaiters(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
