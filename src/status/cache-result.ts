/**
 * Reading a response's Cache-Status field (RFC 9211) back into hit or miss, for the cache hit
 * ratio. Berth's cache appends its own member last (§2: members are "ordered from the origin server
 * to the client"), so only the last member is read, and only if it carries this cache's name.
 *
 * The scan is an index loop with no allocation: it runs once per response that carries the field.
 */

/** What one response says about the cache: `none` when it says nothing, or the cache could not take part. */
export type CacheResult = 'hit' | 'miss' | 'none';

const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Classifies a Cache-Status value for the cache named `name`: `hit` for a `hit` parameter (§2.1,
 * stale hits included); `miss` for `fwd=` with a reason that means the cache could have answered
 * (uri-miss, vary-miss, miss, request, stale; §2.2); `none` for fwd=bypass and fwd=method (the
 * response was never a candidate), for another cache's member, and for anything unparseable.
 */
export function cacheResult(value: string, name: string): CacheResult {
  // The last member starts after the last comma outside a quoted string (detail="a, b").
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === BACKSLASH) i++;
      else if (c === DQUOTE) quoted = false;
    } else if (c === DQUOTE) quoted = true;
    else if (c === COMMA) start = i + 1;
  }
  start = skipSpace(value, start);
  if (!value.startsWith(name, start)) return 'none';
  let i = skipSpace(value, start + name.length);
  if (i < value.length && value.charCodeAt(i) !== SEMICOLON) return 'none';
  // Parameters: `; key` or `; key=value`, values possibly quoted.
  while (i < value.length && value.charCodeAt(i) === SEMICOLON) {
    const key = skipSpace(value, i + 1);
    let end = key;
    while (end < value.length && isKeyChar(value.charCodeAt(end))) end++;
    const hasValue = end < value.length && value.charCodeAt(end) === EQUALS;
    const valueStart = hasValue ? end + 1 : end;
    const valueEnd = skipValue(value, valueStart);
    // `hit` is a Boolean (RFC 8941 §3.3.6): bare, or `hit=?1`.
    if (end - key === 3 && value.startsWith('hit', key)) {
      if (!hasValue || (valueEnd - valueStart === 2 && value.startsWith('?1', valueStart))) return 'hit';
    }
    if (end - key === 3 && value.startsWith('fwd', key) && hasValue) {
      const reasonLength = valueEnd - valueStart;
      const uncacheable =
        (reasonLength === 6 && value.startsWith('bypass', valueStart)) ||
        (reasonLength === 6 && value.startsWith('method', valueStart));
      return uncacheable ? 'none' : 'miss';
    }
    i = skipSpace(value, valueEnd);
  }
  return 'none';
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && (s.charCodeAt(i) === SPACE || s.charCodeAt(i) === TAB)) i++;
  return i;
}

/** RFC 8941 §3.1.2 keys: lower-case letters, digits, `_ - . *`. */
function isKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x2a
  );
}

/** The end of a parameter value starting at i: a quoted string, or a bare item up to `;` or `,`. */
function skipValue(s: string, i: number): number {
  if (i < s.length && s.charCodeAt(i) === DQUOTE) {
    for (i++; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === BACKSLASH) i++;
      else if (c === DQUOTE) return i + 1;
    }
    return i;
  }
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === SEMICOLON || c === COMMA || c === SPACE || c === TAB) break;
    i++;
  }
  return i;
}
