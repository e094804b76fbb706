/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): what a proxy must not pass on, for requests going upstream
 * and responses coming back.
 *
 * RFC 9110 §7.6.1 ¶3: "Intermediaries MUST parse a received Connection header field before a
 * message is forwarded and, for each connection-option in this field, remove any header or
 * trailer field(s) from the message with the same name as the connection-option, and then
 * remove the Connection header field itself (or replace it with the intermediary's own
 * control options for the forwarded message)."
 * ¶5 names the fields that are hop-by-hop even when Connection does not list them: Proxy-Connection,
 * Keep-Alive, TE, Transfer-Encoding and Upgrade. Proxy-Authorization and Proxy-Authenticate are
 * meant for the proxy that receives them (RFC 9110 §11.7.1, §11.7.2) and Trailer describes the
 * framing of this hop. Host and Content-Length are dropped too: the caller sets Host from the
 * target, and the upstream client frames the body itself (a length it learns separately).
 */
import { isOws } from '../http/field-list.js';
import type { FieldList } from './upstream-types.js';

export type ForwardOptions = {
  /** Keep the Upgrade field (and let Connection name it) for a request relayed as an upgrade. */
  readonly keepUpgrade?: boolean;
};

/** Lower-case names that never go further than this hop, whatever Connection says. */
const ALWAYS_DROPPED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/**
 * The fields of a received request worth forwarding, from flat `rawHeaders`
 * (`[name, value, name, value, …]`, as Request.rawHeaders): every hop-by-hop field removed,
 * along with each field the Connection field names, and Host and Content-Length. Names are
 * compared case-insensitively and kept as received; order is kept. Returns new arrays.
 */
export function forwardableFields(
  rawHeaders: readonly string[],
  options: ForwardOptions = {},
): [string, string][] {
  const named = connectionOptions(rawHeaders);
  const keepUpgrade = options.keepUpgrade === true;
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (isHopByHop(name.toLowerCase(), named, keepUpgrade)) continue;
    out.push([name, rawHeaders[i + 1]!]);
  }
  return out;
}

/**
 * The fields of an upstream response worth passing to the client, by the same rules as
 * forwardableFields(); the upstream's Content-Length is returned apart (`contentLength`, the
 * value as received; undefined when absent or overridden by Transfer-Encoding) so the caller can keep the length framing — or the
 * HEAD / 304 length — on its own response.
 */
export function forwardableResponseFields(
  fields: FieldList,
  options: ForwardOptions = {},
): { fields: [string, string][]; contentLength: string | undefined } {
  const flat: string[] = [];
  for (const [name, value] of fields) flat.push(name, value);
  const named = connectionOptions(flat);
  const keepUpgrade = options.keepUpgrade === true;
  const out: [string, string][] = [];
  let contentLength: string | undefined;
  let chunked = false;
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (lower === 'content-length') contentLength ??= value;
    else if (lower === 'transfer-encoding') chunked = true;
    if (isHopByHop(lower, named, keepUpgrade)) continue;
    out.push([name, value]);
  }
  // RFC 9112 §6.3 ¶3: with Transfer-Encoding present, Content-Length does not frame the message.
  return { fields: out, contentLength: chunked ? undefined : contentLength };
}

/**
 * Whether a field (its name in lower case) stops at this hop: always-dropped, or named by the
 * Connection options `named` (see connectionOptions()). `keepUpgrade` lets Upgrade through.
 */
export function isHopByHop(lower: string, named: ReadonlySet<string>, keepUpgrade: boolean): boolean {
  if (keepUpgrade && lower === 'upgrade') return false;
  return ALWAYS_DROPPED.has(lower) || (named.size > 0 && named.has(lower));
}

const NO_OPTIONS: ReadonlySet<string> = new Set();

/**
 * The connection-options of every Connection field in flat fields ([name, value, …]), lower
 * case, as a set, `keep-alive` left out (always dropped); one shared empty set when that leaves
 * none (nothing allocated).
 */
export function connectionOptions(flat: readonly string[]): ReadonlySet<string> {
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    // Most names are not 10 long: no lower-casing for them.
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    const value = flat[i + 1]!;
    // Connection = #connection-option; connection-option = token (RFC 9110 §7.6.1).
    let start = 0;
    for (let k = 0; k <= value.length; k++) {
      if (k < value.length && value.charCodeAt(k) !== 0x2c) continue;
      let a = start;
      let b = k;
      while (a < b && isOws(value.charCodeAt(a))) a++;
      while (b > a && isOws(value.charCodeAt(b - 1))) b--;
      if (b > a) {
        const option = value.slice(a, b).toLowerCase();
        // `keep-alive` (most Connection fields say only that) names a field dropped anyway:
        // no set is made for it.
        if (option !== 'keep-alive') (named ??= new Set<string>()).add(option);
      }
      start = k + 1;
    }
  }
  return named ?? NO_OPTIONS;
}
