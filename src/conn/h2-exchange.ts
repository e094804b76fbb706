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

import http2 from 'node:http2';
import type { Duplex, Readable } from 'node:stream';
import { HttpError } from '../handler/http-error.js';
import { parseJsonBody, readWhole, toArrayBuffer } from '../handler/read-body.js';
import type {
  CookieOptions,
  Handler,
  HeaderValue,
  IncomingHeaders,
  Request,
  Response,
} from '../handler/types.js';
import { parseCookies, serializeSetCookie } from '../http/cookies.js';
import { reasonPhrase } from '../http/status.js';
import type { EngineConfig } from './config.js';
import { checkField, checkFieldValue, writeHeadArguments } from './outgoing-fields.js';
import { combineFields } from './request.js';

type OutgoingFields = Record<string, string | string[] | number>;
/** The fields a handler set, by lower-case name, as own properties (see H2Response.fields). */
type FieldRecord = Record<string, HeaderValue>;

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;
const EMPTY: IncomingHeaders = Object.freeze(Object.create(null));

/** stream.respond() options, shared: node copies them and never writes to them. */
const RESPOND_NO_BODY: http2.ServerStreamResponseOptions = { endStream: true };
const RESPOND_BODY: http2.ServerStreamResponseOptions = { endStream: false };
const RESPOND_BODY_TRAILERS: http2.ServerStreamResponseOptions = { endStream: false, waitForTrailers: true };
const CONTINUE: http2.OutgoingHttpHeaders = { ':status': 100 };

/**
 * RFC 9113 §8.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing
 * connection-specific header fields" — these are dropped from responses, interim responses and
 * trailers. TE is listed because only `TE: trailers` is allowed, and only in requests.
 */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
]);

/**
 * The response fields node:http2 refuses to repeat (its kSingleValueHeaders).
 * Checked before stream.respond(): for HEAD/204/304 node ends the stream's writable side before
 * it validates, so a refused head there would leave no way to send an error response.
 */
const SINGLE_VALUE: ReadonlySet<string> = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
]);

/**
 * Field names setHeader() has accepted (tokens, so not checked again), each with its lower-case
 * key; at most MAX_FIELD_KEYS of them. Handlers pass the same few literal names ('ETag',
 * 'Content-Type') on every response: a remembered key is one string whose hash is already known,
 * where toLowerCase() makes a fresh string to hash on every call.
 */
const fieldKeys = new Map<string, string>();
const MAX_FIELD_KEYS = 512;

/** The lower-case key for a field name (valid or not: getHeader() takes any string). */
function fieldKey(name: string): string {
  return fieldKeys.get(name) ?? name.toLowerCase();
}

/** The listener for h2 stream errors: see the module comment. */
function ignoreStreamError(): void {}

/**
 * Serves one h2 stream with `handler`: call it from an `http2` server's 'stream' event (see
 * createHttp2StreamHandler). `headers` is node's header object (pseudo-headers included),
 * `rawHeaders` the flat list as received. Never throws; handler failures are rendered (or reset
 * the stream) and 5xx errors go to config.onError.
 */
