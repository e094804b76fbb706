/**
 * What every command's flag parsing shares: the option table (node:util parseArgs), its errors
 * rewritten as one line, the listener flags every listening command takes, and the small value
 * checks (ports, sizes, durations, URLs). A problem is a UsageError with the whole line to print.
 */
import { parseArgs } from 'node:util';
import type { AccessLogFormat } from '../log/access-log.js';
import type { DotfilesPolicy } from '../static/options.js';

export const DEFAULT_PORT = 8080;

export const DEFAULT_ADDRESS = '127.0.0.1';

export const MAX_PORT = 65535;

/** How the server listens. */
export type ListenSpec = { readonly port: number; readonly host: string } | { readonly path: string };

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
  /** Open connections one client address may hold. */
  readonly connectionsPerClient: number;
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

export const OPTIONS = {
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
  'conns-per-client': { type: 'string' },
  'cache-size': { type: 'string' },
  'cache-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export const LOG_FORMATS: readonly AccessLogFormat[] = ['combined', 'common', 'json', 'off'];

export const DOTFILES: readonly DotfilesPolicy[] = ['ignore', 'deny', 'allow'];

export const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Thrown inside parseServeArgs() and turned into `{ kind: 'error' }` at its edge. */
export class UsageError extends Error {}

export const SERVE_ONLY = [
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

/** The options every listening command takes, exactly as berth serve reads them. */
export function listenerCommand(v: Values, env: NodeJS.ProcessEnv, command: string): ListenerCommand {
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
    connectionsPerClient: connectionsPerClient(v['conns-per-client']),
  };
}

/** --conns-per-client N (default 256, as the engine's). */
export function connectionsPerClient(text: string | undefined): number {
  if (text === undefined) return 256;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1)
    throw new UsageError(`--conns-per-client "${text}": expected a whole number of connections, at least 1`);
  return n;
}

export function upstreamUrl(flag: string, text: string): string {
  if (!/^(https?:\/\/[^/?#\s]+\/?|unix:\/\S+)$/.test(text)) {
    throw new UsageError(`${flag} "${text}": expected http://HOST:PORT, https://HOST or unix:/path`);
  }
  return text.endsWith('/') && !text.startsWith('unix:') ? text.slice(0, -1) : text;
}

export function seconds(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} "${text}": expected a number of seconds`);
  return n;
}

export function statusCode(text: string): number {
  const n = Number(text);
  if (!/^[1-5]\d\d$/.test(text))
    throw new UsageError(`--health-status "${text}": expected a status like 200`);
  return n;
}

export function tlsSpec(v: Values): TlsSpec | undefined {
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

export function port(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new UsageError(`${flag} "${text}": expected a port from 1 to 65535`);
  return n;
}

export type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K]['type'] extends 'string'
      ? string
      : boolean;
};

/** node:util parseArgs, with its errors rewritten as one short line naming the flag. */
export function parseWithNode(argv: readonly string[]): { values: Values; positionals: string[] } {
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

export function listenSpec(
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

export function parsePort(text: string, where: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > MAX_PORT) {
    throw new UsageError(`invalid ${where} "${text}": expected a number from 0 to ${MAX_PORT}`);
  }
  return n;
}

export function cacheSeconds(text: string): number {
  if (!/^\d{1,10}$/.test(text)) {
    throw new UsageError(`invalid --cache "${text}": expected a number of seconds, e.g. 3600`);
  }
  return Number(text);
}

export function size(flag: string, text: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(text);
  const n = m === null ? Number.NaN : Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`invalid ${flag} "${text}": expected bytes, or a number with k, m or g (e.g. 50m)`);
  }
  return n;
}

export function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`invalid ${flag} "${text}": expected ${allowed.join(', ')}`);
}

export function userPass(flag: string, text: string): string {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new UsageError(`invalid ${flag}: expected USER:PASS with both parts non-empty`);
  }
  return text;
}

export function nonEmpty(flag: string, text: string): string {
  if (text === '') throw new UsageError(`${flag} is empty: give a path`);
  return text;
}
