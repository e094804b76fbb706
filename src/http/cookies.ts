/**
 * Cookie and Set-Cookie fields (RFC 6265), through the `cookie` package so that Berth parses and
 * serializes exactly as the rest of the Node ecosystem does. Pure: no I/O, nothing from src/.
 */
import { parse, type SerializeOptions, serialize } from 'cookie';

/** Cookie names mapped to their values; names not sent read as `undefined`. */
export type Cookies = Record<string, string | undefined>;

/**
 * Parses a Cookie header field value into name → value (RFC 6265 §5.4: `name=value` pairs
 * separated by `;`).
 *
 * The result inherits nothing — `cookies.toString` or `cookies.__proto__` are only ever a
 * cookie a client sent — because `cookie.parse` builds it on a prototype chain without
 * Object.prototype; we return that object as is rather than pay for a copy. The first occurrence
 * of a name wins (RFC 6265 §5.4 ¶2 sorts longer paths first, so the first is the most specific).
 * Values are percent-decoded; a value that is not valid percent-encoding is kept as sent.
 * Never throws; an absent or empty header gives an empty object.
 */
export function parseCookies(header: string | undefined): Cookies {
  return parse(header ?? '');
}

/**
 * Serializes one Set-Cookie field value (RFC 6265 §4.1): `name=value` then the attributes in
 * `options`. The value is percent-encoded (encodeURIComponent) unless `options.encode` says
 * otherwise, so any string round-trips through parseCookies().
 *
 * @throws TypeError when the name is not a cookie-name, the encoded value is not a cookie-value,
 *   or an attribute is malformed (e.g. a non-integer maxAge, a domain with a space) — these would
 *   otherwise smuggle `;`-separated attributes into the field.
 */
export function serializeSetCookie(name: string, value: string, options?: SerializeOptions): string {
  return serialize(name, value, options);
}
