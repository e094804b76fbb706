/**
 * Opening upstream sockets (TCP, TLS or a unix socket) and naming their failures as
 * UpstreamError kinds. The only place the upstream client touches node:net and node:tls.
 *
 * TLS verifies the upstream's certificate and name unless told not to (`insecure`); extra CAs are
 * added to Node's bundled roots, not swapped for them, and that context is built once per pool.
 * Only http/1.1 is offered over ALPN, so a server that would pick h2 cannot.
 */
import net from 'node:net';
import tls from 'node:tls';
import { UpstreamError, type UpstreamTarget } from './upstream-types.js';

/** How a pool opens its sockets; made once from the pool options. */
export type SocketSettings = {
  readonly rejectUnauthorized: boolean;
  /** A context trusting the extra CAs besides the bundled roots; undefined for the defaults. */
  readonly secureContext: tls.SecureContext | undefined;
};

/** Makes the settings for `ca` and `insecure` (see UpstreamPoolOptions). */
export function socketSettings(ca: string | Buffer | undefined, insecure: boolean): SocketSettings {
  return {
    rejectUnauthorized: !insecure,
    secureContext:
      ca === undefined ? undefined : tls.createSecureContext({ ca: [...tls.rootCertificates, ca] }),
  };
}

const HTTP1_ONLY = ['http/1.1'];

/**
 * Starts connecting to `target`. The socket is half-open capable (a tunnel passes half-closes
 * on) and has Nagle off. 'connect' (TCP, unix) or 'secureConnect' (TLS) says it is ready.
 */
export function openSocket(target: UpstreamTarget, settings: SocketSettings): net.Socket {
  let socket: net.Socket;
  if (target.kind === 'unix') {
    socket = net.connect({ path: target.path, allowHalfOpen: true });
  } else if (!target.tls) {
    socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
  } else {
    // RFC 6066 §3: SNI carries host names only, never IP literals.
    const servername = target.servername ?? (net.isIP(target.host) === 0 ? target.host : undefined);
    // allowHalfOpen is honoured by tls.connect (it builds the TLSSocket with it); @types/node omits it.
    const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
      ALPNProtocols: HTTP1_ONLY,
      rejectUnauthorized: settings.rejectUnauthorized,
    };
    if (servername !== undefined) options.servername = servername;
    if (settings.secureContext !== undefined) options.secureContext = settings.secureContext;
    socket = tls.connect(options);
  }
  socket.setNoDelay(true);
  return socket;
}

/** The pool key of a target: one set of sockets per key. */
export function targetKey(target: UpstreamTarget): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  const base = `${target.host}:${target.port}:${target.tls ? 'tls' : 'tcp'}`;
  return target.servername === undefined ? base : `${base}:${target.servername}`;
}

/** Errno codes that mean the upstream could not be reached at all. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EADDRNOTAVAIL',
  'ENOENT',
  'EACCES',
  'ETIMEDOUT',
  'ECONNRESET',
]);

/**
 * The UpstreamError for a socket error. While connecting nothing was sent: an errno code is a
 * 'connect' failure, anything else on a TLS socket (OpenSSL and certificate codes such as
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE or ERR_TLS_CERT_ALTNAME_INVALID) a 'tls' one. Once connected,
 * every error is a 'reset' (ECONNRESET, EPIPE, ...).
 */
export function socketError(
  err: Error,
  connecting: boolean,
  secure: boolean,
  requestSent: boolean,
): UpstreamError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (!connecting)
    return new UpstreamError('reset', `upstream connection failed: ${err.message}`, requestSent, {
      cause: err,
    });
  if (!secure || CONNECT_CODES.has(code)) {
    return new UpstreamError('connect', `cannot connect to the upstream: ${err.message}`, false, {
      cause: err,
    });
  }
  return new UpstreamError('tls', `TLS with the upstream failed: ${err.message}`, false, { cause: err });
}
