/**
 * The contract of Berth's upstream HTTP/1.1 client (upstream-pool.ts), shared by the forward
 * proxy, the reverse proxy and (later) the cache. Plain types, no implementation.
 */
import type { Duplex } from 'node:stream';

/** Where an upstream is: TCP (http/https) or a unix socket (`unix:/path`). */
export type UpstreamTarget =
  | {
      readonly kind: 'tcp';
      readonly host: string;
      readonly port: number;
      readonly tls: boolean;
      readonly servername?: string;
    }
  | { readonly kind: 'unix'; readonly path: string };

/** Header fields in order, names as they should be written. */
export type FieldList = readonly (readonly [string, string])[];

export type UpstreamRequest = {
  readonly method: string;
  /** origin-form (`/path?query`), or authority-form for CONNECT. */
  readonly target: string;
  readonly headers: FieldList;
  /** The request body, streamed with backpressure; undefined for none. */
  readonly body?: AsyncIterable<Buffer> | undefined;
  /** Content-Length of body when known; otherwise it is sent chunked (if any). */
  readonly bodyLength?: number | undefined;
  /** Trailers to send after a chunked body, read when the body ends. */
  readonly trailers?: (() => FieldList) | undefined;
  /** Interim responses (100, 103) as they arrive. */
  readonly onInformational?: ((status: number, headers: FieldList) => void) | undefined;
  readonly signal?: CancelSignal | undefined;
};

/**
 * What the pool reads of a cancellation signal. An AbortSignal satisfies it; so does the lighter
 * Cancel (cancel.ts), which the reverse proxy makes per attempt: an AbortController plus its
 * EventTarget listeners cost microseconds per request, more than the rest of the exchange's setup.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export type UpstreamResponse = {
  readonly status: number;
  readonly reason: string;
  readonly headers: FieldList;
  /**
   * The same fields flat, as parsed: [name, value, name, value, …]. The pool's responses have it,
   * and then `headers` is made only when asked for; a stand-in may leave it out.
   */
  readonly rawHeaders?: readonly string[] | undefined;
  /** The body bytes (framing removed), streamed; read it to the end or call abort(). */
  readonly body: AsyncIterable<Buffer>;
  /** Trailer fields, available once body is consumed. */
  trailers(): FieldList;
  /** Gives up on the response: the connection is destroyed, not reused. */
  abort(): void;
  /**
   * The whole body in one Buffer, when all of it has already arrived as one run of bytes (empty
   * for none): the body is then read, trailers() set. Undefined otherwise: iterate `body`. A
   * stand-in may leave it out.
   */
  takeWhole?(): Buffer | undefined;
};

/** A 101 answer to an Upgrade request: the raw upstream socket, for relaying both ways. */
export type UpstreamUpgrade = {
  readonly status: number;
  readonly reason: string;
  readonly headers: FieldList;
  readonly socket: Duplex;
  /** Bytes the upstream sent after its head. */
  readonly head: Buffer;
};

export type UpstreamErrorKind = 'connect' | 'timeout' | 'reset' | 'protocol' | 'tls';

/**
 * A failed exchange. `requestSent` is false when not one byte of the request reached the
 * upstream: then any request, idempotent or not, may safely be retried elsewhere.
 */
export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  readonly requestSent: boolean;
  constructor(kind: UpstreamErrorKind, message: string, requestSent: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamError';
    this.kind = kind;
    this.requestSent = requestSent;
  }
}

export type UpstreamPoolOptions = {
  /** Open sockets per upstream (default 64). */
  readonly maxSockets?: number;
  /** Idle keep-alive sockets are closed after this (default 4 s; below common server timeouts of 5 s). */
  readonly idleTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Time to the response head, and longest silence in a body (default 60 s). */
  readonly responseTimeoutMs?: number;
  /** CA certificates to trust for TLS upstreams besides the system ones (verification is always on unless insecure). */
  readonly ca?: string | Buffer | undefined;
  readonly insecure?: boolean;
};
