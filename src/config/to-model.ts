/**
 * A validated file (ConfigFile) → the model's Config: paths made absolute against the config
 * file's folder, listener and TLS forms turned into the model's unions, seconds and sizes in the
 * model's units, and the one default that needs the whole file: a listener on 127.0.0.1:8080 when
 * it names none. (Short forms such as
 * `static: ./public` were expanded by the schema, with its defaults.) Cannot fail: everything that
 * can be wrong was refused by the schema, with a place in the file.
 */
import { resolve } from 'node:path';
import type {
  CertificateFiles,
  Config,
  HandlerConfig,
  ListenerConfig,
  ListenerTls,
  LogConfig,
  MiddlewareConfig,
  RouteConfig,
  SiteConfig,
  StatusConfig,
} from './model.js';
import type { ConfigFile } from './schema.js';
import { DEFAULT_LISTEN } from './schema-values.js';

type FileListener = NonNullable<ConfigFile['listeners']>[number];
type FileListenerObject = Extract<FileListener, object>;
type FileSite = ConfigFile['sites'][number];
type FileRoute = FileSite['routes'][number];
type FileMiddleware = FileRoute['middleware'][number];
type FileCertificate = FileSite['certificates'][number];

/**
 * Builds the Config a validated file describes; relative paths resolve against `baseDir` (the
 * config file's folder). The result is plain data, not yet frozen (the loader freezes it).
 */
export function toModel(file: ConfigFile, baseDir: string): Config {
  const path = (p: string): string => resolve(baseDir, p);
  return {
    listeners: (file.listeners ?? [DEFAULT_LISTEN.port]).map((l) => listener(l, path)),
    sites: file.sites.map((s) => site(s, path)),
    log: log(file.log, path),
    status: status(file.status),
    workers: file.workers,
    pidFile: optionalPath(file.pidFile, path),
    stopTimeoutMs: file.stopTimeout,
    connectionsPerClient: file.connectionsPerClient,
    user: file.user,
  };
}

type Resolve = (p: string) => string;
type BasicAuthUsers = Extract<MiddlewareConfig, { kind: 'basic-auth' }>['users'];

function listener(input: FileListener, path: Resolve): ListenerConfig {
  const l: FileListenerObject = typeof input === 'number' ? { port: input, h2c: false } : input;
  const tls = listenerTls(l.tls, path);
  if (l.port !== undefined) {
    const address = l.address ?? DEFAULT_LISTEN.address;
    const host = address.includes(':') ? `[${address}]` : address;
    return {
      id: `${host}:${l.port}`,
      bind: { kind: 'tcp', address, port: l.port },
      tls,
      h2c: l.h2c,
      httpsRedirectPort: undefined,
    };
  }
  if (l.unix !== undefined) {
    const socket = path(l.unix);
    return {
      id: socket,
      bind: { kind: 'unix', path: socket },
      tls,
      h2c: l.h2c,
      httpsRedirectPort: undefined,
    };
  }
  // The schema lets exactly one of port, unix, systemd through.
  const index = l.systemd ?? 0;
  return {
    id: `systemd:${index}`,
    bind: { kind: 'systemd', index },
    tls,
    h2c: l.h2c,
    httpsRedirectPort: undefined,
  };
}

/**
 * The runtime adds every site's names to a 'local' listener and every site's certificates to a
 * 'files' one (runtime/listener-options.ts), so here are only the names and files written on the
 * listener itself: `auto` asks for none beyond the sites', `true` for no files beyond theirs.
 */
function listenerTls(tls: FileListenerObject['tls'], path: Resolve): ListenerTls | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === 'auto') return { kind: 'local', hosts: [] };
  if (tls === true) return { kind: 'files', certificates: [] };
  if (Array.isArray(tls)) return { kind: 'files', certificates: tls.map((c) => certificate(c, path)) };
  if (tls.hosts !== undefined) return { kind: 'local', hosts: tls.hosts };
  const cert = tls.cert ?? '';
  const key = tls.key ?? '';
  return { kind: 'files', certificates: [certificate({ cert, key, keyPassFile: tls.keyPassFile }, path)] };
}

