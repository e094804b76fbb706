/**
 * Request-target forms (RFC 9112 §3.2) and the authority syntax of Host (RFC 9112 §3.2,
 * RFC 3986 §3.2). Pure string checks; the head parser has already ruled out whitespace, controls,
 * `#` and non-ASCII bytes in the target.
 */
import type { TargetForm } from './head.js';
import { ParseError } from './parse-error.js';

const SLASH = 0x2f;
const COLON = 0x3a;

/**
 * Classifies the target by form and checks the form fits the method:
 * asterisk only for OPTIONS (§3.2.4), authority only for CONNECT (§3.2.3), CONNECT only with it.
 * Returns the form; for absolute-form the authority is read by authorityOf().
 */
export function targetForm(method: string, target: string): TargetForm {
  if (method === 'CONNECT') {
    if (!isAuthority(target, true)) throw badTarget('CONNECT needs host:port as its target');
    return 'authority';
  }
  const first = target.charCodeAt(0);
  if (first === SLASH) return 'origin';
  if (target === '*') {
    if (method !== 'OPTIONS') throw badTarget('"*" is only a target for OPTIONS');
    return 'asterisk';
  }
  if (SCHEME_RE.test(target)) {
    const authority = authorityOf(target);
    // RFC 9110 §4.2.4: userinfo in an http(s) URI is an error; a recipient SHOULD reject it.
    if (authority.includes('@')) throw badTarget('userinfo is not allowed in the request target');
    if (!isAuthority(authority, false)) throw badTarget('invalid authority in the request target');
    // RFC 9110 §4.2.1: a recipient that processes an "http" URI with an empty host identifier
    // "MUST reject it as invalid" (§4.2.2: the same for "https").
    if (authority === '' || authority.charCodeAt(0) === COLON)
      throw badTarget('empty host in the request target');
    return 'absolute';
  }
  throw badTarget('invalid request target');
}

/** scheme ":" "//" — absolute-form for HTTP always carries an authority (RFC 9110 §4.2). */
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** The authority of an absolute-form target: between "//" and the next "/", "?" or end. */
export function authorityOf(target: string): string {
  const start = target.indexOf('//') + 2;
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === SLASH || c === 0x3f) break;
    end++;
  }
  return target.slice(start, end);
}

/** reg-name bytes: unreserved / sub-delims / "%" (checked as pct-encoded below), but not "," — a list is never one host. */
const REG_NAME_BYTE = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+;=%") {
  REG_NAME_BYTE[c.charCodeAt(0)] = 1;
}
const IP_LITERAL_RE = /^\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]$/;

/**
 * Whether s is `uri-host [ ":" port ]` (RFC 9112 §3.2) — no userinfo, path, query or list.
 * With requirePort (CONNECT's authority-form, RFC 9110 §9.3.6) the port must be present.
 * A loop over the characters, not a regex: it runs on the Host field of every request.
 */
export function isAuthority(s: string, requirePort: boolean): boolean {
  const n = s.length;
  let hostEnd = n;
  const close = s.lastIndexOf(']');
  const colon = s.lastIndexOf(':');
  if (colon > close) {
    hostEnd = colon;
    if (n - colon - 1 > 5) return false;
    for (let i = colon + 1; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return false;
    }
    if (requirePort && colon === n - 1) return false;
  } else if (requirePort) {
    return false;
  }
  if (requirePort && hostEnd === 0) return false;
  if (s.charCodeAt(0) === 0x5b) return IP_LITERAL_RE.test(s.slice(0, hostEnd));
  for (let i = 0; i < hostEnd; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || REG_NAME_BYTE[c] !== 1) return false;
    if (c === 0x25 && !(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2)) && i + 2 < hostEnd))
      return false;
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function badTarget(message: string): ParseError {
  return new ParseError(400, 'bad-target', message);
}
