/**
 * Lists in field values (RFC 9110 §5.6.1) and quoted-strings (RFC 9110 §5.6.4), shared by the
 * range, negotiation and cache-control parsers so they agree on OWS, empty elements and quoting.
 * Index loops, no regexes.
 */
import { FIELD_VALUE_BYTE } from './field-syntax.js';

/** Whether `c` is an OWS character: SP or HTAB (RFC 9110 §5.6.3). */
export function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `s` without leading and trailing OWS (RFC 9110 §5.6.3); `s` itself when there is none. */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * The elements of a list-based field value (RFC 9110 §5.6.1): `value` split at each `separator`
 * (a char code, `,` by default; `;` splits parameters) that is outside a quoted-string, each
 * element trimmed of OWS. Empty elements are dropped — RFC 9110 §5.6.1.2: "a recipient MUST
 * parse and ignore a reasonable number of empty list elements". An unterminated quoted-string
 * runs to the end of `value`, leaving the element for the caller's grammar to reject. Never throws.
 */
export function splitList(value: string, separator = 0x2c): string[] {
  const elements: string[] = [];
  const n = value.length;
  let start = 0;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      i = quotedStringEnd(value, i);
      continue;
    }
    if (c === separator) {
      pushElement(elements, value, start, i);
      start = i + 1;
    }
    i++;
  }
  pushElement(elements, value, start, n);
  return elements;
}

/**
 * The content of the quoted-string `s` with each quoted-pair unescaped (RFC 9110 §5.6.4:
 * `DQUOTE *( qdtext / quoted-pair ) DQUOTE`), or undefined if `s` is not exactly one
 * quoted-string (unterminated, an unescaped DQUOTE inside, or a control character).
 */
export function unquote(s: string): string | undefined {
  const last = s.length - 1;
  if (last < 1 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(last) !== 0x22) return undefined;
  let out = '';
  let chunk = 1;
  for (let i = 1; i < last; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ); a backslash before the final DQUOTE
      // escapes it, which leaves the string unterminated.
      const next = s.charCodeAt(i + 1);
      if (i + 1 >= last || next > 0xff || FIELD_VALUE_BYTE[next] !== 1) return undefined;
      out += s.slice(chunk, i);
      chunk = i + 1;
      i++;
    } else if (c === 0x22 || c > 0xff || FIELD_VALUE_BYTE[c] !== 1) {
      return undefined;
    }
  }
  return out + s.slice(chunk, last);
}

/** The index just past the quoted-string opening at `s[i]`, or `s.length` if it never closes. */
function quotedStringEnd(s: string, i: number): number {
  const n = s.length;
  let j = i + 1;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === 0x22) return j + 1;
    j += c === 0x5c ? 2 : 1;
  }
  return n;
}

function pushElement(elements: string[], value: string, start: number, end: number): void {
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  if (end > start) elements.push(value.slice(start, end));
}
