/**
 * An upstream group for the reverse proxy: the upstreams, a choice policy, and what the group
 * knows about each one's health.
 *
 * Two health signals, kept apart:
 * - passive: the proxy reports each exchange (reportFailure / reportSuccess). A failure ejects the
 *   upstream for EJECT_MS, doubling on each further failure up to MAX_EJECT_MS; a success resets it.
 *   Failures reported while the upstream is already ejected (requests that were in flight when it
 *   broke) do not double the time again, so one blip under load costs one base ejection, not 60 s.
 * - active: health.ts marks an upstream down or up (markDown / markUp).
 *
 * pick() never returns an excluded upstream (the ones a retry already tried). Among the rest it
 * prefers the usable ones; when none is usable it returns the one that went bad longest ago rather
 * than nothing, so a blip that trips every upstream at once degrades to "try anyway", never to a
 * hard outage made by the balancer itself.
 *
 * ip-hash is rendezvous (highest-random-weight) hashing: each client scores every upstream and
 * takes the best usable one, so ejecting an upstream moves only that upstream's clients and they
 * come back when it does. The score is a 32-bit FNV-1a of name and address with a murmur3 finaliser:
 * stable across processes and restarts, which is what "sticky" has to mean behind several proxies.
 */
import net from 'node:net';
import { clientAddress } from './forwarded.js';
import type { UpstreamTarget } from './upstream-types.js';

/** First passive ejection of an upstream after a failed exchange. */
export const EJECT_MS = 10_000;
/** Longest passive ejection, reached by doubling EJECT_MS on consecutive failures. */
export const MAX_EJECT_MS = 60_000;

/** An upstream server: where it is, and a name for logs (`http://127.0.0.1:3000`, `unix:/run/app.sock`). */
export type Upstream = { readonly name: string; readonly target: UpstreamTarget };

export type BalancePolicy = 'round-robin' | 'least-conn' | 'ip-hash';

export type UpstreamGroupOptions = {
  /** Default `round-robin`. */
  readonly policy?: BalancePolicy;
  readonly ejectMs?: number;
  readonly maxEjectMs?: number;
  /** Clock, for tests (default Date.now). */
  readonly now?: () => number;
};

/** One upstream's state as the group sees it (a snapshot, for stats and logs). */
export type UpstreamStatus = {
  readonly name: string;
  readonly inFlight: number;
  /** Consecutive failed exchanges (passive health). */
  readonly failures: number;
  /** Passively ejected right now. */
  readonly ejected: boolean;
  /** Marked down by the active health check. */
  readonly down: boolean;
};

/**
 * Parses an upstream address: `http://host[:port]`, `https://host[:port]` (TLS, with SNI for a
 * host name), or `unix:/path/to.sock`. A path, query, fragment or userinfo is refused (the proxy
 * forwards the client's request-target unchanged). Throws a TypeError naming the problem.
 */
export function parseUpstreamUrl(url: string): Upstream {
  if (url.startsWith('unix:')) {
    const path = url.slice('unix:'.length);
    if (path === '') throw new TypeError(`upstream "${url}": unix: needs a socket path`);
    return { name: url, target: { kind: 'unix', path } };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `upstream "${url}" is not a URL (expected http://host:port, https://host or unix:/path)`,
    );
  }
  const tls = parsed.protocol === 'https:';
  if (!tls && parsed.protocol !== 'http:') {
    throw new TypeError(`upstream "${url}": scheme must be http, https or unix`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TypeError(`upstream "${url}": userinfo is not allowed`);
  }
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search !== '' || parsed.hash !== '') {
    throw new TypeError(`upstream "${url}": no path, query or fragment (requests keep their own target)`);
  }
  const bracketed = parsed.hostname.startsWith('[');
  const host = bracketed ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (host === '') throw new TypeError(`upstream "${url}": no host`);
  const port = parsed.port === '' ? (tls ? 443 : 80) : Number(parsed.port);
  const name = `${parsed.protocol}//${bracketed ? `[${host}]` : host}:${port}`;
  // RFC 6066 §3: SNI carries host names only, never literal addresses.
  const target: UpstreamTarget =
    tls && net.isIP(host) === 0
      ? { kind: 'tcp', host, port, tls, servername: host }
      : { kind: 'tcp', host, port, tls };
  return { name, target };
}

type State = {
  inFlight: number;
  failures: number;
  ejectedUntil: number;
  /** When it last went bad (failure or marked down): the fallback picks the oldest. */
  badSince: number;
  down: boolean;
};

const NO_EXCLUSIONS: ReadonlySet<Upstream> = new Set();

/** A set of upstreams with a balancing policy and passive/active health (see the module comment). */
export class UpstreamGroup {
  readonly upstreams: readonly Upstream[];
  readonly policy: BalancePolicy;
  private readonly states: Map<Upstream, State>;
  private readonly nameHashes: Map<Upstream, number>;
  private readonly ejectMs: number;
  private readonly maxEjectMs: number;
  private readonly now: () => number;
  /** Round-robin position; also breaks least-conn ties so equal upstreams take turns. */
  private cursor = 0;

  /** `upstreams` as URLs (see parseUpstreamUrl) or parsed; at least one, names unique. */
  constructor(upstreams: readonly (string | Upstream)[], options: UpstreamGroupOptions = {}) {
    if (upstreams.length === 0) throw new RangeError('an upstream group needs at least one upstream');
    const list = upstreams.map((u) => (typeof u === 'string' ? parseUpstreamUrl(u) : u));
    const names = new Set<string>();
    for (const u of list) {
      if (names.has(u.name)) throw new RangeError(`upstream ${u.name} is listed twice`);
      names.add(u.name);
    }
    this.upstreams = Object.freeze(list);
    this.policy = options.policy ?? 'round-robin';
    this.ejectMs = options.ejectMs ?? EJECT_MS;
    this.maxEjectMs = Math.max(options.maxEjectMs ?? MAX_EJECT_MS, this.ejectMs);
    this.now = options.now ?? Date.now;
    this.states = new Map(
      list.map((u) => [u, { inFlight: 0, failures: 0, ejectedUntil: 0, badSince: 0, down: false }]),
    );
    this.nameHashes = new Map(list.map((u) => [u, fnv1a(FNV_OFFSET, u.name)]));
  }

