/**
 * The Response over HTTP/2 (see h2-exchange.ts for the life of an exchange): the handler's fields
 * kept until the head goes out, the framing decided once, HEADERS through stream.respond(), body
 * bytes through the stream's own write()/end(), trailers on 'wantTrailers'.
 */
import http2 from 'node:http2';
import type { Duplex, Readable } from 'node:stream';
import type { CookieOptions, HeaderValue, Response } from '../handler/types.js';
import { serializeSetCookie } from '../http/cookies.js';
import { reasonPhrase } from '../http/status.js';
import type { EngineConfig } from './config.js';
import {
  CONNECTION_SPECIFIC,
  type FieldRecord,
  type OutgoingFields,
  outgoing,
  outgoingCopy,
  setField,
} from './h2-fields.js';
import type { H2Request } from './h2-request.js';
import { checkedFieldKey, checkField, fieldKey, writeHeadArguments } from './outgoing-fields.js';
import { sendAll } from './send-all.js';

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

/** stream.respond() options, shared: node copies them and never writes to them. */
const RESPOND_NO_BODY: http2.ServerStreamResponseOptions = { endStream: true };
const RESPOND_BODY: http2.ServerStreamResponseOptions = { endStream: false };
const RESPOND_BODY_TRAILERS: http2.ServerStreamResponseOptions = { endStream: false, waitForTrailers: true };

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
    const key = checkedFieldKey(name, value);
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

  send(body: Readable | AsyncIterable<Uint8Array | string>): Promise<void> {
    return sendAll(this, body, () => this.gone);
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
      // end() knows the whole body: a mismatch is refused while a 500 can still replace it.
      if (!noBody && length !== undefined && length !== userLength) {
        throw new Error(`response body of ${length} bytes does not match its Content-Length ${userLength}`);
      }
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
   * once when a 100 Continue was owed and never sent (the client may be waiting for it), and when
   * the body timed out (see H2BodyWatch).
   */
  private discardBody(): void {
    const stream = this.stream;
    const request = this.request;
    if (stream.endAfterHeaders || stream.readableEnded || this.gone) return;
    if (request.continueOwed || request.timedOut) {
      request.continueOwed = false;
      stream.close(NGHTTP2_NO_ERROR);
      return;
    }
    const limit = this.config.maxDrainBytes;
    let discarded = 0;
    request.draining = true;
    stream.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      request.bodyBytes += chunk.length;
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

function toBuffer(chunk: string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
