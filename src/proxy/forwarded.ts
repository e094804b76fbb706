/**
 * The fields a reverse proxy adds so the upstream knows who asked and how: X-Forwarded-For,
 * X-Forwarded-Proto, X-Forwarded-Host (the de-facto set), Forwarded (RFC 7239) and Via
 * (RFC 9110 §7.6.3).
 *
 * Trust: anyone can send X-Forwarded-For or Forwarded, so the incoming values are kept only when
 * the direct client is a proxy we trust (its address in `trustProxy`); then ours is appended to
 * theirs. From anyone else they are dropped and replaced — RFC 7239 §8.1: "the header field
 * value can be spoofed", and an upstream that trusts its first element must only ever see one
 * written by us or by a proxy we vouch for. X-Forwarded-Proto and X-Forwarded-Host describe the
 * original request, so a trusted proxy's values win over ours; Forwarded lists one element per
 * hop, so ours (this hop's `for`, `host`, `proto`) is appended. Via is never a matter of trust: it
 * is a chain every proxy appends to (loop detection reads it).
 *
 * The caller removes the received fields named in FORWARDING_FIELDS from what it forwards and
 * appends the list forwardingFields() returns.
 */
import type { Request } from '../handler/types.js';
import { isToken } from '../http/field-syntax.js';
import { allowedClient, type Cidr } from './access.js';
import { appendVia } from './via.js';

export type ForwardingOptions = {
  /** Direct clients whose forwarding fields are believed and extended. */
  readonly trustProxy: readonly Cidr[];
  /** The client reached us over TLS (X-Forwarded-Proto / proto= say https). */
  readonly secure: boolean;
  /** This proxy's name in Via (a token, see via.ts). */
  readonly pseudonym: string;
};

/** Lower-case names of the received fields that forwardingFields() replaces. */
export const FORWARDING_FIELDS: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'via',
]);

/**
 * The forwarding fields for a request received from `req.remoteAddress`: X-Forwarded-For,
 * X-Forwarded-Proto, X-Forwarded-Host (when the request has a Host), Forwarded and Via, in that
 * order, as new [name, value] pairs appended to `out` (a new array by default), which is returned.
 * Throws a TypeError when the pseudonym is not a token.
 */
export function forwardingFields(
  req: Pick<Request, 'remoteAddress' | 'headers' | 'httpVersion'>,
  options: ForwardingOptions,
  out: [string, string][] = [],
): [string, string][] {
  const client = clientAddress(req.remoteAddress);
  const trusted = client !== undefined && allowedClient(client, options.trustProxy);
  const headers = req.headers;
  const host = single(headers.host);
  const proto = options.secure ? 'https' : 'http';

  const incomingFor = trusted ? single(headers['x-forwarded-for']) : undefined;
  const xff = client ?? 'unknown';
  out.push([
    'X-Forwarded-For',
    incomingFor === undefined || incomingFor === '' ? xff : `${incomingFor}, ${xff}`,
  ]);
  out.push(['X-Forwarded-Proto', (trusted ? single(headers['x-forwarded-proto']) : undefined) ?? proto]);
  const forwardedHost = (trusted ? single(headers['x-forwarded-host']) : undefined) ?? host;
  if (forwardedHost !== undefined) out.push(['X-Forwarded-Host', forwardedHost]);

  // RFC 7239 §4: forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] ).
  let element = `for=${forwardedNode(client)}`;
  if (host !== undefined && host !== '') element += `;host=${hostPair(host)}`;
  element += `;proto=${proto}`;
  const incomingForwarded = trusted ? single(headers.forwarded) : undefined;
  out.push([
    'Forwarded',
    incomingForwarded === undefined || incomingForwarded === ''
      ? element
      : `${incomingForwarded}, ${element}`,
  ]);

  // RFC 9110 §7.6.3: received-protocol is the version alone for HTTP; HTTP/2 is "2".
  const version = req.httpVersion === '2.0' ? '2' : req.httpVersion;
  out.push(['Via', appendVia(single(headers.via), version, options.pseudonym)]);
  return out;
}

/**
 * The client's address as forwarded: IPv4-mapped IPv6 as the IPv4 address it carries (what a
 * dual-stack socket reports for an IPv4 client), an IPv6 zone dropped; undefined when the
 * connection has no IP address (a unix socket).
 */
export function clientAddress(remoteAddress: string | undefined): string | undefined {
  if (remoteAddress === undefined || remoteAddress === '') return undefined;
  const percent = remoteAddress.indexOf('%');
  const address = percent < 0 ? remoteAddress : remoteAddress.slice(0, percent);
  if (address.startsWith('::ffff:') && address.indexOf('.') > 0) return address.slice(7);
  return address;
}

/**
 * A node for `for=` (RFC 7239 §6): IPv4 as is; IPv6 bracketed and quoted, since `:`, `[` and `]`
 * are not token characters (§6: "the IPv6 address MUST be enclosed in square brackets" and
 * §4: values that are not tokens are quoted-strings); `unknown` when there is no address (§6.2).
 */
function forwardedNode(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.includes(':') ? `"[${address}]"` : address;
}

let lastHost = '';
let lastHostPair = '';
/**
 * tokenOrQuoted(host), remembered for the last host: behind a reverse proxy nearly every request
 * names the same one, and `host:port` is never a token, so it would be quoted afresh each time.
 */
function hostPair(host: string): string {
  if (host !== lastHost) {
    lastHostPair = tokenOrQuoted(host);
    lastHost = host;
  }
  return lastHostPair;
}

/** A forwarded-pair value: a token as is, anything else as a quoted-string (RFC 9110 §5.6.4). */
function tokenOrQuoted(value: string): string {
  if (isToken(value)) return value;
  let quoted = '"';
  for (const ch of value) quoted += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  return `${quoted}"`;
}

/** A request field as one string: repeated fields are already joined by the engine (set-cookie aside). */
function single(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}
