/**
 * One HTTP/2 exchange as a Berth Request/Response pair: wraps a `ServerHttp2Stream` from an
 * `http2` server's 'stream' event (node:http2's core API) so any Handler (static files, proxy,
 * cache) runs over h2 unchanged.
 *
 * Why the core API and not the compat one ('request', Http2ServerRequest/Response): the compat
 * objects are a second pair of streams over the stream, with about a dozen listeners per
 * exchange, a header store of their own and trailers always requested (one more DATA frame per
 * response). We keep our own header store anyway, so the compat layer was pure overhead: on one
 * core it served about 60 % of what `stream.respond()` + `stream.end()` serve.
 *
 * Life of an h2 exchange. node:http2 owns the socket, the frames, flow control and HPACK; a
 * 'stream' event hands us the stream, its header object and the raw header list.
 * serveHttp2Stream() wraps them in H2Request/H2Response and calls the handler. Headers the handler
 * sets stay in H2Response until the head goes out (first write()/end(), like the HTTP/1.1
 * ServerResponse): then the framing is decided once — no body for HEAD/204/205/304 (HEADERS
 * carries END_STREAM), Content-Length as the handler set it or as end(chunk) knows it, else the
 * body runs until END_STREAM — and one stream.respond() submits HEADERS. Body bytes go through
 * stream.write(), whose boolean is the stream's backpressure; stream.end() sends END_STREAM.
 * Trailers: a response whose head goes out from end() (the whole body known, the common case)
 * asks for trailers only when addTrailers() was already called; a streamed body (head sent by
 * write()) always asks for them (waitForTrailers), so trailers may be added up to end() — when
 * none were, node sends an empty DATA frame with END_STREAM instead. So: over h2, trailers must
 * be added before end(), or before the first write() for a body sent whole by end(chunk).
 * A throw or rejection becomes the same text error response HTTP/1.1 sends, or RST_STREAM
 * (INTERNAL_ERROR) when the head already went out, since a status can no longer change. Once the
 * response ends, what is left of the request body is read and dropped (up to maxDrainBytes, then
 * RST_STREAM(NO_ERROR)), as the HTTP/1.1 engine drains: a paused request stream never closes.
 *
 * What the compat layer did that is done here instead:
 * - Expect (RFC 9110 §10.1.1): 100 Continue is sent when the handler starts reading the body
 *   (as over HTTP/1.1), not eagerly; any other expectation is answered 417 without the handler.
 * - CONNECT (RFC 9113 §8.5): answered 405 without the handler, as node did: no tunnel over h2
 *   (takeOver() is HTTP/1.1 only).
 * - Stream errors (a client's RST_STREAM, our own resets) are ignored: the 'close' event and
 *   the body iterator report them.
 *
 * Differences from HTTP/1.1 that are the protocol's, not choices:
 * - RFC 9113 §8.2.2: connection-specific fields (Connection, Keep-Alive, Proxy-Connection,
 *   Transfer-Encoding, Upgrade; TE too, meaningless in a response) are dropped silently — node
 *   would throw on them, and shared code (static/, cli/) may set them for HTTP/1.1.
 * - RFC 9113 §8.3.2: no reason phrase; statusMessage is kept but never sent.
 * - RFC 9113 §8.1: trailers may follow any body, not only a chunked one.
 * - A status outside 200–599 cannot be a final h2 response (node enforces it): RangeError.
 * - node refuses repeated values for fields such as Content-Type (ERR_HTTP2_HEADER_SINGLE_VALUE):
 *   a TypeError when the head is sent.
 */

import type http2 from 'node:http2';
import { HttpError } from '../handler/http-error.js';
import type { Handler } from '../handler/types.js';
import type { EngineConfig } from './config.js';
import type { H2BodyWatch } from './h2-body-watch.js';
import { H2Request } from './h2-request.js';
import { H2Response } from './h2-response.js';

export { H2Request } from './h2-request.js';
export { H2Response } from './h2-response.js';

