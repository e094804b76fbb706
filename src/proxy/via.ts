/**
 * The Via field (RFC 9110 §7.6.3): each proxy appends `received-protocol received-by`, and a
 * request that already names this proxy has gone round in a loop.
 *
 * Via = #( received-protocol RWS received-by [ RWS comment ] )
 * received-protocol = [ protocol-name "/" ] protocol-version   (protocol-name "HTTP" omitted)
 * received-by = pseudonym [ ":" port ] / uri-host [ ":" port ]
 *
 * Berth sends a pseudonym, not its host name (§7.6.3 ¶7 allows one "when the real host is
 * considered to be sensitive information"): `berth-<host>-<port>` by default, a token, so it
 * can be recognised exactly when it comes back.
 */
import { isToken } from '../http/field-syntax.js';

/**
 * The default pseudonym for a proxy listening on hostname:port: `berth-<host>-<port>`, with
 * the brackets of an IPv6 literal dropped and every other character that is not a letter, digit,
 * `.` or `-` (an IPv6 address's colons) turned into `-`, in lower case, so the result is a token.
 */
export function viaPseudonym(hostname: string, port: number): string {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  let host = '';
  for (let i = 0; i < bare.length; i++) {
    const c = bare.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2e || c === 0x2d;
    host += ok ? bare[i] : '-';
  }
  return `berth-${host.toLowerCase()}-${port}`;
}

/**
 * The Via value to forward: `existing` (the received field values joined with ', ', or
 * undefined) with `<version> <pseudonym>` appended. `version` is the HTTP version of the message
 * as received (`1.1`, `1.0`); the protocol name is left out, as RFC 9110 §7.6.3 allows for HTTP.
 * Throws a TypeError when the pseudonym is not a token.
 */
export function appendVia(existing: string | undefined, version: string, pseudonym: string): string {
  if (!isToken(pseudonym)) throw new TypeError(`the Via pseudonym "${pseudonym}" is not a token`);
  const entry = `${version} ${pseudonym}`;
  return existing === undefined || existing.trim() === '' ? entry : `${existing}, ${entry}`;
}

/**
 * Whether a Via value already lists `pseudonym` as a received-by (compared case-insensitively,
 * a `:port` after it ignored): the message has passed through this proxy before. Commas inside
 * comments and quoted strings do not split entries. Never throws.
 */
export function seenVia(existing: string | undefined, pseudonym: string): boolean {
  if (existing === undefined) return false;
  const wanted = pseudonym.toLowerCase();
  for (const entry of viaEntries(existing)) {
    const by = receivedBy(entry);
    if (by === undefined) continue;
    const colon = by.lastIndexOf(':');
    const name = colon > 0 && by.indexOf(']') < colon ? by.slice(0, colon) : by;
    if (by.toLowerCase() === wanted || name.toLowerCase() === wanted) return true;
  }
  return false;
}

/** Splits a Via value at the commas outside comments `( … )` and quoted strings. */
function viaEntries(value: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c && (quoted || depth > 0)) {
      i++; // quoted-pair
    } else if (quoted) {
      if (c === 0x22) quoted = false;
    } else if (c === 0x22 && depth === 0) {
      quoted = true;
    } else if (c === 0x28) {
      depth++;
    } else if (c === 0x29 && depth > 0) {
      depth--;
    } else if (c === 0x2c && depth === 0) {
      entries.push(value.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(value.slice(start));
  return entries;
}

/** The second word of one Via entry (received-by), or undefined for an empty or one-word entry. */
function receivedBy(entry: string): string | undefined {
  const words = entry.trim().split(/[ \t]+/);
  return words.length >= 2 ? words[1] : undefined;
}
