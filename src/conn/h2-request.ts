/**
 * The Request over HTTP/2 (see h2-exchange.ts for the life of an exchange): method and target
 * from the pseudo-headers, fields from the raw list, the body read from the stream itself.
 */
import http2 from 'node:http2';
import { HttpError } from '../handler/http-error.js';
import { parseJsonBody, readWhole, toArrayBuffer } from '../handler/read-body.js';
import type { IncomingHeaders, Request } from '../handler/types.js';
import { parseCookies } from '../http/cookies.js';
import { combineFields } from './request.js';

const { NGHTTP2_NO_ERROR } = http2.constants;
const EMPTY: IncomingHeaders = Object.freeze(Object.create(null));
const CONTINUE: http2.OutgoingHttpHeaders = { ':status': 100 };

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
  /** Body bytes received so far (read by the handler, or dropped after the response). */
  bodyBytes = 0;
  /** The response ended and what is left of the body is being read and dropped. */
  draining = false;
  /** The body stalled (see H2BodyWatch): the stream is reset rather than drained. */
  timedOut = false;
  private reading = false;
  /** H2BodyWatch holds this body to its deadlines: each read can then be failed. */
  private watched = false;
  /** Rejects the read in progress (a watched body only). */
  private failRead: ((err: Error) => void) | undefined = undefined;
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
    const chunks = stream.iterator({ destroyOnReturn: false });
    try {
      while (true) {
        this.reading = true;
        // A promise per read, not a race against one long-lived promise: each race would leave
        // a reaction on it, one per chunk, until the request is gone.
        const next = this.watched
          ? await new Promise<IteratorResult<unknown>>((resolve, reject) => {
              this.failRead = reject;
              chunks.next().then(resolve, reject);
            })
          : await chunks.next();
        this.failRead = undefined;
        this.reading = false;
        if (next.done === true) break;
        const chunk = next.value as Buffer;
        this.bodyBytes += chunk.length;
        yield chunk;
      }
    } finally {
      this.reading = false;
      this.failRead = undefined;
      // Not awaited: after a stall the stream's own read is still pending, and return() waits
      // for it; the stream is reset once the 408 has gone out.
      chunks.return?.().catch(() => {});
    }
    if (stream.aborted) throw new Error('request aborted before its body was complete');
  }

  /** Something waits for body bytes from the client: a read in progress, or the drain. */
  get waitingForBody(): boolean {
    return this.reading || this.draining;
  }

  /** The body is complete, or the stream is gone: no deadline applies any more. */
  get bodyDone(): boolean {
    const stream = this.stream;
    return stream.readableEnded || stream.closed || stream.destroyed;
  }

  /** Called by H2BodyWatch.watch(): reads from now on can be failed by bodyTimedOut(). */
  watchBody(): void {
    this.watched = true;
  }

  /** The body stalled: a read fails with 408, a drain ends with RST_STREAM(NO_ERROR). */
  bodyTimedOut(): void {
    this.timedOut = true;
    if (this.draining) {
      if (!this.stream.closed) this.stream.close(NGHTTP2_NO_ERROR);
      return;
    }
    this.failRead?.(new HttpError(408, 'request body not received in time'));
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

function withoutPseudo(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) !== 0x3a) out.push(name, raw[i + 1]!);
  }
  return out;
}
