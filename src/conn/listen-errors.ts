/**
 * Turns the errno errors of `listen()` into one line a person can act on. The raw Node message
 * ("listen EACCES: permission denied 0.0.0.0:80") names the symptom; the line here names the cause
 * and the fix, because the person reading it is starting a server, not debugging libuv.
 * Pure: it formats, it never binds.
 */

/** Where the server tried to listen: a TCP port (and host, all addresses when absent) or a unix socket path. */
export type ListenAddress = {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  readonly path?: string | undefined;
};

/** The port a suggestion offers instead of a privileged one. */
const UNPRIVILEGED_PORT_SUGGESTION = 8080;
/** Ports below this need privilege on Linux (net.ipv4.ip_unprivileged_port_start defaults to 1024). */
const FIRST_UNPRIVILEGED_PORT = 1024;

/**
 * Describes a failed listen in one line, without a stack: what was tried, why it failed, and what
 * to do about it. Unknown codes fall back to `cannot listen on <where>: <code> <message>`.
 * Never throws; newlines in the underlying message are folded so the result stays one line.
 */
export function describeListenError(err: NodeJS.ErrnoException, where: ListenAddress): string {
  const target = formatTarget(where);
  const prefix = `cannot listen on ${target}: `;
  const code = err.code;
  if (where.path !== undefined) return prefix + describeUnixSocketError(err, where.path);

  switch (code) {
    case 'EACCES':
      if (where.port !== undefined && where.port > 0 && where.port < FIRST_UNPRIVILEGED_PORT) {
        return (
          `${prefix}ports below ${FIRST_UNPRIVILEGED_PORT} need root or CAP_NET_BIND_SERVICE ` +
          `(grant it with: sudo setcap cap_net_bind_service=+ep $(which node)), ` +
          `or use an unprivileged port such as ${UNPRIVILEGED_PORT_SUGGESTION}`
        );
      }
      return `${prefix}permission denied (EACCES); a security policy may forbid this address or port`;
    case 'EADDRINUSE': {
      const port = where.port ?? portOf(err);
      const finder = port === undefined ? 'ss -ltnp' : `ss -ltnp 'sport = :${port}'`;
      return `${prefix}the address is already in use by another process (find it with: ${finder})`;
    }
    case 'EADDRNOTAVAIL':
    case 'EINVAL':
      // EINVAL from bind(2) for a TCP socket: the address does not fit the socket's family or
      // this machine (e.g. an IPv6 literal with a scope that does not exist here).
      return `${prefix}not an address of this machine (${code}); use 0.0.0.0, ::, 127.0.0.1 or an address shown by \`ip addr\``;
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return `${prefix}the host name does not resolve to an address (${code}); use an IP address or a name in /etc/hosts`;
    case 'EAI_AGAIN':
      return `${prefix}the host name could not be resolved right now (EAI_AGAIN); use an IP address or retry`;
    case 'ERR_SOCKET_BAD_PORT':
      return `${prefix}the port must be an integer from 0 to 65535 (0 picks a free one)`;
    default:
      return prefix + fallback(err);
  }
}

/**
 * The error server.listen() rejects with: the one-line description as its message, the errno
 * code (e.g. `EADDRINUSE`) as `code`, and the original error as `cause` for debugging.
 * A CLI prints `message` alone; the stack is for developers.
 */
export class ListenError extends Error {
  /** The errno code of the underlying error, `UNKNOWN` when it had none. */
  readonly code: string;
  /** Where the server tried to listen. */
  readonly address: ListenAddress;

  constructor(err: NodeJS.ErrnoException, where: ListenAddress) {
    super(describeListenError(err, where), { cause: err });
    this.name = 'ListenError';
    this.code = err.code ?? 'UNKNOWN';
    this.address = where;
  }
}

/** Unix-domain sockets fail for file-system reasons, so their causes differ from TCP's. */
function describeUnixSocketError(err: NodeJS.ErrnoException, path: string): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return (
        `the socket file already exists and may be in use by another server ` +
        `(check with: ss -lxp | grep ${quote(path)}; if nothing listens, remove the file)`
      );
    case 'EACCES':
    case 'EPERM':
      // libuv reports a missing directory as EACCES too, so name both causes.
      return `permission denied creating the socket file (${err.code}); check that its directory exists and is writable`;
    case 'ENOENT':
      return 'the directory does not exist (ENOENT)';
    case 'ENOTDIR':
      return 'a component of the path is not a directory (ENOTDIR)';
    case 'ENAMETOOLONG':
    case 'EINVAL':
      // sockaddr_un.sun_path holds 108 bytes on Linux (104 on macOS and the BSDs), NUL included.
      return `the socket path is too long (${err.code}); keep it under 108 bytes (104 on macOS)`;
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    default:
      return fallback(err);
  }
}

/** `<code> <message>` with Node's own `listen CODE: ` prefix removed so the code is not said twice. */
function fallback(err: NodeJS.ErrnoException): string {
  const code = err.code ?? 'UNKNOWN';
  let message = oneLine(err.message);
  const nodePrefix = `${err.syscall ?? 'listen'} ${code}: `;
  if (message.startsWith(nodePrefix)) message = message.slice(nodePrefix.length);
  return message === '' ? code : `${code} ${message}`;
}

function formatTarget(where: ListenAddress): string {
  if (where.path !== undefined) return where.path;
  const host = where.host;
  if (host === undefined || host === '') {
    return where.port === undefined ? 'all addresses' : `port ${where.port} (all addresses)`;
  }
  // RFC 3986 §3.2.2: an IPv6 literal is bracketed when a port follows.
  const shown = host.includes(':') ? `[${host}]` : host;
  return where.port === undefined ? shown : `${shown}:${where.port}`;
}

/** The port Node reports on the error itself, for callers that did not pass one. */
function portOf(err: NodeJS.ErrnoException): number | undefined {
  const port = (err as { port?: unknown }).port;
  return typeof port === 'number' ? port : undefined;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
