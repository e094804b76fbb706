/**
 * Request-target forms (RFC 9112 §3.2) and the authority syntax of Host (RFC 9112 §3.2,
 * RFC 3986 §3.2). Pure string checks; the head parser has already ruled out whitespace, controls,
 * `#` and non-ASCII bytes in the target.
 */
import type { TargetForm } from './head.js';
import { ParseError } from './parse-error.js';

const SLASH = 0x2f;

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

/** reg-name characters: unreserved / pct-encoded / sub-delims except "," (a list is never one host). */
const REG_NAME_RE = /^(?:[A-Za-z0-9\-._~!$&'()*+;=]|%[0-9A-Fa-f]{2})*$/;
const IP_LITERAL_RE = /^\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]$/;
const PORT_RE = /^[0-9]*$/;

/**
 * Whether s is `uri-host [ ":" port ]` (RFC 9112 §3.2) — no userinfo, path, query or list.
 * With requirePort (CONNECT's authority-form, RFC 9110 §9.3.6) the port must be present.
 */
export function isAuthority(s: string, requirePort: boolean): boolean {
  let host = s;
  let port: string | undefined;
  const close = s.lastIndexOf(']');
  const colon = s.lastIndexOf(':');
  if (colon > close) {
    host = s.slice(0, colon);
    port = s.slice(colon + 1);
    if (!PORT_RE.test(port) || port.length > 5) return false;
  }
  if (requirePort && (port === undefined || port === '' || host === '')) return false;
  if (host.charCodeAt(0) === 0x5b) return IP_LITERAL_RE.test(host);
  return REG_NAME_RE.test(host);
}

function badTarget(message: string): ParseError {
  return new ParseError(400, 'bad-target', message);
}