  /**
   * Chooses an upstream for a request from `clientAddress` (used by ip-hash), never one in
   * `exclude`. Returns undefined only when every upstream is excluded.
   */
  pick(clientAddress: string, exclude: ReadonlySet<Upstream> = NO_EXCLUSIONS): Upstream | undefined {
    const now = this.now();
    const chosen = this.pickUsable(clientAddress, exclude, now);
    if (chosen !== undefined) return chosen;
    // Nothing usable: the one that went bad longest ago is the likeliest to be back.
    let oldest: Upstream | undefined;
    let oldestSince = Number.POSITIVE_INFINITY;
    for (const u of this.upstreams) {
      if (exclude.has(u)) continue;
      const since = this.state(u).badSince;
      if (since < oldestSince) {
        oldest = u;
        oldestSince = since;
      }
    }
    return oldest;
  }

  /** Whether `u` is neither ejected nor marked down right now. */
  usable(u: Upstream): boolean {
    return this.isUsable(this.state(u), this.now());
  }

  /** Counts an exchange with `u` as started (least-conn). Pair every begin() with one end(). */
  begin(u: Upstream): void {
    this.state(u).inFlight++;
  }

  /** Counts an exchange with `u` as over. */
  end(u: Upstream): void {
    const s = this.state(u);
    if (s.inFlight > 0) s.inFlight--;
  }

  /** Passive health: an exchange with `u` failed (connect, reset, timeout): eject it for a while. */
  reportFailure(u: Upstream): void {
    const s = this.state(u);
    const now = this.now();
    // Already ejected: this is a request that was in flight when it broke, not new evidence.
    if (s.ejectedUntil > now) return;
    s.failures++;
    const ms = Math.min(this.ejectMs * 2 ** Math.min(s.failures - 1, 30), this.maxEjectMs);
    s.ejectedUntil = now + ms;
    s.badSince = now;
  }

  /** Passive health: an exchange with `u` got a response: clear its failures and any ejection. */
  reportSuccess(u: Upstream): void {
    const s = this.state(u);
    s.failures = 0;
    s.ejectedUntil = 0;
  }

  /** Active health: `u` failed its check; it is not picked until markUp() (unless all are bad). */
  markDown(u: Upstream): void {
    const s = this.state(u);
    if (s.down) return;
    s.down = true;
    s.badSince = this.now();
  }

  /** Active health: `u` passed its check. */
  markUp(u: Upstream): void {
    this.state(u).down = false;
  }

  /** A snapshot of every upstream's state, in group order. */
  status(): UpstreamStatus[] {
    const now = this.now();
    return this.upstreams.map((u) => {
      const s = this.state(u);
      return {
        name: u.name,
        inFlight: s.inFlight,
        failures: s.failures,
        ejected: s.ejectedUntil > now,
        down: s.down,
      };
    });
  }

  private pickUsable(client: string, exclude: ReadonlySet<Upstream>, now: number): Upstream | undefined {
    const list = this.upstreams;
    const n = list.length;
    switch (this.policy) {
      case 'round-robin': {
        for (let i = 0; i < n; i++) {
          const index = (this.cursor + i) % n;
          const u = list[index]!;
          if (exclude.has(u) || !this.isUsable(this.state(u), now)) continue;
          this.cursor = (index + 1) % n;
          return u;
        }
        return undefined;
      }
      case 'least-conn': {
        let best: Upstream | undefined;
        let bestIndex = 0;
        let least = Number.POSITIVE_INFINITY;
        for (let i = 0; i < n; i++) {
          const index = (this.cursor + i) % n;
          const u = list[index]!;
          const s = this.state(u);
          if (exclude.has(u) || !this.isUsable(s, now)) continue;
          if (s.inFlight < least) {
            best = u;
            bestIndex = index;
            least = s.inFlight;
          }
        }
        if (best !== undefined) this.cursor = (bestIndex + 1) % n;
        return best;
      }
      case 'ip-hash': {
        // IPv4-mapped IPv6 hashes as the IPv4 address, so dual-stack listeners agree.
        const key = clientAddress(client) ?? '';
        let best: Upstream | undefined;
        let bestScore = -1;
        for (const u of list) {
          if (exclude.has(u) || !this.isUsable(this.state(u), now)) continue;
          const score = fmix32(fnv1a(this.nameHashes.get(u)!, key));
          if (score > bestScore) {
            best = u;
            bestScore = score;
          }
        }
        return best;
      }
      default:
        return assertNever(this.policy);
    }
  }

  private isUsable(s: State, now: number): boolean {
    return !s.down && s.ejectedUntil <= now;
  }

  private state(u: Upstream): State {
    const s = this.states.get(u);
    if (s === undefined) throw new RangeError(`upstream ${u.name} is not in this group`);
    return s;
  }
}

const FNV_OFFSET = 0x811c9dc5;

/** 32-bit FNV-1a over the UTF-16 code units of `s`, continuing from `h`. */
function fnv1a(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: FNV alone spreads short, similar keys poorly. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function assertNever(x: never): never {
  throw new Error(`unexpected policy ${String(x)}`);
}
