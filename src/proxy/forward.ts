/**
 * The forward proxy: a Handler that relays absolute-form HTTP requests (RFC 9112 §3.2.2) through
 * the upstream pool and tunnels CONNECT (RFC 9110 §9.3.6) over raw TCP.
 *
 * The life of a proxied request, in the order the checks run:
 *  1. Access: the client address must be in `allow` (loopback only by default) — a proxy that
 *     anyone can reach is an open relay. Refused with 403, the reason logged.
 *  2. Loop: a Via that already lists our pseudonym means the request came round again (508).
 *     Checked before auth and the form checks: a request we forwarded comes back without
 *     credentials, and in origin-form when a hop took us for the origin.
 *  3. Auth, when configured: `Proxy-Authorization: Basic` (RFC 9110 §11.7.2, RFC 7617), compared
 *     in constant time; else 407 with `Proxy-Authenticate` (RFC 9110 §11.7.1).
 *  4. CONNECT goes to the tunnel (step 8). Other requests need absolute-form with an `http:` URI:
 *     an origin-form request was meant for an origin server, not for a proxy (400); `https:` in
 *     absolute-form would make the proxy the TLS client, so clients are told to use CONNECT (400).
 *  5. Max-Forwards on TRACE and OPTIONS (RFC 9110 §7.6.2): 0 is answered here, more is decremented.
 *  6. The request goes upstream in origin-form with Host from the URI (RFC 9112 §3.2.2: "a proxy
 *     MUST ignore the received Host header field … and instead replace it with the host
 *     information of the request-target"), hop-by-hop fields dropped, Via appended, the body
 *     streamed. Expect is dropped too: the engine answers `100-continue` itself when the body is
 *     first read, so the upstream's own 100 is not forwarded (the client would get two); other
 *     1xx (103 Early Hints) are forwarded to HTTP/1.1 clients (RFC 9110 §15.2: never to 1.0).
 *  7. The response comes back with its status, reason, fields (hop-by-hop dropped, Via appended),
 *     Content-Length kept (so HEAD and 304 keep theirs) and trailers. Failures before the head goes
 *     out become 502 (connect, reset, protocol) or 504 (timeout); after it, the error is rethrown
 *     so the engine cuts the connection — a truncated body must never look complete.
 *  8. CONNECT host:port: only to `connectPorts` (403 else), a TCP connect with a timeout (502, or
 *     504 on timeout), then 200, takeOver() and a two-way relay with an idle timeout.
 */
import type { Handler, Request, Response } from '../handler/types.js';
import { type Credentials, parseBasicAuth, plainCredentials } from '../static/auth.js';
import { allowedClient, type Cidr, LOOPBACK_ONLY, parseCidr } from './access.js';
import { answer } from './answer.js';
import { type ConnectConfig, connectTunnel } from './connect.js';
import { joined, joinedRecord, record } from './field-records.js';
import { forwardableFields, forwardableResponseFields } from './hop-by-hop.js';
import { originForm, splitAuthority, splitUri } from './target-uri.js';
import type { UpstreamPool } from './upstream-pool.js';
import {
  type FieldList,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
} from './upstream-types.js';
import { appendVia, seenVia } from './via.js';

/** A CONNECT tunnel with no byte either way for this long is closed. */
export const TUNNEL_IDLE_TIMEOUT_MS = 5 * 60_000;
/** Time allowed for the TCP connect of a CONNECT tunnel. */
export const TUNNEL_CONNECT_TIMEOUT_MS = 10_000;
/** The only port CONNECT reaches unless told otherwise: HTTPS. */
export const DEFAULT_CONNECT_PORTS: readonly number[] = Object.freeze([443]);
/** The realm of the 407 challenge. */
const REALM = 'berth';
/** Methods named in `Allow` when the proxy answers OPTIONS itself (Max-Forwards: 0). */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT';
/** Fields left out of a TRACE echo: RFC 9110 §9.3.8 ¶3 — "likely to contain sensitive data". */
const TRACE_HIDDEN: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** What the forward proxy needs of the upstream pool: its request() (a stand-in in unit tests). */
export type ForwardUpstream = Pick<UpstreamPool, 'request'>;