export function serveHttp2Stream(
  handler: Handler,
  config: EngineConfig,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: readonly string[],
): void {
  stream.on('error', ignoreStreamError);
  const request = new H2Request(stream, headers, rawHeaders, config.limits.maxBufferedBodyBytes);
  const response = new H2Response(stream, request, config);
  if (request.method === 'CONNECT') {
    response.sendError(405, 'CONNECT is not supported over HTTP/2', {});
    return;
  }
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
): (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void {
  return (stream, headers, _flags, rawHeaders) =>
    serveHttp2Stream(handler, config, stream, headers, rawHeaders);
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

type Peer = { readonly address: string; readonly port: number };
const NO_PEER: Peer = { address: '', port: 0 };
/** The client's address, read once per session (a Proxy over the socket makes each read dear). */
const peers = new WeakMap<http2.Http2Session, Peer>();

function peerOf(stream: http2.ServerHttp2Stream): Peer {
  const session = stream.session;
  if (session === undefined) return NO_PEER;
  let peer = peers.get(session);
  if (peer === undefined) {
    try {
      const socket = session.socket;
      peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    } catch {
      // ERR_HTTP2_SOCKET_UNBOUND: the session already let go of its socket.
      return NO_PEER;
    }
    peers.set(session, peer);
  }
  return peer;
}

/**
 * The Request over HTTP/2: method and target from the pseudo-headers, head fields from the raw
 * list (pseudo-headers removed, `host` from `:authority`), the body read from the stream itself.
 */
export class H2Request implements Request {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '2.0';
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Expect: 100-continue was received, and neither has the handler started reading the body nor
   * has a 100 gone out: the client may be holding the body back.
   */
  continueOwed = false;
  private readonly authority: string | undefined;
  private headerMap: IncomingHeaders | undefined = undefined;
  private rawList: readonly string[] | undefined = undefined;
  private rawTrailers: readonly string[] | undefined = undefined;
  private trailerMap: IncomingHeaders | undefined = undefined;
  private cookieMap: Record<string, string | undefined> | undefined = undefined;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    pseudo: http2.IncomingHttpHeaders,
    private readonly raw: readonly string[],
    private readonly maxBufferedBodyBytes: number,
  ) {
    this.method = pseudo[':method'] ?? '';
    this.authority = pseudo[':authority'];
    // CONNECT (RFC 9113 §8.5) has no :path; its target is the authority, as in authority-form.
    this.url = pseudo[':path'] ?? this.authority ?? '';
    // Read now: the session's socket may be gone by the time an access log asks.
    const peer = peerOf(stream);
    this.remoteAddress = peer.address;
    this.remotePort = peer.port;
    // Trailers come as one HEADERS frame, possibly before the handler reads the body.
    if (!stream.endAfterHeaders) {
      stream.once('trailers', (_fields: unknown, _flags: number, raw: string[]) => {
        this.rawTrailers = raw;
      });
    }
  }

  /**
   * Lower-case fields, repeated ones joined as for HTTP/1.1 — which also joins the cookie crumbs
   * an h2 client may split (RFC 9113 §8.2.3) with "; ". `host` is filled from `:authority` when
   * the client sent no Host (RFC 9113 §8.3.1: clients SHOULD use `:authority` instead).
   */
  get headers(): IncomingHeaders {
    if (this.headerMap === undefined) {
      const map = combineFields(this.rawHeaders) as Record<string, string | string[] | undefined>;
      if (map.host === undefined && this.authority !== undefined) map.host = this.authority;
      this.headerMap = map;
    }
    return this.headerMap;
  }

  /** The fields as received, pseudo-headers left out (no synthesized `host`). */
  get rawHeaders(): readonly string[] {
    this.rawList ??= withoutPseudo(this.raw);
    return this.rawList;
  }

  /** Empty until the trailer HEADERS frame has arrived (after the body's last DATA frame). */
  get trailers(): IncomingHeaders {
    if (this.trailerMap === undefined) {
      const raw = this.rawTrailers;
      if (raw === undefined || raw.length === 0) return EMPTY;
      this.trailerMap = combineFields(withoutPseudo(raw));
    }
    return this.trailerMap;
  }

  get cookies(): Readonly<Record<string, string | undefined>> {
    if (this.cookieMap === undefined) {
      const header = this.headers.cookie;
      this.cookieMap = parseCookies(Array.isArray(header) ? header.join('; ') : header);
    }
    return this.cookieMap;
  }

  /**
   * The body, read once. Sends the 100 Continue owed before the first read (RFC 9110 §10.1.1).
   * Leaving the loop early leaves the stream usable for the response (destroyOnReturn: false).
   * A reset by the client rejects (premature close); nghttp2 already rejects a body that
   * disagrees with its Content-Length (RFC 9113 §8.1.1).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    const stream = this.stream;
    if (this.continueOwed) {
      this.continueOwed = false;
      if (!stream.headersSent && !stream.destroyed && !stream.closed) stream.additionalHeaders(CONTINUE);
    }
    for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
    if (stream.aborted) throw new Error('request aborted before its body was complete');
  }

  buffer(): Promise<Buffer> {
    return readWhole(this, this.maxBufferedBodyBytes);
  }

  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return parseJsonBody(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return toArrayBuffer(await this.buffer());
  }
}

/**
 * The Response over HTTP/2. Header rules match ServerResponse (token names, values without
 * CR/LF/NUL, Date and Server added, no body for HEAD/204/304); the bytes go out through the
 * stream, whose write() result is its backpressure.
 */
export class H2Response implements Response {
  statusCode = 200;
  /** Kept for handlers that read it back; HTTP/2 has no reason phrase (RFC 9113 §8.3.2). */
  statusMessage = '';
  private headState: 0 | 1 | 2 = 0; // 0 open, 1 writeHead called, 2 HEADERS submitted
  private ended = false;
  private hasBody = true;
  /** Body bytes still owed under a Content-Length; undefined when the body ends at END_STREAM. */
  private remaining: number | undefined = undefined;
  /**
   * What the handler set, by lower-case name, as own properties (read back with Object.hasOwn).
   * A plain object rather than a Map, so that sendHead() can hand it to stream.respond() as it is
   * (node copies it): with only plain string and number fields, the common case, no second object
   * is built per response. Not a null-prototype object: V8 keeps those in dictionary mode, and
   * node's copy (a for-in loop) then costs more than building a plain object did.
   */
  private fields: FieldRecord | undefined = undefined;
  /**
   * A list value or a connection-specific field was set: sendHead() must build a filtered copy
   * (see outgoingCopy) instead of passing the record on.
   */
  private unusual = false;
  private trailerFields: Record<string, string> | undefined = undefined;
  /** HEAD: the head is sent as for GET, the body never (RFC 9110 §9.3.2). */
  private readonly isHead: boolean;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    /** The request answered: its unread body is discarded once the response ends. */
    private readonly request: H2Request,
    private readonly config: Pick<EngineConfig, 'serverHeader' | 'maxDrainBytes'>,
  ) {
    this.isHead = request.method === 'HEAD';
  }

  get headersSent(): boolean {
    return this.headState !== 0;
  }

  get writableEnded(): boolean {
    return this.ended;
  }

  /** Nothing more can be done for this exchange: the head and END_STREAM went out, or the stream is gone. */
  get finished(): boolean {
    return this.gone || (this.headState === 2 && this.stream.writableEnded);
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headState !== 0) throw new Error('cannot set headers after they are sent');
    let key = fieldKeys.get(name);
    if (key === undefined) {
      checkField(name, value);
      key = name.toLowerCase();
      if (fieldKeys.size < MAX_FIELD_KEYS) fieldKeys.set(name, key);
    } else if (typeof value === 'string') {
      checkFieldValue(name, value);
    } else {
      checkField(name, value);
    }
    setField((this.fields ??= {}), key, value);
    if (typeof value === 'object' || CONNECTION_SPECIFIC.has(key)) this.unusual = true;
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    const fields = this.fields;
    const key = fieldKey(name);
    return fields !== undefined && Object.hasOwn(fields, key) ? fields[key] : undefined;
  }

  hasHeader(name: string): boolean {
    return this.fields !== undefined && Object.hasOwn(this.fields, fieldKey(name));
  }

  removeHeader(name: string): void {
    if (this.headState !== 0) throw new Error('cannot remove headers after they are sent');
    if (this.fields !== undefined) Reflect.deleteProperty(this.fields, fieldKey(name));
  }

  getHeaderNames(): string[] {
    return this.fields === undefined ? [] : Object.keys(this.fields);
  }

  writeHead(
    statusCode: number,
    messageOrHeaders?: string | Readonly<Record<string, HeaderValue>>,
    headers?: Readonly<Record<string, HeaderValue>>,
  ): this {
    if (this.headState !== 0) throw new Error('writeHead() called after the head was sent');
    const { message, fields } = writeHeadArguments(statusCode, messageOrHeaders, headers);
    this.statusCode = statusCode;
    if (message !== undefined) this.statusMessage = message;
    if (fields !== undefined) for (const name of Object.keys(fields)) this.setHeader(name, fields[name]!);
    this.headState = 1;
    return this;
  }

  /** Sends a 1xx HEADERS frame (e.g. 103 Early Hints) through stream.additionalHeaders(). */
  writeInformational(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): void {
    if (this.headState === 2) throw new Error('interim responses must precede the final head');
    // RFC 9113 §8.6: 101 Switching Protocols does not exist in HTTP/2.
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 199 || statusCode === 101) {
      throw new RangeError('not an interim status');
    }
    const fields: OutgoingFields = { ':status': statusCode };
    if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const value = headers[name]!;
        checkField(name, value);
        const key = name.toLowerCase();
        if (!CONNECTION_SPECIFIC.has(key)) setField(fields, key, outgoing(value));
      }
    }
    if (this.gone) return;
    // A 100 sent here settles an Expect: 100-continue too.
    if (statusCode === 100) this.request.continueOwed = false;
    this.stream.additionalHeaders(fields);
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.ended) throw new Error('write() after end()');
    if (this.headState !== 2) this.sendHead(undefined);
    return this.sendBody(toBuffer(chunk));
  }

  end(chunk?: string | Uint8Array): void {
    if (this.ended) return;
    this.ended = true;
    const bytes = chunk === undefined ? undefined : toBuffer(chunk);
    if (this.headState !== 2) this.sendHead(bytes === undefined ? 0 : bytes.length);
    const stream = this.stream;
    if (this.hasBody) {
      if (bytes !== undefined) this.count(bytes.length);
      if (this.remaining !== undefined && this.remaining > 0) {
        // As over HTTP/1.1, a body short of its Content-Length is an error, not a complete response.
        this.reset();
        return;
      }
      // One call for the last chunk and END_STREAM: node sends them in the same DATA frame.
      if (!this.gone) {
        if (bytes !== undefined && bytes.length > 0) stream.end(bytes);
        else stream.end();
      }
    }
    this.discardBody();
  }

  /**
   * Replaces whatever the handler set with a short text error response and ends it, as
   * ServerResponse.sendError does. False when HEADERS already went out, or the stream is gone
   * (the caller resets).
   */
  sendError(status: number, message: string, headers: Readonly<Record<string, string>>): boolean {
    if (this.headState === 2 || this.stream.headersSent || this.gone) return false;
    this.fields = undefined;
    this.unusual = false;
    this.trailerFields = undefined;
    this.headState = 0;
    this.ended = false;
    this.remaining = undefined;
    this.statusCode = status;
    this.statusMessage = '';
    for (const name of Object.keys(headers)) this.setHeader(name, headers[name]!);
    this.setHeader('Content-Type', 'text/plain; charset=utf-8');
    this.setHeader('X-Content-Type-Options', 'nosniff');
    this.end(`${status} ${reasonPhrase(status)}${message === '' ? '' : `: ${message}`}\n`);
    return true;
  }

  /** Abandons the exchange with RST_STREAM(INTERNAL_ERROR) (RFC 9113 §8.1: an incomplete response). */
  reset(): void {
    if (!this.gone) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  drain(): Promise<void> {
    const stream = this.stream;
    if (!stream.writableNeedDrain || this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  async send(body: Readable | AsyncIterable<Uint8Array | string>): Promise<void> {
    try {
      for await (const chunk of body) {
        if (this.gone) break;
        if (!this.write(chunk as Uint8Array | string)) await this.drain();
      }
    } finally {
      if (this.gone && 'destroy' in body && typeof body.destroy === 'function') body.destroy();
    }
    if (!this.gone) this.end();
  }

  /**
   * Trailer fields, sent after the body whatever its framing (h2 trailers are a HEADERS frame).
   * Over h2 they must come before end() — and, for a body sent whole by end(chunk), before the
   * head goes out (see the module comment); later ones, and any for HEAD/204/304, are dropped.
   */
  addTrailers(trailers: Readonly<Record<string, string>>): void {
    const fields: Record<string, string> = this.trailerFields ?? {};
    for (const name of Object.keys(trailers)) {
      const value = trailers[name]!;
      checkField(name, value);
      const key = name.toLowerCase();
      if (!CONNECTION_SPECIFIC.has(key)) setField(fields, key, value);
    }
    this.trailerFields = fields;
  }

  /** HTTP/2 has no connection to take over (extended CONNECT is not supported). */
  takeOver(): Promise<{ socket: Duplex; head: Buffer }> {
    return Promise.reject(new Error('takeOver() is not available over HTTP/2'));
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    const line = serializeSetCookie(name, value, options);
    const existing = this.getHeader('set-cookie');
    if (existing === undefined) this.setHeader('Set-Cookie', [line]);
    else
      this.setHeader('Set-Cookie', [...(typeof existing === 'object' ? existing : [String(existing)]), line]);
    return this;
  }

  /** 'drain' and 'close' are the stream's own: 'close' fires once it closes, finished or reset. */
  on(event: 'drain' | 'close', listener: () => void): this {
    this.stream.on(event, listener);
    return this;
  }

  once(event: 'drain' | 'close', listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  off(event: 'drain' | 'close', listener: () => void): this {
    this.stream.off(event, listener);
    return this;
  }

  private get gone(): boolean {
    const stream = this.stream;
    return stream.destroyed || stream.closed;
  }

  /**
   * Decides the framing and submits HEADERS; `length` is the whole body when end() sends the
   * head (so no more body can follow), undefined when write() does.
   *
   * The handler's record goes to stream.respond() as it is when it holds only plain fields (node
   * copies it before it returns); what the framing adds to it — `:status`, Server, a
   * Content-Length known from end() — is taken out again afterwards, so getHeader() still sees
   * only what the handler set. Date is node's (respond() adds one, IMF-fixdate, cached per
   * second, unless the handler set its own). Anything unusual goes through outgoingCopy().
   */
  private sendHead(length: number | undefined): void {
    const status = this.statusCode;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`status ${status} cannot be a final HTTP/2 response`);
    }
    const stream = this.stream;
    // RFC 9110 §15.3.6: no content in a 205 either (node ends the stream for it). node ends the
    // writable side of a HEAD stream on arrival, and before it validates a head it refuses (see
    // SINGLE_VALUE): whatever follows such a head can only be bodiless.
    const noBody = this.isHead || status === 204 || status === 205 || status === 304 || stream.writableEnded;
    const fields = this.fields;
    let userLength: number | undefined;
    let copy = this.unusual;
    const setLength = fields?.['content-length'];
    if (setLength !== undefined) {
      userLength = Number(setLength);
      if (!Number.isSafeInteger(userLength) || userLength < 0) throw new TypeError('invalid Content-Length');
      // RFC 9110 §8.6: no Content-Length in a 204 response; a string is sent in its plain form.
      if (status === 204 || (typeof setLength === 'string' && String(userLength) !== setLength)) copy = true;
    }
    const out: OutgoingFields =
      fields === undefined
        ? {}
        : copy
          ? outgoingCopy(fields, status, userLength)
          : (fields as OutgoingFields);
    let options: http2.ServerStreamResponseOptions;
    let addedLength = false;
    if (noBody) {
      this.hasBody = false;
      options = RESPOND_NO_BODY;
      // RFC 9110 §9.3.2: a HEAD response may carry the Content-Length a GET would have.
      addedLength = this.isHead && userLength === undefined && length !== undefined && length > 0;
    } else {
      if (userLength !== undefined) this.remaining = userLength;
      else addedLength = length !== undefined;
      // Trailers can only be asked for now: always for a streamed body, else when already set.
      options =
        length === undefined || this.trailerFields !== undefined ? RESPOND_BODY_TRAILERS : RESPOND_BODY;
    }
    if (this.gone) {
      // The client went away: nothing to send, and write()/end() become no-ops.
      this.hasBody = false;
      this.headState = 2;
      return;
    }
    out[':status'] = status;
    if (addedLength) out['content-length'] = length!;
    const server = this.config.serverHeader;
    const addedServer = server !== undefined && !Object.hasOwn(out, 'server');
    if (addedServer) out.server = server;
    try {
      stream.respond(out, options);
    } finally {
      if (out === fields) {
        // Last added, first deleted: V8 then just steps the object's shape back.
        if (addedServer) Reflect.deleteProperty(out, 'server');
        if (addedLength) Reflect.deleteProperty(out, 'content-length');
        Reflect.deleteProperty(out, ':status');
      }
    }
    this.headState = 2;
    if (options === RESPOND_BODY_TRAILERS) stream.once('wantTrailers', () => this.sendTrailers());
  }

  /** 'wantTrailers': the last DATA frame went out without END_STREAM; trailers (or none) end it. */
  private sendTrailers(): void {
    if (this.gone) return;
    try {
      // Empty trailers: node sends an empty DATA frame with END_STREAM instead of a HEADERS frame.
      this.stream.sendTrailers(this.trailerFields ?? {});
    } catch {
      this.reset();
    }
  }

  /**
   * After the response: reads and drops what is left of the request body, as the HTTP/1.1 engine
   * does. A request stream left paused would never close (node waits for its 'end'), and the
   * client would stall on flow control. Beyond maxDrainBytes, RFC 9113 §8.1: "a server MAY
   * request that the client abort transmission of a request without error by sending a
   * RST_STREAM with an error code of NO_ERROR after sending a complete response". That is done at
   * once when a 100 Continue was owed and never sent: the client may be waiting for it.
   */
  private discardBody(): void {
    const stream = this.stream;
    if (stream.endAfterHeaders || stream.readableEnded || this.gone) return;
    if (this.request.continueOwed) {
      this.request.continueOwed = false;
      stream.close(NGHTTP2_NO_ERROR);
      return;
    }
    const limit = this.config.maxDrainBytes;
    let discarded = 0;
    stream.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > limit && !stream.closed) stream.close(NGHTTP2_NO_ERROR);
    });
    stream.resume();
  }

  /** Counts `n` body bytes against the Content-Length the handler set, if any. */
  private count(n: number): void {
    if (this.remaining === undefined) return;
    if (n > this.remaining) {
      throw new Error(`response body exceeds its Content-Length by ${n - this.remaining} bytes`);
    }
    this.remaining -= n;
  }

  private sendBody(bytes: Buffer): boolean {
    const stream = this.stream;
    if (this.gone) return false;
    if (!this.hasBody || bytes.length === 0) return !stream.writableNeedDrain;
    this.count(bytes.length);
    return stream.write(bytes);
  }
}

