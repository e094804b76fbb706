/**
 * Which response fields a cache keeps, and how a 304 or HEAD response updates them (RFC 9111
 * §3.1, §3.2).
 */
import { formatHttpDate, parseHttpDate } from '../http/date.js';
import { splitList } from '../http/field-list.js';
import type { ResponseDirectives } from './directives.js';
import type { StoredFields } from './store.js';

/**
 * Never stored, whatever the response: RFC 9111 §3.1 — "the Connection header field and fields
 * whose names are listed in it", Proxy-Authenticate, Proxy-Authentication-Info, Proxy-Authorization,
 * and the other hop-by-hop fields of RFC 9110 §7.6.1. Content-Length and Transfer-Encoding describe
 * this message's framing: the cache frames what it serves itself, from the stored body's size.
 */
const NOT_STORED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/**
 * The fields to store from a received response (names lower-case): without the fields above,
 * those Connection names, and those a qualified `no-cache="…"` (§5.2.2.4: "MUST NOT be sent in the
 * response to a subsequent request without successful revalidation") or `private="…"`
 * (§5.2.2.7: "a shared cache MUST NOT store the specified field names") names. A Date is added
 * when there is none or it is invalid; only the first of several is kept (RFC 9110 §6.6.1: a recipient with a clock "MUST ... append a corresponding
 * Date header field ... if it is cached or forwarded downstream").
 */
export function fieldsToStore(
  fields: StoredFields,
  directives: ResponseDirectives,
  receivedAt: number,
): StoredFields {
  const dropped = connectionNamed(fields);
  if (Array.isArray(directives.noCache)) for (const n of directives.noCache as string[]) dropped.add(n);
  if (Array.isArray(directives.private)) for (const n of directives.private as string[]) dropped.add(n);
  const out: [string, string][] = [];
  let hasDate = false;
  for (const field of fields) {
    const name = field[0];
    if (NOT_STORED.has(name) || dropped.has(name)) continue;
    if (name === 'date') {
      // RFC 9110 §6.6.1: a recipient with a clock "MAY replace" an invalid Date "with the time it
      // received" the message; an unreadable Date would otherwise make every age unknowable.
      if (hasDate || parseHttpDate(field[1]) === undefined) continue;
      hasDate = true;
    }
    out.push([name, field[1]]);
  }
  if (!hasDate) out.push(['date', formatHttpDate(new Date(receivedAt))]);
  return out;
}

/**
 * The fields to pass on with a response forwarded from `next` (not served from storage): only the
 * hop-by-hop ones go, and a missing Date is added. Content-Length stays, so the client's response
 * keeps the framing the origin chose.
 */
export function fieldsToForward(fields: StoredFields, receivedAt: number): StoredFields {
  const dropped = connectionNamed(fields);
  const out: [string, string][] = [];
  let hasDate = false;
  for (const field of fields) {
    const name = field[0];
    if ((NOT_STORED.has(name) && name !== 'content-length') || dropped.has(name)) continue;
    if (name === 'date') hasDate = true;
    out.push([name, field[1]]);
  }
  if (!hasDate) out.push(['date', formatHttpDate(new Date(receivedAt))]);
  return out;
}

/**
 * The stored fields updated from a 304 (or HEAD) response (RFC 9111 §3.2): "the cache MUST add
 * each header field in the provided response to the stored response, replacing field values that
 * are already present", except the fields never stored and Content-Length. `fresh` is already
 * filtered by fieldsToStore(); its Date (added there when missing) replaces the stored one.
 */
export function updatedFields(stored: StoredFields, fresh: StoredFields): StoredFields {
  const replaced = new Set<string>();
  for (const [name] of fresh) replaced.add(name);
  const out: [string, string][] = [];
  for (const field of stored) if (!replaced.has(field[0])) out.push([field[0], field[1]]);
  for (const field of fresh) out.push([field[0], field[1]]);
  return out;
}

/** The lower-case names the Connection field lists (RFC 9110 §7.6.1). */
function connectionNamed(fields: StoredFields): Set<string> {
  const names = new Set<string>();
  for (const [name, value] of fields) {
    if (name !== 'connection') continue;
    for (const option of splitList(value)) names.add(option.toLowerCase());
  }
  return names;
}
