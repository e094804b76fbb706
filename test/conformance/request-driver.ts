/**
 * Test helper (not a test file): reads a byte stream as a server reads a connection — a request
 * head with RequestParser, then its body by the framing the head decided (Content-Length bytes,
 * or the chunked coding through ChunkedDecoder), then the next head — and reports what came out.
 * It mirrors src/conn/connection.ts's read loop without a socket: after a message whose head
 * says the connection does not persist, nothing more is read (RFC 9112 §9.6).
 */
import { ChunkedDecoder } from '../../src/wire/chunked-decoder.js';
import { RequestParser } from '../../src/wire/head-parser.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import { ParseError } from '../../src/wire/parse-error.js';

/** One complete message as the vectors describe it; trailer fields follow the header fields. */
export type DrivenMessage = {
  readonly method: string;
  readonly url: string;
  readonly version: string;
  readonly headers: readonly (readonly [string, string])[];
  /** The body bytes, latin1. */
  readonly body: string;
};

/**
 * - `clean`: the input ended between messages (empty lines before a request-line not counting).
 * - `partial`: the input ended inside a head or a body.
 * - `closed`: a message ended the connection and bytes followed it, which a server never reads.
 */
export type DrivenEnd = 'clean' | 'partial' | 'closed';

export type DriveResult =
  | { readonly kind: 'messages'; readonly messages: readonly DrivenMessage[]; readonly end: DrivenEnd }
  | {
      readonly kind: 'error';
      readonly messages: readonly DrivenMessage[];
      readonly status: number;
      readonly code: string;
    };

type Reading = 'head' | 'length' | 'chunked' | 'closed';

const CHUNKED_LIMITS = {
  maxChunkExtensionBytes: DEFAULT_LIMITS.maxChunkExtensionBytes,
  maxTrailerBytes: DEFAULT_LIMITS.maxTrailerBytes,
  maxTrailerFields: DEFAULT_LIMITS.maxHeaderFields,
};

/** Reads `input` in the pieces cut at `cuts` (ascending offsets); see the module comment. */
export function driveRequests(input: Buffer, cuts: readonly number[] = []): DriveResult {
  const parser = new RequestParser();
  const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
  const messages: DrivenMessage[] = [];
  let reading: Reading = 'head';
  let remaining = 0;
  let current: Omit<DrivenMessage, 'body'> | undefined;
  let keepAlive = true;
  let body: Buffer[] = [];
  let lastEnd = 0;
  const onData = (view: Buffer) => body.push(Buffer.from(view));
  /** Records the message that ended at `at`; returns what to read next. */
  const finish = (at: number, trailers: readonly string[]): Reading => {
    const headers = [...current!.headers, ...pairs(trailers)];
    messages.push({ ...current!, headers, body: Buffer.concat(body).toString('latin1') });
    body = [];
    lastEnd = at;
    return keepAlive ? 'head' : 'closed';
  };
  const bounds = [0, ...cuts, input.length];
  try {
    for (let k = 0; k + 1 < bounds.length && reading !== 'closed'; k++) {
      const end = bounds[k + 1]!;
      let pos = bounds[k]!;
      while (pos < end && reading !== 'closed') {
        if (reading === 'head') {
          const head = parser.push(input, pos, end);
          pos += parser.consumed;
          if (head === undefined) break;
          parser.reset();
          current = {
            method: head.method,
            url: head.target,
            version: head.version,
            headers: pairs(head.rawHeaders),
          };
          keepAlive = head.keepAlive;
          const framing = head.framing;
          if (framing.kind === 'length') {
            reading = 'length';
            remaining = framing.length;
          } else if (framing.kind === 'chunked') {
            reading = 'chunked';
            decoder.reset();
          } else {
            reading = finish(pos, []);
          }
        } else if (reading === 'length') {
          const n = Math.min(remaining, end - pos);
          body.push(Buffer.from(input.subarray(pos, pos + n)));
          remaining -= n;
          pos += n;
          if (remaining === 0) reading = finish(pos, []);
        } else {
          pos += decoder.push(input, pos, end, onData);
          if (decoder.done) reading = finish(pos, decoder.trailers);
        }
      }
    }
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    return { kind: 'error', messages, status: err.status, code: err.code };
  }
  // RFC 9112 §2.2: empty lines before a request-line are ignored, so they end nothing.
  const rest = input.subarray(lastEnd).toString('latin1');
  if ((reading === 'head' || reading === 'closed') && /^(?:\r\n)*$/.test(rest)) {
    return { kind: 'messages', messages, end: 'clean' };
  }
  return { kind: 'messages', messages, end: reading === 'closed' ? 'closed' : 'partial' };
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let k = 0; k + 1 < flat.length; k += 2) out.push([flat[k]!, flat[k + 1]!]);
  return out;
}
