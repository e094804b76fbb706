/**
 * `berth [serve] [ROOT] [options]` → one validated ServeCommand, or help, version, or an error
 * whose message is one line (main.ts prints it after `berth: `). Pure: reads no files, opens no
 * sockets; the root directory and the auth file are checked by main.ts.
 *
 * Refusals that protect the user live here, decided before anything starts: `--upload` without any
 * credential is an error unless `--unsafe-open-uploads` says the open write access is intended.
 */
import { parseArgs } from 'node:util';
import type { AccessLogFormat } from '../log/access-log.js';
import type { DotfilesPolicy, StaticOptions } from '../static/options.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_ADDRESS = '127.0.0.1';
const MAX_PORT = 65535;

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

/** How the server listens. */
export type ListenSpec = { readonly port: number; readonly host: string } | { readonly path: string };

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
};

/** What every listening command shares: where, how it logs, and TLS. */
export type ListenerCommand = {
  readonly listen: ListenSpec;
  readonly log: { readonly format: AccessLogFormat; readonly file: string | undefined };
  readonly quiet: boolean;
  readonly tls: TlsSpec | undefined;
  readonly h2c: boolean;
  /** No /.berth/status and /.berth/metrics. */
  readonly noStatus: boolean;
  /** Started as root: become this user once the ports are bound. */
  readonly user: string | undefined;
};

/** `berth proxy --to URL …`: a reverse proxy (gateway) to an upstream group. */
export type ProxyCommand = ListenerCommand & {
  readonly kind: 'proxy';
  readonly to: readonly string[];
  readonly lb: 'round-robin' | 'least-conn' | 'ip-hash';
  readonly health:
    | { readonly path: string; readonly intervalMs: number; readonly status: number }
    | undefined;
  readonly trustProxy: readonly string[];
  readonly pseudonym: string | undefined;
  readonly cache: CacheSpec | undefined;
};

/** `--cache` on a proxy: a memory store of `sizeBytes`, or a disk store in `dir` of that size. */
export type CacheSpec = { readonly sizeBytes: number; readonly dir: string | undefined };

/** `berth forward-proxy`: a forward proxy with CONNECT tunnels, never open by default. */
export type ForwardProxyCommand = ListenerCommand & {
  readonly kind: 'forward-proxy';
  readonly allow: readonly string[] | undefined;
  readonly connectPorts: readonly number[];
  readonly auth: { readonly user: string; readonly pass: string } | undefined;
  readonly pseudonym: string | undefined;
  readonly cache: CacheSpec | undefined;
};

/** Where the HTTPS certificate comes from: files given, or Berth's local CA. */
export type TlsSpec =
  | {
      readonly kind: 'files';
      readonly cert: string;
      readonly key: string;
      readonly keyPassFile: string | undefined;
    }
  | { readonly kind: 'local'; readonly hosts: readonly string[] };

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

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  address: { type: 'string', short: 'a' },
  unix: { type: 'string' },
  cache: { type: 'string', short: 'c' },
  cors: { type: 'boolean' },
  spa: { type: 'boolean' },
  'no-listing': { type: 'boolean' },
  dotfiles: { type: 'string' },
  'follow-symlinks': { type: 'boolean' },
  'no-compress': { type: 'boolean' },
  log: { type: 'string' },
  'log-file': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  auth: { type: 'string' },
  'auth-file': { type: 'string' },
  upload: { type: 'boolean' },
  'upload-auth': { type: 'string' },
  'unsafe-open-uploads': { type: 'boolean' },
  'max-upload': { type: 'string' },
  tls: { type: 'boolean' },
  host: { type: 'string', multiple: true },
  cert: { type: 'string' },
  key: { type: 'string' },
  'key-pass-file': { type: 'string' },
  'redirect-http': { type: 'string' },
  hsts: { type: 'boolean' },
  h2c: { type: 'boolean' },
  'fallback-proxy': { type: 'string' },
  to: { type: 'string', multiple: true },
  lb: { type: 'string' },
  health: { type: 'string' },
  'health-interval': { type: 'string' },
  'health-status': { type: 'string' },
  'trust-proxy': { type: 'string', multiple: true },
  allow: { type: 'string', multiple: true },
  'connect-ports': { type: 'string' },
  pseudonym: { type: 'string' },
  config: { type: 'string' },
  'pid-file': { type: 'string' },
  'no-status': { type: 'boolean' },
  user: { type: 'string' },
  'cache-size': { type: 'string' },
  'cache-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const LOG_FORMATS: readonly AccessLogFormat[] = ['combined', 'common', 'json', 'off'];
