/**
 * `berth [serve] [ROOT] [options]` → one validated ServeCommand, or help, version, or an error
 * whose message is one line (main.ts prints it after `berth: `). Pure: reads no files, opens no
 * sockets; the root directory and the auth file are checked by main.ts.
 *
 * Refusals that protect the user live here, decided before anything starts: `--upload` without any
 * credential is an error unless `--unsafe-open-uploads` says the open write access is intended.
 */
import type { AccessLogFormat } from '../log/access-log.js';
import type { StaticOptions } from '../static/options.js';
import {
  cacheSeconds,
  connectionsPerClient,
  DOTFILES,
  type ListenSpec,
  LOG_FORMATS,
  listenSpec,
  nonEmpty,
  oneOf,
  parseWithNode,
  port,
  size,
  type TlsSpec,
  tlsSpec,
  UsageError,
  upstreamUrl,
  userPass,
  type Values,
} from './flags.js';
import {
  type ForwardProxyCommand,
  forwardProxyCommand,
  type ProxyCommand,
  proxyCommand,
} from './proxy-args.js';

export {
  DEFAULT_ADDRESS,
  DEFAULT_PORT,
  type ListenerCommand,
  type ListenSpec,
  type TlsSpec,
} from './flags.js';
export type { CacheSpec, ForwardProxyCommand, ProxyCommand } from './proxy-args.js';

export const USAGE = `usage: berth [serve] [ROOT] [options]     serve the files under ROOT (default: .)
       berth proxy --to URL [--to URL ...]   a reverse proxy (gateway) to an upstream group
       berth forward-proxy                   a forward proxy with CONNECT tunnels
       berth ca                              where the local CA is and how to trust it
       berth --config FILE                   run what berth.yaml describes (sites, routes, workers)
       berth check FILE                      validate a config file and exit
       berth reload [--config FILE | --pid-file FILE]   make a running berth re-read its config

  -p, --port N            port to listen on (default 8080, or $PORT; 0 picks a free port)
  -a, --address ADDR      address to bind (default 127.0.0.1; 0.0.0.0, ::, ::1 work)
      --unix PATH         listen on a unix socket instead
  -c, --cache SECONDS     Cache-Control max-age (default: no-cache, browsers revalidate)
      --cors              allow cross-origin requests (Access-Control-Allow-Origin: *)
      --spa               serve index.html for unknown paths (single-page apps)
      --no-listing        no directory listings
      --dotfiles POLICY   ignore (404, default), deny (403) or allow files whose name starts with .
      --follow-symlinks   serve symlinks that point outside ROOT
      --no-compress       no gzip/brotli
      --log FORMAT        access log: combined (default), common, json or off
      --log-file PATH     write the access log to PATH instead of stdout (reopened on SIGUSR1)
  -q, --quiet             no startup line and no access log on stdout
      --auth USER:PASS    require HTTP Basic auth for every request
      --auth-file FILE    same, with users from an htpasswd file (bcrypt)
      --upload            accept PUT (write a file) and DELETE; needs credentials:
      --upload-auth USER:PASS   credentials for PUT and DELETE only
      --unsafe-open-uploads     allow --upload without any credentials (anyone can write)
      --max-upload SIZE   largest upload, in bytes or with k, m, g (default 1g)
      --tls               HTTPS with a certificate from Berth's local CA (see: berth ca)
      --host NAME         with --tls: also valid for NAME (repeatable; localhost, 127.0.0.1, ::1 always)
      --cert FILE         HTTPS with this PEM certificate (chain) ...
      --key FILE          ... and this PEM private key
      --key-pass-file F   passphrase of an encrypted --key
      --redirect-http P   with HTTPS: also listen on port P and redirect it to https (308)
      --hsts              with HTTPS: send Strict-Transport-Security (one year)
      --h2c               also accept cleartext HTTP/2 with prior knowledge
      --no-status         no status page (/.berth/status, /.berth/metrics; loopback only otherwise)
      --user NAME         started as root (for ports below 1024): become NAME once listening
      --conns-per-client N  open connections one client address may hold (default 256)
      --fallback-proxy URL   serve: send what is not a file to the app at URL

  berth proxy:
      --to URL            an upstream: http://HOST:PORT, https://HOST, unix:/path (repeatable)
      --lb POLICY         round-robin (default), least-conn or ip-hash
      --health PATH       check each upstream with GET PATH (--health-interval S, --health-status N)
      --trust-proxy CIDR  believe X-Forwarded-*/Forwarded from these clients (repeatable)
  berth forward-proxy:
      --allow CIDR        clients allowed (repeatable; default loopback only)
      --connect-ports P,Q ports CONNECT may reach (default 443)
      --auth USER:PASS    require Proxy-Authorization
  both: --pseudonym NAME  this proxy's name in Via (default berth-HOST-PORT)
      --cache             keep an RFC 9111 shared cache of responses
      --cache-size MB     memory for the cache, in MiB (default 256)
      --cache-dir DIR     keep the cache on disk in DIR instead, surviving restarts
  -h, --help              show this help
  -v, --version           print the version`;

