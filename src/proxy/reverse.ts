/**
 * The reverse proxy: a Handler that passes every request to one upstream of a group (balancer.ts)
 * through the upstream pool, and streams the answer back.
 *
 * The life of a proxied request, in the order things happen:
 *  1. Loop: a Via that already lists our pseudonym came round again (508). CONNECT has no place at
 *     a reverse proxy (405). An absolute-form target is sent on in origin-form with Host from the
 *     URI (RFC 9112 §3.2.2); an origin-form or `*` target goes on exactly as received.
 *  2. Fields: hop-by-hop ones dropped (hop-by-hop.ts; Upgrade kept, with `Connection: Upgrade`, for
 *     an upgrade request), Expect dropped (the engine answers 100-continue itself when the body is
 *     first read, so the upstream's 100 is not forwarded either), forwarding fields replaced
 *     (forwarded.ts: X-Forwarded-*, Forwarded, Via). Host is the client's own, as Caddy and Traefik
 *     do by default: virtual hosts, absolute redirects and cookies upstream see the public name.
 *     An upstream that needs its own name must be configured to accept the public one. Without a
 *     Host (HTTP/1.0), the pool sends the upstream's authority.
 *  3. The upstream: group.pick() (policy, skipping ejected and down upstreams). The body streams
 *     with its Content-Length when the client sent one, else chunked with its trailers.
 *  4. Failures before the response head (connect refused, reset, timeout, bad response): each is
 *     reported to the group (passive health) and logged in one line (upstream, method, target,
 *     reason, what happens next). The request is retried on an upstream not yet tried (at most
 *     `retries` times) when nothing of the answer arrived, its body can be sent again in full, and
 *     either the upstream never got a byte of it (requestSent false; any method) or the method is
 *     idempotent (RFC 9110 §9.2.2). RFC 9110 §9.2.2: "A client SHOULD NOT automatically retry a
 *     request with a non-idempotent method unless it has some means to know that the request
 *     semantics are actually idempotent, regardless of the method, or some means to detect that
 *     the original request was never applied." A body streams, and only its first
 *     REPLAY_LIMIT_BYTES are kept for a replay (BodyTap): the pool reads the first chunk before it
 *     connects, so without them even a refused connection would make a POST unretryable; a longer
 *     body is sent once. Out of tries: 504 for a timeout,
 *     502 for anything else, answered here (not thrown: the engine would log a stack trace for
 *     an expected outcome).
 *  5. The response: status, reason, fields (hop-by-hop dropped, Via appended), Content-Length kept
 *     (so HEAD and 304 keep theirs), 1xx other than 100 forwarded to HTTP/1.1 clients, the body
 *     streamed with backpressure, trailers passed on. The head is sent at once, so a long-poll or
 *     event stream reaches the client before its first body byte. An upstream failing mid-body
 *     is rethrown, so the engine cuts the client connection: a truncated body never looks complete.
 *     The common case takes a short way: a body that arrived whole with its head (one socket
 *     read; takeWhole()) goes out with res.end(body), head and body in one write, no iteration.
 * Cost: this path runs per request, so each step does its work once (reverse-fields.ts: one pass
 * over the fields each way), an attempt is one object (Try) with a Cancel instead of an
 * AbortController, and the pool starts a bodiless request on a pooled socket without a promise
 * of its own. Together those took a proxied request from about 57 to about 31 µs of CPU.
 *  6. Upgrade (Connection: upgrade + Upgrade, e.g. WebSocket): pool.upgrade(); a 101 is passed on
 *     with `Connection: Upgrade`, then the client socket is taken over and both sockets relayed
 *     (tunnel.ts) until either side closes or nothing moves for `upgradeIdleTimeoutMs`. A non-101
 *     answer is an ordinary response (step 5) and the client connection goes on as HTTP.
 * In-flight counts (least-conn) cover the whole exchange, a relayed upgrade included.
 */