export type ForwardProxyOptions = {
  readonly pool: ForwardUpstream;
  /** CIDR blocks of the clients served; default loopback only (127.0.0.0/8, ::1/128). */
  readonly allow?: readonly string[] | undefined;
  /** Ports CONNECT may reach; default [443]. */
  readonly connectPorts?: readonly number[] | undefined;
  /** Require Proxy-Authorization: Basic with this pair. */
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
  /** This proxy's name in Via (a token; see viaPseudonym()). */
  readonly pseudonym: string;
  readonly tunnelIdleTimeoutMs?: number | undefined;
  readonly tunnelConnectTimeoutMs?: number | undefined;
  /** Where refusals and tunnel summaries go, one line each; default stderr. */
  readonly log?: ((line: string) => void) | undefined;
  /**
   * Wraps the forwarding of requests that passed the access checks (e.g. with the cache), so
   * nothing reaches a refused client through the wrapper.
   */
  readonly around?: ((forward: Handler) => Handler) | undefined;
};

type Config = ConnectConfig & {
  readonly pool: ForwardUpstream;
  readonly allow: readonly Cidr[];
  readonly credentials: Credentials | undefined;
  readonly pseudonym: string;
};

/**
 * Makes the forward proxy handler. Options are validated here, once: an invalid CIDR, port,
 * pseudonym or credential pair throws (RangeError / TypeError / Error) naming it.
 */
export function createForwardProxy(options: ForwardProxyOptions): Handler {
  const config = resolveOptions(options);
  const forwarding: Handler = (req, res) => forward(req, res, joined(req.headers.via), config);
  const forwardAll = options.around === undefined ? forwarding : options.around(forwarding);
  return async (req, res) => {
    const client = req.remoteAddress;
    if (!allowedClient(client, config.allow)) {
      config.log(`forward proxy: refused ${client}: not in the allowed client list`);
      answer(res, 403, 'this proxy does not serve your address');
      return;
    }
    // Before anything else looks at the request: a request we forwarded may come back to us in
    // any form (origin-form, when a hop took us for the origin) and without credentials.
    const via = joined(req.headers.via);
    if (seenVia(via, config.pseudonym)) {
      config.log(`forward proxy: loop refused: ${req.method} ${req.url} already passed ${config.pseudonym}`);
      answer(res, 508, `loop: this request already passed through ${config.pseudonym}`);
      return;
    }
    if (config.credentials !== undefined && !(await authorized(req, config.credentials, config.log))) {
      answer(res, 407, 'proxy credentials needed', { 'Proxy-Authenticate': `Basic realm="${REALM}"` });
      return;
    }
    if (req.method === 'CONNECT') return connectTunnel(req, res, config);
    return forwardAll(req, res);
  };
}

function resolveOptions(options: ForwardProxyOptions): Config {
  const ports = options.connectPorts ?? DEFAULT_CONNECT_PORTS;
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new RangeError(`invalid CONNECT port ${port}`);
  }
  // Checked now, not per request: appendVia() throws for a pseudonym that is not a token.
  appendVia(undefined, '1.1', options.pseudonym);
  const auth = options.auth;
  return Object.freeze({
    pool: options.pool,
    allow: options.allow === undefined ? LOOPBACK_ONLY : options.allow.map(parseCidr),
    connectPorts: new Set(ports),
    credentials: auth === undefined ? undefined : plainCredentials(`${auth.user}:${auth.pass}`),
    pseudonym: options.pseudonym,
    tunnelIdleTimeoutMs: positive('tunnelIdleTimeoutMs', options.tunnelIdleTimeoutMs, TUNNEL_IDLE_TIMEOUT_MS),
    tunnelConnectTimeoutMs: positive(
      'tunnelConnectTimeoutMs',
      options.tunnelConnectTimeoutMs,
      TUNNEL_CONNECT_TIMEOUT_MS,
    ),
    log: options.log ?? ((line: string) => console.error(`berth: ${line}`)),
  });
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`option ${name} must be a positive number`);
  return value;
}