/** Where credentials come from: one `USER:PASS` from the command line, or an htpasswd file. */
export type AuthSpec =
  | { readonly kind: 'plain'; readonly userPass: string }
  | { readonly kind: 'htpasswd'; readonly file: string };

/** A validated `berth serve` invocation. */
export type ServeCommand = {
  readonly kind: 'serve';
  /** ROOT exactly as typed (for the startup line); `.` when absent. */
  readonly root: string;
  readonly listen: ListenSpec;
  /** Options for the file server; `root` is the ROOT as typed, resolved by the caller. */
  readonly static: StaticOptions;
  readonly log: { readonly format: AccessLogFormat; readonly file: string | undefined };
  /** No startup line. */
  readonly quiet: boolean;
  /** Credentials required for every request. */
  readonly auth: AuthSpec | undefined;
  /** Credentials required for writing methods (PUT, DELETE). */
  readonly uploadAuth: AuthSpec | undefined;
  readonly tls: TlsSpec | undefined;
  /** With TLS: a cleartext port that redirects to https. */
  readonly redirectHttp: number | undefined;
  readonly hsts: boolean;
  readonly h2c: boolean;
  /** Serve files, and send what is not a file to this app (a reverse proxy to one upstream). */
  readonly fallbackProxy: string | undefined;
  /** No /.berth/status and /.berth/metrics. */
  readonly noStatus: boolean;
  /** Started as root: become this user once the ports are bound. */
  readonly user: string | undefined;
  /** Open connections one client address may hold. */
  readonly connectionsPerClient: number;
};

export type ParsedArgs =
  | ServeCommand
  | ProxyCommand
  | ForwardProxyCommand
  | { kind: 'ca' }
  /** `berth --config FILE`: everything comes from the file. */
  | { kind: 'config'; file: string }
  | { kind: 'check'; file: string }
  /** `berth reload`: SIGHUP to the pid in `pidFile`, or the pid file `config` names. */
  | { kind: 'reload'; pidFile: string | undefined; config: string | undefined }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

/**
 * Parses the arguments after `berth` (process.argv.slice(2)). `env` supplies $PORT. Never throws:
 * every problem comes back as `{ kind: 'error', message }`, one line, naming the flag and the fix.
 */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  try {
    return parse(argv, env);
  } catch (err) {
    if (err instanceof UsageError) return { kind: 'error', message: err.message };
    throw err;
  }
}

