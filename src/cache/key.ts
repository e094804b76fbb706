/**
 * Cache keys (RFC 9111 §4.1, §2): the primary key is the request method and target URI; Vary
 * adds a secondary key made of the request fields it names.
 *
 * Only GET responses are stored (policy.ts), and HEAD is answered from them, so both map to the
 * GET key. The target URI is rebuilt as RFC 9110 §7.1 says: an absolute-form target (a forward
 * proxy's request) is already the URI; an origin-form one is prefixed with the scheme and Host.
 * Scheme and host are case-insensitive (RFC 9110 §4.2.3) and lower-cased; the path and query are
 * kept byte for byte (no percent-decoding: two spellings are two keys, which only costs a miss).
 */
import type { IncomingHeaders } from '../handler/types.js';
import { splitList } from '../http/field-list.js';
import type { StoredFields } from './store.js';

/** The target URI of a request (RFC 9110 §7.1), scheme and authority lower-cased. */
export function targetUri(url: string, host: string | undefined, secure: boolean): string {
  const sep = url.indexOf('://');
  if (sep > 0 && sep < 6 && url.charCodeAt(0) !== 0x2f) {
    const pathStart = url.indexOf('/', sep + 3);
    const authorityEnd = pathStart < 0 ? url.length : pathStart;
    const path = pathStart < 0 ? '/' : url.slice(pathStart);
    return `${url.slice(0, authorityEnd).toLowerCase()}${path}`;
  }
  return `${secure ? 'https' : 'http'}://${(host ?? '').toLowerCase()}${url}`;
}

/** The primary key for stored responses to GET (and HEAD) of `uri`. */
export function primaryKey(uri: string): string {
  return `GET ${uri}`;
}

/** The origin (`scheme://authority`) of a target URI, for same-origin checks (§4.4). */
export function originOf(uri: string): string {
  const sep = uri.indexOf('://');
  const pathStart = uri.indexOf('/', sep + 3);
  return pathStart < 0 ? uri : uri.slice(0, pathStart);
}

/** The lower-case field names a response's Vary lists (RFC 9110 §12.5.5), `*` included. */
export function varyNames(fields: StoredFields): string[] {
  const names: string[] = [];
  for (const [name, value] of fields) {
    if (name !== 'vary') continue;
    for (const element of splitList(value)) {
      const lower = element.toLowerCase();
      if (!names.includes(lower)) names.push(lower);
    }
  }
  return names;
}

/**
 * The secondary key: for each name Vary lists, the request's value normalised (§4.1: "the
 * cache MAY normalize ... by removing whitespace, combining multiple ... lines, and normalizing
 * both header fields"): list elements trimmed and rejoined with `, `, case folded where the
 * field's values are case-insensitive; absent stays undefined. Order is kept: it can carry
 * preference (RFC 9110 §12.5.4 note).
 */
export function varySelection(
  names: readonly string[],
  headers: IncomingHeaders,
): Record<string, string | undefined> {
  const selection: Record<string, string | undefined> = {};
  for (const name of names) selection[name] = normalise(name, headers[name]);
  return selection;
}

/**
 * True when the request presents the same values for every field the stored response's Vary
 * named (§4.1: "the selecting header fields nominated by the stored response ... match those
 * presented"). An empty selection matches any request.
 */
export function varyMatches(
  stored: Readonly<Record<string, string | undefined>>,
  headers: IncomingHeaders,
): boolean {
  for (const name in stored) {
    if (normalise(name, headers[name]) !== stored[name]) return false;
  }
  return true;
}

/**
 * Fields whose values are case-insensitive tokens or language tags (RFC 9110 §12.5.3, §12.5.4;
 * RFC 4647 §2), so `en-US` and `en-us` select the same stored response.
 */
const CASE_INSENSITIVE: ReadonlySet<string> = new Set([
  'accept-encoding',
  'accept-language',
  'accept-charset',
]);

function normalise(name: string, value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  let joined = typeof value === 'string' ? value : value.join(', ');
  if (CASE_INSENSITIVE.has(name)) joined = joined.toLowerCase();
  if (joined.indexOf(',') < 0) return joined.trim();
  return splitList(joined).join(', ');
}
