/**
 * Who may use the forward proxy: client addresses checked against CIDR blocks (RFC 4632 for
 * IPv4, RFC 4291 §2.3 for IPv6 prefixes). A proxy anyone can reach is an open relay, so the
 * default list is loopback only.
 *
 * An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) is what a dual-stack socket
 * reports for an IPv4 client; it is treated as the IPv4 address it carries, both as a client
 * address and in a CIDR (`::ffff:10.0.0.0/104` is `10.0.0.0/8`).
 */
import { isIPv4, isIPv6 } from 'node:net';

/** One address block: the network bytes (4 for IPv4, 16 for IPv6, host bits zero) and the prefix length. */
export type Cidr = {
  readonly kind: 'ipv4' | 'ipv6';
  readonly bytes: Uint8Array;
  readonly prefix: number;
};

/** The CIDRs allowed when none are configured: 127.0.0.0/8 and ::1/128. */
export const LOOPBACK_ONLY: readonly Cidr[] = Object.freeze([parseCidr('127.0.0.0/8'), parseCidr('::1/128')]);

/**
 * Parses `address/prefix` (or a bare address: /32 for IPv4, /128 for IPv6). Bits beyond the
 * prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`). Throws a RangeError naming the input when
 * the address or the prefix is invalid.
 */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  const address = slash < 0 ? s : s.slice(0, slash);
  const ip = parseAddress(address);
  if (ip === undefined) throw new RangeError(`"${s}" is not an IPv4 or IPv6 address or CIDR block`);
  const bits = ip.kind === 'ipv4' ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const text = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text) || Number(text) > bits) {
      throw new RangeError(`"${s}" has an invalid prefix length (0 to ${bits} expected)`);
    }
    prefix = Number(text);
  }
  // A block inside ::ffff:0:0/96 is a block of IPv4 addresses.
  if (ip.kind === 'ipv6' && prefix >= 96 && isMapped(ip.bytes)) {
    return mask({ kind: 'ipv4', bytes: ip.bytes.slice(12), prefix: prefix - 96 });
  }
  return mask({ kind: ip.kind, bytes: ip.bytes, prefix });
}

/**
 * Whether a client address (as a socket reports it: dotted IPv4, IPv6 text, possibly with a
 * `%zone`, or IPv4-mapped IPv6) falls in one of the blocks. An unparseable address is refused.
 */
export function allowedClient(address: string, allow: readonly Cidr[]): boolean {
  // Nothing to match (no trusted proxies, the usual case): no address to parse per request.
  if (allow.length === 0) return false;
  const percent = address.indexOf('%');
  const ip = parseAddress(percent < 0 ? address : address.slice(0, percent));
  if (ip === undefined) return false;
  const client = ip.kind === 'ipv6' && isMapped(ip.bytes) ? { kind: 'ipv4', bytes: ip.bytes.slice(12) } : ip;
  for (const cidr of allow) {
    if (cidr.kind === client.kind && inPrefix(client.bytes, cidr.bytes, cidr.prefix)) return true;
  }
  return false;
}

type Address = { kind: 'ipv4' | 'ipv6'; bytes: Uint8Array };

function parseAddress(s: string): Address | undefined {
  if (isIPv4(s)) return { kind: 'ipv4', bytes: Uint8Array.from(s.split('.').map(Number)) };
  if (isIPv6(s)) return { kind: 'ipv6', bytes: ipv6Bytes(s) };
  return undefined;
}

/** The 16 bytes of an IPv6 address already validated by isIPv6 (`::` and a dotted tail allowed). */
function ipv6Bytes(s: string): Uint8Array {
  const bytes = new Uint8Array(16);
  const gap = s.indexOf('::');
  const words = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = words(gap < 0 ? s : s.slice(0, gap));
  const tail = gap < 0 ? [] : words(s.slice(gap + 2));
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = all[i]! >> 8;
    bytes[2 * i + 1] = all[i]! & 0xff;
  }
  return bytes;
}

function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function mask(cidr: Cidr): Cidr {
  const bytes = Uint8Array.from(cidr.bytes);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, cidr.prefix - 8 * i));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return Object.freeze({ kind: cidr.kind, bytes, prefix: cidr.prefix });
}

function inPrefix(address: Uint8Array, network: Uint8Array, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== network[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (address[whole]! & m) === network[whole];
}