import type { Duplex } from 'node:stream';
import type { Handler, Request, Response } from '../handler/types.js';
import { splitList } from '../http/field-list.js';
import { type Cidr, parseCidr } from './access.js';
import { answer } from './answer.js';
import type { Upstream, UpstreamGroup } from './balancer.js';
import { BodyTap, EMPTY_BODY } from './body-tap.js';
import { Cancel } from './cancel.js';
import { fieldsOf, flatFields, joined, joinedRecord, record } from './field-records.js';
import { clientAddress } from './forwarded.js';
import { forwardableResponseFields } from './hop-by-hop.js';
import { setResponseFields, upstreamFields } from './reverse-fields.js';
import { absoluteForm } from './target-uri.js';
import { relay } from './tunnel.js';
import {
  type FieldList,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
  type UpstreamUpgrade,
} from './upstream-types.js';
import { appendVia, seenVia } from './via.js';

export { REPLAY_LIMIT_BYTES } from './body-tap.js';
/** An upgraded connection (WebSocket) with no byte either way for this long is closed. */
export const UPGRADE_IDLE_TIMEOUT_MS = 10 * 60_000;

/** RFC 9110 §9.2.2: the idempotent methods. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** What the reverse proxy needs of the upstream pool (UpstreamPool satisfies it). */
export type ReverseUpstream = {
  request(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamResponse>;
  /** Resolves with the upstream socket on a 101, or with an ordinary response for any other answer. */
  upgrade(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamUpgrade | UpstreamResponse>;
};

export type ReverseProxyOptions = {
  readonly group: UpstreamGroup;
  readonly pool: ReverseUpstream;
  /** CIDRs of proxies in front of this one whose forwarding fields are believed; default none. */
  readonly trustProxy?: readonly string[] | undefined;
  /** This proxy's name in Via (a token; see viaPseudonym()). */
  readonly pseudonym: string;
  /** The listener is TLS (X-Forwarded-Proto: https); default false. */
  readonly secure?: boolean | undefined;
  /** Further upstreams to try after a failure; default the group's size minus one. */
  readonly retries?: number | undefined;
  /** Time from sending a request to the upstream's response head (504 after); default the pool's. */
  readonly timeoutMs?: number | undefined;
  readonly upgradeIdleTimeoutMs?: number | undefined;
  /** Where failures go, one line each; default stderr. */
  readonly log?: ((line: string) => void) | undefined;
};

type Config = {
  readonly group: UpstreamGroup;
  readonly pool: ReverseUpstream;
  readonly trustProxy: readonly Cidr[];
  readonly pseudonym: string;
  readonly secure: boolean;
  readonly retries: number;
  readonly timeoutMs: number | undefined;
  readonly upgradeIdleTimeoutMs: number;
  readonly log: (line: string) => void;
  /** Our Via entry on responses, made once: the pool speaks HTTP/1.1 to upstreams. */
  readonly responseVia: string;
};

/**
 * Makes the reverse proxy handler. Options are validated here, once: an invalid CIDR, pseudonym,
 * retry count or timeout throws (RangeError / TypeError) naming it.
 */
export function createReverseProxy(options: ReverseProxyOptions): Handler {
  const config = resolve(options);
  return (req, res) => proxy(req, res, config);
}

function resolve(options: ReverseProxyOptions): Config {
  // Checked now, not per request: appendVia() throws for a pseudonym that is not a token.
  const responseVia = appendVia(undefined, '1.1', options.pseudonym);
  const retries = options.retries ?? options.group.upstreams.length - 1;
  if (!Number.isInteger(retries) || retries < 0)
    throw new RangeError('option retries must be a whole number ≥ 0');
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined) positive('timeoutMs', timeoutMs);
  const idle = options.upgradeIdleTimeoutMs ?? UPGRADE_IDLE_TIMEOUT_MS;
  positive('upgradeIdleTimeoutMs', idle);
  return Object.freeze({
    group: options.group,
    pool: options.pool,
    trustProxy: (options.trustProxy ?? []).map(parseCidr),
    pseudonym: options.pseudonym,
    secure: options.secure ?? false,
    retries,
    timeoutMs,
    upgradeIdleTimeoutMs: idle,
    log: options.log ?? ((line: string) => console.error(`berth: ${line}`)),
    responseVia,
  });
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`option ${name} must be a positive number`);
}

/** One request's facts, worked out once and shared by every attempt. */
type Exchange = {
  readonly req: Request;
  readonly res: Response;
  readonly config: Config;
  /** origin-form (or `*`) target to send. */
  readonly target: string;
  /** Fields to send; without Host when the request had none (the pool then sends the upstream's). */
  readonly headers: FieldList;
  readonly upgrade: boolean;
  readonly body: RequestBody;
};

type RequestBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'stream'; readonly tap: BodyTap; readonly length: number | undefined };

const NO_BODY: RequestBody = Object.freeze({ kind: 'none' });
const EMPTY: RequestBody = Object.freeze({ kind: 'empty' });

/** How one attempt ended. */
type Attempt =
  | { readonly kind: 'done' }
  | {
      readonly kind: 'failed';
      readonly status: 502 | 504;
      readonly reason: string;
      /** The upstream may have received part of the request (false only when known untouched). */
      readonly requestSent: boolean;
      /** Some of the answer arrived (an interim response or the head): never retried. */
      readonly answered: boolean;
    };

const DONE: Attempt = Object.freeze({ kind: 'done' });
const NO_BYTES = Buffer.alloc(0);

async function proxy(req: Request, res: Response, config: Config): Promise<void> {
  const via = joined(req.headers.via);
  if (seenVia(via, config.pseudonym)) {
    config.log(`reverse proxy: loop refused: ${req.method} ${req.url} already passed ${config.pseudonym}`);
    answer(res, 508, `loop: this request already passed through ${config.pseudonym}`);
    return;
  }
  if (req.method === 'CONNECT') {
    answer(res, 405, 'CONNECT is not proxied here');
    return;
  }
  const url = req.url;
  // RFC 9112 §3.2.2: an absolute-form target goes on in origin-form, its host replacing Host.
  const absolute = url.charCodeAt(0) === 0x2f || url === '*' ? undefined : absoluteForm(url);
  if (absolute === null) {
    answer(res, 400, 'the request target must be origin-form (/path), or absolute-form with http(s)');
    return;
  }
  const body = requestBody(req);
  // An upgrade carries no body (the pool refuses one); with a body, the offer to switch is
  // dropped and the request goes on as an ordinary one, which RFC 9110 §7.8 lets a server do.
  const upgrade = body.kind !== 'stream' && isUpgradeRequest(req);
  const host = absolute === undefined ? joined(req.headers.host) : absolute.host;
  const exchange: Exchange = {
    req,
    res,
    config,
    target: absolute === undefined ? url : absolute.path,
    headers: upstreamFields(req, host, upgrade, config),
    upgrade,
    body,
  };

  const group = config.group;
  const client = clientAddress(req.remoteAddress) ?? '';
  // Made at the first failure: most requests never need it.
  let tried: Set<Upstream> | undefined;
  for (let attempt = 1; ; attempt++) {
    const upstream = group.pick(client, tried);
    if (upstream === undefined) {
      // Only when `retries` exceeds the group's size: every upstream has had its try.
      answer(res, 502, 'no upstream left to try');
      return;
    }
    (tried ??= new Set()).add(upstream);
    const outcome = await attemptOn(upstream, exchange);
    if (outcome.kind === 'done') return;
    const retry =
      attempt <= config.retries &&
      tried.size < group.upstreams.length &&
      !outcome.answered &&
      (!outcome.requestSent || IDEMPOTENT.has(req.method)) &&
      replayable(exchange.body);
    config.log(
      `reverse proxy: upstream ${upstream.name} failed: ${req.method} ${req.url}: ${outcome.reason}; ${
        retry ? 'retrying on another upstream' : `answered ${outcome.status}`
      }`,
    );
    if (!retry) {
      answer(
        res,
        outcome.status,
        outcome.status === 504 ? 'the upstream did not answer in time' : 'the upstream failed',
      );
      return;
    }
  }
}

/**
 * One try on one upstream: the request the pool gets (this object itself, so an attempt costs
 * one allocation plus its listeners), its cancellation, and what the client side has seen.
 */
