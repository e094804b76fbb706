/**
 * Host names as certificates hold them: a DNS name (lower case, ASCII, maybe a leading `*.`
 * wildcard label) or an IP address (canonical text, so `0:0:0:0:0:0:0:1` and `::1` compare equal).
 * Shared by the local CA (which writes subject alternative names) and the certificate loader
 * (which reads them back), so both sides agree on what "the same name" means.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/** A subject alternative name: `dNSName` or `iPAddress` (RFC 5280 §4.2.1.6). */
export type HostName =
  | { readonly kind: 'dns'; readonly name: string }
  | { readonly kind: 'ip'; readonly name: string };

/** RFC 1035 §2.3.1 label (letters, digits, inner hyphens, at most 63 octets); `_` tolerated for dev names. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const MAX_DNS_NAME_CHARS = 253;

/**
 * Parses a host as a user types it (`Example.test`, `bücher.test`, `*.dev.test`, `[::1]`,
 * `127.0.0.1`) into its canonical certificate form. Throws a one-line TypeError naming the host
 * when it is neither a valid DNS name nor an IP address.
 */
export function parseHostName(input: string): HostName {
  const text = input.trim();
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const ip = canonicalIp(unbracketed);
  if (ip !== undefined) return { kind: 'ip', name: ip };
  const wildcard = text.startsWith('*.');
  const rest = (wildcard ? text.slice(2) : text).replace(/\.$/, '');
  // IDNA: certificates carry A-labels (RFC 5890), so `bücher` becomes `xn--bcher-kva`.
  const ascii = rest === '' ? '' : domainToASCII(rest);
  const labels = ascii.split('.');
  if (ascii === '' || ascii.length > MAX_DNS_NAME_CHARS || !labels.every((l) => LABEL.test(l))) {
    throw new TypeError(`"${input}" is not a valid host name or IP address`);
  }
  return { kind: 'dns', name: wildcard ? `*.${ascii}` : ascii };
}

/** The canonical text of an IP address (`::1`, `127.0.0.1`), or undefined when text is not one. */
export function canonicalIp(text: string): string | undefined {
  switch (isIP(text)) {
    case 4:
      return text;
    case 6:
      // The WHATWG URL parser prints IPv6 in RFC 5952 form (lower case, longest zero run as `::`).
      return new URL(`http://[${text}]/`).hostname.slice(1, -1);
    default:
      return undefined;
  }
}
