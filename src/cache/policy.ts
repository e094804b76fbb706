/**
 * RFC 9111 as pure functions: may this response be stored (§3), how long is it fresh (§4.2.1,
 * §4.2.2), how old is it (§4.2.3), and may a stored response answer this request (§4, §4.2.4).
 * No I/O and no clock: the caller passes the times. This is a shared cache (RFC 9111 §1: "a
 * cache that stores responses for reuse by more than one user").
 */
import { parseHttpDate } from '../http/date.js';
import {
  DELTA_SECONDS_CAP,
  deltaSeconds,
  type RequestDirectives,
  type ResponseDirectives,
  responseDirectives,
} from './directives.js';
import type { StoredFields } from './store.js';
import { cdnDirectives, surrogateDirectives } from './targeted.js';

/** Upper bound on a heuristic freshness lifetime, whatever Last-Modified says. */
export const HEURISTIC_CAP_S = 24 * 3600;
/** Fraction of the time since Last-Modified used as heuristic lifetime (§4.2.2: "typical setting ... 10%"). */
export const HEURISTIC_FRACTION = 0.1;
/** How long a stale response with a validator is kept for revalidation when nothing asks longer. */
export const KEEP_STALE_S = 24 * 3600;

/**
 * Status codes "defined as heuristically cacheable" (RFC 9110 §15.1: 200, 203, 204, 206, 300,
 * 301, 308, 404, 405, 410, 414 and 501).
 */
const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([
  200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
]);

/**
 * Final status codes this cache understands well enough to honour must-understand (§5.2.2.3):
 * the ones RFC 9110 defines whose caching rules it implements.
 */
const UNDERSTOOD: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 302, 303, 307, 308, 400, 403, 404, 405, 406, 410, 414, 451, 500, 501, 502, 503,
  504,
]);

/** The value of every field line named `name` (lower-case), joined with `, `; undefined when absent. */
export function fieldValue(fields: StoredFields, name: string): string | undefined {
  let value: string | undefined;
  for (const [n, v] of fields) {
    if (n !== name) continue;
    value = value === undefined ? v : `${value}, ${v}`;
  }
  return value;
}

/** True when a field named `name` is present. */
export function hasField(fields: StoredFields, name: string): boolean {
  for (const [n] of fields) if (n === name) return true;
  return false;
}

/**
 * The directives this cache obeys for a response. A gateway cache (`surrogate`, its device token,
 * given) obeys a valid CDN-Cache-Control first (RFC 9213 §2.1: such a cache "MUST behave as if
 * the ... Cache-Control ... were not present"), then Surrogate-Control aimed at it; otherwise, and
 * for any other cache, Cache-Control. See targeted.ts.
 */
export function directivesOf(fields: StoredFields, surrogate?: string): ResponseDirectives {
  if (surrogate !== undefined) {
    const targeted =
      cdnDirectives(fieldValue(fields, 'cdn-cache-control')) ??
      surrogateDirectives(fieldValue(fields, 'surrogate-control'), surrogate);
    if (targeted !== undefined) return targeted;
  }
  return responseDirectives(fieldValue(fields, 'cache-control'));
}

export type StoreVerdict = { kind: 'store' } | { kind: 'skip'; reason: string };

/** What the storing decision needs to know of the request. */
export type StoringRequest = {
  readonly method: string;
  readonly hasAuthorization: boolean;
  readonly directives: RequestDirectives;
};

/**
 * May a shared cache store this response (RFC 9111 §3)? `fields` lower-case names, as received.
 * Only GET responses are stored (§3: "the request method is understood by the cache"; HEAD is
 * answered from a stored GET, and other methods' responses are not reusable by default).
 */