/**
 * The handler's fields as node:http2 takes them, in a new object: connection-specific ones left
 * out (RFC 9113 §8.2.2), a list refused where node would refuse it, Content-Length in its plain
 * form (none for 204, RFC 9110 §8.6), lists copied.
 */
function outgoingCopy(fields: FieldRecord, status: number, userLength: number | undefined): OutgoingFields {
  const out: OutgoingFields = {};
  for (const key of Object.keys(fields)) {
    if (CONNECTION_SPECIFIC.has(key)) continue;
    if (key === 'content-length') {
      if (status !== 204) out[key] = String(userLength);
      continue;
    }
    const value = fields[key]!;
    if (typeof value === 'object' && value.length > 1 && SINGLE_VALUE.has(key)) {
      throw new TypeError(`header "${key}" cannot have more than one value over HTTP/2`);
    }
    setField(out, key, outgoing(value));
  }
  return out;
}

/**
 * Sets a field on a plain object. `__proto__` is a valid token: plain assignment would touch the
 * prototype instead of adding the field, so that one name is defined as an own property.
 */
function setField(out: Record<string, unknown>, key: string, value: HeaderValue): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

function outgoing(value: HeaderValue): string | string[] {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : [...value];
}

function withoutPseudo(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) !== 0x3a) out.push(name, raw[i + 1]!);
  }
  return out;
}

function toBuffer(chunk: string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
