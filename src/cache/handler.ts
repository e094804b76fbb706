/**
 * The RFC 9111 shared cache as a handler that wraps any other: `createCache(next, options)`.
 *
 * The life of a request:
 * 1. CONNECT and upgrades go straight to `next`; PURGE is answered here (loopback only).
 * 2. Other methods than GET and HEAD go to `next`; a non-error answer to an unsafe one
 *    invalidates the target URI and same-origin Location / Content-Location (§4.4).
 * 3. GET and HEAD look up the primary key (method + target URI, §4.1) and pick the newest stored
 *    variant whose Vary selection matches. Then policy.ts's reuseOf() decides: serve it (fresh, or
 *    stale as the client allows), serve it stale and revalidate in the background (RFC 5861), or
 *    validate it first with a conditional request (§4.3.1).
 * 4. A miss goes to `next`; concurrent misses for one key wait for the first (collapsing) and
 *    then look again. What comes back is streamed to the client and, if policy.ts's storeVerdict()
 *    allows, into the store at the same time; a body that ends short is discarded, never stored.
 *
 * Every response carries Cache-Status (RFC 9211).
 */
import { appendField } from '../handler/append-field.js';
import type { Handler, Request, Response } from '../handler/types.js';
import { allowedClient, LOOPBACK_ONLY } from '../proxy/access.js';
import { type CacheOutcome, cacheStatusMember, cacheStatusValue } from './cache-status.js';
import { CacheRequest, DiscardResponse } from './capture.js';
import { type RequestDirectives, requestDirectives } from './directives.js';
import { fieldsToForward, fieldsToStore, updatedFields } from './fields.js';
import { originOf, primaryKey, targetUri, varyMatches, varyNames, varySelection } from './key.js';
import { OriginFetch, type OriginHead } from './origin-fetch.js';
import { directivesOf, entryTimes, fieldValue, reuseOf, storeVerdict } from './policy.js';
import { serveStored } from './serve-stored.js';
import type { CacheStore, StoredEntry, StoredHead, StoreWriter } from './store.js';
import { Tee } from './tee.js';

export type CacheOptions = {
  readonly store: CacheStore;
  /** This cache's name in Cache-Status (RFC 9211 §2); default `berth`. */
  readonly name?: string;
  /** The scheme of origin-form request targets: true when clients reach this cache over TLS. */
  readonly secure?: boolean;
  /** Who may PURGE; default loopback clients only. */
  readonly purgeAllowed?: (remoteAddress: string) => boolean;
  /** Store failures and background revalidation errors (the response is unaffected). */
  readonly onError?: (error: unknown) => void;
  /** The clock, ms since the epoch (tests move it). */
  readonly now?: () => number;
  /**
   * For a gateway (reverse proxy) cache: its device token for Surrogate-Control (announced
   * upstream in Surrogate-Capability), which also turns on CDN-Cache-Control (RFC 9213). Leave
   * it out for a forward proxy's cache: those fields are not meant for it.
   */
  readonly surrogate?: string | undefined;
};

/** The cache handler, with close() for the store. */
export type CacheHandler = Handler & { close(): Promise<void> };

/** Request fields the cache replaces with its own when it validates a stored response. */
const CONDITIONAL_FIELDS: ReadonlySet<string> = new Set([
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
]);

/** Methods known to be safe (RFC 9110 §9.2.1); a response to any other invalidates (§4.4). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function createCache(next: Handler, options: CacheOptions): CacheHandler {
  const cache = new Cache(next, options);
  const handler = ((req: Request, res: Response) => cache.handle(req, res)) as CacheHandler;
  handler.close = () => options.store.close();
  return handler;
}

/** A request with the fields the cache decides on, read once. */
type Lookup = {
  readonly req: Request;
  readonly res: Response;
  readonly key: string;
  readonly directives: RequestDirectives;
  /** No Range and no conditional: what a collapsed miss can be answered with. */
  readonly plain: boolean;
};

class Cache {
  private readonly next: Handler;
  private readonly store: CacheStore;
  private readonly name: string;
  private readonly secure: boolean;
  private readonly purgeAllowed: (remoteAddress: string) => boolean;
  private readonly onError: (error: unknown) => void;
  private readonly now: () => number;
  private readonly surrogate: string | undefined;
  /** `Surrogate-Capability` value this cache adds to requests it forwards (Edge Architecture §4). */
  private readonly capability: string | undefined;
  /** Keys with a plain miss in flight; resolved once its response is stored or known unstorable. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Keys with a background revalidation in flight (one per key, RFC 5861 §3). */
  private readonly revalidating = new Set<string>();

