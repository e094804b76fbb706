/**
 * The `redirect` handler: answers every request with the configured status and a Location made
 * from a template with placeholders (`{scheme}`, `{host}`, `{port}`, `{path}`, `{query}`, `{uri}`),
 * filled from the request. The template is parsed once, when the handler is built.
 *
 * The request must never steer the Location off-site (an open redirect) or into the head:
 * - `{path}` and `{uri}` lose any run of leading slashes and backslashes but one `/`: from a
 *   request for `//evil.example/x` or `/\evil.example`, a template `{path}` would otherwise yield a
 *   scheme-relative reference (RFC 3986 §4.2), and browsers read `\` as `/` (WHATWG URL).
 *   The finished Location gets the same treatment, for templates such as `/{path}`.
 * - Bytes outside RFC 3986's pchar (and `/`, `?` in the query) are percent-encoded (§2.1), so
 *   controls, spaces, backslashes and non-ASCII never reach the field: no CR/LF, ever.
 * - `{host}` comes from the Host field and must be a plain host name or IP literal, with at most
 *   a numeric port (RFC 9110 §7.2, RFC 3986 §3.2.2); anything else is a 400 (RFC 9112 §3.2).
 * - A template may not put a request-derived path where the authority goes (`https://{path}`) or
 *   right after a scheme's colon; that is refused when built.
 *
 * `{scheme}` is the listener's (given when built); `{port}` is the Host's port, else the scheme's
 * default; `{query}` includes its `?` (empty without a query); `{uri}` is `{path}{query}`.
 */
import type { HandlerConfig } from '../config/model.js';
import { HttpError } from '../handler/http-error.js';
import type { Handler, Request } from '../handler/types.js';

export type RedirectConfig = Extract<HandlerConfig, { readonly kind: 'redirect' }>;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const PLACEHOLDERS = ['scheme', 'host', 'port', 'path', 'query', 'uri'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
type Part = { readonly kind: 'text'; readonly text: string } | { readonly kind: Placeholder };

/** What a filled template needs from one request. */
type Target = { host: string; port: string; path: string; query: string };

/**
 * Builds the `redirect` handler for a listener of `scheme`. Throws when the status is not a
 * redirect one (RFC 9110 §15.4) or the template is malformed: an unknown or unclosed placeholder,
 * a character that may not appear in a URI reference, a path placeholder in the authority.
 */
export function redirect(config: RedirectConfig, scheme: 'http' | 'https'): Handler {
  if (!REDIRECT_STATUSES.has(config.status)) {
    throw new Error(`redirect.status must be 301, 302, 303, 307 or 308, not ${config.status}`);
  }
  const parts = parseTemplate(config.to);
  const needsHost = parts.some((p) => p.kind === 'host' || p.kind === 'port');
  const defaultPort = scheme === 'https' ? '443' : '80';
  const status = config.status;
  return (req, res) => {
    const target = requestTarget(req, needsHost, defaultPort);
    let location = '';
    for (const part of parts) {
      switch (part.kind) {
        case 'text':
          location += part.text;
          break;
        case 'scheme':
          location += scheme;
          break;
        case 'host':
          location += target.host;
          break;
        case 'port':
          location += target.port;
          break;
        case 'path':
          location += target.path;
          break;
        case 'query':
          location += target.query;
          break;
        case 'uri':
          location += target.path + target.query;
          break;
      }
    }
    res.statusCode = status;
    res.setHeader('Location', collapseLeadingSlashes(location));
    res.end();
  };
}

/** Splits a template into text and placeholders; see redirect() for what it refuses. */
function parseTemplate(template: string): Part[] {
  if (template === '') throw new Error('redirect.to is empty');
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const textEnd = open === -1 ? template.length : open;
    if (textEnd > i) parts.push({ kind: 'text', text: uriText(template.slice(i, textEnd)) });
    if (open === -1) break;
    const close = template.indexOf('}', open);
    const name = close === -1 ? '' : template.slice(open + 1, close);
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new Error(`redirect.to: unknown placeholder at "${template.slice(open, open + 10)}"`);
    }
    parts.push({ kind: name as Placeholder });
    i = close + 1;
  }
  for (let k = 1; k < parts.length; k++) {
    const part = parts[k]!;
    if (part.kind !== 'path' && part.kind !== 'uri' && part.kind !== 'query') continue;
    const before = parts[k - 1]!;
    const text = before.kind === 'text' ? before.text : '';
    if (
      before.kind === 'scheme' ||
      text.endsWith(':') ||
      text.endsWith('//') ||
      (part.kind !== 'query' && text.endsWith('/'))
    ) {
      throw new Error(
        `redirect.to: {${part.kind}} may not follow "${text || `{${before.kind}}`}": it would become the host, or //`,
      );
    }
  }
  return parts;
}

