/**
 * ServerRequest: the Request a handler reads. Head fields come from the parsed RequestHead; the
 * body arrives from the connection as Buffer views and is read once, as an async iterable or whole.
 */

import { parseJsonBody, readWhole, toArrayBuffer } from '../handler/read-body.js';
import type { IncomingHeaders, Request } from '../handler/types.js';
import { parseCookies } from '../http/cookies.js';
import type { RequestHead } from '../wire/head.js';

/** What a request needs from its connection while its body is read. */
export interface BodySource {
  /** The handler wants body bytes: resume reading, send 100 Continue if it is owed. */
  wantBody(req: ServerRequest): void;
  readonly maxBufferedBodyBytes: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

const EMPTY: IncomingHeaders = Object.freeze(Object.create(null));
const DONE: IteratorResult<Buffer> = Object.freeze({ done: true, value: undefined });

export class ServerRequest implements Request, AsyncIterator<Buffer> {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  /** Body bytes received and not yet read by the handler. */
  bufferedBytes = 0;
  /** The handler asked for the body (or never will: the response ended). */
  bodyWanted = false;
  private headerMap: IncomingHeaders | undefined = undefined;
  private trailerMap: IncomingHeaders | undefined = undefined;
  private rawTrailers: readonly string[] | undefined = undefined;
  private cookieMap: Record<string, string | undefined> | undefined = undefined;
  private queue: Buffer[] | undefined = undefined;
  private bodyEnded: boolean;
  private bodyError: Error | undefined = undefined;
  private waiting: ((r: IteratorResult<Buffer>) => void) | undefined = undefined;
  private waitingReject: ((e: Error) => void) | undefined = undefined;

  constructor(
    head: RequestHead,
    private readonly source: BodySource,
    hasBody: boolean,
  ) {
    this.method = head.method;
    this.url = head.target;
    this.httpVersion = head.version;
    this.rawHeaders = head.rawHeaders;
    this.bodyEnded = !hasBody;
  }

  get headers(): IncomingHeaders {
    this.headerMap ??= combineFields(this.rawHeaders);
    return this.headerMap;
  }

  get trailers(): IncomingHeaders {
    if (this.trailerMap === undefined) {
      if (this.rawTrailers === undefined) return EMPTY;
      this.trailerMap = combineFields(this.rawTrailers);
    }
    return this.trailerMap;
  }

  get remoteAddress(): string {
    return this.source.remoteAddress;
  }

  get remotePort(): number {
    return this.source.remotePort;
  }

  get cookies(): Readonly<Record<string, string | undefined>> {
    if (this.cookieMap === undefined) {
      const header = this.headers.cookie;
      this.cookieMap = parseCookies(Array.isArray(header) ? header.join('; ') : header);
    }
    return this.cookieMap;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (!this.bodyWanted) {
      this.bodyWanted = true;
      this.source.wantBody(this);
    }
    const queue = this.queue;
    if (queue !== undefined && queue.length > 0) {
      const chunk = queue.shift()!;
      this.bufferedBytes -= chunk.length;
      if (queue.length === 0) this.source.wantBody(this);
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.bodyError !== undefined) return Promise.reject(this.bodyError);
    if (this.bodyEnded) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingReject = reject;
    });
  }

  buffer(): Promise<Buffer> {
    return readWhole(this, this.source.maxBufferedBodyBytes);
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

  /** Connection side: body bytes arrived (a view the request may keep; reads never reuse it). */
  pushBody(chunk: Buffer): void {
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      this.waitingReject = undefined;
      waiting({ done: false, value: chunk });
      return;
    }
    (this.queue ??= []).push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /** Connection side: the body is complete; trailers are the raw trailer fields, if any. */
  endBody(rawTrailers: readonly string[] | undefined): void {
    this.bodyEnded = true;
    if (rawTrailers !== undefined && rawTrailers.length > 0) this.rawTrailers = rawTrailers.slice();
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      this.waitingReject = undefined;
      waiting(DONE);
    }
  }

  /** Connection side: the body will never complete (client gone, bad framing, timeout). */
  failBody(err: Error): void {
    if (this.bodyEnded) return;
    this.bodyEnded = true;
    this.bodyError = err;
    const reject = this.waitingReject;
    if (reject !== undefined) {
      this.waiting = undefined;
      this.waitingReject = undefined;
      reject(err);
    }
  }

  get bodyComplete(): boolean {
    return this.bodyEnded;
  }
}

/**
 * Objects with no inherited keys ("constructor", "__proto__" are plain names) that V8 still keeps
 * in fast mode, unlike Object.create(null), which starts as a dictionary.
 */
const HeaderMap = function HeaderMap() {} as unknown as new () => Record<string, string | string[]>;
HeaderMap.prototype = Object.create(null);

/**
 * Builds the lower-case header map: repeated fields joined with ", " (RFC 9110 §5.3), except
 * Set-Cookie, kept as an array (RFC 9110 §5.3 ¶4), and Cookie, joined with "; " (RFC 6265 §5.4).
 */
export function combineFields(raw: readonly string[]): IncomingHeaders {
  const map = new HeaderMap();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const existing = map[name];
    if (name === 'set-cookie') {
      if (existing === undefined) map[name] = [value];
      else (existing as string[]).push(value);
    } else if (existing === undefined) {
      map[name] = value;
    } else {
      map[name] = `${existing}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return map;
}
