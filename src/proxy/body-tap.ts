/**
 * The reverse proxy's request body: read once from the client, replayable while small, so a
 * retry on another upstream can send it again (see reverse.ts, step 4).
 */

/** Request body bytes kept for a retry (see BodyTap); a longer body is sent once only. */
export const REPLAY_LIMIT_BYTES = 64 * 1024;

/**
 * The client's body, read once from the request but replayable while small: the chunks handed to
 * an attempt are kept, up to REPLAY_LIMIT_BYTES, so a retry can send them again before reading on.
 * This is what makes "the upstream never got it" retryable for a request with a body at all: the
 * pool reads the first chunk before it connects, to send it with the head in one write. Past the
 * limit the kept chunks are let go and the body can no longer be replayed. The chunks are the
 * engine's views, which it never reuses, so keeping them copies nothing.
 * Each [Symbol.asyncIterator]() call starts a new pass (replay, then the rest of the request) and
 * ends the previous one; return() ends a pass without ending the request body.
 */
export class BodyTap implements AsyncIterable<Buffer> {
  /** The request body's own error (the client's fault, not the upstream's), once reading it failed. */
  error: unknown = undefined;
  private source: AsyncIterator<Buffer> | undefined = undefined;
  private kept: Buffer[] | undefined = [];
  private keptBytes = 0;
  private ended = false;
  /** The read of the request in progress: one at a time, whichever pass asked. */
  private reading: Promise<IteratorResult<Buffer>> | undefined = undefined;
  private pass = 0;

  constructor(private readonly request: AsyncIterable<Buffer>) {}

  /** Every byte handed out so far is still kept (trivially true before the first read). */
  get replayable(): boolean {
    return this.kept !== undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const pass = ++this.pass;
    // A pass after the kept chunks were let go would silently miss bytes: it fails instead.
    const whole = this.kept !== undefined;
    let replayed = 0;
    return {
      next: async (): Promise<IteratorResult<Buffer>> => {
        if (!whole) throw new Error('the request body was too long to send again');
        for (;;) {
          if (pass !== this.pass) return DONE;
          const kept = this.kept;
          if (kept !== undefined && replayed < kept.length) return { done: false, value: kept[replayed++]! };
          if (this.ended) return DONE;
          const result = await (this.reading ??= this.read());
          // Kept chunks are handed out by the loop; past the limit, the chunk goes straight on.
          if (this.kept === undefined) return pass === this.pass ? result : DONE;
        }
      },
      return: async (): Promise<IteratorResult<Buffer>> => DONE,
    };
  }

  private async read(): Promise<IteratorResult<Buffer>> {
    try {
      this.source ??= this.request[Symbol.asyncIterator]();
      const result = await this.source.next();
      if (result.done === true) this.ended = true;
      else if (this.kept !== undefined) {
        this.keptBytes += result.value.length;
        if (this.keptBytes > REPLAY_LIMIT_BYTES) this.kept = undefined;
        else this.kept.push(result.value);
      }
      return result;
    } catch (err) {
      this.error = err;
      throw err;
    } finally {
      this.reading = undefined;
    }
  }
}

const DONE: IteratorResult<Buffer> = Object.freeze({ done: true, value: undefined });
/** A zero-length body, fresh for every attempt. */
export const EMPTY_BODY: AsyncIterable<Buffer> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
};