/** Whether Proxy-Authorization carries the configured pair; wrong credentials are logged, absent ones not (a 407 is how the exchange starts). */
async function authorized(
  req: Request,
  credentials: Credentials,
  log: (line: string) => void,
): Promise<boolean> {
  const header = req.headers['proxy-authorization'];
  if (header === undefined) return false;
  // Two Proxy-Authorization fields are malformed (a singleton field): refused.
  const parsed = parseBasicAuth(typeof header === 'string' ? header : undefined);
  if (parsed !== undefined && (await credentials.check(parsed.user, parsed.pass))) return true;
  log(`forward proxy: 407 for ${req.remoteAddress}: wrong or malformed Proxy-Authorization`);
  return false;
}

// Absolute-form requests ------------------------------------------------------------------

async function forward(req: Request, res: Response, via: string | undefined, config: Config): Promise<void> {
  const uri = splitUri(req.url);
  if (uri.kind === 'not-absolute') {
    answer(res, 400, 'this is a forward proxy: send requests in absolute-form (GET http://host/path)');
    return;
  }
  if (uri.kind === 'https') {
    answer(res, 400, 'https: URIs go through a tunnel: use CONNECT host:443');
    return;
  }
  if (uri.kind === 'other') {
    answer(res, 400, `the ${uri.scheme}: scheme is not proxied (only http:, and https: through CONNECT)`);
    return;
  }
  const authority = splitAuthority(uri.authority, 80);
  if (authority === undefined) {
    answer(res, 400, 'invalid port in the request target');
    return;
  }
  let maxForwards: number | undefined;
  if (req.method === 'TRACE' || req.method === 'OPTIONS') {
    maxForwards = parseMaxForwards(joined(req.headers['max-forwards']));
    if (maxForwards === 0) {
      answerHere(req, res);
      return;
    }
  }

  const headers: [string, string][] = [['Host', authority.hostField]];
  for (const field of forwardableFields(req.rawHeaders)) {
    const lower = field[0].toLowerCase();
    if (lower === 'via' || lower === 'expect') continue;
    if (lower === 'max-forwards' && maxForwards !== undefined) continue;
    headers.push(field);
  }
  if (maxForwards !== undefined) headers.push(['Max-Forwards', String(maxForwards - 1)]);
  headers.push(['Via', appendVia(via, viaVersion(req.httpVersion), config.pseudonym)]);

  const controller = new AbortController();
  let upstream: UpstreamResponse | undefined;
  let done = false;
  // The client went away (or the response finished): stop the upstream exchange if still running.
  const onClose = (): void => {
    if (done || res.writableEnded) return;
    controller.abort();
    upstream?.abort();
  };
  res.once('close', onClose);
  try {
    const target: UpstreamTarget = { kind: 'tcp', host: authority.host, port: authority.port, tls: false };
    try {
      upstream = await config.pool.request(target, {
        method: req.method,
        target: originForm(uri.rest, req.method),
        headers,
        ...requestBody(req),
        onInformational: (status, fields) => informational(req, res, status, fields),
        signal: controller.signal,
      });
    } catch (err) {
      // The client left while we waited (see onClose): the rejection is the abort's.
      if (controller.signal.aborted) return;
      if (!(err instanceof UpstreamError)) throw err;
      failed(res, err, authority.hostField, config);
      return;
    }
    await relayResponse(res, upstream, controller.signal, authority.hostField, config);
  } finally {
    done = true;
    res.off('close', onClose);
  }
}

/** The request body for the pool: its length when Content-Length gave one, its trailers when chunked. */
function requestBody(req: Request): Pick<UpstreamRequest, 'body' | 'bodyLength' | 'trailers'> {
  // The engine has framed the body already: chunked wins over Content-Length (RFC 9112 §6.3 ¶3).
  if (req.headers['transfer-encoding'] !== undefined) {
    return { body: req, trailers: () => forwardableFields(flatten(req.trailers)) };
  }
  const length = req.headers['content-length'];
  // RFC 9112 §6.3 ¶7: a request with neither Content-Length nor Transfer-Encoding has no body.
  if (length === undefined) return {};
  const n = Number(length);
  return Number.isSafeInteger(n) ? { body: req, bodyLength: n } : { body: req };
}

