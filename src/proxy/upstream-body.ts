/**
 * The body of an upstream response as an async iterator, with backpressure onto the socket.
 *
 * The connection pushes body views as it decodes them; when nobody is waiting for one, it is
 * queued and the connection is asked to pause its socket, so at most one socket read (plus its
 * chunk views) sits here while the consumer is slow. The queue holds views, not copies: a net
 * socket hands each read out in a Buffer of its own that it never reuses, so a view stays valid
 * for as long as it is kept.
 *
 * The body ends one of three ways: end() (every byte arrived: the framing said so), fail() (the
 * upstream broke, timed out or sent bad framing — a cut body always throws, never looks short
 * and complete), or abort() / return() by the consumer. Queued bytes are handed out before an
 * end, not before a failure: after a failure the consumer must not act on a partial body anyway.
 */
import type { FieldList } from './upstream-types.js';

/** The connection behind a body while the body is still arriving. */
export interface BodySource {
  /** Stop reading: the consumer has bytes it has not taken yet. */
  pauseBody(): void;
  /** Read again: the queue is empty. */
  resumeBody(): void;
  /** The consumer gave up: destroy the connection. */
  abortBody(reason: Error): void;
}

const DONE: IteratorResult<Buffer> = Object.freeze({ done: true, value: undefined });
const NO_BYTES = Buffer.alloc(0);

/** One response body, read once. */
export class UpstreamBody implements AsyncIterableIterator<Buffer> {
  /** Trailer fields, set by end(). */
  trailers: FieldList = [];
  private source: BodySource | undefined;
  private readonly queue: Buffer[] = [];
  private queueHead = 0;
  private paused = false;
  private ended = false;
  private failure: Error | undefined = undefined;
  private waitingResolve: ((result: IteratorResult<Buffer>) => void) | undefined = undefined;
  private waitingReject: ((err: Error) => void) | undefined = undefined;

  constructor(source: BodySource) {
    this.source = source;
  }

  /** True once the body ended or failed: the connection is no longer behind it. */
  get settled(): boolean {
    return this.source === undefined;
  }

  /** A run of body bytes; `chunk` must stay valid while it is queued (see the module comment). */
  push(chunk: Buffer): void {
    if (this.source === undefined || chunk.length === 0) return;
    const resolve = this.waitingResolve;
    if (resolve !== undefined) {
      this.waitingResolve = undefined;
      this.waitingReject = undefined;
      resolve({ done: false, value: chunk });
      return;
    }
    this.queue.push(chunk);
    if (!this.paused) {
      this.paused = true;
      this.source.pauseBody();
    }
  }

  /** Every byte has arrived; the connection is detached from the body. */
  end(trailers: FieldList): void {
    if (this.source === undefined) return;
    this.source = undefined;
    this.trailers = trailers;
    this.ended = true;
    if (this.waitingResolve !== undefined && this.queueHead === this.queue.length) this.settleWaiting();
  }

  /** The body is cut or broken; the connection is detached. Later reads throw `err`. */
  fail(err: Error): void {
    if (this.source === undefined) return;
    this.source = undefined;
    this.failure = err;
    this.settleWaiting();
  }

  /** Gives up on the body: a connection still behind it is destroyed. */
  abort(): void {
    const source = this.source;
    if (source === undefined) return;
    const reason = new DOMException('the response was aborted', 'AbortError');
    this.fail(reason);
    source.abortBody(reason);
  }

  /**
   * The whole body at once when it has all arrived as at most one run of bytes (an empty Buffer
   * for none): the common small response, read in the same socket read as its head. The body is
   * then read to its end (trailers() are set). Undefined otherwise, and nothing is taken: read it
   * by iterating as usual. Spares the consumer an async iteration (two promises) per response.
   */
  takeWhole(): Buffer | undefined {
    if (!this.ended || this.failure !== undefined || this.waitingResolve !== undefined) return undefined;
    const queued = this.queue.length - this.queueHead;
    if (queued > 1) return undefined;
    const chunk = queued === 1 ? this.queue[this.queueHead]! : NO_BYTES;
    this.queue.length = 0;
    this.queueHead = 0;
    return chunk;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.queueHead < this.queue.length) {
      const value = this.queue[this.queueHead++]!;
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
        // Read ahead while the consumer works on this chunk.
        if (this.paused && this.source !== undefined) {
          this.paused = false;
          this.source.resumeBody();
        }
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) return Promise.resolve(DONE);
    if (this.waitingResolve !== undefined)
      return Promise.reject(new Error('concurrent read of a response body'));
    return new Promise((resolve, reject) => {
      this.waitingResolve = resolve;
      this.waitingReject = reject;
    });
  }

  /** Leaving a for-await loop early aborts the response (the connection cannot be reused). */
  return(): Promise<IteratorResult<Buffer>> {
    if (!this.ended && this.failure === undefined) this.abort();
    this.failure = undefined;
    this.ended = true;
    this.queue.length = 0;
    this.queueHead = 0;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settleWaiting(): void {
    const resolve = this.waitingResolve;
    const reject = this.waitingReject;
    if (resolve === undefined || reject === undefined) return;
    this.waitingResolve = undefined;
    this.waitingReject = undefined;
    if (this.failure !== undefined) reject(this.failure);
    else resolve(DONE);
  }
}