function parse(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  // On the proxies --cache is a switch; on serve it takes the max-age (-c SECONDS, as http-server).
  const proxying = argv.includes('proxy') || argv.includes('forward-proxy');
  const { values: v, positionals } = parseWithNode(
    proxying ? argv.map((a) => (a === '--cache' ? '--cache=on' : a)) : argv,
  );
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };

  if (positionals[0] === 'ca' && positionals.length === 1) return { kind: 'ca' };
  const configCommand = fileCommands(v, positionals);
  if (configCommand !== undefined) return configCommand;
  if (positionals[0] === 'proxy' || positionals[0] === 'forward-proxy') {
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    return positionals[0] === 'proxy' ? proxyCommand(v, env) : forwardProxyCommand(v, env);
  }
  for (const flag of PROXY_ONLY) {
    if (v[flag] !== undefined)
      throw new UsageError(`--${flag} belongs to berth proxy or berth forward-proxy`);
  }
  const rest = positionals[0] === 'serve' ? positionals.slice(1) : positionals;
  if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}": give one ROOT folder`);
  const root = rest[0] ?? '.';
  if (root === '') throw new UsageError('ROOT is empty: give a folder, e.g. `berth ./site`');

  const listen = listenSpec(v.port, v.address, v.unix, env.PORT);

  const staticOptions: StaticOptions = { root };
  if (v.cache !== undefined) staticOptions.maxAgeSeconds = cacheSeconds(v.cache);
  if (v.cors) staticOptions.cors = true;
  if (v.spa) staticOptions.spa = true;
  if (v['no-listing']) staticOptions.listing = false;
  if (v.dotfiles !== undefined) staticOptions.dotfiles = oneOf('--dotfiles', v.dotfiles, DOTFILES);
  if (v['follow-symlinks']) staticOptions.followSymlinks = true;
  if (v['no-compress']) staticOptions.compress = false;

  if (v.auth !== undefined && v['auth-file'] !== undefined) {
    throw new UsageError('--auth and --auth-file cannot be combined: use one of them');
  }
  const auth: AuthSpec | undefined =
    v.auth !== undefined
      ? { kind: 'plain', userPass: userPass('--auth', v.auth) }
      : v['auth-file'] !== undefined
        ? { kind: 'htpasswd', file: nonEmpty('--auth-file', v['auth-file']) }
        : undefined;
  const uploadAuth: AuthSpec | undefined =
    v['upload-auth'] !== undefined
      ? { kind: 'plain', userPass: userPass('--upload-auth', v['upload-auth']) }
      : undefined;

  if (v.upload) {
    staticOptions.upload = true;
    if (v['max-upload'] !== undefined) staticOptions.maxUploadBytes = size('--max-upload', v['max-upload']);
    if (auth === undefined && uploadAuth === undefined && !v['unsafe-open-uploads']) {
      throw new UsageError(
        '--upload would let anyone write and delete files: add --upload-auth USER:PASS ' +
          '(or --auth/--auth-file), or --unsafe-open-uploads if that is really what you want',
      );
    }
  } else {
    for (const flag of ['upload-auth', 'unsafe-open-uploads', 'max-upload'] as const) {
      if (v[flag] !== undefined) throw new UsageError(`--${flag} only applies with --upload: add --upload`);
    }
  }

  const quiet = v.quiet === true;
  const logFile = v['log-file'] === undefined ? undefined : nonEmpty('--log-file', v['log-file']);
  let format = v.log === undefined ? 'combined' : oneOf('--log', v.log, LOG_FORMATS);
  // Quiet silences the terminal; a log file is not the terminal, so it keeps being written.
  if (quiet && logFile === undefined) format = 'off';

  const tls = tlsSpec(v);
  if (tls === undefined) {
    for (const flag of ['redirect-http', 'hsts'] as const) {
      if (v[flag] !== undefined)
        throw new UsageError(`--${flag} only applies to HTTPS: add --tls or --cert/--key`);
    }
  }
  const redirectHttp =
    v['redirect-http'] === undefined ? undefined : port('--redirect-http', v['redirect-http']);

  return {
    kind: 'serve',
    root,
    listen,
    static: staticOptions,
    log: { format, file: logFile },
    quiet,
    auth,
    uploadAuth,
    tls,
    redirectHttp,
    hsts: v.hsts === true,
    h2c: v.h2c === true,
    fallbackProxy:
      v['fallback-proxy'] === undefined ? undefined : upstreamUrl('--fallback-proxy', v['fallback-proxy']),
    noStatus: v['no-status'] === true,
    user: v.user === undefined ? undefined : nonEmpty('--user', v.user),
    connectionsPerClient: connectionsPerClient(v['conns-per-client']),
  };
}

const PROXY_ONLY = [
  'to',
  'lb',
  'health',
  'health-interval',
  'health-status',
  'trust-proxy',
  'allow',
  'connect-ports',
  'cache-size',
  'cache-dir',
] as const;

/** `berth --config FILE`, `berth check FILE`, `berth reload …`; undefined for other commands. */
function fileCommands(v: Values, positionals: readonly string[]): ParsedArgs | undefined {
  const given = Object.keys(v).filter((k) => v[k as keyof Values] !== undefined);
  const only = (allowed: readonly string[], what: string): void => {
    const extra = given.find((k) => !allowed.includes(k));
    if (extra !== undefined)
      throw new UsageError(`--${extra} does not go with ${what}: the config file says it`);
  };
  if (positionals[0] === 'check') {
    if (positionals.length !== 2)
      throw new UsageError('berth check needs one FILE, e.g. berth check berth.yaml');
    only([], 'berth check');
    return { kind: 'check', file: positionals[1]! };
  }
  if (positionals[0] === 'reload') {
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    only(['config', 'pid-file'], 'berth reload');
    if (v.config === undefined && v['pid-file'] === undefined) {
      throw new UsageError('berth reload needs --config FILE (its pidFile) or --pid-file FILE');
    }
    return { kind: 'reload', pidFile: v['pid-file'], config: v.config };
  }
  if (v['pid-file'] !== undefined)
    throw new UsageError('--pid-file goes with berth reload; in a config file, set pidFile');
  if (v.config === undefined) return undefined;
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}": --config takes everything from the file`);
  only(['config'], '--config');
  return { kind: 'config', file: nonEmpty('--config', v.config) };
}
