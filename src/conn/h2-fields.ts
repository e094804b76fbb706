/**
 * Response fields over HTTP/2: which ones RFC 9113 forbids and node:http2 refuses to repeat, the
 * key cache setHeader() uses, and the copy made when the handler's record cannot go to
 * stream.respond() as it is.
 */
import type { HeaderValue } from '../handler/types.js';

export type OutgoingFields = Record<string, string | string[] | number>;
/** The fields a handler set, by lower-case name, as own properties (see H2Response.fields). */
export type FieldRecord = Record<string, HeaderValue>;

/**
 * RFC 9113 §8.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing
 * connection-specific header fields" — these are dropped from responses, interim responses and
 * trailers. TE is listed because only `TE: trailers` is allowed, and only in requests.
 */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
]);

/**
 * The response fields node:http2 refuses to repeat (its kSingleValueHeaders).
 * Checked before stream.respond(): for HEAD/204/304 node ends the stream's writable side before
 * it validates, so a refused head there would leave no way to send an error response.
 */
export const SINGLE_VALUE: ReadonlySet<string> = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
]);

/**
 * The handler's fields as node:http2 takes them, in a new object: connection-specific ones left
 * out (RFC 9113 §8.2.2), a list refused where node would refuse it, Content-Length in its plain
 * form (none for 204, RFC 9110 §8.6), lists copied.
 */
export function outgoingCopy(
  fields: FieldRecord,
  status: number,
  userLength: number | undefined,
): OutgoingFields {
  const out: OutgoingFields = {};
  for (const key of Object.keys(fields)) {
    if (CONNECTION_SPECIFIC.has(key)) continue;
    if (key === 'content-length') {
      if (status !== 204) out[key] = String(userLength);
      continue;
    }
    const value = fields[key]!;
    if (typeof value === 'object' && value.length > 1 && SINGLE_VALUE.has(key)) {
      throw new TypeError(`header "${key}" cannot have more than one value over HTTP/2`);
    }
    setField(out, key, outgoing(value));
  }
  return out;
}

/**
 * Sets a field on a plain object. `__proto__` is a valid token: plain assignment would touch the
 * prototype instead of adding the field, so that one name is defined as an own property.
 */
export function setField(out: Record<string, unknown>, key: string, value: HeaderValue): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

export function outgoing(value: HeaderValue): string | string[] {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : [...value];
}
