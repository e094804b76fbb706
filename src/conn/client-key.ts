/**
 * The key a client's connections are counted under for the per-client connection limit.
 *
 * One IPv4 address is one client. IPv6 is grouped by /64: RFC 4291 §2.5.4 gives unicast addresses a
 * 64-bit interface identifier, and a site typically gets a whole /64 (or more) to hand out, so one
 * host can pick any of 2^64 addresses (RFC 8981 temporary addresses do so on their own) — counting
 * per address would let it open unlimited connections. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, what a
 * dual-stack listener on `::` reports for IPv4 peers, RFC 4291 §2.5.5.2) counts as the IPv4 address.
 *
 * Runs once per accepted connection, not per request: a few string operations on a string the
 * kernel produced (so it is well formed) are fine here.
 */

/**
 * Returns the counting key for a peer address as node reports it (`socket.remoteAddress`), or
 * undefined when there is none to count by (a unix socket, a socket already closed).
 * IPv4 → the address; IPv6 → its /64 prefix in canonical hex, e.g. `2001:db8:0:1::/64`.
 */
export function clientKey(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  if (address.indexOf(':') === -1) return address;
  // IPv4-mapped: node prints it as `::ffff:a.b.c.d` (lower case); accept upper case as well.
  if (address.indexOf('.') !== -1 && address.slice(0, 7).toLowerCase() === '::ffff:') return address.slice(7);
  return ipv6Prefix64(address);
}

/** The first four 16-bit groups of an IPv6 address, leading zeros dropped, as `a:b:c:d::/64`. */
function ipv6Prefix64(address: string): string {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const gap = bare.indexOf('::');
  const head = gap === -1 ? bare : bare.slice(0, gap);
  const headGroups = head === '' ? [] : head.split(':');
  const prefix: string[] = [];
  for (let i = 0; i < 4 && i < headGroups.length; i++) prefix.push(group(headGroups[i]!));
  if (prefix.length < 4 && gap !== -1) {
    const tail = bare.slice(gap + 2);
    const tailGroups = tail === '' ? [] : tail.split(':');
    // A trailing dotted quad (e.g. `64:ff9b::192.0.2.1`) stands for two groups.
    const tailCount = tailGroups.length + (tail.indexOf('.') === -1 ? 0 : 1);
    const zeros = 8 - headGroups.length - tailCount;
    for (let i = 0; i < zeros && prefix.length < 4; i++) prefix.push('0');
    for (let i = 0; i < tailGroups.length && prefix.length < 4; i++) prefix.push(group(tailGroups[i]!));
  }
  // Not an address the kernel would report (fewer than four groups and no `::`): count it whole.
  if (prefix.length < 4) return address;
  return `${prefix.join(':')}::/64`;
}

/** One group in canonical form: lower case, no leading zeros (RFC 5952 §4.1, §4.3). */
function group(text: string): string {
  const n = Number.parseInt(text, 16);
  return Number.isNaN(n) ? text.toLowerCase() : n.toString(16);
}
