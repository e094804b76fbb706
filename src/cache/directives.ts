/**
 * Cache-Control directives as typed records (RFC 9111 §5.2), one for requests and one for
 * responses, built from the untyped map of http/cache-control.ts. Each field cites the section
 * that defines it; the policy (policy.ts) decides what they mean together.
 *
 * Argument rules: delta-seconds (§1.2.2) is `1*DIGIT`; a value that is not (negative, a fraction,
 * empty) makes the directive count as invalid. For max-age and s-maxage an invalid value makes
 * the response stale (§4.2.1: "a cache ... ought to consider the response to be stale" when it
 * cannot read a freshness value it was given), so they come out as 0. Values past 2^31 are
 * capped at 2147483648 (§1.2.2: "the cache MUST consider the value to be 2147483648").
 */
import { parseCacheControl } from '../http/cache-control.js';
import { splitList } from '../http/field-list.js';

/** The largest delta-seconds a cache must represent (RFC 9111 §1.2.2). */
export const DELTA_SECONDS_CAP = 2_147_483_648;

export type ResponseDirectives = {
  /** §5.2.2.1 max-age=N: fresh for N seconds. 0 when its value is invalid (stale). */
  readonly maxAge: number | undefined;
  /** §5.2.2.10 s-maxage=N: overrides max-age and Expires for shared caches, and implies proxy-revalidate. */
  readonly sMaxAge: number | undefined;
  /** §5.2.2.5 no-store. */
  readonly noStore: boolean;
  /** §5.2.2.4 no-cache: `true` unqualified (always revalidate); a list of field names when qualified. */
  readonly noCache: true | readonly string[] | undefined;
  /** §5.2.2.7 private: `true` unqualified (a shared cache must not store); field names when qualified. */
  readonly private: true | readonly string[] | undefined;
  /** §5.2.2.9 public. */
  readonly public: boolean;
  /** §5.2.2.2 must-revalidate. */
  readonly mustRevalidate: boolean;
  /** §5.2.2.8 proxy-revalidate (for shared caches, like must-revalidate). */
  readonly proxyRevalidate: boolean;
  /** §5.2.2.3 must-understand. */
  readonly mustUnderstand: boolean;
  /** §5.2.2.6 no-transform (the cache never transforms; kept for completeness). */
  readonly noTransform: boolean;
  /** RFC 5861 §3 stale-while-revalidate=N. */
  readonly staleWhileRevalidate: number | undefined;
  /** RFC 5861 §4 stale-if-error=N. */
  readonly staleIfError: number | undefined;
};

export type RequestDirectives = {
  /** §5.2.1.1 max-age=N: the client wants a response no older than N seconds. */
  readonly maxAge: number | undefined;
  /** §5.2.1.2 max-stale[=N]: stale responses acceptable, by at most N seconds (any when no N). */
  readonly maxStale: number | undefined;
  /** §5.2.1.3 min-fresh=N: fresh for at least N more seconds. */
  readonly minFresh: number | undefined;
  /** §5.2.1.4 no-cache (or `Pragma: no-cache` without Cache-Control, §5.4). */
  readonly noCache: boolean;
  /** §5.2.1.5 no-store. */
  readonly noStore: boolean;
  /** §5.2.1.7 only-if-cached. */
  readonly onlyIfCached: boolean;
  /** RFC 5861 §4 stale-if-error=N on a request. */
  readonly staleIfError: number | undefined;
};

/**
 * The response's directives, from its Cache-Control field value (all lines joined with `, `), or
 * from CDN-Cache-Control when policy.ts decides that one applies (RFC 9213).
 */
export function responseDirectives(cacheControl: string | undefined): ResponseDirectives {
  const map = parseCacheControl(cacheControl);
  return {
    maxAge: freshnessSeconds(map.get('max-age')),
    sMaxAge: freshnessSeconds(map.get('s-maxage')),
    noStore: map.has('no-store'),
    noCache: fieldListDirective(map.get('no-cache')),
    private: fieldListDirective(map.get('private')),
    public: map.has('public'),
    mustRevalidate: map.has('must-revalidate'),
    proxyRevalidate: map.has('proxy-revalidate'),
    mustUnderstand: map.has('must-understand'),
    noTransform: map.has('no-transform'),
    staleWhileRevalidate: deltaSeconds(map.get('stale-while-revalidate')),
    staleIfError: deltaSeconds(map.get('stale-if-error')),
  };
}

/**
 * The request's directives. `pragma` counts only when there is no Cache-Control field
 * (RFC 9111 §5.4: Pragma "is deprecated"; caches "SHOULD" treat `Pragma: no-cache` as
 * `Cache-Control: no-cache` when Cache-Control is absent, per RFC 7234 §5.4 and kept by practice).
 */
export function requestDirectives(
  cacheControl: string | undefined,
  pragma: string | undefined,
): RequestDirectives {
  const map = parseCacheControl(cacheControl);
  const pragmaNoCache =
    cacheControl === undefined &&
    pragma !== undefined &&
    splitList(pragma).some((p) => p.toLowerCase() === 'no-cache');
  const maxStale = map.get('max-stale');
  return {
    maxAge: deltaSeconds(map.get('max-age')),
    // §5.2.1.2: max-stale without a value means any staleness is acceptable.
    maxStale: maxStale === true ? DELTA_SECONDS_CAP : deltaSeconds(maxStale),
    minFresh: deltaSeconds(map.get('min-fresh')),
    noCache: map.has('no-cache') || pragmaNoCache,
    noStore: map.has('no-store'),
    onlyIfCached: map.has('only-if-cached'),
    staleIfError: deltaSeconds(map.get('stale-if-error')),
  };
}

/** A delta-seconds argument (§1.2.2), or undefined when absent or not `1*DIGIT`. */
export function deltaSeconds(value: string | true | undefined): number | undefined {
  if (value === undefined || value === true || value.length === 0) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const n = Number(value);
  return Math.min(n, DELTA_SECONDS_CAP);
}

/** max-age / s-maxage: present but invalid counts as 0, i.e. stale (see the module comment). */
function freshnessSeconds(value: string | true | undefined): number | undefined {
  if (value === undefined) return undefined;
  return deltaSeconds(value) ?? 0;
}

/** no-cache / private: bare → true; `="a, b"` → lower-case field names. */
function fieldListDirective(value: string | true | undefined): true | readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (value === true) return true;
  const names = splitList(value).map((n) => n.toLowerCase());
  return names.length === 0 ? true : names;
}
