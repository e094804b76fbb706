/**
 * Runs a Fetch-API handler — `(Request) => Response`, the shape Hono, itty-router, Elysia and
 * friends export as `app.fetch` — as a Berth Handler.
 *
 * Life of a request through the adapter:
 * 1. The URL is rebuilt from the Host field and the request-target (RFC 9112 §3.3), the fields are
 *    copied from rawHeaders in order (repeats kept as separate entries), and a body-carrying request
 *    gets a pull-based ReadableStream over the Berth request, so the app's reads drive the socket's.
 * 2. The app's Response status, reason and fields go to `res`; each Set-Cookie stays its own field
 *    (RFC 6265 §3: they cannot be joined with commas like other fields).
 * 3. The body streams with backpressure: a false `res.write()` waits for `res.drain()`.
 * 4. If the client goes away first (`res` 'close' before end), the Request's signal aborts, so an
 *    app that passes `request.signal` on (to fetch(), a database) stops its work too.
 * Errors thrown by the app propagate: the engine renders them as 500 (or their HttpError status).
 */

import { HttpError } from '../handler/http-error.js';
import type { Request as BerthRequest, Response as BerthResponse, Handler } from '../handler/types.js';

/** A Fetch-API request handler, e.g. Hono's `app.fetch`. */
export type FetchHandler = (
  request: globalThis.Request,
) => globalThis.Response | Promise<globalThis.Response>;

export type FetchAdapterOptions = {
  /**
   * Take the scheme and host of the URL from `Forwarded` (RFC 7239 §5.3–5.4) or
   * `X-Forwarded-Proto` / `X-Forwarded-Host` when present. Only for a server that is reachable
   * through a proxy that sets or strips those fields; otherwise any client can choose its URL.
   */
  readonly trustProxy?: boolean;
};

/**
 * Adapts a Fetch-API handler to a Berth Handler.
 *
 * Contract: the request body is exposed once, as `request.body`, for methods other than GET and
 * HEAD when the request has one (Content-Length other than 0, or Transfer-Encoding — RFC 9112 §6.3);
 * a GET or HEAD body cannot be represented in a Fetch Request and is left unread. Methods the Fetch
 * standard forbids (CONNECT, TRACE, TRACK) are answered 501, and a request whose Host or fields
 * cannot be represented as a Fetch Request 400, by throwing HttpError. Errors from the app propagate
 * unchanged, except an abort caused by the client leaving, which ends the handler quietly.
 */
export function toHandler(fetchHandler: FetchHandler, options: FetchAdapterOptions = {}): Handler {
  const trustProxy = options.trustProxy ?? false;
  return async (req, res) => {
    const aborter = new AbortController();
    const onClose = (): void => {
      // 'close' also follows a normal end; only a close before end means the client left.
      if (!res.writableEnded) {
        aborter.abort(new DOMException('the client closed the connection', 'AbortError'));
      }
    };
    res.once('close', onClose);
    try {
      const request = toFetchRequest(req, aborter.signal, trustProxy);
      const response = await fetchHandler(request);
      await sendFetchResponse(response, req.method, res, aborter.signal);
    } catch (err) {
      if (aborter.signal.aborted && (err === aborter.signal.reason || isAbortError(err))) return;
      throw err;
    } finally {
      res.off('close', onClose);
    }
  };
}

/** Fetch rejects these outright ("forbidden methods"), byte-case-insensitively. */
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

/**
 * RFC 9110 §7.2 Host = uri-host [ ":" port ]. The engine validates Host already; this check is here
 * because the URL is built by concatenation, and a `/`, `?`, `#`, `@` or `\` in the host would move
 * the path, query or credentials of the URL the app sees.
 */
const HOST_RE = /^(?:\[[0-9A-Za-z:.%_~-]+\]|[0-9A-Za-z!$&'()*+,;=._~%-]+)(?::[0-9]*)?$/;

function toFetchRequest(req: BerthRequest, signal: AbortSignal, trustProxy: boolean): globalThis.Request {
  if (FORBIDDEN_METHODS.has(req.method.toUpperCase())) {
    throw new HttpError(501, `${req.method} is not supported by this Fetch-API application`);
  }
  const url = requestUrl(req, trustProxy);
  const headers: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);

  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal };
  if (hasBody(req)) {
    init.body = bodyStream(req);
    // Required by Fetch for a stream body: the request is sent (here: read) while the response may
    // already be under way.
    init.duplex = 'half';
  }
  try {
    return new globalThis.Request(url, init);
  } catch (err) {
    // e.g. a field value with a character above U+00FF, which a ByteString cannot hold.
    throw new HttpError(400, 'the request cannot be represented as a Fetch Request', { cause: err });
  }
}

