/**
 * One HTTP/2 exchange as a Berth Request/Response pair: wraps the compat objects of an `http2`
 * server's 'request' event so any Handler (static files, proxy, cache) runs over h2 unchanged.
 *
 * Life of an h2 exchange. node:http2 owns the socket, the frames, flow control and HPACK; a
 * 'request' event hands us Http2ServerRequest/Http2ServerResponse. serveHttp2Stream() wraps them
 * in H2Request/H2Response and calls the handler. Headers the handler sets stay in H2Response until
 * the head goes out (first write()/end(), like the HTTP/1.1 ServerResponse): then the framing is
 * decided once — no body for HEAD/204/304, Content-Length as the handler set it or as end(chunk)
 * knows it, else the body runs until END_STREAM — and one res.writeHead() call submits HEADERS.
 * Body bytes go through res.write(), whose boolean is the stream's backpressure; res.end() sends
 * END_STREAM, or trailers when addTrailers() gave some (compat always asks for 'wantTrailers').
 * A throw or rejection becomes the same text error response HTTP/1.1 sends, or RST_STREAM
 * (INTERNAL_ERROR) when the head already went out, since a status can no longer change. Once the
 * response ends, what is left of the request body is read and dropped (up to maxDrainBytes, then
 * RST_STREAM(NO_ERROR)), as the HTTP/1.1 engine drains: a paused request stream never closes.
 *
 * Differences from HTTP/1.1 that are the protocol's, not choices:
 * - RFC 9113 §8.2.2: connection-specific fields (Connection, Keep-Alive, Proxy-Connection,
 *   Transfer-Encoding, Upgrade; TE too, meaningless in a response) are dropped silently — node
 *   would throw on them, and shared code (static/, cli/) may set them for HTTP/1.1.
 * - RFC 9113 §8.3.2: no reason phrase; statusMessage is kept but never sent.
 * - RFC 9113 §8.1: trailers may follow any body, not only a chunked one.
 * - A status outside 200–599 cannot be a final h2 response (node enforces it): RangeError.
 */
import http2 from 'node:http2';
import type { Duplex, Readable } from 'node:stream';
import { HttpError } from '../handler/http-error.js';
import type {
  CookieOptions,
  Handler,
  HeaderValue,
  IncomingHeaders,
  Request,
  Response,
} from '../handler/types.js';
import { parseCookies, serializeSetCookie } from '../http/cookies.js';
import { httpDate } from '../http/date.js';
import { isToken } from '../http/field-syntax.js';
import { reasonPhrase } from '../http/status.js';
import type { EngineConfig } from './config.js';
import { combineFields } from './request.js';
import { checkFieldValue } from './slab.js';

type OutgoingFields = Record<string, string | string[]>;

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;
const EMPTY: IncomingHeaders = Object.freeze(Object.create(null));

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
 * Serves one h2 request with `handler`: call it from an `http2` server's 'request' event (see
 * createHttp2Handler). Never throws; handler failures are rendered (or reset the stream) and 5xx
 * errors go to config.onError.
 */
