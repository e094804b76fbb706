/**
 * Server options as the caller passes them, and the frozen engine configuration they resolve to.
 * Validated once at createServer(); connections only read it.
 */
import { type Limits, resolveLimits } from '../wire/limits.js';
import type { TlsOptions } from './tls-listener.js';

/** Time allowed for a whole request head to arrive (slowloris defence). */
export const HEAD_TIMEOUT_MS = 10_000;
/** Time an idle keep-alive connection is kept open between requests. */
export const IDLE_TIMEOUT_MS = 5_000;
/** Longest silence while a request body is being received (or a response is stuck unsent). */
export const BODY_TIMEOUT_MS = 30_000;
/**
 * Slowest request body accepted, averaged over each bodyTimeoutMs: a body must bring
 * minBodyBytesPerSecond × bodyTimeoutMs bytes to move its deadline on. Without it a client that
 * sends one byte a second never hits a silence of bodyTimeoutMs and holds its connection for as
 * many seconds as its Content-Length says (R-U-Dead-Yet, slowhttptest -B). 240 B/s is Kestrel's
 * MinRequestBodyDataRate: below any real uplink, far above a trickle.
 */
export const MIN_BODY_BYTES_PER_SECOND = 240;
/** How long a closing connection keeps reading and dropping input so the client sees the response. */
export const LINGER_MS = 2_000;
/** How long server.close() waits for in-flight requests before cutting connections. */
export const CLOSE_TIMEOUT_MS = 10_000;
export const MAX_REQUESTS_PER_CONNECTION = 10_000;
export const MAX_CONNECTIONS = 10_000;
/**
 * Open connections one client (an IPv4 address, an IPv6 /64) may hold; more are closed at accept.
 * Why 256: a browser opens at most 6 HTTP/1.1 connections per origin, so 256 still serves some 40
 * browsers behind one NAT or CGNAT address (or a busy forward proxy), while one attacking address
 * can hold no more than 2.6 % of MAX_CONNECTIONS — it takes 40 addresses (40 /64s for IPv6) to fill
 * the server with slow connections instead of one. Behind a reverse proxy or load balancer every
 * connection comes from its address: raise the limit (to maxConnections) there.
 */
export const MAX_CONNECTIONS_PER_CLIENT = 256;
/** Requests parsed ahead of their responses on one connection before reading pauses. */
export const MAX_PIPELINED = 64;
/** An unread request body is read and dropped up to this size; beyond it the connection closes. */
export const MAX_DRAIN_BYTES = 1024 * 1024;
/**
 * HTTP/2 streams one session may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); nginx's
 * default too. node:http2 advertises no limit unless told, so one connection could hold any
 * number of handlers.
 */
export const MAX_CONCURRENT_STREAMS = 128;
/** Bytes queued for the socket before res.write() returns false and reading pauses. */
export const WRITE_HIGH_WATER_BYTES = 64 * 1024;

export type ServerOptions = {
  /** Parser and body limits (see wire/limits.ts). */
  limits?: Partial<Limits>;
  headTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Longest silence while a request body arrives; see also minBodyBytesPerSecond. */
  bodyTimeoutMs?: number;
  /**
   * Slowest request body accepted (default 240): each bodyTimeoutMs must bring this many bytes
   * per second of it, or the body is cut with 408 as if it had stopped. 0: silence alone counts.
   */
  minBodyBytesPerSecond?: number;
  lingerMs?: number;
  closeTimeoutMs?: number;
  /** Requests served on one connection before it is closed. */
  maxRequestsPerConnection?: number;
  /** Open connections beyond which new ones are refused (closed at once). */
  maxConnections?: number;
  /**
   * Open connections one client may hold: an IPv4 address, or an IPv6 /64 (IPv4-mapped IPv6
   * counts as IPv4). A connection beyond it is closed as soon as it is accepted — before a byte is
   * read, before any TLS handshake — and counted in Server.connectionsRefusedPerClient. Unix-socket
   * clients have no address and are not limited. Default 256; Infinity for no per-client limit.
   */
  maxConnectionsPerClient?: number;
  maxPipelined?: number;
  /** HTTP/2 streams one session may have open at once (default 128). */
  maxConcurrentStreams?: number;
  maxDrainBytes?: number;
  writeHighWaterBytes?: number;
  /** The Server field: 'berth' by default (no version, to give attackers less); false for none. */
  serverHeader?: string | false;
  /** Called with handler errors (500s) and engine faults; default: one line to stderr with the stack. */
  onError?: (err: unknown) => void;
  /** Serve HTTPS: certificates (chosen by SNI) and whether to offer HTTP/2 through ALPN. */
  tls?: TlsOptions;
  /** Accept cleartext HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) beside HTTP/1.1. */
  h2c?: boolean;
};