export function storeVerdict(
  request: StoringRequest,
  status: number,
  fields: StoredFields,
  directives: ResponseDirectives,
): StoreVerdict {
  if (request.method !== 'GET') return skip('method');
  // §3: "the response status code is final"; 206 and 304 need a stored full response to combine
  // with (§3.3, §4.3.4), which this cache does not attempt.
  if (status < 200 || status === 206 || status === 304) return skip('status');
  if (request.directives.noStore) return skip('request no-store');
  if (directives.mustUnderstand) {
    // §5.2.2.3: with must-understand a cache stores only status codes it understands, and then
    // "ignores the no-store directive".
    if (!UNDERSTOOD.has(status)) return skip('must-understand');
  } else if (directives.noStore) {
    return skip('no-store');
  }
  // §3: "if the cache is shared: the private response directive is either not present or allows
  // a shared cache to store a modified response" — the qualified form is handled by stripping.
  if (directives.private === true) return skip('private');
  // §3.5: a shared cache must not reuse a response to a request with Authorization unless one of
  // must-revalidate, public or s-maxage says it may.
  if (
    request.hasAuthorization &&
    !directives.mustRevalidate &&
    !directives.public &&
    directives.sMaxAge === undefined
  ) {
    return skip('authorization');
  }
  const vary = fieldValue(fields, 'vary');
  if (vary?.split(',').some((v) => v.trim() === '*')) return skip('vary *');
  // §3: the response must carry explicit freshness, be heuristically cacheable, or say public;
  // and storing is only worth it when the response can be reused fresh or revalidated.
  const explicit =
    directives.public ||
    directives.maxAge !== undefined ||
    directives.sMaxAge !== undefined ||
    hasField(fields, 'expires');
  if (!explicit && !HEURISTICALLY_CACHEABLE.has(status)) return skip('not cacheable');
  const lifetime = freshnessLifetime(status, fields, directives);
  const hasValidator = hasField(fields, 'etag') || hasField(fields, 'last-modified');
  if (lifetime <= 0 && !hasValidator && directives.staleWhileRevalidate === undefined) {
    return skip('no freshness or validator');
  }
  return { kind: 'store' };
}

function skip(reason: string): StoreVerdict {
  return { kind: 'skip', reason };
}

/**
 * The freshness lifetime in seconds (RFC 9111 §4.2.1), for a shared cache: s-maxage, else
 * max-age, else Expires minus Date, else a heuristic (§4.2.2) for a heuristically cacheable status
 * or a `public` response with Last-Modified; else 0.
 */
export function freshnessLifetime(
  status: number,
  fields: StoredFields,
  directives: ResponseDirectives,
): number {
  if (directives.sMaxAge !== undefined) return directives.sMaxAge;
  if (directives.maxAge !== undefined) return directives.maxAge;
  const expires = fieldValue(fields, 'expires');
  if (expires !== undefined) {
    // §5.3: "A cache recipient MUST interpret invalid date formats, especially the value "0", as
    // representing a time in the past (i.e., "already expired")." Several Expires lines: invalid.
    const expiresMs = isSingleDate(expires) ? lenientHttpDate(expires.trim()) : undefined;
    if (expiresMs === undefined) return 0;
    const date = dateValue(fields);
    if (date === undefined) return 0;
    return Math.max(0, Math.floor((expiresMs - date) / 1000));
  }
  if (!HEURISTICALLY_CACHEABLE.has(status) && !directives.public) return 0;
  const lastModified = fieldValue(fields, 'last-modified');
  const lastModifiedMs = lastModified === undefined ? undefined : parseHttpDate(lastModified);
  const date = dateValue(fields);
  if (lastModifiedMs === undefined || date === undefined || lastModifiedMs >= date) return 0;
  // Not rounded down: a response modified 5 s ago is fresh for half a second.
  return Math.min(HEURISTIC_CAP_S, ((date - lastModifiedMs) / 1000) * HEURISTIC_FRACTION);
}

const DAY_AND_MONTH_NAMES: ReadonlyMap<string, string> = new Map(
  'Mon Tue Wed Thu Fri Sat Sun Monday Tuesday Wednesday Thursday Friday Saturday Sunday Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec GMT'
    .split(' ')
    .map((name) => [name.toLowerCase(), name]),
);