/** Template text: visible ASCII only, no `}` (RFC 3986 §2: what a URI reference may hold). */
function uriText(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x7d || c === 0x5c) {
      throw new Error(
        `redirect.to: "${text}" holds a character a URI may not (space, control, \\, }, non-ASCII)`,
      );
    }
  }
  return text;
}

/** The pieces of the request a template uses; throws HttpError(400) for a bad Host or target. */
function requestTarget(req: Request, needsHost: boolean, defaultPort: string): Target {
  let url = req.url;
  if (url.charCodeAt(0) !== 0x2f) {
    // Absolute form (RFC 9112 §3.2.2): keep the path and query after the authority.
    const authority = url.indexOf('://');
    if (authority === -1) throw new HttpError(400, 'this request-target cannot be redirected');
    let k = authority + 3;
    while (k < url.length && url.charCodeAt(k) !== 0x2f && url.charCodeAt(k) !== 0x3f) k++;
    url = k === url.length ? '/' : url.charCodeAt(k) === 0x3f ? `/${url.slice(k)}` : url.slice(k);
  }
  const q = url.indexOf('?');
  const path = encode(collapseLeadingSlashes(q === -1 ? url : url.slice(0, q)), false);
  const query = q === -1 ? '' : `?${encode(url.slice(q + 1), true)}`;
  if (!needsHost) return { host: '', port: '', path, query };
  const field = req.headers.host;
  const host = typeof field === 'string' ? parseHost(field) : undefined;
  if (host === undefined) throw new HttpError(400, 'a valid Host field is needed to redirect');
  return { host: host.name, port: host.port ?? defaultPort, path, query };
}

/**
 * Host and port from a Host field value: a reg-name of letters, digits, `-`, `.`, `_` (lower-cased) or
 * a bracketed IPv6 literal, then an optional `:port` of 1–5 digits up to 65535.
 */
function parseHost(value: string): { name: string; port: string | undefined } | undefined {
  let end: number;
  if (value.charCodeAt(0) === 0x5b) {
    end = value.indexOf(']') + 1;
    if (end < 3) return undefined;
    for (let i = 1; i < end - 1; i++) {
      const c = value.charCodeAt(i);
      if (!(isHex(c) || c === 0x3a || c === 0x2e)) return undefined;
    }
  } else {
    end = value.indexOf(':');
    if (end === -1) end = value.length;
    for (let i = 0; i < end; i++) {
      const c = value.charCodeAt(i);
      if (!(isAlnum(c) || c === 0x2d || c === 0x2e || c === 0x5f)) return undefined;
    }
  }
  if (end === 0) return undefined;
  const name = value.slice(0, end).toLowerCase();
  if (end === value.length) return { name, port: undefined };
  if (value.charCodeAt(end) !== 0x3a) return undefined;
  const port = value.slice(end + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return undefined;
  return { name, port };
}

/** A leading run of `/` and `\` becomes one `/`; anything else is returned as it is. */
function collapseLeadingSlashes(s: string): string {
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) === 0x2f || s.charCodeAt(i) === 0x5c)) i++;
  return i <= 1 && s.charCodeAt(0) !== 0x5c ? s : `/${s.slice(i)}`;
}

/**
 * Percent-encodes what RFC 3986 does not allow in a path (pchar and `/`, §3.3) or a query (also
 * `?`, §3.4). Existing `%XX` escapes are kept; a `%` not followed by two hex digits is encoded.
 * Characters up to 0xFF stand for one byte each (the engine reads targets as latin1).
 */
function encode(s: string, query: boolean): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isPchar(c) || c === 0x2f || (query && c === 0x3f)) continue;
    if (c === 0x25 && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) continue;
    out += s.slice(start, i);
    out +=
      c <= 0xff
        ? `%${c.toString(16).toUpperCase().padStart(2, '0')}`
        : encodeURIComponent(String.fromCodePoint(s.codePointAt(i)!));
    if (c > 0xff && c >= 0xd800 && c <= 0xdbff) i++;
    start = i + 1;
  }
  return start === 0 ? s : out + s.slice(start);
}

/** 1 for each RFC 3986 §3.3 pchar byte but `%`: unreserved, sub-delims, `:` and `@`. */
const PCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++)
  PCHAR[c] = isAlnum(c) || "-._~!$&'()*+,;=:@".includes(String.fromCharCode(c)) ? 1 : 0;

function isPchar(c: number): boolean {
  return c < 128 && PCHAR[c] === 1;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