export type EngineConfig = {
  readonly limits: Limits;
  readonly chunkedLimits: Pick<Limits, 'maxChunkExtensionBytes' | 'maxTrailerBytes'> & {
    readonly maxTrailerFields: number;
  };
  readonly headTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Body bytes (framing included) that must arrive for the body deadline to move on; 0: any. */
  readonly minBodyBytesPerTimeout: number;
  readonly lingerMs: number;
  readonly closeTimeoutMs: number;
  readonly maxRequests: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  readonly maxPipelined: number;
  readonly maxConcurrentStreams: number;
  readonly maxDrainBytes: number;
  readonly writeHighWaterBytes: number;
  readonly serverHeader: string | undefined;
  readonly onError: (err: unknown) => void;
  readonly tls: TlsOptions | undefined;
  readonly h2c: boolean;
};

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`option ${name} must be a positive number`);
  return value;
}

function defaultOnError(err: unknown): void {
  console.error('berth: handler error:', err);
}

/** Resolves options to the frozen configuration; throws RangeError for a nonsensical value. */
export function resolveConfig(options: ServerOptions = {}): EngineConfig {
  const limits = resolveLimits(options.limits);
  const bodyTimeoutMs = positive('bodyTimeoutMs', options.bodyTimeoutMs, BODY_TIMEOUT_MS);
  const minBodyRate = options.minBodyBytesPerSecond ?? MIN_BODY_BYTES_PER_SECOND;
  if (!Number.isFinite(minBodyRate) || minBodyRate < 0) {
    throw new RangeError('option minBodyBytesPerSecond must be a number >= 0');
  }
  return Object.freeze({
    limits,
    chunkedLimits: Object.freeze({
      maxChunkExtensionBytes: limits.maxChunkExtensionBytes,
      maxTrailerBytes: limits.maxTrailerBytes,
      maxTrailerFields: limits.maxHeaderFields,
    }),
    headTimeoutMs: positive('headTimeoutMs', options.headTimeoutMs, HEAD_TIMEOUT_MS),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, IDLE_TIMEOUT_MS),
    bodyTimeoutMs,
    minBodyBytesPerTimeout: Math.ceil((minBodyRate * bodyTimeoutMs) / 1000),
    lingerMs: positive('lingerMs', options.lingerMs, LINGER_MS),
    closeTimeoutMs: positive('closeTimeoutMs', options.closeTimeoutMs, CLOSE_TIMEOUT_MS),
    maxRequests: positive(
      'maxRequestsPerConnection',
      options.maxRequestsPerConnection,
      MAX_REQUESTS_PER_CONNECTION,
    ),
    maxConnections: positive('maxConnections', options.maxConnections, MAX_CONNECTIONS),
    maxConnectionsPerClient:
      options.maxConnectionsPerClient === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : positive('maxConnectionsPerClient', options.maxConnectionsPerClient, MAX_CONNECTIONS_PER_CLIENT),
    maxPipelined: positive('maxPipelined', options.maxPipelined, MAX_PIPELINED),
    maxConcurrentStreams: positive(
      'maxConcurrentStreams',
      options.maxConcurrentStreams,
      MAX_CONCURRENT_STREAMS,
    ),
    maxDrainBytes: positive('maxDrainBytes', options.maxDrainBytes, MAX_DRAIN_BYTES),
    writeHighWaterBytes: positive('writeHighWaterBytes', options.writeHighWaterBytes, WRITE_HIGH_WATER_BYTES),
    serverHeader: options.serverHeader === false ? undefined : (options.serverHeader ?? 'berth'),
    onError: options.onError ?? defaultOnError,
    tls: options.tls,
    h2c: options.h2c ?? false,
  });
}