class Try implements UpstreamRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: FieldList;
  readonly body: AsyncIterable<Buffer> | undefined;
  readonly bodyLength: number | undefined;
  readonly trailers: (() => FieldList) | undefined;
  /** Cancels the exchange: the client went away, or timeoutMs passed before the head. */
  readonly signal = new Cancel();
  timedOut = false;
  /** Some of the answer arrived (an interim response): never retried. */
  answered = false;
  /** The client connection went away before the response was complete. */
  gone = false;
  /** The response is complete: a 'close' from now on is the normal end. */
  served = false;
  response: UpstreamResponse | undefined = undefined;

  constructor(private readonly exchange: Exchange) {
    const { req, body } = exchange;
    this.method = req.method;
    this.target = exchange.target;
    this.headers = exchange.headers;
    this.body = body.kind === 'none' ? undefined : body.kind === 'empty' ? EMPTY_BODY : body.tap;
    this.bodyLength = body.kind === 'empty' ? 0 : body.kind === 'stream' ? body.length : undefined;
    this.trailers =
      body.kind === 'stream' && body.length === undefined
        ? () => forwardableResponseFields(fieldsOf(req.trailers)).fields
        : undefined;
  }

  readonly onInformational = (status: number, fields: FieldList): void => {
    this.answered = true;
    const { req, res } = this.exchange;
    // 100 is the engine's to send (see the module comment); 1.0 clients get no 1xx (RFC 9110 §15.2).
    if (status === 100 || req.httpVersion === '1.0' || res.headersSent) return;
    res.writeInformational(status, record(forwardableResponseFields(fields).fields));
  };

  /** The engine also says 'close' when the response is complete: only an early close means gone. */
  readonly onClose = (): void => {
    if (this.served) return;
    this.gone = true;
    this.signal.abort(new DOMException('the client went away', 'AbortError'));
    this.response?.abort();
  };

  readonly onTimeout = (): void => {
    this.timedOut = true;
    this.signal.abort(new DOMException('the upstream did not answer in time', 'AbortError'));
  };
}

/**
 * One try on one upstream. Resolves 'done' when the exchange is over (answered, relayed, or the
 * client gone), 'failed' when the caller should answer or retry; throws when the client's own
 * body failed (the engine answers it) or when the upstream failed after the head went out.
 */
