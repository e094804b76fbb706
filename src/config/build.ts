/**
 * Config → App: the handler chains for every site and route, built once per config (never per
 * request), plus what they hold open (upstream pools, health checks, cache stores, the access
 * log), released by close().
 *
 * The life of a request through it: access log → metrics → status page (/.berth/…) → the site
 * chosen by Host (421 when no site and no default) → HSTS on HTTPS when the site asks → the site's
 * error pages → the first route whose path rule matches (404 when none) → the route's middleware,
 * outermost first → its cache, if any → its handler (static, proxy, redirect or respond).
 *
 * A few things depend on whether the listener is TLS (X-Forwarded-Proto, the cache key's scheme,
 * `{scheme}` in redirects, HSTS), so chains are composed per scheme, sharing every resource.
 */

import { hostname } from 'node:os';
import { DiskStore } from '../cache/disk-store.js';
import { createCache } from '../cache/handler.js';
import { MemoryStore } from '../cache/memory-store.js';
import type { CacheStore } from '../cache/store.js';
import type { Handler } from '../handler/types.js';
import { AccessLog } from '../log/access-log.js';
import { basicAuth } from '../middleware/basic-auth.js';
import { compress } from '../middleware/compress.js';
import { cors } from '../middleware/cors.js';
import { errorPages } from '../middleware/error-pages.js';
import { headers } from '../middleware/headers.js';
import { redirectToHttps } from '../middleware/https.js';
import { rateLimit } from '../middleware/rate-limit.js';
import { redirect } from '../middleware/redirect.js';
import { respond } from '../middleware/respond.js';
import type { Middleware } from '../middleware/types.js';
import { UpstreamGroup } from '../proxy/balancer.js';
import { createForwardProxy } from '../proxy/forward.js';
import { startHealthChecks } from '../proxy/health.js';
import { createReverseProxy } from '../proxy/reverse.js';
import { UpstreamPool } from '../proxy/upstream-pool.js';
import { viaPseudonym } from '../proxy/via.js';
import type { App, AppContext } from '../runtime/runtime.js';
import { createStaticHandler } from '../static/serve.js';
import { withStatus } from '../status/handler.js';
import { Metrics } from '../status/metrics.js';
import type {
  Config,
  ListenerConfig,
  MiddlewareConfig,
  ProxyHandlerConfig,
  RouteConfig,
  SiteConfig,
} from './model.js';
import { globMatcher, HostTable, type PathMatcher, prefixMatcher, requestPath } from './routing.js';

const HSTS_VALUE = 'max-age=31536000';

type Scheme = 'http' | 'https';
type Closer = () => void | Promise<void>;

/** A route with its resources made; `handler(scheme)` composes the chain. */
type BuiltRoute = { readonly matches: PathMatcher; readonly handler: (scheme: Scheme) => Handler };

