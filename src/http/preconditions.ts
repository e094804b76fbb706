/**
 * Conditional requests (RFC 9110 §13): the four preconditions evaluated in the order of
 * §13.2.2, and If-Range (§13.1.5). Pure: the caller supplies the current validators and turns
 * the verdict into a status code.
 *
 * Modelled on the shape of Go's `net/http/fs.go` `checkPreconditions`: one function per header,
 * each answering true / false / ignored, and one function walking the steps.
 */
import { parseHttpDate } from './date.js';
import { type EntityTag, parseEtag, parseEtagList, strongMatch, weakMatch } from './etag.js';
import { trimOws } from './field-list.js';

/** The request's precondition fields, as single strings (a repeated field joined with `, `). */
export type PreconditionHeaders = {
  'if-match'?: string | undefined;
  'if-none-match'?: string | undefined;
  'if-modified-since'?: string | undefined;
  'if-unmodified-since'?: string | undefined;
};

/** The selected representation's current validators. */
export type CurrentState = {
  /** The current ETag field value (`"x"` or `W/"x"`), if the resource has one. */
  etag?: string | undefined;
  /** The modification time in epoch milliseconds, if known. */
  lastModifiedMs?: number | undefined;
  /** Whether the target resource has a current representation (false for a PUT that creates). */
  exists: boolean;
};

/**
 * What to do with the request: perform the method, answer 304 Not Modified (GET/HEAD only),
 * or answer 412 Precondition Failed.
 */
export type PreconditionResult = { kind: 'proceed' } | { kind: 'not-modified' } | { kind: 'failed' };

const PROCEED: PreconditionResult = Object.freeze({ kind: 'proceed' });
const NOT_MODIFIED: PreconditionResult = Object.freeze({ kind: 'not-modified' });
const FAILED: PreconditionResult = Object.freeze({ kind: 'failed' });
const MS_PER_SECOND = 1000;

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the order of
 * RFC 9110 §13.2.2 against `current`. The returned object is a shared frozen constant.
 *
 * 1. If-Match present: false → `failed`. (The §13.1.1 exception — "unless it can be determined
 *    that the state-changing request has already succeeded" — is left to the caller.)
 * 2. Else If-Unmodified-Since present and valid: false → `failed`.
 * 3. If-None-Match present: false → `not-modified` for GET and HEAD, `failed` otherwise.
 * 4. Else, for GET and HEAD, If-Modified-Since present and valid: false → `not-modified`.
 * 5. `proceed` (If-Range is the caller's, through evaluateIfRange(), when it handles Range).
 *
 * A field that is present but empty or malformed is evaluated, not ignored: an If-Match with no
 * valid entity-tag matches nothing and fails. A date that is not a valid HTTP-date is ignored
 * (§13.1.3, §13.1.4), as is a date condition when `lastModifiedMs` is unknown. Dates are compared
 * at one-second resolution, the resolution of HTTP-date. Methods are case-sensitive (§9.1).
 *
 * RFC 9110 §13.2.1: preconditions are ignored when the response without them would be neither
 * 2xx nor 412 — the caller skips this call when it would send, say, 404 for a GET.
 */
export function evaluatePreconditions(
  method: string,
  headers: PreconditionHeaders,
  current: CurrentState,
): PreconditionResult {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    // §13.2.2 step 1: "if false, respond 412 (Precondition Failed)".
    if (!ifMatchHolds(ifMatch, current)) return FAILED;
  } else {
    // §13.2.2 step 2: only "when If-Match is not present".
    const ifUnmodifiedSince = headers['if-unmodified-since'];
    if (ifUnmodifiedSince !== undefined && ifUnmodifiedSinceHolds(ifUnmodifiedSince, current) === false) {
      return FAILED;
    }
  }
  const isGetOrHead = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    // §13.2.2 step 3: "if false for GET/HEAD, respond 304 (Not Modified); if false for other
    // methods, respond 412 (Precondition Failed)".
    if (!ifNoneMatchHolds(ifNoneMatch, current)) return isGetOrHead ? NOT_MODIFIED : FAILED;
  } else if (isGetOrHead) {
    // §13.2.2 step 4: "When the method is GET or HEAD, If-None-Match is not present, and
    // If-Modified-Since is present". §13.1.3: ignored for any other method.
    const ifModifiedSince = headers['if-modified-since'];
    if (ifModifiedSince !== undefined && ifModifiedSinceHolds(ifModifiedSince, current) === false) {
      return NOT_MODIFIED;
    }
  }
  return PROCEED;
}

