/**
 * Body framing, decided once per message from the facts the field parser collected
 * (RFC 9112 §6.3, in its order). Every rule here is an anti-smuggling rule: two parties that frame
 * a message differently let a second request hide inside the first.
 */
import { type FieldFacts, FRAMING_CHUNKED, FRAMING_CLOSE, FRAMING_NONE, type Framing } from './head.js';
import { ParseError } from './parse-error.js';

/** Transfer codings registered with IANA that Berth recognises but does not decode (→ 501). */
const KNOWN_UNDECODED_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'compress', 'x-compress', 'trailers']);

/** Decides how a request body is delimited. Throws ParseError (400 or 501). */
export function requestFraming(facts: FieldFacts, version: string): Framing {
  const codings = facts.transferCodings;
  if (codings !== undefined) {
    // RFC 9112 §6.1 ¶15: a Transfer-Encoding in an HTTP/1.0 message means faulty framing.
    if (version === '1.0') {
      throw new ParseError(400, 'bad-transfer-encoding', 'Transfer-Encoding in an HTTP/1.0 request');
    }
    // RFC 9112 §6.1 ¶14: a server MAY reject a request with both; ambiguity is how smuggling starts.
    if (facts.contentLength !== undefined) {
      throw new ParseError(400, 'length-and-chunked', 'both Content-Length and Transfer-Encoding');
    }
    checkCodings(codings, true);
    return FRAMING_CHUNKED;
  }
  const length = facts.contentLength;
  if (length === undefined || length === 0) return FRAMING_NONE;
  return { kind: 'length', length };
}

/**
 * Decides how a response body is delimited (RFC 9112 §6.3 ¶2–8). The request method and status
 * matter: HEAD responses, 1xx, 204 and 304 have no body; a 2xx to CONNECT starts a tunnel,
 * reported here as 'none' (the caller switches to relaying).
 */
export function responseFraming(facts: FieldFacts, status: number, requestMethod: string): Framing {
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) return FRAMING_NONE;
  if (requestMethod === 'CONNECT' && status >= 200 && status < 300) return FRAMING_NONE;
  const codings = facts.transferCodings;
  if (codings !== undefined) {
    // RFC 9112 §6.3 ¶4: Transfer-Encoding overrides Content-Length, but the pair "ought to be
    // handled as an error" — a proxy must not forward it, so refuse it outright.
    if (facts.contentLength !== undefined) {
      throw new ParseError(400, 'length-and-chunked', 'both Content-Length and Transfer-Encoding');
    }
    // RFC 9112 §6.3 ¶4.2: in a response, a final coding other than chunked means read until close.
    if (codings[codings.length - 1] !== 'chunked') return FRAMING_CLOSE;
    checkCodings(codings, false);
    return FRAMING_CHUNKED;
  }
  const length = facts.contentLength;
  if (length === undefined) return FRAMING_CLOSE;
  if (length === 0) return FRAMING_NONE;
  return { kind: 'length', length };
}

function checkCodings(codings: readonly string[], isRequest: boolean): void {
  const last = codings.length - 1;
  // RFC 9112 §6.3 ¶4.3: chunked not final in a request → 400 and close.
  if (last < 0 || codings[last] !== 'chunked') {
    throw new ParseError(400, 'bad-transfer-encoding', 'chunked is not the final transfer coding');
  }
  for (let i = 0; i < last; i++) {
    const coding = codings[i]!;
    // RFC 9112 §7: "A sender MUST NOT apply the chunked transfer coding more than once".
    if (coding === 'chunked') throw new ParseError(400, 'bad-transfer-encoding', 'chunked applied twice');
    // RFC 9112 §6.1 ¶16: a coding the server does not understand → 501 (requests only; an upstream
    // response with one is passed on undecoded by the proxy).
    if (isRequest) {
      const known = KNOWN_UNDECODED_CODINGS.has(coding);
      throw new ParseError(
        501,
        'unknown-transfer-coding',
        known ? `transfer coding "${coding}" is not supported` : `unknown transfer coding "${coding}"`,
      );
    }
  }
}

/**
 * Whether the connection persists after this message (RFC 9112 §9.3): HTTP/1.1 unless "close";
 * HTTP/1.0 only with "keep-alive" and without "close".
 */
export function persists(facts: FieldFacts, version: string): boolean {
  if (facts.connectionClose) return false;
  return version === '1.1' || facts.connectionKeepAlive;
}