  constructor(next: Handler, options: CacheOptions) {
    this.next = next;
    this.store = options.store;
    this.name = options.name ?? 'berth';
    this.secure = options.secure ?? false;
    this.purgeAllowed = options.purgeAllowed ?? ((address) => allowedClient(address, LOOPBACK_ONLY));
    this.onError = options.onError ?? (() => {});
    this.now = options.now ?? Date.now;
    this.surrogate = options.surrogate;
    this.capability = options.surrogate === undefined ? undefined : `${options.surrogate}="Surrogate/1.0"`;
  }

  async handle(req: Request, res: Response): Promise<void> {
    const method = req.method;
    if (method === 'CONNECT' || req.headers.upgrade !== undefined) return this.next(req, res);
    const uri = targetUri(req.url, header(req, 'host'), this.secure);
    if (method === 'PURGE') return this.purge(req, res, uri);
    if (method !== 'GET' && method !== 'HEAD') return this.forwardOther(req, res, uri);
    const directives = requestDirectives(header(req, 'cache-control'), header(req, 'pragma'));
    const plain =
      req.headers.range === undefined &&
      req.headers['if-none-match'] === undefined &&
      req.headers['if-modified-since'] === undefined;
    const lookup: Lookup = { req, res, key: primaryKey(uri), directives, plain };
    // §3.5: a response to a request with Authorization is reusable only as the response says;
    // such requests are never answered from storage here, only stored when allowed.
    if (req.headers.authorization !== undefined) return this.miss(lookup, 'bypass', false);
    // §5.2.1.5: no-store asks that nothing about this exchange be stored; it is not answered from
    // storage either, so the client gets what the origin says now.
    if (directives.noStore) return this.miss(lookup, 'bypass', false);
    return this.lookup(lookup, true);
  }

  private async lookup(lookup: Lookup, mayCollapse: boolean): Promise<void> {
    const entries = await this.store.lookup(lookup.key);
    const entry = this.select(entries, lookup.req);
    if (entry === undefined) {
      const pending = this.inflight.get(lookup.key);
      if (pending !== undefined && mayCollapse && lookup.plain) {
        await pending;
        return this.lookup(lookup, false);
      }
      return this.miss(lookup, entries.length > 0 ? 'vary-miss' : 'uri-miss', !mayCollapse);
    }
    const reuse = reuseOf(entry, lookup.directives, this.now(), this.surrogate);
    switch (reuse.kind) {
      case 'fresh':
        return this.serve(lookup, entry, reuse.age, {
          kind: 'hit',
          ttl: reuse.ttl,
          collapsed: !mayCollapse,
          ...(reuse.stale ? { detail: 'stale' } : {}),
        });
      case 'stale-while-revalidate':
        this.revalidateInBackground(lookup, entry);
        return this.serve(lookup, entry, reuse.age, {
          kind: 'hit',
          ttl: reuse.ttl,
          detail: 'stale-while-revalidate',
        });
      case 'validate':
        if (lookup.directives.onlyIfCached) return this.gatewayTimeout(lookup.res);
        return this.validate(
          lookup,
          entry,
          reuse.staleIfError,
          reuse.age,
          reuse.reason === 'stale' ? 'stale' : 'request',
        );
    }
  }

  /** The newest stored variant whose Vary selection matches the request (§4.1). */
  private select(entries: readonly StoredEntry[], req: Request): StoredEntry | undefined {
    for (const entry of entries) if (varyMatches(entry.vary, req.headers)) return entry;
    return undefined;
  }

  private async serve(lookup: Lookup, entry: StoredEntry, age: number, outcome: CacheOutcome): Promise<void> {
    const served = await serveStored(lookup.req, lookup.res, entry, {
      age,
      member: cacheStatusMember(this.name, outcome),
      surrogate: this.surrogate !== undefined,
    });
    if (!served) {
      await this.store.deleteVariant(lookup.key, entry.id).catch(this.onError);
      return this.miss(lookup, 'miss', false);
    }
  }

  /** Nothing stored can answer: ask `next`, store what may be stored, stream it to the client. */
  private async miss(
    lookup: Lookup,
    reason: 'uri-miss' | 'vary-miss' | 'miss' | 'bypass',
    collapsed: boolean,
  ): Promise<void> {
    if (lookup.directives.onlyIfCached) return this.gatewayTimeout(lookup.res);
    const { req, key } = lookup;
    // Only a plain GET leads a collapse: its response is what waiting requests can reuse.
    let release: (() => void) | undefined;
    if (lookup.plain && req.method === 'GET' && !this.inflight.has(key)) {
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      this.inflight.set(key, done);
    }
    try {
      const fetch = this.fetch(req, req.rawHeaders, req.method, lookup.res, true);
      const head = await fetch.head;
      await this.forwardAndStore(
        lookup,
        fetch,
        head,
        { kind: 'forward', reason, collapsed },
        undefined,
        release,
      );
    } finally {
      if (release !== undefined) {
        this.inflight.delete(key);
        release();
      }
    }
  }