/**
 * An HTTP-date, forgiving the case of day and month names and of GMT: HTTP-date is
 * case-sensitive (RFC 9110 §5.6.7), but "recipients of timestamp values are encouraged to be
 * robust in parsing timestamps" (same section), and an Expires that a cache cannot read means
 * "already expired": a lost hit for a harmless misspelling.
 */
function lenientHttpDate(value: string): number | undefined {
  const strict = parseHttpDate(value);
  if (strict !== undefined) return strict;
  return parseHttpDate(
    value.replace(/[A-Za-z]+/g, (word) => DAY_AND_MONTH_NAMES.get(word.toLowerCase()) ?? word),
  );
}

/** An IMF-fixdate contains exactly one comma; a list of two dates has more. */
function isSingleDate(value: string): boolean {
  return value.indexOf(',') === value.lastIndexOf(',');
}

/** The Date field in ms, if valid. */
export function dateValue(fields: StoredFields): number | undefined {
  const date = fieldValue(fields, 'date');
  return date === undefined ? undefined : parseHttpDate(date);
}

/**
 * The Age field in seconds (§5.1: `delta-seconds`); undefined when absent or invalid (an invalid
 * Age is ignored). Several lines or a list: the first value.
 */
export function ageValue(fields: StoredFields): number | undefined {
  const age = fieldValue(fields, 'age');
  if (age === undefined) return undefined;
  const comma = age.indexOf(',');
  return deltaSeconds((comma < 0 ? age : age.slice(0, comma)).trim());
}

/**
 * corrected_initial_age of RFC 9111 §4.2.3, in seconds:
 *   apparent_age = max(0, response_time - date_value);
 *   response_delay = response_time - request_time;
 *   corrected_age_value = age_value + response_delay;
 *   corrected_initial_age = max(apparent_age, corrected_age_value).
 * The current age is this plus the resident time (now - response_time).
 */
export function correctedInitialAge(fields: StoredFields, requestTime: number, responseTime: number): number {
  const date = dateValue(fields) ?? responseTime;
  const apparentAge = Math.max(0, (responseTime - date) / 1000);
  const responseDelay = Math.max(0, (responseTime - requestTime) / 1000);
  const correctedAgeValue = (ageValue(fields) ?? 0) + responseDelay;
  return Math.max(apparentAge, correctedAgeValue);
}

/** Timestamps precomputed for the store (see store.ts), in ms since the epoch. */
export type EntryTimes = { readonly staleAt: number; readonly deleteAt: number };

/**
 * When a response received at `responseTime` turns stale (§4.2: fresh while
 * freshness_lifetime > current_age), and when it is no longer of any use: after the longest of
 * stale-while-revalidate, stale-if-error and, for a response with a validator, KEEP_STALE_S
 * (a stale response can still be revalidated with a conditional request, §4.3).
 */
export function entryTimes(
  status: number,
  fields: StoredFields,
  directives: ResponseDirectives,
  requestTime: number,
  responseTime: number,
): EntryTimes {
  const lifetime = freshnessLifetime(status, fields, directives);
  const initialAge = correctedInitialAge(fields, requestTime, responseTime);
  const staleAt = responseTime + (lifetime - initialAge) * 1000;
  const hasValidator = hasField(fields, 'etag') || hasField(fields, 'last-modified');
  const keep = Math.max(
    directives.staleWhileRevalidate ?? 0,
    directives.staleIfError ?? 0,
    hasValidator ? KEEP_STALE_S : 0,
    // Keep a fresh entry at least until it turns stale, and a little past so max-stale works.
    60,
  );
  return { staleAt, deleteAt: Math.max(staleAt, responseTime) + Math.min(keep, DELTA_SECONDS_CAP) * 1000 };
}

