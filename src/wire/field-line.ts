/**
 * One header (or trailer) field line: validated byte by byte, appended to the raw list, and the
 * framing-relevant fields folded into FieldFacts as they go by.
 */
import { FIELD_VALUE_BYTE, TOKEN_CHARS } from '../http/field-syntax.js';
import type { FieldFacts } from './head.js';
import { ParseError } from './parse-error.js';

const COLON = 0x3a;
const SP = 0x20;
const HTAB = 0x09;

/**
 * Parses the field line buf[start, end) (end excludes the CRLF) and appends name and value to raw.
 * When facts is given, Content-Length, Transfer-Encoding, Connection, Host, Expect and Upgrade are
 * interpreted (trailers pass no facts: RFC 9110 §6.5.1, trailers never change framing).
 * Throws ParseError(400) for anything RFC 9112 §5 does not allow.
 */
export function parseFieldLine(
  buf: Buffer,
  start: number,
  end: number,
  raw: string[],
  facts: FieldFacts | undefined,
): void {
  const first = buf[start];
  // RFC 9112 §5.2: obs-fold is rejected by a server that is not a user agent with 400.
  if (first === SP || first === HTAB) {
    throw new ParseError(400, 'obs-fold', 'obsolete line folding is not accepted');
  }
  let i = start;
  while (i < end && TOKEN_CHARS[buf[i]!] === 1) i++;
  if (i === start || i === end || buf[i] !== COLON) {
    // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon … MUST reject
    // … with a response status code of 400".
    throw new ParseError(400, 'bad-field-name', 'invalid header field name');
  }
  const nameEnd = i;
  i++;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  const valueStart = i;
  let valueEnd = valueStart;
  for (; i < end; i++) {
    const c = buf[i]!;
    // RFC 9110 §5.5: field-vchar is VCHAR / obs-text; NUL, CR, LF and other controls are invalid.
    if (FIELD_VALUE_BYTE[c] !== 1) {
      throw new ParseError(400, 'bad-field-value', 'invalid character in header field value');
    }
    if (c !== SP && c !== HTAB) valueEnd = i + 1;
  }
  const name = buf.latin1Slice(start, nameEnd);
  const value = valueEnd > valueStart ? buf.latin1Slice(valueStart, valueEnd) : '';
  raw.push(name, value);
  if (facts !== undefined) noteFact(name, value, facts);
}

function noteFact(name: string, value: string, facts: FieldFacts): void {
  switch (name.length) {
    case 4:
      if (isNamed(name, 'host')) {
        facts.hostCount++;
        facts.host = value;
      }
      return;
    case 6:
      if (isNamed(name, 'expect')) {
        facts.expect =
          facts.expect === undefined ? value.toLowerCase() : `${facts.expect}, ${value.toLowerCase()}`;
      }
      return;
    case 7:
      if (isNamed(name, 'upgrade')) facts.hasUpgrade = true;
      return;
    case 10:
      if (isNamed(name, 'connection')) noteConnection(value, facts);
      return;
    case 14:
      if (isNamed(name, 'content-length')) noteContentLength(value, facts);
      return;
    case 17:
      if (isNamed(name, 'transfer-encoding')) noteTransferEncoding(value, facts);
      return;
  }
}

/**
 * Case-insensitive match of a field name against a lower-case one of the same length, without
 * making a lower-cased copy. Setting bit 0x20 lower-cases letters and leaves "-" alone; the name
 * is a token, so no other character can collide.
 */
function isNamed(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** RFC 9110 §7.6.1: Connection is a comma-separated list of case-insensitive options. */
function noteConnection(value: string, facts: FieldFacts): void {
  for (const part of value.split(',')) {
    const option = trimOws(part).toLowerCase();
    if (option === 'close') facts.connectionClose = true;
    else if (option === 'keep-alive') facts.connectionKeepAlive = true;
    else if (option === 'upgrade') facts.connectionUpgrade = true;
  }
}

/** Largest Content-Length accepted: a body length must be exact in a JS number. */
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

/**
 * RFC 9112 §6.3 ¶5: an invalid Content-Length is unrecoverable. Content-Length = 1*DIGIT; a list of
 * identical values may be taken as that value (RFC 9110 §8.6), differing values are an error.
 */
function noteContentLength(value: string, facts: FieldFacts): void {
  for (const part of value.split(',')) {
    const digits = trimOws(part);
    if (digits.length === 0 || digits.length > MAX_SAFE_DIGITS) {
      throw new ParseError(400, 'bad-content-length', 'invalid Content-Length');
    }
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < 0x30 || c > 0x39) throw new ParseError(400, 'bad-content-length', 'invalid Content-Length');
    }
    const n = Number(digits);
    if (n > Number.MAX_SAFE_INTEGER)
      throw new ParseError(400, 'bad-content-length', 'Content-Length too large');
    if (facts.contentLength !== undefined && facts.contentLength !== n) {
      throw new ParseError(400, 'bad-content-length', 'conflicting Content-Length values');
    }
    facts.contentLength = n;
  }
}

/** Transfer-Encoding lines combine in order (RFC 9110 §5.3); codings are case-insensitive (RFC 9112 §7). */
function noteTransferEncoding(value: string, facts: FieldFacts): void {
  const codings = facts.transferCodings ?? [];
  facts.transferCodings = codings;
  for (const part of value.split(',')) {
    const semi = part.indexOf(';');
    const coding = trimOws(semi === -1 ? part : part.slice(0, semi)).toLowerCase();
    // Empty list elements are allowed and ignored (RFC 9110 §5.6.1); a wholly empty field is not.
    if (coding !== '') codings.push(coding);
  }
}

/**
 * Strips the OWS (SP / HTAB, RFC 9110 §5.6.3) around a list element. Not String.prototype.trim():
 * that also strips U+00A0, which here is the obs-text byte 0xA0 — "chunked\xA0" or "5\xA0" must
 * stay invalid, not become "chunked" or "5" (a peer may read them otherwise: RFC 9112 §11.2).
 */
function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === SP || s.charCodeAt(start) === HTAB)) start++;
  while (end > start && (s.charCodeAt(end - 1) === SP || s.charCodeAt(end - 1) === HTAB)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