/**
 * Evaluates If-Range (RFC 9110 §13.1.5): true when the Range header may be honoured (send 206),
 * false when the whole representation must be sent instead (200). `undefined` — no If-Range —
 * is true. The caller ignores If-Range when the request has no Range (§13.1.5 ¶2) by not asking.
 *
 * - An entity-tag: true if it is a strong match for `current.etag` (a weak tag on either side
 *   never matches; §13.1.5 forbids clients to send one).
 * - An HTTP-date: true if it equals `current.lastModifiedMs` to the second **and** Last-Modified
 *   is a strong validator. Per §8.8.2.2 it is treated as strong only when it is at least one
 *   second older than `nowMs`, the Date of this response: the file cannot change again within a
 *   second that is already over. (It cannot prove the client's copy was not taken earlier in
 *   that same second, which is why ETags are preferred; Apache applies the same rule.)
 * - Anything else, including an empty or malformed value: false.
 */
export function evaluateIfRange(
  header: string | undefined,
  current: { etag?: string | undefined; lastModifiedMs?: number | undefined },
  nowMs: number,
): boolean {
  if (header === undefined) return true;
  const value = trimOws(header);
  const c = value.charCodeAt(0);
  if (c === 0x22 || (c === 0x57 && value.charCodeAt(1) === 0x2f)) {
    const tag = parseEtag(value);
    const currentTag = currentEtag(current.etag);
    return tag !== undefined && currentTag !== undefined && strongMatch(tag, currentTag);
  }
  const date = parseHttpDate(value);
  if (date === undefined || current.lastModifiedMs === undefined) return false;
  const lastModified = toSecond(current.lastModifiedMs);
  const strong = lastModified + MS_PER_SECOND <= toSecond(nowMs);
  return strong && lastModified === date;
}

/**
 * If-Match (RFC 9110 §13.1.1): `*` is "false if the origin server has no current representation";
 * a list is true if any member strongly matches the current entity-tag.
 */
function ifMatchHolds(value: string, current: CurrentState): boolean {
  const list = parseEtagList(value);
  if (list === '*') return current.exists;
  const tag = current.exists ? currentEtag(current.etag) : undefined;
  if (tag === undefined) return false;
  for (const member of list) if (strongMatch(member, tag)) return true;
  return false;
}

/**
 * If-None-Match (RFC 9110 §13.1.2): `*` is "false if the origin server has a current
 * representation"; a list is false if any member weakly matches the current entity-tag.
 */
function ifNoneMatchHolds(value: string, current: CurrentState): boolean {
  const list = parseEtagList(value);
  if (list === '*') return !current.exists;
  const tag = current.exists ? currentEtag(current.etag) : undefined;
  if (tag === undefined) return true;
  for (const member of list) if (weakMatch(member, tag)) return false;
  return true;
}

/**
 * If-Unmodified-Since (RFC 9110 §13.1.4): true if the last modification "is earlier than or
 * equal to the date provided"; undefined (ignored) if the value "is not a valid HTTP-date
 * (including when the field value appears to be a list of dates)" or there is no modification
 * date.
 */
function ifUnmodifiedSinceHolds(value: string, current: CurrentState): boolean | undefined {
  const since = parseHttpDate(trimOws(value));
  if (since === undefined || current.lastModifiedMs === undefined) return undefined;
  return toSecond(current.lastModifiedMs) <= since;
}

/**
 * If-Modified-Since (RFC 9110 §13.1.3): false if the last modification "is earlier than or equal
 * to the date provided"; undefined (ignored) for an invalid date, a list of dates, or no
 * modification date.
 */
function ifModifiedSinceHolds(value: string, current: CurrentState): boolean | undefined {
  const since = parseHttpDate(trimOws(value));
  if (since === undefined || current.lastModifiedMs === undefined) return undefined;
  return toSecond(current.lastModifiedMs) > since;
}

/** The server's own ETag parsed; undefined when absent or (a server bug) malformed. */
function currentEtag(etag: string | undefined): EntityTag | undefined {
  return etag === undefined ? undefined : parseEtag(etag);
}

/** `ms` truncated to the start of its second, the resolution of an HTTP-date (§5.6.7). */
function toSecond(ms: number): number {
  return Math.floor(ms / MS_PER_SECOND) * MS_PER_SECOND;
}