export function serveHttp2Stream(
  handler: Handler,
  config: EngineConfig,
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
): void {
  const request = new H2Request(req, config.limits.maxBufferedBodyBytes);
  const response = new H2Response(res, req, config);
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

/** The 'request' listener for an `http2` (or `http2.createSecureServer`) server. */
export function createHttp2Handler(
  handler: Handler,
  config: EngineConfig,
): (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void {
  return (req, res) => serveHttp2Stream(handler, config, req, res);
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
 * The Request over HTTP/2: head fields from the HEADERS frame (pseudo-headers removed, `host`
 * from `:authority`), the body read from the compat request stream.
 */
export class H2Request implements Request {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '2.0';
  readonly remoteAddress: string;
  readonly remotePort: number;
  private headerMap: IncomingHeaders | undefined = undefined;
  private rawList: readonly string[] | undefined = undefined;
  private trailerMap: IncomingHeaders | undefined = undefined;
  private cookieMap: Record<string, string | undefined> | undefined = undefined;

  constructor(
    private readonly raw: http2.Http2ServerRequest,
    private readonly maxBufferedBodyBytes: number,
  ) {
    const pseudo = raw.headers;
    this.method = raw.method;
    // CONNECT (RFC 9113 §8.5) has no :path; its target is the authority, as in authority-form.
    this.url = pseudo[':path'] ?? pseudo[':authority'] ?? '';
    // Read now: the session's socket may be gone by the time an access log asks.
    const socket = raw.socket;
    this.remoteAddress = socket?.remoteAddress ?? '';
    this.remotePort = socket?.remotePort ?? 0;
  }

  /**
   * Lower-case fields, repeated ones joined as for HTTP/1.1 — which also joins the cookie crumbs
   * an h2 client may split (RFC 9113 §8.2.3) with "; ". `host` is filled from `:authority` when
   * the client sent no Host (RFC 9113 §8.3.1: clients SHOULD use `:authority` instead).
   */
  get headers(): IncomingHeaders {
    if (this.headerMap === undefined) {
      const map = combineFields(this.rawHeaders) as Record<string, string | string[] | undefined>;
      const authority = this.raw.headers[':authority'];
      if (map.host === undefined && authority !== undefined) map.host = authority;
      this.headerMap = map;
    }
    return this.headerMap;
  }

  /** The fields as received, pseudo-headers left out (no synthesized `host`). */
  get rawHeaders(): readonly string[] {
    this.rawList ??= withoutPseudo(this.raw.rawHeaders);
    return this.rawList;
  }

  get trailers(): IncomingHeaders {
    if (this.trailerMap !== undefined) return this.trailerMap;
    const raw = this.raw.rawTrailers;
    if (raw.length === 0) return EMPTY;
    const map = combineFields(withoutPseudo(raw));
    // Trailers arrive once, at the end of the body; cache only when that is behind us.
    if (this.raw.complete) this.trailerMap = map;
    return map;
  }

  get cookies(): Readonly<Record<string, string | undefined>> {
    if (this.cookieMap === undefined) {
      const header = this.headers.cookie;
      this.cookieMap = parseCookies(Array.isArray(header) ? header.join('; ') : header);
    }
    return this.cookieMap;
  }

  /**
   * The body, read once. Leaving the loop early leaves the stream usable for the response
   * (destroyOnReturn: false). A reset by the client rejects (premature close); nghttp2 already
   * rejects a body that disagrees with its Content-Length (RFC 9113 §8.1.1).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    const raw = this.raw;
    for await (const chunk of raw.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
    if (raw.aborted) throw new Error('request aborted before its body was complete');
  }

  async buffer(): Promise<Buffer> {
    const limit = this.maxBufferedBodyBytes;
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of this) {
      total += chunk.length;
      if (total > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, 'request body is not valid JSON');
    }
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = await this.buffer();
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }
}

/**
 * The Response over HTTP/2. Header rules match ServerResponse (token names, values without
 * CR/LF/NUL, Date and Server added, no body for HEAD/204/304); the bytes go out through the
 * compat response, whose write() result is the stream's backpressure.
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
  private fields: Map<string, HeaderValue> | undefined = undefined;
  /** HEAD: the head is sent as for GET, the body never (RFC 9110 §9.3.2). */
  private readonly isHead: boolean;

  constructor(
    private readonly raw: http2.Http2ServerResponse,
    /** The request answered: its unread body is discarded once the response ends. */
    private readonly request: http2.Http2ServerRequest,
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

  /** Nothing more can be done for this exchange: the response was handed over, or the stream is gone. */
  get finished(): boolean {
    return this.raw.writableEnded || this.gone;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headState !== 0) throw new Error('cannot set headers after they are sent');
    checkField(name, value);
    (this.fields ??= new Map()).set(name.toLowerCase(), value);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.fields?.get(name.toLowerCase());
  }

  hasHeader(name: string): boolean {
    return this.fields?.has(name.toLowerCase()) === true;
  }

  removeHeader(name: string): void {
    if (this.headState !== 0) throw new Error('cannot remove headers after they are sent');
    this.fields?.delete(name.toLowerCase());
  }

  getHeaderNames(): string[] {
    return this.fields === undefined ? [] : [...this.fields.keys()];
  }

  writeHead(
    statusCode: number,
    messageOrHeaders?: string | Readonly<Record<string, HeaderValue>>,
    headers?: Readonly<Record<string, HeaderValue>>,
  ): this {
    if (this.headState !== 0) throw new Error('writeHead() called after the head was sent');
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) {
      throw new RangeError(`invalid status code ${statusCode}`);
    }
    this.statusCode = statusCode;
    let fields = headers;
    if (typeof messageOrHeaders === 'string') {
      checkFieldValue('status message', messageOrHeaders);
      this.statusMessage = messageOrHeaders;
    } else {
      fields = messageOrHeaders;
    }
    if (fields !== undefined) for (const name of Object.keys(fields)) this.setHeader(name, fields[name]!);
    this.headState = 1;
    return this;
  }

  /**
   * Sends a 1xx HEADERS frame. 103 with a Link goes through res.writeEarlyHints() (node's own
   * Early Hints path); anything else through stream.additionalHeaders().
   */
  writeInformational(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): void {
    if (this.headState === 2) throw new Error('interim responses must precede the final head');
    // RFC 9113 §8.6: 101 Switching Protocols does not exist in HTTP/2.
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 199 || statusCode === 101) {
      throw new RangeError('not an interim status');
    }
    const fields: OutgoingFields = Object.create(null);
    if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const value = headers[name]!;
        checkField(name, value);
        const key = name.toLowerCase();
        if (!CONNECTION_SPECIFIC.has(key)) fields[key] = outgoing(value);
      }
    }
    if (this.gone) return;
    if (statusCode === 103 && fields.link !== undefined && typeof this.raw.writeEarlyHints === 'function') {
      this.raw.writeEarlyHints(fields);
      return;
    }
    this.raw.stream.additionalHeaders({ ...fields, ':status': statusCode });
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
    if (bytes !== undefined) this.sendBody(bytes);
    if (this.remaining !== undefined && this.remaining > 0) {
      // As over HTTP/1.1, a body short of its Content-Length is an error, not a complete response.
      this.reset();
      return;
    }
    this.raw.end();
    this.discardBody();
  }

  /**
   * Replaces whatever the handler set with a short text error response and ends it, as
   * ServerResponse.sendError does. False when HEADERS already went out (the caller resets).
   */
  sendError(status: number, message: string, headers: Readonly<Record<string, string>>): boolean {
    if (this.headState === 2 || this.raw.writableEnded) return false;
    this.fields = undefined;
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
    const stream = this.raw.stream;
    if (!stream.destroyed && !stream.closed) stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  drain(): Promise<void> {
    const stream = this.raw.stream;
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

  /** Trailer fields, sent after the body whatever its framing (h2 trailers are a HEADERS frame). */
  addTrailers(trailers: Readonly<Record<string, string>>): void {
    const fields: Record<string, string> = Object.create(null);
    for (const name of Object.keys(trailers)) {
      const value = trailers[name]!;
      checkField(name, value);
      const key = name.toLowerCase();
      if (!CONNECTION_SPECIFIC.has(key)) fields[key] = value;
    }
    this.raw.addTrailers(fields);
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
    this.raw.stream.on(event, listener);
    return this;
  }

  once(event: 'drain' | 'close', listener: () => void): this {
    this.raw.stream.once(event, listener);
    return this;
  }

  off(event: 'drain' | 'close', listener: () => void): this {
    this.raw.stream.off(event, listener);
    return this;
  }

  private get gone(): boolean {
    const stream = this.raw.stream;
    return stream.destroyed || stream.closed;
  }

  /** Decides the framing and submits HEADERS; `length` is the whole body when end() knows it. */
  private sendHead(length: number | undefined): void {
    const status = this.statusCode;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`status ${status} cannot be a final HTTP/2 response`);
    }
    const noBody = this.isHead || status === 204 || status === 304;
    const out: OutgoingFields = Object.create(null);
    let userLength: number | undefined;
    let sawDate = false;
    let sawServer = false;
    if (this.fields !== undefined) {
      for (const [key, value] of this.fields) {
        if (CONNECTION_SPECIFIC.has(key)) continue;
        switch (key) {
          case 'content-length':
            // RFC 9110 §8.6: no Content-Length in a 204 response.
            if (status === 204) continue;
            userLength = Number(value);
            if (!Number.isSafeInteger(userLength) || userLength < 0)
              throw new TypeError('invalid Content-Length');
            out[key] = String(userLength);
            continue;
          case 'date':
            sawDate = true;
            break;
          case 'server':
            sawServer = true;
            break;
        }
        out[key] = outgoing(value);
      }
    }
    if (!sawDate) out.date = httpDate();
    const server = this.config.serverHeader;
    if (!sawServer && server !== undefined) out.server = server;
    if (noBody) {
      this.hasBody = false;
      // RFC 9110 §9.3.2: a HEAD response may carry the Content-Length a GET would have.
      if (this.isHead && userLength === undefined && length !== undefined && length > 0) {
        out['content-length'] = String(length);
      }
    } else if (userLength !== undefined) {
      this.remaining = userLength;
    } else if (length !== undefined) {
      out['content-length'] = String(length);
    }
    try {
      this.raw.writeHead(status, out);
    } catch (err) {
      // Nothing was sent (e.g. node refused an array for a single-value field): leave the compat
      // response clean so an error response can still replace this one.
      for (const name of this.raw.getHeaderNames()) this.raw.removeHeader(name);
      throw err;
    }
    this.headState = 2;
  }

  /**
   * After the response: reads and drops what is left of the request body, as the HTTP/1.1 engine
   * does. A request stream left paused would never close (node waits for its 'end'), and the
   * client would stall on flow control. Beyond maxDrainBytes, RFC 9113 §8.1: "a server MAY
   * request that the client abort transmission of a request without error by sending a
   * RST_STREAM with an error code of NO_ERROR after sending a complete response".
   */
  private discardBody(): void {
    const req = this.request;
    const stream = this.raw.stream;
    if (stream.endAfterHeaders || req.complete) return;
    const limit = this.config.maxDrainBytes;
    let discarded = 0;
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > limit && !stream.closed) stream.close(NGHTTP2_NO_ERROR);
    });
    req.resume();
  }

  private sendBody(bytes: Buffer): boolean {
    const stream = this.raw.stream;
    if (this.gone) return false;
    if (!this.hasBody || bytes.length === 0) return !stream.writableNeedDrain;
    if (this.remaining !== undefined) {
      if (bytes.length > this.remaining) {
        throw new Error(`response body exceeds its Content-Length by ${bytes.length - this.remaining} bytes`);
      }
      this.remaining -= bytes.length;
    }
    return this.raw.write(bytes);
  }
}

/** The same checks as ServerResponse.setHeader: a token name, values that cannot split a field. */
function checkField(name: string, value: HeaderValue): void {
  if (!isToken(name)) throw new TypeError(`invalid header name "${name}"`);
  if (typeof value === 'string') checkFieldValue(name, value);
  else if (typeof value !== 'number') for (const v of value) checkFieldValue(name, v);
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
