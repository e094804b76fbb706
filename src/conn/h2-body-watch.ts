/**
 * Request body deadlines over HTTP/2: the HTTP/1.1 engine's bodyTimeoutMs and
 * minBodyBytesPerSecond, applied to each stream whose body is still arriving.
 *
 * Without them one h2 connection could hold up to maxConcurrentStreams handlers open by sending
 * each body a byte at a time (slowhttptest -B, over h2), and the session's idle sweep would never
 * see the connection as idle. A stream is only held to the deadline while something waits for its
 * body: the handler reading it, or the drain after the response. A handler that does not read is
 * not the client's fault, and flow control stops the client then anyway.
 *
 * On a stall the handler's read fails with HttpError 408 (the handler's failure becomes the 408
 * response, as over HTTP/1.1), and the stream is then reset with NO_ERROR instead of drained; a
 * stall while draining resets at once (RFC 9113 §8.1 allows RST_STREAM(NO_ERROR) after a
 * complete response).
 */
import type { EngineConfig } from './config.js';
import type { H2Request } from './h2-request.js';

type Entry = {
  readonly request: H2Request;
  /** request.bodyBytes when the deadline last moved. */
  mark: number;
  deadline: number;
};

export class H2BodyWatch {
  private readonly entries = new Set<Entry>();

  constructor(private readonly config: Pick<EngineConfig, 'bodyTimeoutMs' | 'minBodyBytesPerTimeout'>) {}

  get size(): number {
    return this.entries.size;
  }

  /** Starts the deadline of a request whose body has not arrived yet. */
  watch(request: H2Request, now: number): void {
    request.watchBody();
    this.entries.add({ request, mark: 0, deadline: now + this.config.bodyTimeoutMs });
  }

  /** Moves deadlines on for bodies that made progress, and times out the ones that stalled. */
  sweep(now: number): void {
    const { bodyTimeoutMs, minBodyBytesPerTimeout } = this.config;
    const needed = Math.max(1, minBodyBytesPerTimeout);
    for (const entry of this.entries) {
      const request = entry.request;
      if (request.bodyDone) {
        this.entries.delete(entry);
      } else if (!request.waitingForBody || request.bodyBytes - entry.mark >= needed) {
        entry.mark = request.bodyBytes;
        entry.deadline = now + bodyTimeoutMs;
      } else if (now >= entry.deadline) {
        this.entries.delete(entry);
        request.bodyTimedOut();
      }
    }
  }
}
