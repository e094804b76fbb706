/**
 * How the cache talks to the handler it wraps: it builds a Request of its own (the client's, or a
 * conditional one it makes up for revalidation) and hands `next` a CaptureResponse, which turns
 * what the handler writes into calls on an OriginSink: head, body chunks with backpressure, end.
 * So the cache reaches the network only through `next`, whatever `next` is (the reverse proxy,
 * the forward proxy, static files, an app).
 *
 * Field values are not checked here: everything reaches a client through a real Response, which
 * checks them.
 */

import { parseJsonBody, readWhole, toArrayBuffer } from '../handler/read-body.js';
import type { CookieOptions, HeaderValue, IncomingHeaders, Request, Response } from '../handler/types.js';
import { parseCookies, serializeSetCookie } from '../http/cookies.js';
import { reasonPhrase } from '../http/status.js';
import type { StoredFields } from './store.js';

/** The limit buffer()/text()/json() apply to a body read whole through a cache-made request. */
const WHOLE_BODY_LIMIT_BYTES = 1024 * 1024;

/** What a handler's response turns into. */
export interface OriginSink {
  /** A 1xx interim response (RFC 9110 §15.2), to pass on to the client when there is one. */
  interim(status: number, headers: Readonly<Record<string, HeaderValue>> | undefined): void;
  /** The final head: once, before any data. Names lower-case, values as strings. */
  start(status: number, statusMessage: string, fields: StoredFields): void;
  /** A body chunk; false asks the handler to wait until CaptureResponse.resume(). */
  data(chunk: Buffer): boolean;
  /** The body is complete. */
  end(trailers: Readonly<Record<string, string>> | undefined): void;
}

/** The parts of a request the cache passes on or makes up. */
export type RequestInit = {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  /** Flat [name, value, …] as sent upstream. */
  readonly rawHeaders: readonly string[];
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The body to pass on (the client's request, read once), or none. */
  readonly body: AsyncIterable<Buffer> | undefined;
};

const NO_BODY: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: async () => DONE }) };
const DONE: IteratorResult<Buffer> = Object.freeze({ done: true, value: undefined });

/** A Request built by the cache. */
export class CacheRequest implements Request {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  readonly headers: IncomingHeaders;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly body: AsyncIterable<Buffer>;
  private readonly source: Request | undefined;
  private cookieMap: Record<string, string | undefined> | undefined;

  /** `source` is the client request whose trailers this one reports, when it carries its body. */
  constructor(init: RequestInit, source?: Request) {
    this.method = init.method;
    this.url = init.url;
    this.httpVersion = init.httpVersion;
    this.rawHeaders = init.rawHeaders;
    this.headers = headerMap(init.rawHeaders);
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.body = init.body ?? NO_BODY;
    this.source = source;
  }

  get trailers(): IncomingHeaders {
    return this.source?.trailers ?? EMPTY_HEADERS;
  }

  get cookies(): Readonly<Record<string, string | undefined>> {
    this.cookieMap ??= parseCookies(headerString(this.headers.cookie));
    return this.cookieMap;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.body[Symbol.asyncIterator]();
  }

  buffer(): Promise<Buffer> {
    return readWhole(this, WHOLE_BODY_LIMIT_BYTES);
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

const EMPTY_HEADERS: IncomingHeaders = Object.freeze(Object.create(null));

/** Lower-case name → value, repeated fields joined with `, ` (set-cookie kept as an array). */
function headerMap(raw: readonly string[]): IncomingHeaders {
  const map: Record<string, string | string[]> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prior = map[name];
    if (name === 'set-cookie') map[name] = prior === undefined ? [value] : [...(prior as string[]), value];
    else map[name] = prior === undefined ? value : `${prior as string}, ${value}`;
  }
  return map;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join('; ') : value;
}

type Listener = () => void;

/**
 * A Response whose head and body go to an OriginSink instead of a socket. It ends when the
 * handler calls end(); close() tells the handler the consumer is gone ('close' event), as a
 * real Response does when its client disconnects.
 */
export class CaptureResponse implements Response {
  statusCode = 200;
  statusMessage = '';
  private readonly fields = new Map<string, { name: string; value: HeaderValue }>();
  private readonly sink: OriginSink;
  private sent = false;
  private ended = false;
  private closed = false;
  private trailerFields: Record<string, string> | undefined;
  private waiting = false;
  private readonly listeners = { drain: [] as Listener[], close: [] as Listener[] };

  constructor(sink: OriginSink) {
    this.sink = sink;
  }

  get headersSent(): boolean {
    return this.sent;
  }

