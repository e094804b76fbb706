#!/usr/bin/env node
/**
 * The `berth` command: `berth [serve] [ROOT] [options]` serves the files under ROOT.
 *
 * The handler chain, outermost first: access log → Basic auth → file server. The log sits outside
 * auth so refused requests (401) are logged too.
 *
 * Errors are one line on stderr, never a stack: usage and setup problems (bad flag, missing root,
 * unreadable auth or log file) exit 2, a failed listen exits 1 — and never moves to another port.
 * SIGINT/SIGTERM close gracefully (in-flight requests finish, the log is flushed) and exit 0;
 * a second signal exits at once. SIGUSR1 reopens the log file (rotation).
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DiskStore } from '../cache/disk-store.js';
import { type CacheHandler, createCache } from '../cache/handler.js';
import { MemoryStore } from '../cache/memory-store.js';
import type { ServerOptions } from '../conn/config.js';
import { ListenError } from '../conn/listen-errors.js';
import { createServer, type Server, type ServerAddress } from '../conn/server.js';
import type { Handler } from '../handler/types.js';
import { AccessLog } from '../log/access-log.js';
import { UpstreamGroup } from '../proxy/balancer.js';
import { createForwardProxy } from '../proxy/forward.js';
import { startHealthChecks } from '../proxy/health.js';
import { createReverseProxy } from '../proxy/reverse.js';
import { UpstreamPool } from '../proxy/upstream-pool.js';
import { viaPseudonym } from '../proxy/via.js';
import { type Credentials, loadHtpasswd, plainCredentials } from '../static/auth.js';
import { withBasicAuth } from '../static/auth-wrap.js';
import { createStaticHandler } from '../static/serve.js';
import {
  type AuthSpec,
  type ForwardProxyCommand,
  type ListenerCommand,
  type ProxyCommand,
  parseServeArgs,
  type ServeCommand,
  type TlsSpec,
  USAGE,
} from './args.js';
import { redirectToHttps, withHsts } from './https-helpers.js';

const EXIT_USAGE = 2;
const EXIT_LISTEN = 1;
const REALM = 'berth';

/** A setup failure whose message is the whole line to print. */
class SetupError extends Error {}

async function main(argv: string[]): Promise<void> {
  const parsed = parseServeArgs(argv, process.env);
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return;
    case 'version': {
      const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
      process.stdout.write(`berth ${pkg.version}\n`);
      return;
    }
    case 'error':
      fail(`${parsed.message}`, EXIT_USAGE);
      return;
    case 'serve':
      await serve(parsed);
      return;
    case 'ca':
      await printCa();
      return;
    case 'proxy':
    case 'forward-proxy':
      await runProxy(parsed);
      return;
    case 'config':
      await runConfig(parsed.file);
      return;
    case 'check': {
      const { checkConfig } = await import('../config/load.js');
      const result = await checkConfig(parsed.file);
      if (result.ok) process.stdout.write(`${result.summary}\n`);
      else fail(result.message, EXIT_USAGE);
      return;
    }
    case 'reload':
      try {
        const { signalReload } = await import('../runtime/run-config.js');
        const pid = await signalReload(parsed);
        process.stdout.write(`berth: asked process ${pid} to reload\n`);
      } catch (err) {
        fail(message(err), EXIT_USAGE);
      }
      return;
    default:
      assertNever(parsed);
  }
}

async function serve(cmd: ServeCommand): Promise<void> {
  let log: AccessLog;
  let handler: Handler;
  const options: ServerOptions = { h2c: cmd.h2c };
  try {
    await checkRoot(cmd.root);
    const [all, writes] = await Promise.all([credentials(cmd.auth), credentials(cmd.uploadAuth)]);
    const fallback =
      cmd.fallbackProxy === undefined ? undefined : proxyHandler([cmd.fallbackProxy], cmd, 'round-robin');
    const files = await createStaticHandler({ ...cmd.static, root: resolve(cmd.root), fallback });
    if (cmd.tls !== undefined) options.tls = await tlsOptions(cmd.tls);
    log = await openLog(cmd);
    const guarded = withBasicAuth(files, { all, writes, realm: REALM });
    handler = log.wrap(cmd.hsts ? withHsts(guarded) : guarded);
  } catch (err) {
    fail(err instanceof SetupError ? err.message : `${cmd.root}: ${message(err)}`, EXIT_USAGE);
    return;
  }
  await run(cmd, handler, { options, log, what: `serving ${cmd.root}`, redirectHttp: cmd.redirectHttp });
}

/** `berth --config FILE`: a config error or a listener that cannot open ends it with one line. */
async function runConfig(file: string): Promise<void> {
  const { runConfigFile } = await import('../runtime/run-config.js');
  try {
    await runConfigFile(file, {
      log: (line) => process.stderr.write(`berth: ${line}\n`),
      announce: (lines) => process.stdout.write(`${lines.join('\n')}\n`),
      exit: (code) => process.exit(code),
    });
  } catch (err) {
    fail(message(err), err instanceof ListenError ? EXIT_LISTEN : EXIT_USAGE);
  }
}

