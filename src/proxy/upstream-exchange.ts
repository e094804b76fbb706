/**
 * The state of one request/response pair on an upstream connection, the response it resolves
 * to, and the small conversions the read path needs. See upstream-connection.ts for the life of
 * an exchange.
 */
import { ParseError } from '../wire/parse-error.js';
import type { UpstreamBody } from './upstream-body.js';
import type { PreparedRequest, WriteState } from './upstream-request.js';
import {
  type CancelSignal,
  type FieldList,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamUpgrade,
} from './upstream-types.js';

type Settle = (value: UpstreamResponse | UpstreamUpgrade) => void;

/**
 * The state of one request/response pair. The pool makes it (with the promise the caller holds)
 * and hands it to a connection; a stale connection hands it back to the pool to replay on a
 * fresh socket (at most once: `replayed`), so the caller's promise spans both tries.
 */
export class Exchange implements WriteState {
  active = true;
  requestSent = false;
  writeDone = false;
  responseStarted = false;
  headSettled = false;
  keepAlive = false;
  /** This is the one replay on a fresh socket after a stale one. */
  replayed = false;
  body: UpstreamBody | undefined = undefined;
  constructor(
    readonly request: PreparedRequest,
    readonly upgrade: boolean,
    readonly options: UpstreamRequest,
    readonly resolve: Settle,
    readonly reject: (err: Error) => void,
  ) {}

  /** A fresh copy for the replay: nothing of it sent or received yet. */
  again(): Exchange {
    const ex = new Exchange(this.request, this.upgrade, this.options, this.resolve, this.reject);
    ex.replayed = true;
    return ex;
  }
}

export class Response implements UpstreamResponse {
  private fields: FieldList | undefined = undefined;
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly rawHeaders: readonly string[],
    readonly body: UpstreamBody,
  ) {}
  /** As pairs, made on first use: the reverse proxy reads rawHeaders and never asks. */
  get headers(): FieldList {
    this.fields ??= pairs(this.rawHeaders);
    return this.fields;
  }
  trailers(): FieldList {
    return this.body.trailers;
  }
  abort(): void {
    this.body.abort();
  }
  takeWhole(): Buffer | undefined {
    return this.body.takeWhole();
  }
}

/** Flat [name, value, ...] strings as a field list. */
export function pairs(flat: readonly string[]): FieldList {
  const out: (readonly [string, string])[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Anything thrown on the read path, as the error the caller sees. */
export function asError(err: unknown): Error {
  // An upstream whose framing cannot be parsed: RFC 9112 §2.2 ¶4, do not continue with it.
  if (err instanceof ParseError) {
    return new UpstreamError('protocol', `invalid response from the upstream: ${err.message}`, true, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** The signal's reason when it is an Error, else an AbortError. */
export function abortReason(signal: CancelSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('the request was aborted', 'AbortError');
}