  get writableEnded(): boolean {
    return this.ended;
  }

  setHeader(name: string, value: HeaderValue): this {
    this.fields.set(name.toLowerCase(), { name, value });
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.fields.get(name.toLowerCase())?.value;
  }

  removeHeader(name: string): void {
    this.fields.delete(name.toLowerCase());
  }

  hasHeader(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  getHeaderNames(): string[] {
    return [...this.fields.keys()];
  }

  writeHead(
    statusCode: number,
    messageOrHeaders?: string | Readonly<Record<string, HeaderValue>>,
    headers?: Readonly<Record<string, HeaderValue>>,
  ): this {
    this.statusCode = statusCode;
    const fields = typeof messageOrHeaders === 'string' ? headers : messageOrHeaders;
    if (typeof messageOrHeaders === 'string') this.statusMessage = messageOrHeaders;
    if (fields !== undefined) for (const name of Object.keys(fields)) this.setHeader(name, fields[name]!);
    this.sendHead();
    return this;
  }

  writeInformational(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): void {
    if (!this.sent && !this.closed) this.sink.interim(statusCode, headers);
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.ended || this.closed) return false;
    this.sendHead();
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : toBuffer(chunk);
    if (buf.length === 0) return !this.waiting;
    if (!this.sink.data(buf)) this.waiting = true;
    return !this.waiting;
  }

  end(chunk?: string | Uint8Array): void {
    if (this.ended) return;
    if (chunk !== undefined) this.write(chunk);
    this.sendHead();
    this.ended = true;
    if (!this.closed) this.sink.end(this.trailerFields);
  }

  drain(): Promise<void> {
    if (!this.waiting || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.once('drain', resolve));
  }

  async send(body: AsyncIterable<Uint8Array | string>): Promise<void> {
    for await (const chunk of body) {
      if (!this.write(chunk)) await this.drain();
      if (this.closed) return;
    }
    this.end();
  }

  addTrailers(trailers: Readonly<Record<string, string>>): void {
    this.trailerFields = { ...this.trailerFields, ...trailers };
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    const prior = this.getHeader('set-cookie');
    const cookie = serializeSetCookie(name, value, options);
    const list = prior === undefined ? [] : Array.isArray(prior) ? [...prior] : [String(prior)];
    this.setHeader('Set-Cookie', [...list, cookie]);
    return this;
  }

  takeOver(): Promise<never> {
    return Promise.reject(new Error('the cache does not pass on upgrades or tunnels'));
  }

  /** The consumer can take more: 'drain' for a handler that waits. */
  resume(): void {
    if (!this.waiting) return;
    this.waiting = false;
    for (const listener of this.listeners.drain.splice(0)) listener();
  }

  /** The consumer is gone: 'close' for the handler, and every later write is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.resume();
    for (const listener of this.listeners.close.splice(0)) listener();
  }

  on(event: 'drain' | 'close', listener: Listener): this {
    this.listeners[event].push(listener);
    return this;
  }

  once(event: 'drain' | 'close', listener: Listener): this {
    const wrapped = (): void => {
      this.off(event, wrapped);
      listener();
    };
    return this.on(event, wrapped);
  }

  off(event: 'drain' | 'close', listener: Listener): this {
    const list = this.listeners[event];
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  private sendHead(): void {
    if (this.sent) return;
    this.sent = true;
    const fields: [string, string][] = [];
    for (const [lower, { value }] of this.fields) {
      if (typeof value === 'string') fields.push([lower, value]);
      else if (typeof value === 'number') fields.push([lower, String(value)]);
      else for (const v of value) fields.push([lower, v]);
    }
    const message = this.statusMessage === '' ? reasonPhrase(this.statusCode) : this.statusMessage;
    if (!this.closed) this.sink.start(this.statusCode, message, fields);
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The client-less Response a background revalidation writes into. */
export class DiscardResponse implements Response {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  setHeader(): this {
    return this;
  }
  getHeader(): undefined {
    return undefined;
  }
  removeHeader(): void {}
  hasHeader(): boolean {
    return false;
  }
  getHeaderNames(): string[] {
    return [];
  }
  writeHead(): this {
    return this;
  }
  writeInformational(): void {}
  write(): boolean {
    return true;
  }
  end(): void {
    this.writableEnded = true;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  async send(): Promise<void> {}
  addTrailers(): void {}
  setCookie(): this {
    return this;
  }
  takeOver(): Promise<never> {
    return Promise.reject(new Error('no client'));
  }
  on(): this {
    return this;
  }
  once(): this {
    return this;
  }
  off(): this {
    return this;
  }
}
