/**
 * ServerResponse: the Response a handler builds. It decides the response framing once, when the
 * head goes out (RFC 9112 §6.3 from the sender's side), writes the head straight into the shared
 * slab, and hands byte views to its ResponseSink (the Connection), which keeps them in request order.
 */
import type { Duplex, Readable } from 'node:stream';
import type { CookieOptions, HeaderValue, Response } from '../handler/types.js';
import { serializeSetCookie } from '../http/cookies.js';
import { httpDate } from '../http/date.js';
import { reasonPhrase } from '../http/status.js';
import { CRLF, chunkHeader, lastChunkWithTrailers } from '../wire/body-encoders.js';
import {
  checkedFieldKey,
  checkField,
  checkFieldValue,
  checkStatus,
  fieldKey,
  writeHeadArguments,
} from './outgoing-fields.js';
import type { ServerRequest } from './request.js';
import { sendAll } from './send-all.js';
import { slabWriter } from './slab.js';

/** What a response needs from its connection. */
export interface ResponseSink {
  /** Queues bytes of res for the socket (in request order). The sink keeps the reference. */
  send(res: ServerResponse, bytes: Buffer): void;
  /** res has handed over its last byte; the connection stays open only if keepAlive. */
  finished(res: ServerResponse): void;
  /** The response cannot be completed (e.g. fewer bytes than its Content-Length): cut the connection. */
  abort(res: ServerResponse, reason: Error): void;
  /** Whether the writer should wait for 'drain' before writing more. */
  backedUp(res: ServerResponse): boolean;
  /** Detaches the socket after res's head (see Response.takeOver). */
  takeOver(res: ServerResponse): Promise<{ socket: Duplex; head: Buffer }>;
  /** Asked when the head goes out: false when the connection must close after this response. */
  mayKeepAlive(res: ServerResponse): boolean;
  /** The Server field value, or undefined to send none. */
  readonly serverHeader: string | undefined;
}

enum Body {
  None = 0,
  Length = 1,
  Chunked = 2,
  Close = 3,
}

/** Bodies up to this size are copied into the slab right after the head: one view, one write. */
const INLINE_BODY_BYTES = 2048;