/** The listener for h2 stream errors: see the module comment. */
function ignoreStreamError(): void {}

/**
 * Serves one h2 stream with `handler`: call it from an `http2` server's 'stream' event (see
 * createHttp2StreamHandler). `headers` is node's header object (pseudo-headers included),
 * `rawHeaders` the flat list as received; `bodies`, when given, holds request bodies to the body
 * deadlines. Never throws; handler failures are rendered (or reset the stream) and 5xx errors go
 * to config.onError.
 */
export function serveHttp2Stream(
  handler: Handler,
  config: EngineConfig,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: readonly string[],
  bodies?: H2BodyWatch,
): void {
  stream.on('error', ignoreStreamError);
  const request = new H2Request(stream, headers, rawHeaders, config.limits.maxBufferedBodyBytes);
  const response = new H2Response(stream, request, config);
  if (request.method === 'CONNECT') {
    response.sendError(405, 'CONNECT is not supported over HTTP/2', {});
    return;
  }
  // The request line's limit, as over HTTP/1.1 (RFC 9112 §3: 414 for a target too long).
  if (request.url.length > config.limits.maxRequestLineBytes) {
    response.sendError(414, 'request target too long', {});
    return;
  }
  // The field count limit, as over HTTP/1.1 (RFC 6585 §5: 431).
  if (fieldCount(rawHeaders) > config.limits.maxHeaderFields) {
    response.sendError(431, 'too many header fields', {});
    return;
  }
  if (bodies !== undefined && !stream.endAfterHeaders) bodies.watch(request, Date.now());
  const expect = headers.expect;
  if (expect !== undefined) {
    // RFC 9110 §10.1.1: an expectation other than 100-continue may be answered with 417.
    if (expect.toLowerCase() !== '100-continue') {
      response.sendError(417, 'only 100-continue is supported', {});
      return;
    }
    request.continueOwed = !stream.endAfterHeaders;
  }
  let result: void | Promise<void>;
  try {
    result = handler(request, response);
  } catch (err) {
    handlerFailed(response, err, config);
    return;
  }
  if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
    watch(response, result, config);
  }
}

/** The 'stream' listener for an `http2` (or `http2.createSecureServer`) server. */
export function createHttp2StreamHandler(
  handler: Handler,
  config: EngineConfig,
  bodies?: H2BodyWatch,
): (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void {
  return (stream, headers, _flags, rawHeaders) =>
    serveHttp2Stream(handler, config, stream, headers, rawHeaders, bodies);
}

async function watch(res: H2Response, result: Promise<void>, config: EngineConfig): Promise<void> {
  try {
    await result;
  } catch (err) {
    handlerFailed(res, err, config);
  }
}

/** The HTTP/1.1 engine's rule (Connection.handlerFailed): HttpError status or 500, 5xx reported. */
function handlerFailed(res: H2Response, err: unknown, config: EngineConfig): void {
  const status = err instanceof HttpError ? err.status : 500;
  if (status >= 500) {
    try {
      config.onError(err);
    } catch {
      // An error reporter that throws must not take the server down with it.
    }
  }
  if (res.finished) return;
  const message = err instanceof HttpError && err.expose ? err.message : '';
  const headers = err instanceof HttpError ? err.headers : {};
  let sent = false;
  try {
    sent = res.sendError(status, message, headers);
  } catch {
    // e.g. an HttpError with a status h2 cannot send, or invalid extra headers: reset instead.
  }
  if (!sent) res.reset();
}

/**
 * The fields of a request head as HTTP/1.1 would count them: pseudo-headers left out, and the
 * cookie crumbs an h2 client may split Cookie into (RFC 9113 §8.2.3) counted as one field.
 */
function fieldCount(raw: readonly string[]): number {
  let count = 0;
  let cookie = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 0x3a) continue;
    if (name === 'cookie') cookie = true;
    else count++;
  }
  return cookie ? count + 1 : count;
}