function informational(req: Request, res: Response, status: number, fields: FieldList): void {
  // 100 is the engine's to send (see the module comment); 1.0 clients get no 1xx at all.
  if (status === 100 || req.httpVersion === '1.0' || res.headersSent) return;
  res.writeInformational(status, record(forwardableResponseFields(fields).fields));
}

/**
 * Streams the upstream response to the client. The head is applied only when the first body
 * bytes (or the end) arrive, so an upstream failing before that still gets a clean 502/504.
 */
async function relayResponse(
  res: Response,
  upstream: UpstreamResponse,
  signal: AbortSignal,
  host: string,
  config: Config,
): Promise<void> {
  const { fields, contentLength } = forwardableResponseFields(upstream.headers);
  let headApplied = false;
  const applyHead = (): void => {
    headApplied = true;
    res.statusCode = upstream.status;
    res.statusMessage = upstream.reason;
    let via: string | undefined;
    const grouped = new Map<string, { name: string; values: string[] }>();
    for (const [name, value] of fields) {
      const key = name.toLowerCase();
      if (key === 'via') {
        via = via === undefined ? value : `${via}, ${value}`;
        continue;
      }
      const entry = grouped.get(key);
      if (entry === undefined) grouped.set(key, { name, values: [value] });
      else entry.values.push(value);
    }
    for (const { name, values } of grouped.values())
      res.setHeader(name, values.length === 1 ? values[0]! : values);
    if (contentLength !== undefined) res.setHeader('Content-Length', contentLength);
    res.setHeader('Via', appendVia(via, '1.1', config.pseudonym));
  };
  try {
    for await (const chunk of upstream.body) {
      if (!headApplied) applyHead();
      if (!res.write(chunk)) await res.drain();
    }
  } catch (err) {
    upstream.abort();
    // The client left (see onClose): nobody to tell, and nothing went wrong here.
    if (signal.aborted) return;
    if (headApplied || !(err instanceof UpstreamError)) throw err;
    failed(res, err, host, config);
    return;
  }
  if (!headApplied) applyHead();
  const trailers = forwardableResponseFields(upstream.trailers()).fields;
  if (trailers.length > 0) res.addTrailers(joinedRecord(trailers));
  res.end();
}

/** Answers an upstream failure: 504 for a timeout, 502 for anything else. */
function failed(res: Response, err: UpstreamError, host: string, config: Config): void {
  config.log(`forward proxy: upstream ${host} failed (${err.kind}): ${err.message}`);
  if (err.kind === 'timeout') answer(res, 504, `no timely answer from ${host}`);
  else if (err.kind === 'connect') answer(res, 502, `could not connect to ${host}: ${err.message}`);
  else answer(res, 502, `the exchange with ${host} failed (${err.kind}): ${err.message}`);
}

/**
 * Max-Forwards: 0 on OPTIONS or TRACE, answered by the proxy (RFC 9110 §7.6.2 ¶4: "the recipient
 * MUST NOT forward the request; instead, the recipient MUST respond as the final recipient").
 * OPTIONS gets 200 with Allow; TRACE gets 200 with the request head echoed as message/http
 * (RFC 9110 §9.3.8), credentials and cookies left out.
 */
function answerHere(req: Request, res: Response): void {
  if (req.method === 'OPTIONS') {
    res.statusCode = 200;
    res.setHeader('Allow', ALLOWED_METHODS);
    res.end();
    return;
  }
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!TRACE_HIDDEN.has(raw[i]!.toLowerCase())) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'message/http');
  res.end(`${head}\r\n`);
}

/** Max-Forwards = 1*DIGIT (RFC 9110 §7.6.2); undefined when absent or malformed (forwarded as is). */
function parseMaxForwards(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

// Small helpers ---------------------------------------------------------------------------

function viaVersion(httpVersion: string): string {
  return httpVersion === '2.0' ? '2' : httpVersion;
}

/** A header record as flat `[name, value, …]`, arrays as repeated fields. */
function flatten(headers: Readonly<Record<string, string | string[] | undefined>>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}