  /**
   * Validates `entry` with a conditional request (§4.3.1) and answers from what comes back:
   * 304 → the stored response with updated fields (§4.3.4); 5xx or a failure with stale-if-error
   * allowed → the stale response (RFC 5861 §4); anything else → that response, stored if allowed.
   */
  private async validate(
    lookup: Lookup,
    entry: StoredEntry,
    staleIfError: boolean,
    age: number,
    reason: 'stale' | 'request',
  ): Promise<void> {
    const { req, res } = lookup;
    const fetch = this.fetch(req, conditionalHeaders(req.rawHeaders, entry), 'GET', res, false);
    let head: OriginHead;
    try {
      head = await fetch.head;
    } catch (error) {
      if (!staleIfError) throw error;
      this.onError(error);
      return this.serve(lookup, entry, age, { kind: 'hit', ttl: 0, stale: true, detail: 'stale-if-error' });
    }
    if (head.status === 304) {
      fetch.cancel();
      const updated = await this.update(lookup.key, entry, head);
      if (updated === undefined) return this.miss(lookup, 'miss', false);
      const reuse = reuseOf(updated, lookup.directives, this.now(), this.surrogate);
      return this.serve(lookup, updated, reuse.age, { kind: 'forward', reason, status: 304, ttl: reuse.ttl });
    }
    if (head.status >= 500 && staleIfError) {
      fetch.cancel();
      return this.serve(lookup, entry, age, { kind: 'hit', ttl: 0, stale: true, detail: 'stale-if-error' });
    }
    return this.forwardAndStore(lookup, fetch, head, { kind: 'forward', reason }, entry.id, undefined);
  }

  /** Applies a 304 to the stored entry (§4.3.4); undefined when it does not match or is gone. */
  private async update(key: string, entry: StoredEntry, head: OriginHead): Promise<StoredEntry | undefined> {
    const fresh = fieldsToStore(head.fields, directivesOf(head.fields, this.surrogate), head.responseTime);
    const etag = fieldValue(fresh, 'etag');
    const storedEtag = fieldValue(entry.headers, 'etag');
    // §4.3.4: a 304 with a strong ETag updates the stored responses with that same ETag.
    if (etag !== undefined && storedEtag !== undefined && etag !== storedEtag) return undefined;
    const headers = updatedFields(entry.headers, fresh);
    const directives = directivesOf(headers, this.surrogate);
    const times = entryTimes(entry.status, headers, directives, head.requestTime, head.responseTime);
    const next: StoredHead = {
      status: entry.status,
      statusMessage: entry.statusMessage,
      headers,
      vary: entry.vary,
      requestTime: head.requestTime,
      responseTime: head.responseTime,
      ...times,
    };
    const ok = await this.store.updateHead(key, entry.id, next).catch((error: unknown) => {
      this.onError(error);
      return false;
    });
    if (!ok) return undefined;
    return { ...next, id: entry.id, body: entry.body };
  }

  /**
   * Sends the response `next` is giving to the client and, when storeVerdict() allows, into the
   * store. `release` is called as soon as waiting collapsed requests can look again.
   */
  private async forwardAndStore(
    lookup: Lookup,
    fetch: OriginFetch,
    head: OriginHead,
    outcome: CacheOutcome & { kind: 'forward' },
    replaces: string | undefined,
    release: (() => void) | undefined,
  ): Promise<void> {
    const { req, res } = lookup;
    const directives = directivesOf(head.fields, this.surrogate);
    // Judged on the fields as they would be stored: an invalid Date replaced, for one.
    const fields = fieldsToStore(head.fields, directives, head.responseTime);
    const verdict = storeVerdict(
      {
        method: fetch.method,
        hasAuthorization: req.headers.authorization !== undefined,
        directives: lookup.directives,
      },
      head.status,
      fields,
      directives,
    );
    // A GET sent to validate a HEAD request: its body may be stored but is not the client's.
    const headOnly = req.method === 'HEAD' && fetch.method === 'GET';
    let writer: StoreWriter | undefined;
    if (verdict.kind === 'store') {
      const stored: StoredHead = {
        status: head.status,
        statusMessage: head.statusMessage,
        headers: fields,
        vary: varySelection(varyNames(fields), req.headers),
        requestTime: head.requestTime,
        responseTime: head.responseTime,
        ...entryTimes(head.status, fields, directives, head.requestTime, head.responseTime),
      };
      writer = this.store.put(lookup.key, stored, replaces);
    } else {
      release?.();
    }
    const member = cacheStatusMember(this.name, { ...outcome, stored: writer !== undefined });
    res.statusCode = head.status;
    res.statusMessage = head.statusMessage;
    for (const [name, value] of fieldsToForward(head.fields, head.responseTime)) {
      if (name === 'cache-status' || (name === 'surrogate-control' && this.surrogate !== undefined)) continue;
      appendField(res, name, value);
    }
    res.setHeader('cache-status', cacheStatusValue(fieldValue(head.fields, 'cache-status'), member));
    if (headOnly) {
      res.end();
      if (writer === undefined) return fetch.cancel();
    }
    await new Promise<void>((resolve, reject) => {
      fetch.pipe(new Tee(fetch, headOnly ? undefined : res, writer, this.onError, resolve, reject, release));
    });
  }