const DOTFILES: readonly DotfilesPolicy[] = ['ignore', 'deny', 'allow'];
const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Thrown inside parseServeArgs() and turned into `{ kind: 'error' }` at its edge. */
class UsageError extends Error {}

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
const SERVE_ONLY = [
  'cache',
  'cors',
  'spa',
  'no-listing',
  'dotfiles',
  'follow-symlinks',
  'no-compress',
  'upload',
  'upload-auth',
  'unsafe-open-uploads',
  'max-upload',
  'auth-file',
  'fallback-proxy',
  'redirect-http',
  'hsts',
] as const;
const LB_POLICIES = ['round-robin', 'least-conn', 'ip-hash'] as const;

/** The options every listening command takes, exactly as berth serve reads them. */
function listenerCommand(v: Values, env: NodeJS.ProcessEnv, command: string): ListenerCommand {
  for (const flag of SERVE_ONLY) {
    if (v[flag] !== undefined) throw new UsageError(`--${flag} does not apply to berth ${command}`);
  }
  const quiet = v.quiet === true;
  const file = v['log-file'] === undefined ? undefined : nonEmpty('--log-file', v['log-file']);
  let format = v.log === undefined ? 'combined' : oneOf('--log', v.log, LOG_FORMATS);
  if (quiet && file === undefined) format = 'off';
  return {
    listen: listenSpec(v.port, v.address, v.unix, env.PORT),
    log: { format, file },
    quiet,
    tls: tlsSpec(v),
    h2c: v.h2c === true,
    noStatus: v['no-status'] === true,
    user: v.user === undefined ? undefined : nonEmpty('--user', v.user),
  };
}

function proxyCommand(v: Values, env: NodeJS.ProcessEnv): ProxyCommand {
  if (v.auth !== undefined) throw new UsageError('--auth does not apply to berth proxy: put auth in the app');
  const to = (v.to ?? []).map((url) => upstreamUrl('--to', url));
  if (to.length === 0)
    throw new UsageError('berth proxy needs at least one --to URL, e.g. --to http://127.0.0.1:3000');
  const health =
    v.health === undefined
      ? undefined
      : {
          path: v.health.startsWith('/') ? v.health : `/${v.health}`,
          intervalMs: seconds('--health-interval', v['health-interval'] ?? '5') * 1000,
          status: v['health-status'] === undefined ? 200 : statusCode(v['health-status']),
        };
  return {
    kind: 'proxy',
    ...listenerCommand(withoutCache(v), env, 'proxy'),
    cache: cacheSpec(v),
    to,
    lb: v.lb === undefined ? 'round-robin' : oneOf('--lb', v.lb, LB_POLICIES),
    health,
    trustProxy: v['trust-proxy'] ?? [],
    pseudonym: v.pseudonym,
  };
}

function forwardProxyCommand(v: Values, env: NodeJS.ProcessEnv): ForwardProxyCommand {
  for (const flag of ['to', 'lb', 'health', 'health-interval', 'health-status', 'trust-proxy'] as const) {
    if (v[flag] !== undefined) throw new UsageError(`--${flag} belongs to berth proxy`);
  }
  const connectPorts = (v['connect-ports'] ?? '443').split(',').map((p) => port('--connect-ports', p.trim()));
  let auth: ForwardProxyCommand['auth'];
  if (v.auth !== undefined) {
    const pair = userPass('--auth', v.auth);
    const colon = pair.indexOf(':');
    auth = { user: pair.slice(0, colon), pass: pair.slice(colon + 1) };
  }
  return {
    kind: 'forward-proxy',
    ...listenerCommand(withoutCache(v), env, 'forward-proxy'),
    cache: cacheSpec(v),
    allow: v.allow,
    connectPorts,
    auth,
    pseudonym: v.pseudonym,
  };
}

/** The values without --cache, which serve reads differently. */
function withoutCache(v: Values): Values {
  const { cache: _, ...rest } = v;
  return rest;
}

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

/** --cache [--cache-size MB] [--cache-dir DIR] on a proxy command. */
function cacheSpec(v: Values): CacheSpec | undefined {
  if (v.cache === undefined) {
    for (const flag of ['cache-size', 'cache-dir'] as const) {
      if (v[flag] !== undefined) throw new UsageError(`--${flag} needs --cache`);
    }
    return undefined;
  }
  if (v.cache !== 'on') throw new UsageError('--cache takes no value on a proxy (use --cache-size MB)');
  const mib = v['cache-size'] === undefined ? 256 : Number(v['cache-size']);
  if (!Number.isInteger(mib) || mib < 1) {
    throw new UsageError(`--cache-size "${v['cache-size']}": give a whole number of MiB, e.g. 256`);
  }
  const dir = v['cache-dir'] === undefined ? undefined : nonEmpty('--cache-dir', v['cache-dir']);
  return { sizeBytes: mib * 1024 * 1024, dir };
}