/** `berth proxy` and `berth forward-proxy`: the same listener, log and TLS handling as serve. */
async function runProxy(cmd: ProxyCommand | ForwardProxyCommand): Promise<void> {
  let log: AccessLog;
  let handler: Handler;
  const options: ServerOptions = { h2c: cmd.h2c };
  let what: string;
  let cache: Awaited<ReturnType<typeof openCache>>;
  try {
    if (cmd.tls !== undefined) options.tls = await tlsOptions(cmd.tls);
    log = await openLog(cmd);
    cache = await openCache(cmd);
    const around = cache?.wrap;
    if (cmd.kind === 'proxy') {
      const proxy = proxyHandler(cmd.to, cmd, cmd.lb);
      handler = around === undefined ? proxy : around(proxy);
      what = `proxying to ${cmd.to.join(', ')}${around === undefined ? '' : ', with a cache'}`;
    } else {
      handler = createForwardProxy({
        around,
        pool: new UpstreamPool(),
        allow: cmd.allow,
        connectPorts: cmd.connectPorts,
        auth: cmd.auth,
        pseudonym: pseudonymFor(cmd),
        log: (line) => process.stderr.write(`berth: ${line}\n`),
      });
      what = `forward proxy${around === undefined ? '' : ' with a cache'}`;
    }
    handler = log.wrap(handler);
  } catch (err) {
    fail(message(err), EXIT_USAGE);
    return;
  }
  await run(cmd, handler, { options, log, what, redirectHttp: undefined, close: cache?.close });
}

/** `--cache`: the RFC 9111 cache over a memory or disk store, to wrap a handler in, and its store's close(). */
async function openCache(
  cmd: ProxyCommand | ForwardProxyCommand,
): Promise<{ wrap: (next: Handler) => CacheHandler; close: () => Promise<void> } | undefined> {
  const spec = cmd.cache;
  if (spec === undefined) return undefined;
  const store =
    spec.dir === undefined
      ? new MemoryStore({ maxBytes: spec.sizeBytes })
      : await DiskStore.open({ dir: resolve(spec.dir), maxBytes: spec.sizeBytes });
  const onError = (error: unknown): void => {
    process.stderr.write(`berth: cache: ${message(error)}\n`);
  };
  return {
    // A reverse proxy's cache is a surrogate (a gateway cache): it obeys CDN-Cache-Control and
    // Surrogate-Control aimed at `berth`; a forward proxy's cache does not.
    wrap: (next) =>
      createCache(next, {
        store,
        secure: cmd.tls !== undefined,
        onError,
        surrogate: cmd.kind === 'proxy' ? 'berth' : undefined,
      }),
    close: () => store.close(),
  };
}

/** A reverse proxy to an upstream group, with active health checks when asked for. */
function proxyHandler(
  to: readonly string[],
  cmd: ListenerCommand & {
    readonly pseudonym?: string | undefined;
    readonly trustProxy?: readonly string[];
    readonly health?: ProxyCommand['health'];
  },
  lb: ProxyCommand['lb'],
): Handler {
  const pool = new UpstreamPool();
  const group = new UpstreamGroup(to, { policy: lb });
  const log = (line: string): void => {
    process.stderr.write(`berth: ${line}\n`);
  };
  if (cmd.health !== undefined) {
    const { path, intervalMs, status } = cmd.health;
    startHealthChecks(
      group,
      { path, intervalMs, timeoutMs: Math.min(intervalMs, 5000), expectStatus: status, log },
      pool,
    );
  }
  return createReverseProxy({
    group,
    pool,
    pseudonym: pseudonymFor(cmd),
    trustProxy: cmd.trustProxy ?? [],
    secure: cmd.tls !== undefined,
    log,
  });
}

/** The Via pseudonym: given, or berth-HOST-PORT (the port asked for; the pid when it is 0). */
function pseudonymFor(cmd: ListenerCommand & { readonly pseudonym?: string | undefined }): string {
  if (cmd.pseudonym !== undefined) return cmd.pseudonym;
  const port = 'port' in cmd.listen && cmd.listen.port !== 0 ? cmd.listen.port : process.pid;
  return viaPseudonym(hostname(), port);
}

type RunOptions = {
  readonly options: ServerOptions;
  readonly log: AccessLog;
  /** What the startup line says is running, e.g. `serving ./site`. */
  readonly what: string;
  readonly redirectHttp: number | undefined;
  /** Closed after the servers, before exiting (the cache's store). */
  readonly close?: (() => Promise<void>) | undefined;
};