  /** A request for `next`: the client's own (a miss) or a conditional made up for validation. */
  private fetch(
    req: Request,
    rawHeaders: readonly string[],
    method: string,
    res: Response,
    passBody: boolean,
  ): OriginFetch {
    const request = new CacheRequest(
      {
        method,
        url: req.url,
        httpVersion: req.httpVersion,
        rawHeaders:
          this.capability === undefined
            ? rawHeaders
            : [...rawHeaders, 'Surrogate-Capability', this.capability],
        remoteAddress: req.remoteAddress,
        remotePort: req.remotePort,
        body: passBody ? req : undefined,
      },
      passBody ? req : undefined,
    );
    return new OriginFetch(this.next, request, this.now, (status, headers) => {
      if (!res.headersSent) res.writeInformational(status, headers);
    });
  }

  /** A method the cache does not answer: forwarded, and unsafe ones invalidate (§4.4). */
  private async forwardOther(req: Request, res: Response, uri: string): Promise<void> {
    const fetch = this.fetch(req, req.rawHeaders, req.method, res, true);
    const head = await fetch.head;
    if (!SAFE_METHODS.has(req.method) && head.status >= 200 && head.status < 400) {
      await this.invalidate(uri, head).catch(this.onError);
    }
    const lookup: Lookup = {
      req,
      res,
      key: primaryKey(uri),
      directives: requestDirectives(undefined, undefined),
      plain: false,
    };
    await this.forwardAndStore(
      lookup,
      fetch,
      head,
      { kind: 'forward', reason: 'method' },
      undefined,
      undefined,
    );
  }

  /**
   * §4.4: "A cache MUST invalidate the target URI ... when it receives a non-error status code in
   * response to an unsafe request method", and the URIs in Location and Content-Location "if the
   * host part of that URI is the same as" the target's.
   */
  private async invalidate(uri: string, head: OriginHead): Promise<void> {
    const keys = [primaryKey(uri)];
    for (const name of ['location', 'content-location']) {
      const value = fieldValue(head.fields, name);
      if (value === undefined) continue;
      let resolved: string;
      try {
        resolved = new URL(value, uri).href;
      } catch {
        continue;
      }
      if (originOf(resolved) === originOf(uri)) keys.push(primaryKey(resolved));
    }
    for (const key of keys) await this.store.delete(key);
  }

  /** RFC 5861 §3: one background revalidation per key while stale responses are served. */
  private revalidateInBackground(lookup: Lookup, entry: StoredEntry): void {
    if (this.revalidating.has(lookup.key)) return;
    this.revalidating.add(lookup.key);
    const sink = new DiscardResponse();
    const background: Lookup = { ...lookup, res: sink, directives: requestDirectives(undefined, undefined) };
    this.validate(background, entry, false, 0, 'stale')
      .catch(this.onError)
      .finally(() => this.revalidating.delete(lookup.key));
  }

  private async purge(req: Request, res: Response, uri: string): Promise<void> {
    if (!this.purgeAllowed(req.remoteAddress)) {
      res.statusCode = 403;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('PURGE is allowed only from loopback clients\n');
      return;
    }
    const removed = await this.store.delete(primaryKey(uri));
    res.statusCode = removed > 0 ? 200 : 404;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(removed > 0 ? `purged ${removed} stored response(s)\n` : 'nothing stored for that URL\n');
  }

  /** §5.2.1.7: only-if-cached and nothing usable stored → 504. */
  private gatewayTimeout(res: Response): void {
    res.statusCode = 504;
    res.setHeader(
      'cache-status',
      cacheStatusMember(this.name, { kind: 'forward', reason: 'miss', detail: 'only-if-cached' }),
    );
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('not in cache (only-if-cached)\n');
  }
}

/** The client's fields with its conditionals replaced by the stored response's validators (§4.3.1). */
function conditionalHeaders(raw: readonly string[], entry: StoredEntry): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (CONDITIONAL_FIELDS.has(raw[i]!.toLowerCase())) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  const etag = fieldValue(entry.headers, 'etag');
  if (etag !== undefined) out.push('If-None-Match', etag);
  const lastModified = fieldValue(entry.headers, 'last-modified');
  if (lastModified !== undefined) out.push('If-Modified-Since', lastModified);
  return out;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