const statusLines = new Map<number, string>();
function statusLine(status: number, message: string): string {
  if (message !== '') return `HTTP/1.1 ${status} ${message}\r\n`;
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

let cachedDate = '';
let cachedServer: string | undefined;
let cachedLines = '';
/**
 * The Date line (and Server line, when sent) as one string, rebuilt when the second changes:
 * httpDate() returns the same string object all second, so the check is one comparison.
 */
function dateAndServer(server: string | undefined): string {
  const date = httpDate();
  if (date !== cachedDate || server !== cachedServer) {
    cachedDate = date;
    cachedServer = server;
    cachedLines = server === undefined ? `Date: ${date}\r\n` : `Date: ${date}\r\nServer: ${server}\r\n`;
  }
  return cachedLines;
}

type Listener = { event: 'drain' | 'close'; fn: () => void; once: boolean };

export class ServerResponse implements Response {
  statusCode = 200;
  statusMessage = '';
  /** Whether the connection may carry another request after this response. */
  keepAlive: boolean;
  /** Bytes given to the sink so far (head included), for logs. */
  bytesSent = 0;
  /** Set by the connection when the exchange ended before the response could (client gone). */
  aborted = false;
  /** Connection bookkeeping: the request answered (undefined for a parse-error response). */
  request: ServerRequest | undefined = undefined;
  /** Connection bookkeeping: bytes held back while earlier responses are still being written. */
  held: Buffer[] | undefined = undefined;
  heldBytes = 0;
  /** The request is CONNECT: a 2xx answer starts a tunnel and carries no framing (RFC 9110 §9.3.6). */
  tunnel = false;
  /** Connection bookkeeping: the response owed after this one. */
  next: ServerResponse | undefined = undefined;
  /** Connection bookkeeping: end() has handed over the last byte. */
  isFinished = false;
  private headState: 0 | 1 | 2 = 0; // 0 open, 1 writeHead called, 2 head bytes sent
  private ended = false;
  private body: Body = Body.None;
  private remaining = 0;
  private keys: string[] | undefined = undefined; // lower-case names
  private names: string[] | undefined = undefined;
  private values: HeaderValue[] | undefined = undefined;
  private trailers: [string, string][] | undefined = undefined;
  private listeners: Listener[] | undefined = undefined;

  constructor(
    private readonly sink: ResponseSink,
    /** HEAD: the head is sent as for GET, the body never (RFC 9110 §9.3.2). */
    private readonly isHead: boolean,
    /** HTTP/1.0 clients get close-delimited bodies instead of chunked, and keep-alive said aloud. */
    private readonly http10: boolean,
    keepAlive: boolean,
  ) {
    this.keepAlive = keepAlive;
  }

  get headersSent(): boolean {
    return this.headState !== 0;
  }

  get writableEnded(): boolean {
    return this.ended;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headState !== 0) throw new Error('cannot set headers after they are sent');
    const key = checkedFieldKey(name, value);
    if (this.keys === undefined) {
      this.keys = [key];
      this.names = [name];
      this.values = [value];
      return this;
    }
    const i = this.keys.indexOf(key);
    if (i === -1) {
      this.keys.push(key);
      this.names!.push(name);
      this.values!.push(value);
    } else {
      this.names![i] = name;
      this.values![i] = value;
    }
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    const i = this.keys === undefined ? -1 : this.keys.indexOf(fieldKey(name));
    return i === -1 ? undefined : this.values![i];
  }

  hasHeader(name: string): boolean {
    return this.keys !== undefined && this.keys.indexOf(fieldKey(name)) !== -1;
  }

  removeHeader(name: string): void {
    if (this.headState !== 0) throw new Error('cannot remove headers after they are sent');
    const i = this.keys === undefined ? -1 : this.keys.indexOf(fieldKey(name));
    if (i === -1) return;
    this.keys!.splice(i, 1);
    this.names!.splice(i, 1);
    this.values!.splice(i, 1);
  }

  getHeaderNames(): string[] {
    return this.keys === undefined ? [] : this.keys.slice();
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

  writeInformational(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): void {
    if (this.headState === 2) throw new Error('interim responses must precede the final head');
    if (statusCode < 100 || statusCode > 199 || statusCode === 101)
      throw new RangeError('not an interim status');
    // Interim fields get the same checks as final ones: a value must not split the head.
    if (headers !== undefined) for (const name of Object.keys(headers)) checkField(name, headers[name]!);
    const w = slabWriter;
    w.begin(256);
    w.latin1(statusLine(statusCode, ''));
    if (headers !== undefined) for (const name of Object.keys(headers)) writeValues(name, headers[name]!);
    w.latin1('\r\n');
    this.push(w.finish());
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.ended) throw new Error('write() after end()');
    if (this.headState !== 2) {
      this.checkHead(undefined);
      this.sendHead(undefined, chunk);
    } else {
      this.sendBody(chunk);
    }
    return !this.sink.backedUp(this);
  }

  end(chunk?: string | Uint8Array): void {
    if (this.ended) return;
    if (this.headState !== 2) {
      const length =
        chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      // Refused before the response counts as ended, so the handler's 500 can still replace it.
      this.checkHead(length);
      this.ended = true;
      this.sendHead(length, chunk);
    } else {
      this.ended = true;
      if (chunk !== undefined) this.sendBody(chunk);
    }
    if (this.body === Body.Chunked) {
      this.push(lastChunkWithTrailers(this.trailers ?? []));
    } else if (this.body === Body.Length && this.remaining > 0) {
      this.sink.abort(this, new Error('response ended before its Content-Length was sent'));
      return;
    }
    this.sink.finished(this);
  }

  /**
   * Replaces whatever the handler set with a short text error response and ends it. Returns false
   * when that is impossible because head bytes already went out (the caller then cuts the connection).
   */
  sendError(
    status: number,
    message: string,
    headers: Readonly<Record<string, string>>,
    close: boolean,
  ): boolean {
    if (this.headState === 2 || this.ended) return false;
    this.keys = undefined;
    this.names = undefined;
    this.values = undefined;
    this.trailers = undefined;
    this.headState = 0;
    this.statusCode = status;
    this.statusMessage = '';
    if (close) this.keepAlive = false;
    for (const name of Object.keys(headers)) this.setHeader(name, headers[name]!);
    this.setHeader('Content-Type', 'text/plain; charset=utf-8');
    this.setHeader('X-Content-Type-Options', 'nosniff');
    this.end(`${status} ${reasonPhrase(status)}${message === '' ? '' : `: ${message}`}\n`);
    return true;
  }

  drain(): Promise<void> {
    if (!this.sink.backedUp(this) || this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.once('drain', resolve);
      this.once('close', resolve);
    });
  }

  send(body: Readable | AsyncIterable<Uint8Array | string>): Promise<void> {
    return sendAll(this, body, () => this.aborted);
  }

  addTrailers(trailers: Readonly<Record<string, string>>): void {
    this.trailers ??= [];
    for (const name of Object.keys(trailers)) this.trailers.push([name, trailers[name]!]);
  }

  takeOver(): Promise<{ socket: Duplex; head: Buffer }> {
    return this.sink.takeOver(this);
  }

  /** Sends the head alone (for takeOver): 101, or 2xx to CONNECT, have no body. */
  sendBareHead(): void {
    if (this.headState !== 2) {
      this.checkHead(undefined);
      this.sendHead(undefined, undefined);
    }
    this.ended = true;
    this.isFinished = true;
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    const line = serializeSetCookie(name, value, options);
    const existing = this.getHeader('set-cookie');
    if (existing === undefined) this.setHeader('Set-Cookie', [line]);
    else
      this.setHeader('Set-Cookie', [...(typeof existing === 'object' ? existing : [String(existing)]), line]);
    return this;
  }

  on(event: 'drain' | 'close', fn: () => void): this {
    (this.listeners ??= []).push({ event, fn, once: false });
    return this;
  }

  once(event: 'drain' | 'close', fn: () => void): this {
    (this.listeners ??= []).push({ event, fn, once: true });
    return this;
  }

  off(event: 'drain' | 'close', fn: () => void): this {
    const list = this.listeners;
    if (list === undefined) return this;
    const i = list.findIndex((l) => l.event === event && l.fn === fn);
    if (i !== -1) list.splice(i, 1);
    return this;
  }

  /** Called by the connection. */
  emit(event: 'drain' | 'close'): void {
    const list = this.listeners;
    if (list === undefined) return;
    for (const l of list.slice()) {
      if (l.event !== event) continue;
      if (l.once) list.splice(list.indexOf(l), 1);
      l.fn();
    }
  }

  /**
   * What would make the head wrong, checked before sendHead() while nothing is sent (and, from
   * end(), before the response counts as ended): a status that is not three digits, a reason
   * phrase that could split the head (statusMessage and statusCode are plain properties, set
   * without writeHead()'s checks), and, when end() knows the whole body (`length`), a
   * Content-Length other than the body's.
   */
  private checkHead(length: number | undefined): void {
    const status = this.statusCode;
    checkStatus(status);
    if (this.statusMessage !== '') checkFieldValue('status message', this.statusMessage);
    if (length === undefined || this.hasNoBody(status) || this.keys === undefined) return;
    const at = this.keys.indexOf('content-length');
    if (at === -1) return;
    const declared = Number(this.values![at]);
    if (!Number.isSafeInteger(declared) || declared < 0) throw new TypeError('invalid Content-Length');
    if (declared !== length) {
      throw new Error(`response body of ${length} bytes does not match its Content-Length ${declared}`);
    }
  }

  /** RFC 9110 §6.4.1: no content in HEAD, 1xx, 204 and 304 responses, nor a 2xx to CONNECT. */
  private hasNoBody(status: number): boolean {
    return this.isHead || status < 200 || status === 204 || status === 304 || (this.tunnel && status < 300);
  }

  /**
   * Sends the head, choosing the framing; with `length` known (from end()) and `first` bytes.
   * checkHead() has passed it.
   */
  private sendHead(length: number | undefined, first: string | Uint8Array | undefined): void {
    const status = this.statusCode;
    if (this.keepAlive && !this.sink.mayKeepAlive(this)) this.keepAlive = false;
    const w = slabWriter;
    w.begin(1024);
    w.latin1(statusLine(status, this.statusMessage));
    const noBody = this.hasNoBody(status);
    let userLength: number | undefined;
    let userChunked = false;
    const keys = this.keys;
    let sawDate = false;
    let sawServer = false;
    if (keys !== undefined) {
      const names = this.names!;
      const values = this.values!;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const value = values[i]!;
        switch (key) {
          case 'content-length':
            // RFC 9110 §8.6: no Content-Length in 1xx or 204 responses.
            if (status < 200 || status === 204) continue;
            userLength = Number(value);
            if (!Number.isSafeInteger(userLength) || userLength < 0)
              throw new TypeError('invalid Content-Length');
            w.latin1(names[i]!);
            w.latin1(': ');
            w.decimal(userLength);
            w.latin1('\r\n');
            continue;
          case 'transfer-encoding':
            // The engine frames the body itself; a handler's Transfer-Encoding only asks for chunked.
            userChunked = true;
            continue;
          case 'connection':
            // 101 carries the handler's `Connection: Upgrade` (RFC 9110 §7.8); otherwise the
            // engine writes Connection itself and only notes a close.
            if (status === 101) break;
            if (String(value).toLowerCase().includes('close')) this.keepAlive = false;
            continue;
          case 'date':
            sawDate = true;
            break;
          case 'server':
            sawServer = true;
            break;
        }
        writeValues(names[i]!, value);
      }
    }
    const server = sawServer ? undefined : this.sink.serverHeader;
    if (!sawDate) w.latin1(dateAndServer(server));
    else if (server !== undefined) w.field('Server', server);
    if (noBody) {
      this.body = Body.None;
      // RFC 9110 §9.3.2: a HEAD response may carry the Content-Length a GET would have.
      if (this.isHead && userLength === undefined && length !== undefined && length > 0 && status >= 200) {
        w.latin1('Content-Length: ');
        w.decimal(length);
        w.latin1('\r\n');
      }
    } else if (userChunked && userLength === undefined && !this.http10) {
      this.body = Body.Chunked;
      w.latin1('Transfer-Encoding: chunked\r\n');
    } else if (userLength !== undefined) {
      this.body = Body.Length;
      this.remaining = userLength;
    } else if (length !== undefined) {
      this.body = Body.Length;
      this.remaining = length;
      w.latin1('Content-Length: ');
      w.decimal(length);
      w.latin1('\r\n');
    } else if (!this.http10) {
      this.body = Body.Chunked;
      w.latin1('Transfer-Encoding: chunked\r\n');
    } else {
      // RFC 9112 §6.3 ¶8: an HTTP/1.0 recipient reads an unframed body until the connection closes.
      this.body = Body.Close;
      this.keepAlive = false;
    }
    if ((this.tunnel && status < 300) || status === 101) {
      // A tunnel's head ends the HTTP exchange: no Connection field, nothing after it but bytes.
    } else if (!this.keepAlive) w.latin1('Connection: close\r\n');
    else if (this.http10) w.latin1('Connection: keep-alive\r\n');
    w.latin1('\r\n');
    this.headState = 2;
    if (first !== undefined && this.body !== Body.None && this.body !== Body.Chunked) {
      const n = typeof first === 'string' ? first.length * 3 : first.byteLength;
      if (n <= INLINE_BODY_BYTES) {
        // Small body: into the slab right after the head, so the whole response is one view.
        // Count what was written, not the change in w.pos: room() may move the region.
        this.countBody(typeof first === 'string' ? w.utf8(first) : w.bytes(first));
        this.push(w.finish());
        return;
      }
    }
    this.push(w.finish());
    if (first !== undefined) this.sendBody(first);
  }

  private sendBody(chunk: string | Uint8Array): void {
    if (this.body === Body.None) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : toBuffer(chunk);
    const n = bytes.length;
    if (n === 0) return;
    if (this.body === Body.Chunked) {
      this.push(chunkHeader(n));
      this.push(bytes);
      this.push(CRLF);
      return;
    }
    this.countBody(n);
    this.push(bytes);
  }

  private countBody(n: number): void {
    if (this.body !== Body.Length) return;
    if (n > this.remaining) {
      throw new Error(`response body exceeds its Content-Length by ${n - this.remaining} bytes`);
    }
    this.remaining -= n;
  }

  private push(bytes: Buffer): void {
    this.bytesSent += bytes.length;
    this.sink.send(this, bytes);
  }
}

function writeValues(name: string, value: HeaderValue): void {
  if (typeof value === 'string') slabWriter.field(name, value);
  else if (typeof value === 'number') slabWriter.field(name, String(value));
  else for (const v of value) slabWriter.field(name, v);
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