/** The absolute URL of the request, as a Fetch app expects `request.url` to be. */
function requestUrl(req: BerthRequest, trustProxy: boolean): string {
  const target = req.url;
  // RFC 9112 §3.2.2: for an absolute-form target the server MUST ignore Host and use the target's.
  if (!target.startsWith('/') && target !== '*') {
    const lower = target.slice(0, 8).toLowerCase();
    if (lower.startsWith('http://') || lower.startsWith('https://')) return parseUrl(target).href;
    throw new HttpError(400, 'the request-target is not a URL this application can serve');
  }
  let scheme = 'http';
  let host = firstValue(req.headers.host) ?? 'localhost';
  if (trustProxy) {
    const forwarded = forwardedFor(req);
    if (forwarded.proto !== undefined) scheme = forwarded.proto;
    if (forwarded.host !== undefined) host = forwarded.host;
  }
  if (!HOST_RE.test(host)) throw new HttpError(400, 'invalid Host');
  // Concatenated rather than `new URL(target, base)`: that would read a target of `//evil/x` as a
  // network-path reference and change the host (RFC 3986 §4.2). `*` (RFC 9112 §3.2.4, OPTIONS)
  // has no URL form; it becomes the path `/*`.
  return parseUrl(`${scheme}://${host}${target === '*' ? '/*' : target}`).href;
}

function parseUrl(s: string): URL {
  try {
    return new URL(s);
  } catch (err) {
    throw new HttpError(400, 'the request-target and Host do not form a valid URL', { cause: err });
  }
}

/**
 * Scheme and host as the first proxy saw them: the first element of `Forwarded` (RFC 7239 §4),
 * else the first value of the X-Forwarded-* fields.
 */
function forwardedFor(req: BerthRequest): { proto?: string; host?: string } {
  const result: { proto?: string; host?: string } = {};
  const forwarded = firstValue(req.headers.forwarded);
  if (forwarded !== undefined) {
    const first = forwarded.split(',', 1)[0] ?? '';
    for (const pair of first.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const name = pair.slice(0, eq).trim().toLowerCase();
      let value = pair.slice(eq + 1).trim();
      // RFC 7239 §4: values are token / quoted-string.
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (name === 'proto') result.proto = value;
      else if (name === 'host') result.host = value;
    }
  }
  const proto = listHead(req.headers['x-forwarded-proto']);
  const host = listHead(req.headers['x-forwarded-host']);
  if (result.proto === undefined && proto !== undefined) result.proto = proto;
  if (result.host === undefined && host !== undefined) result.host = host;
  if (result.proto !== undefined) {
    result.proto = result.proto.toLowerCase();
    if (result.proto !== 'http' && result.proto !== 'https') delete result.proto;
  }
  return result;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The first member of a comma-separated list field, trimmed; undefined when empty. */
function listHead(v: string | string[] | undefined): string | undefined {
  const s = firstValue(v);
  if (s === undefined) return undefined;
  const head = (s.split(',', 1)[0] ?? '').trim();
  return head === '' ? undefined : head;
}

/** RFC 9112 §6.3 ¶7: without Content-Length or Transfer-Encoding a request has no body. */
function hasBody(req: BerthRequest): boolean {
  const method = req.method.toUpperCase();
  // Fetch throws for a GET or HEAD Request with a body (RFC 9110 §9.3.1–9.3.2 give it no meaning).
  if (method === 'GET' || method === 'HEAD') return false;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = firstValue(req.headers['content-length']);
  return length !== undefined && length.trim() !== '0';
}

/**
 * A pull-based stream over the request body: one `next()` per pull, so the app's reading pace is
 * the socket's (no read-ahead beyond the engine's own). Chunks pass through uncopied: a Fetch app
 * may hold them indefinitely (`await request.arrayBuffer()` collects them all), which is safe because
 * the engine never reuses the memory of a body chunk it has handed out (conn/request.ts pushBody).
 */
function bodyStream(req: BerthRequest): ReadableStream<Uint8Array> {
  // Taken on the first pull, so an app that never reads the body leaves it to the engine to discard.
  let iterator: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        iterator ??= req[Symbol.asyncIterator]();
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await iterator?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Fields that describe the connection, not the representation (RFC 9110 §7.6.1): the engine owns
 * the connection and chooses the framing, so an app's values for them are dropped. Content-Length
 * is kept: it lets the engine frame by length instead of chunking.
 */
const CONNECTION_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

async function sendFetchResponse(
  response: globalThis.Response,
  method: string,
  res: BerthResponse,
  signal: AbortSignal,
): Promise<void> {
  res.statusCode = response.status;
  res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    // Headers iterates names in lower case, joins repeats with ", " — except set-cookie, below.
    if (name === 'set-cookie' || CONNECTION_FIELDS.has(name)) continue;
    res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);

  const body = response.body;
  if (body === null) {
    res.end();
    return;
  }
  // RFC 9110 §9.3.2: a HEAD response carries no content; release what the app produced.
  if (method.toUpperCase() === 'HEAD') {
    await body.cancel();
    res.end();
    return;
  }
  await pipeBody(body, res, signal);
}

async function pipeBody(
  body: ReadableStream<Uint8Array>,
  res: BerthResponse,
  signal: AbortSignal,
): Promise<void> {
  const reader = body.getReader();
  let closed: Promise<void> | undefined;
  try {
    for (;;) {
      if (signal.aborted) {
        await reader.cancel(signal.reason);
        return;
      }
      const { done, value } = await reader.read();
      if (done) break;
      const chunk: unknown = value;
      if (!(chunk instanceof Uint8Array) && typeof chunk !== 'string') {
        throw new TypeError('a Response body chunk must be a Uint8Array');
      }
      if (!res.write(chunk)) {
        // A client that leaves never drains; the abort ends the wait instead.
        closed ??= abortedPromise(signal);
        await Promise.race([res.drain(), closed]);
      }
    }
  } catch (err) {
    await reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
  res.end();
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