/** Builds everything `config` describes; on failure releases what it made and throws. */
export async function buildApp(config: Config, context?: AppContext): Promise<App> {
  const closers: Closer[] = [];
  const groups: UpstreamGroup[] = [];
  try {
    const log = await AccessLog.open({ format: config.log.format, file: config.log.file });
    closers.push(() => log.close());
    const metrics = new Metrics({
      ...(context === undefined ? {} : { openConnections: context.connections }),
      upstreams: () =>
        groups.flatMap((g) =>
          g
            .status()
            .map((s) => ({ name: s.name, healthy: !s.ejected && !s.down, activeRequests: s.inFlight })),
        ),
    });
    closers.push(() => metrics.close());
    const sites: BuiltSite[] = [];
    for (const site of config.sites) sites.push(await buildSite(site, closers, groups));
    const chains = new Map<Scheme, Handler>();
    const chainFor = (scheme: Scheme): Handler => {
      let chain = chains.get(scheme);
      if (chain === undefined) {
        const table = new HostTable(sites.map((s) => ({ hosts: s.hosts, value: s.handler(scheme) })));
        const byHost: Handler = (req, res) => {
          const site = table.lookup(req.headers.host as string | undefined);
          if (site !== undefined) return site(req, res);
          plain(res, 421, 'no site here answers for this host name');
        };
        const status = withStatus(byHost, {
          metrics,
          enabled: config.status.enabled,
          allow: config.status.allow,
        });
        chain = log.wrap(metrics.wrap(status));
        chains.set(scheme, chain);
      }
      return chain;
    };
    return {
      handlerFor: (listener: ListenerConfig) =>
        listener.httpsRedirectPort === undefined
          ? chainFor(listener.tls === undefined ? 'http' : 'https')
          : log.wrap(redirectToHttps(listener.httpsRedirectPort)),
      reopenLog: () => {
        log.reopen().catch(() => {});
      },
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

type BuiltSite = { readonly hosts: readonly string[]; readonly handler: (scheme: Scheme) => Handler };

async function buildSite(site: SiteConfig, closers: Closer[], groups: UpstreamGroup[]): Promise<BuiltSite> {
  const routes: BuiltRoute[] = [];
  for (const route of site.routes) routes.push(await buildRoute(route, closers, groups));
  const pages = Object.keys(site.errorPages).length > 0 ? await errorPages(site.errorPages) : undefined;
  return {
    hosts: site.hosts,
    handler: (scheme: Scheme): Handler => {
      const chains = routes.map((r) => ({ matches: r.matches, handler: r.handler(scheme) }));
      let handler: Handler = (req, res) => {
        const path = requestPath(req.url);
        for (const route of chains) if (route.matches(path)) return route.handler(req, res);
        plain(res, 404, 'not found');
      };
      if (pages !== undefined) handler = pages(handler);
      if (site.hsts && scheme === 'https') {
        const inner = handler;
        handler = (req, res) => {
          res.setHeader('Strict-Transport-Security', HSTS_VALUE);
          return inner(req, res);
        };
      }
      return handler;
    },
  };
}

async function buildRoute(
  route: RouteConfig,
  closers: Closer[],
  groups: UpstreamGroup[],
): Promise<BuiltRoute> {
  const matches =
    route.match.kind === 'prefix' ? prefixMatcher(route.match.prefix) : globMatcher(route.match.glob);
  const middleware: Middleware[] = [];
  for (const m of route.middleware) middleware.push(await buildMiddleware(m));
  const target = route.handler;
  // Upload without credentials is refused before this (the loader's cross-checks, the command's
  // --upload rule), unless the operator said it is meant (unsafeOpenUploads, --unsafe-open-uploads).
  let store: CacheStore | undefined;
  if (route.cache !== undefined) {
    const { dir, sizeBytes } = route.cache;
    store =
      dir === undefined
        ? new MemoryStore({ maxBytes: sizeBytes })
        : await DiskStore.open({ dir, maxBytes: sizeBytes });
    const opened = store;
    closers.push(() => opened.close());
  }
  // A gateway cache obeys CDN-Cache-Control and Surrogate-Control; a forward proxy's does not.
  const surrogate = target.kind === 'proxy' ? 'berth' : undefined;
  const cached = (next: Handler, scheme: Scheme): Handler =>
    store === undefined
      ? next
      : createCache(next, {
          store,
          secure: scheme === 'https',
          surrogate,
          onError: (err) => logLine(`cache: ${(err as Error).message}`),
        });
  let inner: (scheme: Scheme) => Handler;
  switch (target.kind) {
    case 'static': {
      const { maxAgeSeconds, fallback, kind: _, ...options } = target;
      const fallbackFor = fallback === undefined ? undefined : proxyFor(fallback, closers, groups);
      const files = new Map<Scheme, Handler>();
      // Built for https too only when a fallback needs the scheme (X-Forwarded-Proto).
      const make = async (scheme: Scheme): Promise<Handler> =>
        createStaticHandler({
          ...options,
          ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
          ...(fallbackFor === undefined ? {} : { fallback: fallbackFor(scheme) }),
        });
      files.set('http', await make('http'));
      files.set('https', fallbackFor === undefined ? files.get('http')! : await make('https'));
      inner = (scheme) => files.get(scheme)!;
      break;
    }
    case 'proxy':
      inner = proxyFor(target, closers, groups);
      break;
    case 'forward-proxy': {
      const proxy = createForwardProxy({
        pool: new UpstreamPool(),
        allow: target.allow,
        connectPorts: target.connectPorts,
        auth: target.auth,
        pseudonym: target.pseudonym ?? viaPseudonym(hostname(), process.pid),
        log: logLine,
        // Its cache goes inside, after its access checks: a refused client never gets a stored response.
        around: (next) => cached(next, 'http'),
      });
      inner = () => proxy;
      break;
    }
    case 'redirect':
      inner = (scheme) => redirect(target, scheme);
      break;
    case 'respond': {
      const fixed = respond(target);
      inner = () => fixed;
      break;
    }
  }
  return {
    matches,
    handler: (scheme) => {
      let handler = inner(scheme);
      if (target.kind !== 'forward-proxy') handler = cached(handler, scheme);
      for (let i = middleware.length - 1; i >= 0; i--) handler = middleware[i]!(handler);
      return handler;
    },
  };
}

/** A reverse proxy's resources (pool, group, health checks) made once, its handler per scheme. */
function proxyFor(
  target: ProxyHandlerConfig,
  closers: Closer[],
  groups: UpstreamGroup[],
): (scheme: Scheme) => Handler {
  const pool = new UpstreamPool();
  const group = new UpstreamGroup(target.to, { policy: target.lb });
  groups.push(group);
  closers.push(() => pool.close());
  if (target.health !== undefined) {
    const { path, intervalMs, status } = target.health;
    const timeoutMs = Math.min(intervalMs, 5000);
    closers.push(
      startHealthChecks(group, { path, intervalMs, timeoutMs, expectStatus: status, log: logLine }, pool),
    );
  }
  const pseudonym = target.pseudonym ?? viaPseudonym(hostname(), process.pid);
  const proxies = new Map<Scheme, Handler>();
  return (scheme) => {
    let proxy = proxies.get(scheme);
    if (proxy === undefined) {
      proxy = createReverseProxy({
        group,
        pool,
        pseudonym,
        trustProxy: target.trustProxy,
        secure: scheme === 'https',
        timeoutMs: target.timeoutMs,
        log: logLine,
      });
      proxies.set(scheme, proxy);
    }
    return proxy;
  };
}

/** One line to stderr, as the command prints everything else. */
function logLine(line: string): void {
  process.stderr.write(`berth: ${line}\n`);
}

function buildMiddleware(m: MiddlewareConfig): Middleware | Promise<Middleware> {
  switch (m.kind) {
    case 'headers':
      return headers(m);
    case 'basic-auth':
      return basicAuth(m);
    case 'cors':
      return cors(m);
    case 'compress':
      return compress(m);
    case 'rate-limit':
      return rateLimit(m);
  }
}

function plain(res: Parameters<Handler>[1], status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`${text}\n`);
}

async function closeAll(closers: readonly Closer[]): Promise<void> {
  for (const close of [...closers].reverse()) {
    try {
      await close();
    } catch {
      // Closing is best effort: one resource failing to close must not keep the others open.
    }
  }
}
