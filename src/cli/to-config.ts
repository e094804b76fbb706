/**
 * The command's flags as the config model: `berth ./site`, `berth proxy` and `berth
 * forward-proxy` build the same in-memory Config a berth.yaml does, and run through the same
 * runtime. One listener (plus the --redirect-http one), one default site, one route for `/`.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type {
  CacheConfig,
  Config,
  HandlerConfig,
  ListenerConfig,
  ListenerTls,
  MiddlewareConfig,
  ProxyHandlerConfig,
} from '../config/model.js';
import { viaPseudonym } from '../proxy/via.js';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../static/options.js';
import type {
  AuthSpec,
  CacheSpec,
  ForwardProxyCommand,
  ListenerCommand,
  ProxyCommand,
  ServeCommand,
  TlsSpec,
} from './args.js';

/** The realm the command's Basic auth challenges name. */
export const REALM = 'berth';
/** How long the command waits for in-flight requests on SIGTERM. */
const STOP_TIMEOUT_MS = 10_000;

export function serveConfig(cmd: ServeCommand): Config {
  const s = cmd.static;
  const middleware: MiddlewareConfig[] = [];
  // --auth guards reads; with --upload-auth too, writes need only the upload pair (see static/auth-wrap.ts).
  if (cmd.auth !== undefined) {
    middleware.push(basicAuth(cmd.auth, cmd.uploadAuth === undefined ? [] : 'safe'));
  }
  if (cmd.uploadAuth !== undefined) middleware.push(basicAuth(cmd.uploadAuth, 'unsafe'));
  const handler: HandlerConfig = {
    kind: 'static',
    root: resolve(cmd.root),
    maxAgeSeconds: s.maxAgeSeconds,
    spa: s.spa ?? false,
    listing: s.listing ?? true,
    dotfiles: s.dotfiles ?? 'ignore',
    followSymlinks: s.followSymlinks ?? false,
    compress: s.compress ?? true,
    cors: s.cors ?? false,
    upload: s.upload ?? false,
    maxUploadBytes: s.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    fallback:
      cmd.fallbackProxy === undefined
        ? undefined
        : { ...reverseProxy([cmd.fallbackProxy]), pseudonym: pseudonymFor(cmd.listen) },
  };
  return withOneSite(cmd, handler, middleware, undefined, cmd.hsts, cmd.redirectHttp);
}

export function proxyConfig(cmd: ProxyCommand): Config {
  const handler: ProxyHandlerConfig = {
    ...reverseProxy(cmd.to),
    lb: cmd.lb,
    health: cmd.health,
    trustProxy: cmd.trustProxy,
    pseudonym: cmd.pseudonym ?? pseudonymFor(cmd.listen),
  };
  return withOneSite(cmd, handler, [], cacheConfig(cmd.cache), false, undefined);
}

export function forwardProxyConfig(cmd: ForwardProxyCommand): Config {
  const handler: HandlerConfig = {
    kind: 'forward-proxy',
    allow: cmd.allow,
    connectPorts: cmd.connectPorts,
    auth: cmd.auth,
    pseudonym: cmd.pseudonym ?? pseudonymFor(cmd.listen),
  };
  return withOneSite(cmd, handler, [], cacheConfig(cmd.cache), false, undefined);
}

function withOneSite(
  cmd: ListenerCommand,
  handler: HandlerConfig,
  middleware: MiddlewareConfig[],
  cache: CacheConfig | undefined,
  hsts: boolean,
  redirectHttp: number | undefined,
): Config {
  const listen = cmd.listen;
  const main: ListenerConfig = {
    id: 'main',
    bind:
      'path' in listen
        ? { kind: 'unix', path: listen.path }
        : { kind: 'tcp', address: listen.host, port: listen.port },
    tls: listenerTls(cmd.tls),
    h2c: cmd.h2c,
    httpsRedirectPort: undefined,
  };
  const listeners = [main];
  if (redirectHttp !== undefined && 'port' in listen) {
    listeners.push({
      id: 'redirect',
      bind: { kind: 'tcp', address: listen.host, port: redirectHttp },
      tls: undefined,
      h2c: false,
      // 0: the port the https listener actually got (when -p 0 picked one).
      httpsRedirectPort: listen.port,
    });
  }
  return {
    listeners,
    sites: [
      {
        hosts: [],
        certificates: [],
        routes: [{ match: { kind: 'prefix', prefix: '/' }, middleware, cache, handler }],
        errorPages: {},
        hsts,
      },
    ],
    log: { format: cmd.log.format, file: cmd.log.file },
    status: { enabled: !cmd.noStatus, allow: ['127.0.0.0/8', '::1'] },
    workers: 1,
    pidFile: undefined,
    stopTimeoutMs: STOP_TIMEOUT_MS,
    connectionsPerClient: cmd.connectionsPerClient,
    user: cmd.user,
  };
}

function reverseProxy(to: readonly string[]): ProxyHandlerConfig {
  return {
    kind: 'proxy',
    to,
    lb: 'round-robin',
    health: undefined,
    trustProxy: [],
    pseudonym: undefined,
    timeoutMs: undefined,
  };
}

function basicAuth(spec: AuthSpec, methods: readonly string[] | 'safe' | 'unsafe'): MiddlewareConfig {
  return {
    kind: 'basic-auth',
    realm: REALM,
    users:
      spec.kind === 'plain'
        ? { kind: 'plain', pairs: [spec.userPass] }
        : { kind: 'htpasswd', file: resolve(spec.file) },
    methods,
  };
}

function listenerTls(tls: TlsSpec | undefined): ListenerTls | undefined {
  if (tls === undefined) return undefined;
  if (tls.kind === 'local') return { kind: 'local', hosts: tls.hosts };
  return {
    kind: 'files',
    certificates: [
      {
        cert: resolve(tls.cert),
        key: resolve(tls.key),
        keyPassFile: tls.keyPassFile === undefined ? undefined : resolve(tls.keyPassFile),
      },
    ],
  };
}

function cacheConfig(spec: CacheSpec | undefined): CacheConfig | undefined {
  if (spec === undefined) return undefined;
  return { sizeBytes: spec.sizeBytes, dir: spec.dir === undefined ? undefined : resolve(spec.dir) };
}

/** The Via pseudonym: berth-HOST-PORT (the port asked for; the pid when it is 0 or a socket). */
function pseudonymFor(listen: ListenerCommand['listen']): string {
  const port = 'port' in listen && listen.port !== 0 ? listen.port : process.pid;
  return viaPseudonym(hostname(), port);
}
