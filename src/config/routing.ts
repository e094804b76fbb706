/**
 * Choosing where a request goes: the site by Host (virtual hosts, RFC 9110 §7.2), then the route
 * by path. Both tables are built once from the config; a lookup is a Map probe plus a short scan.
 */

/**
 * Host header → site index. Names are exact (`example.com`) or one leading wildcard label
 * (`*.example.com`, which matches `a.example.com` but neither `example.com` nor `a.b.example.com`,
 * as in Caddy and TLS certificates). Exact names win over wildcards; otherwise sites are tried in
 * order. Case-insensitive, port and a trailing dot ignored.
 */
export class HostTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcard = new Map<string, T>();
  private readonly fallback: T | undefined;

  /** `sites`: each site's names and value; the first with no names is the default. */
  constructor(sites: readonly { readonly hosts: readonly string[]; readonly value: T }[]) {
    let fallback: T | undefined;
    for (const { hosts, value } of sites) {
      if (hosts.length === 0) {
        fallback ??= value;
        continue;
      }
      for (const host of hosts) {
        const name = host.toLowerCase();
        if (name.startsWith('*.')) {
          if (!this.wildcard.has(name.slice(2))) this.wildcard.set(name.slice(2), value);
        } else if (!this.exact.has(name)) {
          this.exact.set(name, value);
        }
      }
    }
    this.fallback = fallback;
  }

  /** The site for a Host field value (undefined Host: the default site). */
  lookup(host: string | undefined): T | undefined {
    if (host === undefined) return this.fallback;
    const name = hostName(host);
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const parent = this.wildcard.get(name.slice(dot + 1));
      if (parent !== undefined) return parent;
    }
    return this.fallback;
  }
}

/** The host part of a Host value: lower-cased, without port, brackets kept for IPv6, trailing dot dropped. */
export function hostName(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    return close < 0 ? name : name.slice(0, close + 1);
  }
  const colon = name.indexOf(':');
  if (colon >= 0) name = name.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** A route's path rule, compiled. */
export type PathMatcher = (path: string) => boolean;

/**
 * A prefix rule: `/` matches every path; `/api/` matches `/api/` and below; `/health` (no
 * trailing slash) matches `/health` and `/health/…` but not `/healthz`.
 */
export function prefixMatcher(prefix: string): PathMatcher {
  if (prefix === '/' || prefix === '') return () => true;
  if (prefix.endsWith('/')) return (path) => path.startsWith(prefix);
  const below = `${prefix}/`;
  return (path) => path === prefix || path.startsWith(below);
}

/**
 * A glob rule over the whole path: `*` is any run of characters within one segment, `**` any run
 * across segments (`/**\/` also matches a single `/`), `?` one character; everything else literal.
 * Compiled to one regular expression when the config is built, never per request.
 */
export function globMatcher(glob: string): PathMatcher {
  let source = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        source += '(?:.*/)?';
      } else {
        source += '.*';
      }
    } else if (c === '*') {
      source += '[^/]*';
    } else if (c === '?') {
      source += '[^/]';
    } else {
      source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  const re = new RegExp(`${source}$`);
  return (path) => re.test(path);
}

/** The path of a request target: origin-form up to `?`; absolute-form's path; `*` as is. */
export function requestPath(url: string): string {
  let start = 0;
  if (url.charCodeAt(0) !== 0x2f) {
    const scheme = url.indexOf('://');
    if (scheme < 0) return url;
    start = url.indexOf('/', scheme + 3);
    if (start < 0) return '/';
  }
  const query = url.indexOf('?', start);
  return query < 0 ? (start === 0 ? url : url.slice(start)) : url.slice(start, query);
}