function upstreamUrl(flag: string, text: string): string {
  if (!/^(https?:\/\/[^/?#\s]+\/?|unix:\/\S+)$/.test(text)) {
    throw new UsageError(`${flag} "${text}": expected http://HOST:PORT, https://HOST or unix:/path`);
  }
  return text.endsWith('/') && !text.startsWith('unix:') ? text.slice(0, -1) : text;
}

function seconds(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} "${text}": expected a number of seconds`);
  return n;
}

function statusCode(text: string): number {
  const n = Number(text);
  if (!/^[1-5]\d\d$/.test(text))
    throw new UsageError(`--health-status "${text}": expected a status like 200`);
  return n;
}

function tlsSpec(v: Values): TlsSpec | undefined {
  const files = v.cert !== undefined || v.key !== undefined || v['key-pass-file'] !== undefined;
  if (v.tls && files) throw new UsageError('--tls makes its own certificate: drop it, or drop --cert/--key');
  if (v.host !== undefined && !v.tls) throw new UsageError('--host only applies with --tls');
  if (v.tls) return { kind: 'local', hosts: v.host ?? [] };
  if (!files) return undefined;
  if (v.cert === undefined || v.key === undefined)
    throw new UsageError('HTTPS needs both --cert FILE and --key FILE');
  return {
    kind: 'files',
    cert: nonEmpty('--cert', v.cert),
    key: nonEmpty('--key', v.key),
    keyPassFile: v['key-pass-file'],
  };
}

function port(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new UsageError(`${flag} "${text}": expected a port from 1 to 65535`);
  return n;
}

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K]['type'] extends 'string'
      ? string
      : boolean;
};

/** node:util parseArgs, with its errors rewritten as one short line naming the flag. */
function parseWithNode(argv: readonly string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    const e = err as Error & { code?: string };
    const flag = /'([^']+)'/.exec(e.message)?.[1];
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`unknown option ${flag ?? ''} (see berth --help)`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        // "Option '-p, --port <value>' argument missing" or "... argument is ambiguous".
        throw new UsageError(
          `option ${flag?.replace(/ <value>$/, '') ?? ''} needs a value` +
            (/ambiguous/.test(e.message) ? ' (the next argument starts with -)' : ''),
        );
      default:
        throw new UsageError(e.message.split('\n')[0] ?? 'invalid arguments');
    }
  }
}

function listenSpec(
  port: string | undefined,
  address: string | undefined,
  unix: string | undefined,
  envPort: string | undefined,
): ListenSpec {
  if (unix !== undefined) {
    if (port !== undefined || address !== undefined) {
      throw new UsageError('--unix cannot be combined with --port or --address: choose one');
    }
    return { path: nonEmpty('--unix', unix) };
  }
  let portNumber = DEFAULT_PORT;
  if (port !== undefined) portNumber = parsePort(port, '--port');
  else if (envPort !== undefined && envPort !== '') portNumber = parsePort(envPort, '$PORT');
  let host = address ?? DEFAULT_ADDRESS;
  // `[::1]` as in a URL is accepted and means ::1.
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw new UsageError('--address is empty: use e.g. 127.0.0.1, 0.0.0.0, :: or ::1');
  return { port: portNumber, host };
}

function parsePort(text: string, where: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > MAX_PORT) {
    throw new UsageError(`invalid ${where} "${text}": expected a number from 0 to ${MAX_PORT}`);
  }
  return n;
}

function cacheSeconds(text: string): number {
  if (!/^\d{1,10}$/.test(text)) {
    throw new UsageError(`invalid --cache "${text}": expected a number of seconds, e.g. 3600`);
  }
  return Number(text);
}

function size(flag: string, text: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(text);
  const n = m === null ? Number.NaN : Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`invalid ${flag} "${text}": expected bytes, or a number with k, m or g (e.g. 50m)`);
  }
  return n;
}

function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`invalid ${flag} "${text}": expected ${allowed.join(', ')}`);
}

function userPass(flag: string, text: string): string {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new UsageError(`invalid ${flag}: expected USER:PASS with both parts non-empty`);
  }
  return text;
}

function nonEmpty(flag: string, text: string): string {
  if (text === '') throw new UsageError(`${flag} is empty: give a path`);
  return text;
}