function certificate(c: FileCertificate, path: Resolve): CertificateFiles {
  return {
    cert: path(c.cert),
    key: path(c.key),
    keyPassFile: optionalPath(c.keyPassFile, path),
  };
}

function site(s: FileSite, path: Resolve): SiteConfig {
  const errorPages: Record<number, string> = {};
  for (const [status, file] of Object.entries(s.errorPages)) errorPages[Number(status)] = path(file);
  return {
    hosts: s.hosts ?? [],
    certificates: s.certificates.map((c) => certificate(c, path)),
    routes: s.routes.map((r) => route(r, path)),
    errorPages,
    hsts: s.hsts,
  };
}

function route(r: FileRoute, path: Resolve): RouteConfig {
  return {
    match: r.match,
    middleware: r.middleware.map((m) => middleware(m, path)),
    cache:
      r.cache === undefined ? undefined : { sizeBytes: r.cache.size, dir: optionalPath(r.cache.dir, path) },
    handler: handler(r, path),
  };
}

function middleware(m: FileMiddleware, path: Resolve): MiddlewareConfig {
  if (m.headers !== undefined)
    return { kind: 'headers', set: m.headers.set, add: m.headers.add, remove: m.headers.remove };
  if (m.basicAuth !== undefined) {
    const { realm, users, htpasswd, methods } = m.basicAuth;
    const from: BasicAuthUsers =
      htpasswd === undefined
        ? { kind: 'plain', pairs: users ?? [] }
        : { kind: 'htpasswd', file: path(htpasswd) };
    return { kind: 'basic-auth', realm, users: from, methods };
  }
  if (m.cors !== undefined) {
    const { origins, methods, headers, credentials, maxAge } = m.cors;
    return { kind: 'cors', origins, methods, headers, credentials, maxAgeSeconds: Math.floor(maxAge / 1000) };
  }
  if (m.compress !== undefined) return { kind: 'compress', minBytes: m.compress.minSize };
  // The schema lets exactly one kind through per item: this is the last.
  const { perSecond, burst } = m.rateLimit!;
  return { kind: 'rate-limit', perSecond, burst: burst ?? Math.max(1, Math.ceil(perSecond)) };
}

function handler(r: FileRoute, path: Resolve): HandlerConfig {
  if (r.static !== undefined) {
    const s = r.static;
    return {
      kind: 'static',
      root: path(s.root),
      maxAgeSeconds: s.maxAge === undefined ? undefined : Math.floor(s.maxAge / 1000),
      spa: s.spa,
      listing: s.listing,
      dotfiles: s.dotfiles,
      followSymlinks: s.followSymlinks,
      compress: s.compress,
      cors: s.cors,
      upload: s.upload,
      maxUploadBytes: s.maxUpload,
      fallback: undefined,
    };
  }
  if (r.proxy !== undefined) {
    const { to, lb, health, trustProxy, pseudonym, timeout } = r.proxy;
    return {
      kind: 'proxy',
      to,
      lb,
      health:
        health === undefined
          ? undefined
          : { path: health.path, intervalMs: health.interval, status: health.status },
      trustProxy,
      pseudonym,
      timeoutMs: timeout,
    };
  }
  if (r.redirect !== undefined) return { kind: 'redirect', status: r.redirect.status, to: r.redirect.to };
  // The schema lets exactly one handler through per route: this is the last.
  const { status, body, headers } = r.respond!;
  return { kind: 'respond', status, body, headers };
}

function log(l: ConfigFile['log'], path: Resolve): LogConfig {
  return { format: l.format, file: optionalPath(l.file, path) };
}

function status(s: ConfigFile['status']): StatusConfig {
  return { enabled: s.enabled, allow: s.allow };
}

function optionalPath(p: string | undefined, path: Resolve): string | undefined {
  return p === undefined ? undefined : path(p);
}