/**
 * Listens, prints the startup line, and runs until SIGINT/SIGTERM (graceful) — for every command.
 * With redirectHttp, a cleartext listener redirects to the https one.
 */
async function run(cmd: ListenerCommand, handler: Handler, how: RunOptions): Promise<void> {
  const { options, log, what, redirectHttp } = how;
  const server = createServer(handler, options);
  const servers: Server[] = [server];
  try {
    await server.listen(cmd.listen);
    if (redirectHttp !== undefined && 'port' in cmd.listen) {
      const address = server.address();
      const httpsPort = 'port' in address ? address.port : 443;
      const redirect = createServer(log.wrap(redirectToHttps(httpsPort)));
      servers.push(redirect);
      await redirect.listen({ port: redirectHttp, host: cmd.listen.host });
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    await log.close();
    fail(message(err), EXIT_LISTEN);
    return;
  }
  if (!cmd.quiet) {
    const scheme = cmd.tls === undefined ? 'http' : 'https';
    let line = `berth: ${what} on ${displayUrl(server.address(), scheme)}`;
    const redirect = servers[1];
    if (redirect !== undefined) line += ` (and ${displayUrl(redirect.address(), 'http')} redirecting to it)`;
    process.stdout.write(`${line}\n`);
  }

  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1); // a second Ctrl-C: the user does not want to wait
    stopping = true;
    Promise.all(servers.map((s) => s.close()))
      .then(() => how.close?.())
      .then(() => log.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGUSR1', () => {
    log
      .reopen()
      .catch((err: unknown) => process.stderr.write(`berth: cannot reopen the log: ${message(err)}\n`));
  });
}

/** ROOT must exist and be a directory; the error names it as the user typed it. */
async function checkRoot(root: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SetupError(`${root}: no such directory`);
    if (code === 'EACCES') throw new SetupError(`${root}: permission denied`);
    throw new SetupError(`${root}: ${message(err)}`);
  }
  if (!isDirectory) throw new SetupError(`${root} is not a directory: give the folder to serve`);
}

async function credentials(spec: AuthSpec | undefined): Promise<Credentials | undefined> {
  if (spec === undefined) return undefined;
  if (spec.kind === 'plain') return plainCredentials(spec.userPass);
  try {
    return await loadHtpasswd(spec.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SetupError(`--auth-file ${spec.file}: no such file`);
    if (code === 'EACCES') throw new SetupError(`--auth-file ${spec.file}: permission denied`);
    throw new SetupError(`--auth-file: ${message(err)}`);
  }
}

async function openLog(cmd: ListenerCommand): Promise<AccessLog> {
  try {
    return await AccessLog.open({ format: cmd.log.format, file: cmd.log.file });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : message(err);
    throw new SetupError(`cannot open the log file ${cmd.log.file}: ${why}`);
  }
}

/** `http://127.0.0.1:8080`, `https://[::1]:8443`, or `unix:/path`. */
function displayUrl(address: ServerAddress, scheme: 'http' | 'https'): string {
  if ('path' in address) return `unix:${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${scheme}://${host}:${address.port}`;
}

/** Certificates for the listener: files as given, or a leaf from the local CA (made on first use). */
async function tlsOptions(spec: TlsSpec): Promise<NonNullable<ServerOptions['tls']>> {
  try {
    if (spec.kind === 'files') {
      const { loadCertificateFiles } = await import('../tls/load.js');
      const loaded = await loadCertificateFiles({
        cert: spec.cert,
        key: spec.key,
        ...(spec.keyPassFile === undefined ? {} : { keyPassFile: spec.keyPassFile }),
      });
      return {
        certificates: [
          {
            cert: loaded.cert,
            key: loaded.key,
            names: loaded.names,
            ...(loaded.passphrase === undefined ? {} : { passphrase: loaded.passphrase }),
          },
        ],
      };
    }
    // Loaded only here: the X.509 library (and its reflect polyfill) is not needed for plain HTTP.
    const { ensureLocalCertificate } = await import('../tls/local-ca.js');
    const local = await ensureLocalCertificate({ hosts: spec.hosts });
    return { certificates: [{ cert: local.cert, key: local.key }] };
  } catch (err) {
    throw new SetupError(message(err));
  }
}

/** `berth ca`: where the local CA certificate is and how to trust it (made if missing). */
async function printCa(): Promise<void> {
  try {
    const { ensureLocalCertificate } = await import('../tls/local-ca.js');
    const { describeLocalCa } = await import('../tls/ca-command.js');
    const local = await ensureLocalCertificate({});
    process.stdout.write(`${describeLocalCa(local.caCertPath)}\n`);
  } catch (err) {
    fail(message(err), 1);
  }
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ');
}

function fail(line: string, code: number): void {
  process.stderr.write(`berth: ${line}\n`);
  process.exitCode = code;
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(message(err), 1);
});
