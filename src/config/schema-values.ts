/**
 * The leaf values of `berth.yaml` as zod schemas: host names, addresses, CIDRs, upstream URLs,
 * sizes, durations, statuses, header fields, route matches. Each reads its text once into the form
 * the model wants (canonical host, bytes, milliseconds) and says what it expected when it cannot.
 *
 * The readers are the ones the runtime uses (http/field-syntax.ts, tls/host-name.ts,
 * proxy/access.ts, proxy/balancer.ts), so a value this accepts is a value those accept.
 */
import { z } from 'zod';
import { isToken, isValidFieldValue } from '../http/field-syntax.js';
import { parseCidr } from '../proxy/access.js';
import { parseUpstreamUrl } from '../proxy/balancer.js';
import { canonicalIp, parseHostName } from '../tls/host-name.js';
import { parseDuration, parseSize } from './units.js';

/**
 * A string read by `read`, which returns the value, returns undefined (the text is not one), or
 * throws a TypeError whose message says why.
 */
function textOf<T>(expected: string, read: (text: string) => T | undefined) {
  return z.string({ error: `expected ${expected}` }).transform((text, ctx): T => {
    let value: T | undefined;
    let reason = '';
    try {
      value = read(text);
    } catch (err) {
      if (err instanceof TypeError) reason = ` (${err.message})`;
    }
    if (value !== undefined) return value;
    ctx.addIssue({
      code: 'custom',
      message: `expected ${expected}, got ${quote(text)}${reason}`,
      input: text,
    });
    return z.NEVER;
  });
}

/** Text quoted for a message, shortened when long. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function gotText(input: number | string): string {
  return typeof input === 'number' ? String(input) : quote(input);
}

/** Calls `parse` and answers undefined instead of throwing: for readers whose message adds nothing. */
function orUndefined<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** A file or folder; relative paths are resolved against the config file's folder later. */
export const pathValue = z.string({ error: 'expected a path' }).min(1, 'expected a path, got ""');

/**
 * A site host: exact or `*.`-wildcard DNS name, or an IP address, in canonical form. IPv6 keeps
 * its brackets (`[::1]`), as it arrives in a Host header (RFC 9110 §7.2, RFC 3986 §3.2.2).
 */
