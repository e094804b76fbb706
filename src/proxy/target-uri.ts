/**
 * Request targets as the proxies read them: an absolute-form URI split into scheme, authority and
 * the rest (RFC 9112 §3.2.2), the origin-form to send on, and `host[:port]` into its parts.
 */

export type SplitUri =
  | { kind: 'http' | 'https'; authority: string; rest: string }
  | { kind: 'other'; scheme: string }
  | { kind: 'not-absolute' };

/**
 * Splits an absolute-form target (already checked by the head parser) by scheme, into the
 * authority and the rest (path and query).
 */
export function splitUri(target: string): SplitUri {
  const sep = target.indexOf('://');
  if (sep <= 0 || target.charCodeAt(0) === 0x2f) return { kind: 'not-absolute' };
  const scheme = target.slice(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { kind: 'other', scheme };
  const start = sep + 3;
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f) break;
    end++;
  }
  return { kind: scheme, authority: target.slice(start, end), rest: target.slice(end) };
}

/**
 * The origin-form for what follows the authority (RFC 9112 §3.2.1): "/" for an empty path, and
 * "*" for OPTIONS with neither path nor query (§3.2.4: the last proxy "MUST send a
 * request-target of "*" when it forwards the request to the indicated origin server").
 */
export function originForm(rest: string, method: string): string {
  if (rest === '') return method === 'OPTIONS' ? '*' : '/';
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

/** Host and port of `uri-host [":" port]`, brackets off an IPv6 literal; undefined for a bad port. */
export function splitAuthority(
  authority: string,
  defaultPort: number,
): { host: string; port: number; hostField: string } | undefined {
  const close = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  let host = authority;
  let port = defaultPort;
  if (colon > close) {
    host = authority.slice(0, colon);
    const digits = authority.slice(colon + 1);
    if (digits !== '') {
      port = Number(digits);
      if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
    }
  }
  const hostField = port === defaultPort ? host : `${host}:${port}`;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') return undefined;
  return { host, port, hostField };
}

/**
 * An absolute-form http(s) target as the origin-form path to send and the Host it implies (RFC
 * 9112 §3.2.2: the host of the target replaces a received Host). Null for anything else.
 */
export function absoluteForm(url: string): { path: string; host: string } | null {
  const uri = splitUri(url);
  if ((uri.kind !== 'http' && uri.kind !== 'https') || uri.authority === '') return null;
  return { path: uri.rest.startsWith('/') ? uri.rest : `/${uri.rest}`, host: uri.authority };
}
