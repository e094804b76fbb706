/**
 * The fields the reverse proxy passes each way, each built in one pass over the fields as parsed
 * (flat [name, value, …] arrays): every name lower-cased once, no intermediate lists, records or
 * maps. The rules are hop-by-hop.ts's and forwarded.ts's; this is only their cheap shape for the
 * per-request path, which proxying a small response spent several microseconds on before.
 *
 * Request (step 2 of reverse.ts): Host first, then the client's fields minus hop-by-hop ones
 * (RFC 9110 §7.6.1), Expect and the forwarding fields, which forwardingFields() appends anew.
 * Response (step 5): hop-by-hop fields dropped, repeated fields kept, received Via values joined
 * with ours appended (RFC 9110 §7.6.3), Content-Length kept unless Transfer-Encoding overrides it
 * (RFC 9112 §6.3 ¶3) — so HEAD and 304 keep theirs.
 */
import type { Request, Response } from '../handler/types.js';
import { FORWARDING_FIELDS, type ForwardingOptions, forwardingFields } from './forwarded.js';
import { connectionOptions, isHopByHop } from './hop-by-hop.js';

/**
 * The fields to send upstream for `req`: `host` (when defined) as Host, the forwardable fields
 * in order with their names as received, `Connection: Upgrade` for an upgrade (RFC 9110 §7.8),
 * then the forwarding fields.
 */
export function upstreamFields(
  req: Request,
  host: string | undefined,
  upgrade: boolean,
  options: ForwardingOptions,
): [string, string][] {
  const raw = req.rawHeaders;
  const named = connectionOptions(raw);
  const out: [string, string][] = [];
  if (host !== undefined) out.push(['Host', host]);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (isHopByHop(lower, named, upgrade) || lower === 'expect' || FORWARDING_FIELDS.has(lower)) continue;
    out.push([name, raw[i + 1]!]);
  }
  if (upgrade) out.push(['Connection', 'Upgrade']);
  return forwardingFields(req, options, out);
}

/**
 * Sets an upstream response's fields (flat, as parsed) on `res`, before its head is written.
 * `via` is our own Via entry (`1.1 <pseudonym>`). Throws the TypeError res.setHeader() throws
 * for a name or value it will not write; the caller then removes what was set.
 */
export function setResponseFields(
  res: Response,
  raw: readonly string[],
  via: string,
  keepUpgrade: boolean,
): void {
  const named = connectionOptions(raw);
  let received: string | undefined;
  let contentLength: string | undefined;
  let chunked = false;
  // Lower-case names set so far and their first spellings, for the rare repeated field
  // (setHeader() would replace it, and take the later spelling).
  let set: string[] | undefined;
  let spellings: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'content-length') contentLength ??= value;
    else if (lower === 'transfer-encoding') chunked = true;
    else if (lower === 'via') {
      received = received === undefined ? value : `${received}, ${value}`;
      continue;
    }
    if (isHopByHop(lower, named, keepUpgrade)) continue;
    if (set === undefined) {
      set = [lower];
      spellings = [name];
    } else {
      const seen = set.indexOf(lower);
      if (seen !== -1) {
        const first = spellings![seen]!;
        const existing = res.getHeader(first)!;
        res.setHeader(first, typeof existing === 'object' ? [...existing, value] : [String(existing), value]);
        continue;
      }
      set.push(lower);
      spellings!.push(name);
    }
    res.setHeader(name, value);
  }
  res.setHeader('Via', received === undefined || received.trim() === '' ? via : `${received}, ${via}`);
  if (contentLength !== undefined && !chunked) res.setHeader('Content-Length', contentLength);
}