export const hostValue = textOf('a host name (example.com, *.example.com) or an IP address', (text) => {
  // A port here is a common slip (`example.com:8080`); sites match names, listeners own ports.
  if (/^[^[:]*:\d+$/.test(text)) throw new TypeError('no port here: ports belong to listeners');
  const host = orUndefined(() => parseHostName(text));
  return host?.kind === 'ip' && host.name.includes(':') ? `[${host.name}]` : host?.name;
});

/** A listener address: an IP address, or a host name resolved at bind time. */
export const addressValue = textOf('an IP address (0.0.0.0, ::, 127.0.0.1) or a host name', (text) => {
  const ip = canonicalIp(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (ip !== undefined) return ip;
  const host = orUndefined(() => parseHostName(text).name);
  return host?.startsWith('*') ? undefined : host;
});

/** An address block (`10.0.0.0/8`, `::1`), kept as written once it parses. */
export const cidrValue = textOf('an IP address or CIDR block (10.0.0.0/8, ::1/128)', (text) => {
  return orUndefined(() => parseCidr(text.trim())) && text.trim();
});

/** An upstream: `http://host:port`, `https://host` or `unix:/path`. */
export const upstreamValue = textOf(
  'an upstream URL (http://host:port, https://host, unix:/path)',
  (text) => {
    try {
      parseUpstreamUrl(text);
      return text;
    } catch (err) {
      // Its messages read `upstream "URL": why`; the caller already shows the URL.
      const why = /^upstream "[^"]*": (.*)$/.exec((err as Error).message)?.[1];
      if (why === undefined) return undefined;
      throw new TypeError(why);
    }
  },
);

/** Where a listener given only a port binds, and the one listener of a file that names none. */
export const DEFAULT_LISTEN = { address: '127.0.0.1', port: 8080 } as const;

/** A TCP port; 0 asks the system for a free one. */
export const portValue = z
  .number({ error: 'expected a port number (1 to 65535)' })
  .int('expected a whole port number')
  .min(0, 'expected a port number (1 to 65535)')
  .max(65535, 'expected a port number (1 to 65535)');

/** A status code between `min` and `max`. */
export function statusValue(min: number, max: number) {
  const expected = `expected a status from ${min} to ${max}`;
  return z.number({ error: expected }).int(expected).min(min, expected).max(max, expected);
}

/** A size in bytes: a number (of `bareUnit`s; bytes unless told), or text like `512k`, `10m`, `1g`. */
export function sizeValue(bareUnit = 1) {
  const expected = `expected a size like 512k, 10m or 1g${bareUnit === 1 ? '' : ' (a bare number is MiB)'}`;
  return z.union([z.number(), z.string()], { error: expected }).transform((input, ctx): number => {
    const bytes = parseSize(input, bareUnit);
    if (bytes !== undefined) return bytes;
    ctx.addIssue({ code: 'custom', message: `${expected}, got ${gotText(input)}`, input });
    return z.NEVER;
  });
}

const DURATION_EXPECTED = 'expected seconds, or a duration like 500ms, 30s, 5m';

/** A duration in milliseconds: a number of seconds, or text like `500ms`, `30s`, `5m`, `2h`, `7d`. */
export const durationValue = z
  .union([z.number(), z.string()], { error: DURATION_EXPECTED })
  .transform((input, ctx): number => {
    const ms = parseDuration(input);
    if (ms !== undefined) return ms;
    ctx.addIssue({ code: 'custom', message: `${DURATION_EXPECTED}, got ${gotText(input)}`, input });
    return z.NEVER;
  });

/** A header field name (RFC 9110 §5.1: a token). */
export const headerNameValue = z
  .string({ error: 'expected a header name' })
  .refine(isToken, "expected a header name (letters, digits and !#$%&'*+-.^_`|~), e.g. X-Frame-Options");

/** A field value: RFC 9110 §5.5 forbids CR, LF, NUL and other controls (they could split the head). */
export const headerValue = z
  .string({ error: 'expected a header value (text)' })
  .refine(isValidFieldValue, 'a header value cannot hold line breaks or other control characters');

/** Header name → value. */
export const headerMap = z.record(headerNameValue, headerValue, { error: 'expected a map of header: value' });

const STANDARD_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** A method; `put` is read as `PUT` (methods are case-sensitive, RFC 9110 §9.1, and nobody means `put`). */
export const methodValue = textOf('a method like GET or PUT', (text) => {
  if (!isToken(text)) return undefined;
  const upper = text.toUpperCase();
  return STANDARD_METHODS.includes(upper) ? upper : text;
});

/** A Via received-by pseudonym (RFC 9110 §7.6.3: a token). */
export const pseudonymValue = z.string().refine(isToken, 'expected a name without spaces, e.g. edge-1');

/** A CORS origin: `*`, or `scheme://host[:port]` exactly as browsers send it (Fetch §3.2.5). */
export const originValue = textOf('* or an origin like https://app.example.com', (text) => {
  if (text === '*') return text;
  const origin = orUndefined(() => new URL(text).origin);
  if (origin === 'null' || origin !== text.replace(/\/$/, '')) return undefined;
  return origin;
});

/** `user:password`, both non-empty. */
export const userPassValue = textOf('user:password', (text) => {
  const colon = text.indexOf(':');
  return colon > 0 && colon < text.length - 1 ? text : undefined;
});

/** The 401 challenge's realm: a quoted-string, so no quotes, backslashes or controls inside. */
export const realmValue = z
  .string()
  .regex(/^[^"\\\0-\x1f\x7f]*$/, 'expected a realm without quotes or backslashes');

const PLACEHOLDERS = ['scheme', 'host', 'port', 'path', 'query', 'uri'];

/** A redirect Location template with `{scheme}`, `{host}`, `{port}`, `{path}`, `{query}`, `{uri}`. */
export const redirectTargetValue = textOf('a URL or path, e.g. https://{host}{uri}', (text) => {
  if (text === '' || /[\s\0]/.test(text)) throw new TypeError('no spaces or line breaks');
  for (const [, name] of text.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.includes(name!)) {
      throw new TypeError(
        `unknown placeholder {${name}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`,
      );
    }
  }
  return text;
});

/** Route match: `/api/` or `/health` (prefix or whole path), or a glob with `*`, `**` and `?`. */
export type RouteMatch =
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'glob'; readonly glob: string };

export const matchValue = textOf('a path like /api/ or a glob like /assets/**/*.css', (text): RouteMatch => {
  if (!text.startsWith('/')) throw new TypeError('it must start with /');
  // A request path never holds a fragment; spaces are a slip (paths arrive percent-encoded).
  if (/[#\s]/.test(text)) throw new TypeError('no fragment or spaces');
  // `*`, `**` and `?` make a glob (config/routing.ts compiles it); anything else is a prefix.
  return /[*?]/.test(text) ? { kind: 'glob', glob: text } : { kind: 'prefix', prefix: text };
});
