/**
 * Byte and string predicates for the field grammar of RFC 9110 §5, shared by the head parser,
 * the chunked decoder (trailers, chunk extensions) and the response writer so the three agree
 * on every byte. Lookup tables, not regexes: they run on every field of every message.
 */

/** Builds a 256-entry table with 1 at each listed byte. */
function byteTable(set: (c: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) table[c] = set(c) ? 1 : 0;
  return table;
}

/**
 * 1 for each `tchar` byte, else 0 (RFC 9110 §5.6.2):
 * `"!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
 * Field names, methods, chunk-extension names and token values are `1*tchar`.
 */
export const TOKEN_CHARS: Uint8Array = byteTable(
  (c) =>
    (c >= 0x30 && c <= 0x39) || // DIGIT
    (c >= 0x41 && c <= 0x5a) || // ALPHA upper
    (c >= 0x61 && c <= 0x7a) || // ALPHA lower
    "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)),
);

/**
 * 1 for each byte allowed inside a field value, else 0 (RFC 9110 §5.5): HTAB, SP, VCHAR
 * (0x21–0x7E) and obs-text (0x80–0xFF). NUL, CR, LF, the other controls and DEL are 0 —
 * RFC 9110 §5.5 ¶5 lets a recipient reject them, and rejecting them closes the door on
 * header injection and on smuggling through peers that treat a bare CR as a line end.
 * The same table describes `quoted-pair` content (RFC 9110 §5.6.4); `qdtext` is this minus
 * DQUOTE and backslash.
 */
export const FIELD_VALUE_BYTE: Uint8Array = byteTable(
  (c) => c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80,
);

/** Whether `s` is a non-empty `token` (RFC 9110 §5.6.2), e.g. a valid field name or method. */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN_CHARS[c] !== 1) return false;
  }
  return true;
}

/**
 * Whether `s` may be sent as a field value (RFC 9110 §5.5): no NUL, CR, LF or other control
 * except HTAB, no DEL; obs-text (0x80–0xFF) is allowed. A character above 0xFF is rejected
 * because it has no single-octet form (the writer encodes values as latin1). The empty string
 * is valid. Leading/trailing whitespace is not rejected here; the grammar excludes it, so a
 * writer that cares trims first.
 */
export function isValidFieldValue(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_BYTE[c] !== 1) return false;
  }
  return true;
}