async function attemptOn(upstream: Upstream, exchange: Exchange): Promise<Attempt> {
  const { res, config } = exchange;
  const group = config.group;
  const t = new Try(exchange);
  res.once('close', t.onClose);
  const timer = config.timeoutMs === undefined ? undefined : setTimeout(t.onTimeout, config.timeoutMs);
  group.begin(upstream);
  try {
    const body = exchange.body;
    let result: UpstreamResponse | UpstreamUpgrade;
    try {
      result = exchange.upgrade
        ? await config.pool.upgrade(upstream.target, t)
        : await config.pool.request(upstream.target, t);
    } catch (err) {
      if (body.kind === 'stream' && body.tap.error !== undefined) throw body.tap.error;
      if (t.gone) return DONE;
      // Not the upstream's doing (a request the pool cannot write): the engine answers 500.
      if (!t.timedOut && !(err instanceof UpstreamError)) throw err;
      group.reportFailure(upstream);
      const timeout = t.timedOut || (err instanceof UpstreamError && err.kind === 'timeout');
      return {
        kind: 'failed',
        status: timeout ? 504 : 502,
        reason: t.timedOut ? `no response head within ${config.timeoutMs} ms` : describe(err),
        requestSent: err instanceof UpstreamError ? err.requestSent : true,
        answered: t.answered,
      };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    group.reportSuccess(upstream);
    if ('socket' in result) {
      await switchProtocols(exchange, result);
      return DONE;
    }
    t.response = result;
    if (t.gone) {
      result.abort();
      return DONE;
    }
    const unusable = sendResponseHead(exchange, result);
    if (unusable !== undefined) {
      return {
        kind: 'failed',
        status: 502,
        reason: `unusable response head: ${unusable}`,
        requestSent: true,
        answered: true,
      };
    }
    // The usual small response came whole with its head: it goes out with one end(), head and
    // body in one write, without iterating the body.
    const whole = result.takeWhole?.();
    if (whole !== undefined && result.trailers().length === 0) {
      t.served = true;
      res.end(whole);
      return DONE;
    }
    return await relayBody(exchange, upstream, result, t, whole);
  } finally {
    res.off('close', t.onClose);
    group.end(upstream);
  }
}

/**
 * Sets the status, reason and fields of an upstream response on the client's response (step 5
 * of the module comment). Returns undefined, or why the engine will not write them (it validates
 * what it sends); then the response is aborted and the fields set so far removed again.
 */
function sendResponseHead(exchange: Exchange, response: UpstreamResponse): string | undefined {
  const { res, config } = exchange;
  try {
    setResponseFields(res, response.rawHeaders ?? flatFields(response.headers), config.responseVia, false);
    if (response.reason === '') res.writeHead(response.status);
    else res.writeHead(response.status, response.reason);
    return undefined;
  } catch (err) {
    response.abort();
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    return describe(err);
  }
}

/**
 * Streams the rest of an upstream response to the client, with backpressure; `first` is the
 * body already taken whole (when it came with trailers), else the body is iterated.
 */
async function relayBody(
  exchange: Exchange,
  upstream: Upstream,
  response: UpstreamResponse,
  t: Try,
  first: Buffer | undefined,
): Promise<Attempt> {
  const { req, res, config } = exchange;
  try {
    if (first !== undefined) res.write(first);
    else {
      // A body of unknown length may be a long poll or an event stream: its head goes out now,
      // before the first body byte. With a known length the head waits for the first chunk, so
      // both leave in one write (one system call instead of two per response).
      if (!res.hasHeader('content-length')) res.write(NO_BYTES);
      for await (const chunk of response.body) {
        if (!res.write(chunk)) await res.drain();
        if (t.gone) {
          response.abort();
          return DONE;
        }
      }
    }
  } catch (err) {
    response.abort();
    if (t.gone) return DONE;
    config.group.reportFailure(upstream);
    config.log(
      `reverse proxy: upstream ${upstream.name} failed mid-body: ${req.method} ${req.url}: ${describe(err)}; client connection cut`,
    );
    throw err;
  }
  const trailers = forwardableResponseFields(response.trailers()).fields;
  if (trailers.length > 0) res.addTrailers(joinedRecord(trailers));
  t.served = true;
  res.end();
  return DONE;
}

/** Passes a 101 on, takes the client connection over, and relays both sockets until they close. */
async function switchProtocols(exchange: Exchange, upgraded: UpstreamUpgrade): Promise<void> {
  const { res, config } = exchange;
  const upstreamSocket: Duplex = upgraded.socket;
  // Until the relay owns it, an error on the upstream socket only destroys it.
  const early = (): void => {
    upstreamSocket.destroy();
  };
  upstreamSocket.on('error', early);
  let taken: { socket: Duplex; head: Buffer };
  try {
    setResponseFields(res, flatFields(upgraded.headers), config.responseVia, true);
    // RFC 9110 §7.8: the 101 names the upgrade in Connection.
    res.setHeader('Connection', 'Upgrade');
    if (upgraded.reason === '') res.writeHead(101);
    else res.writeHead(101, upgraded.reason);
    taken = await res.takeOver();
  } catch (err) {
    upstreamSocket.destroy();
    throw err;
  } finally {
    upstreamSocket.off('error', early);
  }
  await relay(taken.socket, taken.head, upstreamSocket, upgraded.head, {
    idleTimeoutMs: config.upgradeIdleTimeoutMs,
  });
}

/** The request body as the pool gets it; Content-Length: 0 is kept (some upstreams insist on it for POST). */
function requestBody(req: Request): RequestBody {
  const length = req.headers['content-length'];
  if (typeof length === 'string') {
    const n = Number(length);
    return n === 0 ? EMPTY : { kind: 'stream', tap: new BodyTap(req), length: n };
  }
  // RFC 9112 §6.3: a request with neither Content-Length nor Transfer-Encoding has no body.
  if (req.headers['transfer-encoding'] === undefined) return NO_BODY;
  return { kind: 'stream', tap: new BodyTap(req), length: undefined };
}

/** Whether the body can be sent again in full: none, or every byte handed out so far still kept. */
function replayable(body: RequestBody): boolean {
  return body.kind !== 'stream' || body.tap.replayable;
}

/** Connection: upgrade together with an Upgrade field (RFC 9110 §7.8), from an HTTP/1.1 client. */
function isUpgradeRequest(req: Request): boolean {
  if (req.httpVersion !== '1.1' || req.headers.upgrade === undefined) return false;
  const connection = joined(req.headers.connection);
  if (connection === undefined) return false;
  for (const option of splitList(connection)) if (option.toLowerCase() === 'upgrade') return true;
  return false;
}

function describe(err: unknown): string {
  if (err instanceof UpstreamError) return `${err.kind}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
