/**
 * The `rate-limit` middleware: a token bucket per client address. Each client may send `burst`
 * requests at once, then `perSecond` a second; beyond that the request is answered
 * 429 Too Many Requests (RFC 6585 §4) with Retry-After (RFC 9110 §10.2.3) in whole seconds until
 * one token is back. It is thrown as an HttpError, so the engine (or the error-pages middleware)
 * renders it as every other error, and the connection stays open: a 429 is an answer, not a fault.
 *
 * Memory is bounded with no timer per client: buckets live in one Map kept in least-recently-used
 * order (a touched bucket moves to the end). Each request sweeps a few buckets off the front when
 * they have been idle long enough to be full again — such a bucket is no different from a new one,
 * so forgetting it changes nothing. Past `maxClients` the least recently used bucket is evicted.
 *
 * The client is the connection's peer address: behind a proxy every client shares the proxy's
 * bucket. IPv6 clients are counted per /64, the prefix one subscriber usually gets (RFC 6177), or
 * a single host could rotate through 2^64 addresses and never be limited; IPv4-mapped IPv6
 * addresses (`::ffff:192.0.2.1`) count as their IPv4 address.
 */
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { MiddlewareConfig } from '../config/model.js';
import { HttpError } from '../handler/http-error.js';
import type { Middleware } from './types.js';

export type RateLimitConfig = Extract<MiddlewareConfig, { readonly kind: 'rate-limit' }>;

/** Client buckets kept at most (about 100 bytes each): the bound on this middleware's memory. */
export const MAX_TRACKED_CLIENTS = 100_000;
/** Idle buckets looked at per request by the sweep (more than one, so the sweep outpaces growth). */
const SWEEP_PER_REQUEST = 2;

export type RateLimitOptions = {
  /** A monotonic clock in milliseconds (default performance.now); tests pass their own. */
  readonly now?: () => number;
  /** Buckets kept at most (default MAX_TRACKED_CLIENTS). */
  readonly maxClients?: number;
};

/** Builds the `rate-limit` middleware. Throws when perSecond is not > 0 or burst not ≥ 1. */
export function rateLimit(config: RateLimitConfig, options: RateLimitOptions = {}): Middleware {
  const buckets = new TokenBuckets(config.perSecond, config.burst, options);
  return (next) => (req, res) => {
    const waitSeconds = buckets.take(clientKey(req.remoteAddress));
    if (waitSeconds === 0) return next(req, res);
    throw new HttpError(429, `too many requests; try again in ${waitSeconds} s`, {
      headers: { 'Retry-After': String(waitSeconds) },
    });
  };
}

type Bucket = { tokens: number; atMs: number };

/** Token buckets by client key, bounded in number; see the module comment. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  /** Time an empty bucket takes to fill: a bucket idle this long equals a new one. */
  private readonly refillMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    options: RateLimitOptions = {},
  ) {
    if (!Number.isFinite(perSecond) || perSecond <= 0) {
      throw new Error(`rate-limit.perSecond must be above 0, not ${perSecond}`);
    }
    if (!Number.isFinite(burst) || burst < 1)
      throw new Error(`rate-limit.burst must be at least 1, not ${burst}`);
    this.maxClients = options.maxClients ?? MAX_TRACKED_CLIENTS;
    if (!Number.isSafeInteger(this.maxClients) || this.maxClients < 1) {
      throw new Error(`rate-limit: maxClients must be a positive whole number, not ${this.maxClients}`);
    }
    this.now = options.now ?? (() => performance.now());
    this.perMs = perSecond / 1000;
    this.refillMs = burst / this.perMs;
  }

  /** Buckets currently kept. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes one token from `key`'s bucket. Returns 0 when there was one (the request may go on),
   * else the whole seconds until there will be one (at least 1), taking nothing.
   */
  take(key: string): number {
    const now = this.now();
    const buckets = this.buckets;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= this.maxClients) {
        const oldest = buckets.keys().next();
        if (oldest.done !== true) buckets.delete(oldest.value);
      }
      bucket = { tokens: this.burst, atMs: now };
    } else {
      buckets.delete(key);
      // A clock that steps back adds nothing rather than taking tokens away.
      const elapsed = Math.max(0, now - bucket.atMs);
      bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.perMs);
      bucket.atMs = now;
    }
    this.sweep(now);
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  /** Forgets up to SWEEP_PER_REQUEST least recently used buckets that are full again. */
  private sweep(now: number): void {
    let n = 0;
    for (const [key, bucket] of this.buckets) {
      if (n++ === SWEEP_PER_REQUEST || now - bucket.atMs < this.refillMs) return;
      this.buckets.delete(key);
    }
  }
}

/**
 * The bucket key for a peer address: an IPv4 address as is (IPv4-mapped IPv6 too), an IPv6
 * address as its /64 prefix (`2001:db8:1:2::/64`), anything else (a unix socket's '') as is.
 */
export function clientKey(address: string): string {
  if (!address.includes(':')) return address;
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(bare)) return address;
  const lower = bare.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  const gap = lower.indexOf('::');
  const head = gap === -1 ? lower.split(':') : groups(lower.slice(0, gap));
  const tail = gap === -1 ? [] : groups(lower.slice(gap + 2));
  // A trailing dotted IPv4 part stands for two groups; it never reaches the first four.
  const width = (parts: string[]): number => parts.reduce((n, p) => n + (p.includes('.') ? 2 : 1), 0);
  const all = [...head, ...new Array<string>(8 - width(head) - width(tail)).fill('0'), ...tail];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

function groups(s: string): string[] {
  return s === '' ? [] : s.split(':');
}
