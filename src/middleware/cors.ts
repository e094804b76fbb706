/**
 * The `cors` middleware: the server side of the CORS protocol (Fetch standard §3.2, "HTTP
 * extensions"), for the origins in config.
 *
 * - A request whose Origin is allowed gets `Access-Control-Allow-Origin`: the origin itself, or
 *   `*` when any origin is allowed and credentials are not (Fetch §3.2.5: `*` never goes with
 *   credentials), plus `Access-Control-Allow-Credentials: true` when credentials are allowed.
 * - A CORS-preflight request (OPTIONS with Origin and Access-Control-Request-Method, Fetch §3.2.2)
 *   from an allowed origin is answered here, 204, with Allow-Methods, Allow-Headers and Max-Age;
 *   next never sees it.
 * - Any other request passes through untouched, with no CORS fields: the browser then refuses
 *   the response to the page, which is the point.
 * - When the answer depends on the Origin (a list of origins), every response — allowed, refused
 *   or without Origin — carries `Vary: Origin`, so a shared cache never hands one origin's answer
 *   to another (Fetch §3.2.5, "CORS protocol and HTTP caches").
 *
 * Fields go on at head time (intercept()), so next cannot drop `Vary: Origin` by setting its own
 * Vary; HttpErrors thrown by next get them too, so the page can read the error status.
 *
 * Config decisions: origins are compared in their serialized form (`https://example.com`, default
 * port left out, host lower-cased), checked when built. `*` in origins with credentials is
 * refused: it would let every site read credentialed responses. Empty methods mean the
 * CORS-safelisted GET, HEAD, POST; `*` in methods or headers is sent as `*` without credentials
 * and, with them (where `*` is a literal name, Fetch §3.2.3), reflects what the preflight asks.
 */
import type { MiddlewareConfig } from '../config/model.js';
import type { IncomingHeaders, Request, Response } from '../handler/types.js';
import { splitList } from '../http/field-list.js';
import { isToken } from '../http/field-syntax.js';
import { appendVary, errorWithFields, type FieldTarget } from './fields.js';
import { intercept, type OnHead, PASS } from './intercept.js';
import type { Middleware } from './types.js';

export type CorsConfig = Extract<MiddlewareConfig, { readonly kind: 'cors' }>;

/** Fetch §2.2.1: the CORS-safelisted methods, allowed without a preflight listing them. */
const SAFELISTED_METHODS = 'GET, HEAD, POST';

/** Builds the `cors` middleware. Throws an Error naming the bad entry when config is invalid. */
export function cors(config: CorsConfig): Middleware {
  const anyOrigin = config.origins.includes('*');
  const credentials = config.credentials;
  if (anyOrigin && credentials) {
    throw new Error(
      'cors: origins "*" with credentials would let every site read credentialed responses; list the origins',
    );
  }
  const origins = new Set(config.origins.filter((o) => o !== '*').map(serializeOrigin));
  if (!anyOrigin && origins.size === 0) throw new Error('cors.origins: no origin given');
  const methods = listValue('cors.methods', config.methods, SAFELISTED_METHODS, credentials);
  const allowHeaders = listValue('cors.headers', config.headers, undefined, credentials);
  const maxAge = config.maxAgeSeconds;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0) {
    throw new Error(`cors.maxAgeSeconds must be a whole number of seconds, not ${maxAge}`);
  }
  const varyOrigin = !anyOrigin;

  /** The fields of an allowed actual request's response. */
  const allow = (target: FieldTarget, origin: string): void => {
    target.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
    if (credentials) target.setHeader('Access-Control-Allow-Credentials', 'true');
    if (varyOrigin) appendVary(target, 'Origin');
  };
  const refuse = (target: FieldTarget): void => appendVary(target, 'Origin');
  const refuseOnHead: OnHead = (head) => {
    refuse(head.res);
    return PASS;
  };

  const preflight = (req: Request, res: Response, origin: string): void => {
    res.statusCode = 204;
    allow(res, origin);
    const method = reflect(methods, req.headers['access-control-request-method']);
    if (method !== undefined) res.setHeader('Access-Control-Allow-Methods', method);
    const asked = reflect(allowHeaders, req.headers['access-control-request-headers']);
    if (asked !== undefined) res.setHeader('Access-Control-Allow-Headers', asked);
    if (methods === REFLECT) appendVary(res, 'Access-Control-Request-Method');
    if (allowHeaders === REFLECT) appendVary(res, 'Access-Control-Request-Headers');
    res.setHeader('Access-Control-Max-Age', String(maxAge));
    res.end();
  };

  return (next) => async (req, res) => {
    const origin = single(req.headers, 'origin');
    const allowed = origin !== undefined && (anyOrigin || origins.has(origin));
    if (!allowed) {
      if (!varyOrigin) return next(req, res);
      try {
        await intercept(next, req, res, refuseOnHead);
      } catch (err) {
        throw errorWithFields(err, res, refuse);
      }
      return;
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      preflight(req, res, origin);
      return;
    }
    const edit = (target: FieldTarget): void => allow(target, origin);
    try {
      await intercept(next, req, res, (head) => {
        edit(head.res);
        return PASS;
      });
    } catch (err) {
      throw errorWithFields(err, res, edit);
    }
  };
}

/** Methods or headers to reflect from the preflight (`*` with credentials). */
const REFLECT = Symbol('reflect');

/**
 * A configured list as the field value to send: `fallback` when empty, `*` alone when the list
 * holds `*` and there are no credentials, REFLECT when it holds `*` with credentials.
 */
function listValue(
  where: string,
  list: readonly string[],
  fallback: string | undefined,
  credentials: boolean,
): string | typeof REFLECT | undefined {
  if (list.length === 0) return fallback;
  if (list.includes('*')) return credentials ? REFLECT : '*';
  for (const item of list) if (!isToken(item)) throw new Error(`${where}: "${item}" is not a token`);
  return list.join(', ');
}

/** The configured value, or what the preflight asked for when reflecting (tokens only). */
function reflect(
  value: string | typeof REFLECT | undefined,
  asked: string | string[] | undefined,
): string | undefined {
  if (value !== REFLECT) return value;
  if (asked === undefined) return undefined;
  const members = splitList(typeof asked === 'string' ? asked : asked.join(', '));
  if (members.length === 0 || !members.every(isToken)) return undefined;
  return members.join(', ');
}

/**
 * An origin from config in its serialized form (WHATWG URL `origin`: lower-case scheme and host,
 * default port dropped), or `null` as is. Throws unless it is a bare scheme://host[:port].
 */
function serializeOrigin(origin: string): string {
  if (origin === 'null') return origin;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(`cors.origins: "${origin}" is not an origin (scheme://host[:port])`);
  }
  const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '';
  if (!bare || url.origin === 'null') {
    throw new Error(`cors.origins: "${origin}" is not an origin (scheme://host[:port], no path)`);
  }
  return url.origin;
}

/** A request field that must appear once (two Origin fields match nothing). */
function single(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}
