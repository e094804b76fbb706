/**
 * The Cache-Status response field (RFC 9211): one list member per cache that handled the
 * response, "ordered from the origin server to the client" (§2), so this cache appends its own
 * member to any the response already carries.
 */

/** Why the request went forward to `next` (RFC 9211 §2.2). */
export type ForwardReason = 'bypass' | 'method' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale';

/** What this cache did, for one response. */
export type CacheOutcome =
  | { kind: 'hit'; ttl: number; stale?: boolean; collapsed?: boolean; detail?: string }
  | {
      kind: 'forward';
      reason: ForwardReason;
      /** The status `next` answered with (fwd-status, §2.3), when it differs from the one sent. */
      status?: number;
      /** The response was stored (§2.5). */
      stored?: boolean;
      ttl?: number;
      collapsed?: boolean;
      detail?: string;
    };

/** The list member for `outcome` under the cache's name (an sf-token or sf-string). */
export function cacheStatusMember(name: string, outcome: CacheOutcome): string {
  let member = name;
  if (outcome.kind === 'hit') {
    member += `; hit; ttl=${outcome.ttl}`;
  } else {
    member += `; fwd=${outcome.reason}`;
    if (outcome.status !== undefined) member += `; fwd-status=${outcome.status}`;
    if (outcome.stored !== undefined) member += `; stored=${outcome.stored ? '?1' : '?0'}`;
    if (outcome.ttl !== undefined) member += `; ttl=${outcome.ttl}`;
  }
  if (outcome.collapsed) member += '; collapsed';
  if (outcome.detail !== undefined) member += `; detail=${JSON.stringify(outcome.detail)}`;
  return member;
}

/** The field value: `prior` (from further upstream, if any) with this cache's member appended. */
export function cacheStatusValue(prior: string | undefined, member: string): string {
  return prior === undefined || prior === '' ? member : `${prior}, ${member}`;
}
