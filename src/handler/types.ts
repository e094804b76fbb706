/**
 * The contracts between the connection engine and the code that answers requests.
 * No implementation lives here: conn/ implements Request and Response, handlers consume them.
 * The names follow node:http on purpose, so Node code reads naturally on Berth.
 */
import type { Duplex, Readable } from 'node:stream';
import type { SerializeOptions } from 'cookie';

/** A header value as handlers set it: numbers are written in decimal, arrays as repeated fields. */
export type HeaderValue = string | number | readonly string[];

/** Request headers: lower-case names; repeated fields joined per RFC 9110 §5.3, set-cookie kept as an array. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>> & {
  readonly 'set-cookie'?: string[];
};

/** Options for Response.setCookie(): the RFC 6265 attributes, as the `cookie` package names them. */
export type CookieOptions = SerializeOptions;

/**
 * One request as the handler sees it. The body is an async iterable of Buffers that may be read
 * once; text()/json()/arrayBuffer() read it whole within the server's body limit (413 beyond it).
 */
export interface Request extends AsyncIterable<Buffer> {
  /** The method token exactly as received (case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target exactly as received (origin-form, absolute-form, authority-form or `*`). */
  readonly url: string;
  /** `'1.1'`, `'1.0'` (or `'2.0'` over HTTP/2). */
  readonly httpVersion: string;
  readonly headers: IncomingHeaders;
  /** Field names and values as received, flattened: [name, value, name, value, …]. */
  readonly rawHeaders: readonly string[];
  /** Trailer fields of a chunked body, available once the body has been read to its end. */
  readonly trailers: IncomingHeaders;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Cookies from the Cookie header (RFC 6265 §5.4), parsed on first access. */
  readonly cookies: Readonly<Record<string, string | undefined>>;
  /** The whole body as a Buffer, within the body limit; throws HttpError(413) beyond it. */
  buffer(): Promise<Buffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * The response being built for one request. Until the head is sent, status and headers may change;
 * write()/end() send the head first. Responses leave the connection in request order.
 */
export interface Response {
  statusCode: number;
  /** Reason phrase; the standard one for statusCode when left empty. */
  statusMessage: string;
  readonly headersSent: boolean;
  /** True once end() was called. */
  readonly writableEnded: boolean;
  setHeader(name: string, value: HeaderValue): this;
  getHeader(name: string): HeaderValue | undefined;
  removeHeader(name: string): void;
  hasHeader(name: string): boolean;
  getHeaderNames(): string[];
  writeHead(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): this;
  writeHead(statusCode: number, statusMessage: string, headers?: Readonly<Record<string, HeaderValue>>): this;
  /** Sends an interim 1xx response (e.g. 103 Early Hints) before the final one. */
  writeInformational(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): void;
  /** Queues body bytes; returns false when the caller should wait (`await res.drain()` or 'drain'). */
  write(chunk: string | Uint8Array): boolean;
  /** Ends the response, with a last chunk if given. Calling it twice is a no-op. */
  end(chunk?: string | Uint8Array): void;
  /** Resolves when the connection can take more bytes (immediately when it already can). */
  drain(): Promise<void>;
  /** Sends a Readable or async iterable as the body with backpressure, then ends the response. */
  send(body: Readable | AsyncIterable<Uint8Array | string>): Promise<void>;
  /** Sets trailer fields, sent after a chunked body (RFC 9112 §7.1.2); ignored for other framings. */
  addTrailers(trailers: Readonly<Record<string, string>>): void;
  /** Appends a Set-Cookie field (serialized per RFC 6265 by the `cookie` package). */
  setCookie(name: string, value: string, options?: CookieOptions): this;
  /**
   * Takes the connection over, for a tunnel (a 2xx to CONNECT, RFC 9110 §9.3.6) or a protocol
   * switch (101, RFC 9110 §15.2.2): sends the head as set (no body framing), then hands over the
   * raw socket, paused, with the bytes the client already sent past the request (`head`). The
   * engine never touches the socket again. Rejects for any other request or status, or over HTTP/2.
   */
  takeOver(): Promise<{ socket: Duplex; head: Buffer }>;
  on(event: 'drain' | 'close', listener: () => void): this;
  once(event: 'drain' | 'close', listener: () => void): this;
  off(event: 'drain' | 'close', listener: () => void): this;
}

/** Answers one request. May return a promise; a throw or rejection becomes a 500 (see conn/). */
export type Handler = (req: Request, res: Response) => void | Promise<void>;
