/**
 * Cache-Control directives (RFC 9111 §5.2), parsed into a map for the cache policy to read.
 * Deliberately untyped at this layer: the policy decides what each directive means and which
 * values are valid (e.g. `max-age` must be delta-seconds, §1.2.2).
 */
import { splitList, unquote } from './field-list.js';
import { isToken } from './field-syntax.js';

/**
 * Parses a Cache-Control field value, `#cache-directive` where
 * `cache-directive = token [ "=" ( token / quoted-string ) ]` (RFC 9111 §5.2), into directive
 * name (lower-cased: "Cache directives are identified by a token, to be compared
 * case-insensitively") → argument, or `true` for a directive without one. A quoted-string
 * argument is unquoted and unescaped (`no-cache="a, b"` → `a, b`); token arguments keep their case.
 *
 * OWS around elements and empty elements are accepted (the `#` list rule, RFC 9110 §5.6.1); none
 * is allowed around `=`, which the grammar does not have. A malformed element (name not a token,
 * whitespace around `=`, `name=` with nothing after it, an argument that is neither a token nor
 * one quoted-string) is skipped, so `max-age = 5` does not make a response fresh. When a directive repeats, the first well-formed one
 * is kept (RFC 9111 §4.2.1: "either the first occurrence should be used or the response should
 * be considered stale"). `undefined` or `''` gives an empty map. Never throws.
 */
export function parseCacheControl(header: string | undefined): Map<string, string | true> {
  const directives = new Map<string, string | true>();
  if (header === undefined) return directives;
  for (const element of splitList(header)) {
    const eq = element.indexOf('=');
    const name = (eq < 0 ? element : element.slice(0, eq)).toLowerCase();
    if (!isToken(name) || directives.has(name)) continue;
    if (eq < 0) {
      directives.set(name, true);
      continue;
    }
    const raw = element.slice(eq + 1);
    const value = raw.charCodeAt(0) === 0x22 ? unquote(raw) : isToken(raw) ? raw : undefined;
    if (value !== undefined) directives.set(name, value);
  }
  return directives;
}
