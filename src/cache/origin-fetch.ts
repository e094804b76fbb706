/**
 * One exchange with the wrapped handler: calls `next` with a cache-made request and a
 * CaptureResponse, and gives the cache the head as a promise and the body through a consumer it
 * attaches once it has decided what to do with the response (forward, store, both, or drop).
 *
 * Body chunks that arrive before a consumer is attached are queued and the handler is paused, so
 * nothing is lost and nothing is buffered without bound.
 */
import type { Handler } from '../handler/types.js';
import { type CacheRequest, CaptureResponse, type OriginSink } from './capture.js';
import type { StoredFields } from './store.js';

/** A final response head from `next`, with the times RFC 9111 §4.2.3 needs. */
export type OriginHead = {
  readonly status: number;
  readonly statusMessage: string;
  /** Lower-case names, as the handler set them. */
  readonly fields: StoredFields;
  /** When the request was handed to `next` (ms since the epoch): request_time. */
  readonly requestTime: number;
  /** When the head came back: response_time. */
  readonly responseTime: number;
};

/** Where the body goes. data() returning false pauses the exchange until OriginFetch.resume(). */
export interface BodyConsumer {
  data(chunk: Buffer): boolean;
  end(trailers: Readonly<Record<string, string>> | undefined): void;
  /** The handler failed after the head: the body is incomplete and must not look complete. */
  fail(error: unknown): void;
}

export type InformationalListener = (
  status: number,
  headers: Readonly<Record<string, string | number | readonly string[]>> | undefined,
) => void;

export class OriginFetch implements OriginSink {
  /** Resolves with the final head; rejects when `next` throws before sending one. */
  readonly head: Promise<OriginHead>;
  /** The method sent to `next`. */
  readonly method: string;
  private readonly response: CaptureResponse;
  private readonly now: () => number;
  private readonly requestTime: number;
  private readonly onInformational: InformationalListener | undefined;
  private resolveHead!: (head: OriginHead) => void;
  private rejectHead!: (error: unknown) => void;
  private headSeen = false;
  private consumer: BodyConsumer | undefined;
  private readonly queue: Buffer[] = [];
  private ended = false;
  private trailers: Readonly<Record<string, string>> | undefined;
  private failure: { error: unknown } | undefined;
  private flowing = false;

  constructor(
    next: Handler,
    request: CacheRequest,
    now: () => number,
    onInformational?: InformationalListener,
  ) {
    this.now = now;
    this.method = request.method;
    this.onInformational = onInformational;
    this.response = new CaptureResponse(this);
    this.head = new Promise((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    // Observed here so a head nobody awaits (the exchange was cancelled) is not an unhandled rejection.
    this.head.catch(() => {});
    this.requestTime = now();
    Promise.resolve()
      .then(() => next(request, this.response))
      .then(
        () => {
          // A handler that returns without sending anything has answered nothing: treat as a failure.
          if (!this.headSeen) this.failed(new Error('the handler returned without a response'));
        },
        (error: unknown) => this.failed(error),
      );
  }

  /** Attaches the body's consumer; queued chunks are delivered at once. */
  pipe(consumer: BodyConsumer): void {
    this.consumer = consumer;
    this.flowing = true;
    this.flush();
  }

  /** The consumer can take more after returning false from data(). */
  resume(): void {
    if (this.flowing || this.consumer === undefined) return;
    this.flowing = true;
    this.flush();
  }

  /** Nobody wants the body any more: the handler sees its response closed (a proxy aborts upstream). */
  cancel(): void {
    this.consumer = undefined;
    this.queue.length = 0;
    this.response.close();
  }

  interim(
    status: number,
    headers: Readonly<Record<string, string | number | readonly string[]>> | undefined,
  ): void {
    this.onInformational?.(status, headers);
  }

  start(status: number, statusMessage: string, fields: StoredFields): void {
    if (this.headSeen) return;
    this.headSeen = true;
    this.resolveHead({
      status,
      statusMessage,
      fields,
      requestTime: this.requestTime,
      responseTime: this.now(),
    });
  }

  data(chunk: Buffer): boolean {
    if (this.flowing && this.queue.length === 0 && this.consumer !== undefined) {
      if (this.consumer.data(chunk)) return true;
      this.flowing = false;
      return false;
    }
    this.queue.push(chunk);
    return false;
  }

  end(trailers: Readonly<Record<string, string>> | undefined): void {
    this.ended = true;
    this.trailers = trailers;
    if (this.flowing) this.flush();
  }

  private failed(error: unknown): void {
    if (!this.headSeen) {
      this.headSeen = true;
      this.rejectHead(error);
      return;
    }
    if (this.ended) return;
    this.failure = { error };
    if (this.flowing) this.flush();
  }

  private flush(): void {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    while (this.queue.length > 0) {
      if (!consumer.data(this.queue.shift()!)) {
        this.flowing = false;
        return;
      }
    }
    if (this.ended) {
      this.consumer = undefined;
      consumer.end(this.trailers);
    } else if (this.failure !== undefined) {
      this.consumer = undefined;
      consumer.fail(this.failure.error);
    } else {
      this.response.resume();
    }
  }
}