/** What the stored response can do for this request. */
export type Reuse =
  /** Serve it as is: fresh (or stale, but the request's max-stale allows it). */
  | { kind: 'fresh'; age: number; ttl: number; stale: boolean }
  /** Serve it stale now and revalidate in the background (RFC 5861 §3). */
  | { kind: 'stale-while-revalidate'; age: number; ttl: number }
  /** Send a conditional request first; `staleIfError` tells whether an error may be answered with it. */
  | {
      kind: 'validate';
      age: number;
      ttl: number;
      reason: 'stale' | 'no-cache' | 'request';
      staleIfError: boolean;
    };

/** What may be known of a stored entry for reuse decisions. */
export type ReuseEntry = {
  readonly status: number;
  readonly headers: StoredFields;
  readonly requestTime: number;
  readonly responseTime: number;
};

/**
 * Decides how a stored response may answer a request (RFC 9111 §4 and §4.2.4), at `now` (ms).
 * `age` is the current age in whole seconds (§4.2.3, as sent in Age) and `ttl` the freshness
 * left (negative when stale), as Cache-Status reports it (RFC 9211 §2.4).
 */
export function reuseOf(
  entry: ReuseEntry,
  request: RequestDirectives,
  now: number,
  surrogate?: string,
): Reuse {
  const directives = directivesOf(entry.headers, surrogate);
  const lifetime = freshnessLifetime(entry.status, entry.headers, directives);
  const exactAge =
    correctedInitialAge(entry.headers, entry.requestTime, entry.responseTime) +
    (now - entry.responseTime) / 1000;
  const age = Math.floor(exactAge);
  // Whole seconds, consistent with the Age sent: ttl + Age = the freshness lifetime.
  const ttl = Math.floor(lifetime) - age;
  const staleIfError = staleIfErrorAllows(directives, request, lifetime, exactAge);
  // §5.2.2.4: unqualified no-cache — "the cache MUST NOT use the response to satisfy a subsequent
  // request without successful validation on the origin server".
  if (directives.noCache === true) return { kind: 'validate', age, ttl, reason: 'no-cache', staleIfError };
  // §5.2.1.4: the client's no-cache asks the same of this one request.
  if (request.noCache) return { kind: 'validate', age, ttl, reason: 'request', staleIfError };
  // §5.2.1.1: max-age — "the client prefers a response whose age is less than or equal to".
  if (request.maxAge !== undefined && exactAge > request.maxAge) {
    return { kind: 'validate', age, ttl, reason: 'request', staleIfError };
  }
  const fresh = lifetime > exactAge;
  if (fresh) {
    // §5.2.1.3: min-fresh — "fresh for at least the specified number of seconds".
    if (request.minFresh !== undefined && lifetime - exactAge < request.minFresh) {
      return { kind: 'validate', age, ttl, reason: 'request', staleIfError };
    }
    return { kind: 'fresh', age, ttl, stale: false };
  }
  // Stale. §4.2.4: must-revalidate / proxy-revalidate / s-maxage (§5.2.2.10 implies
  // proxy-revalidate) forbid serving it stale, whatever the request allows.
  const revalidate =
    directives.mustRevalidate || directives.proxyRevalidate || directives.sMaxAge !== undefined;
  if (!revalidate) {
    // §5.2.1.2: max-stale — the client accepts a response stale by at most that many seconds.
    if (request.maxStale !== undefined && exactAge - lifetime <= request.maxStale) {
      return { kind: 'fresh', age, ttl, stale: true };
    }
    const swr = directives.staleWhileRevalidate;
    if (swr !== undefined && exactAge - lifetime <= swr) return { kind: 'stale-while-revalidate', age, ttl };
  }
  return { kind: 'validate', age, ttl, reason: 'stale', staleIfError: revalidate ? false : staleIfError };
}

/** RFC 5861 §4: a stale response may answer an error while within stale-if-error (response or request). */
function staleIfErrorAllows(
  directives: ResponseDirectives,
  request: RequestDirectives,
  lifetime: number,
  exactAge: number,
): boolean {
  const window = Math.max(directives.staleIfError ?? -1, request.staleIfError ?? -1);
  return window >= 0 && exactAge - lifetime <= window;
}
