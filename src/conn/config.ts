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
/** How long a closing connection keeps reading and dropping input so the client sees the response. */
export const LINGER_MS = 2_000;
/** How long server.close() waits for in-flight requests before cutting connections. */
export const CLOSE_TIMEOUT_MS = 10_000;
export const MAX_REQUESTS_PER_CONNECTION = 10_000;
export const MAX_CONNECTIONS = 10_000;
/** Requests parsed ahead of their responses on one connection before reading pauses. */
export const MAX_PIPELINED = 64;
/** An unread request body is read and dropped up to this size; beyond it the connection closes. */
export const MAX_DRAIN_BYTES = 1024 * 1024;
/** Bytes queued for the socket before res.write() returns false and reading pauses. */
export const WRITE_HIGH_WATER_BYTES = 64 * 1024;

export type ServerOptions = {
  /** Parser and body limits (see wire/limits.ts). */
  limits?: Partial<Limits>;
  headTimeoutMs?: number;
  idleTimeoutMs?: number;
  bodyTimeoutMs?: number;
  lingerMs?: number;
  closeTimeoutMs?: number;
  /** Requests served on one connection before it is closed. */
  maxRequestsPerConnection?: number;
  /** Open connections beyond which new ones are refused (closed at once). */
  maxConnections?: number;
  maxPipelined?: number;
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
  readonly lingerMs: number;
  readonly closeTimeoutMs: number;
  readonly maxRequests: number;
  readonly maxConnections: number;
  readonly maxPipelined: number;
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
  return Object.freeze({
    limits,
    chunkedLimits: Object.freeze({
      maxChunkExtensionBytes: limits.maxChunkExtensionBytes,
      maxTrailerBytes: limits.maxTrailerBytes,
      maxTrailerFields: limits.maxHeaderFields,
    }),
    headTimeoutMs: positive('headTimeoutMs', options.headTimeoutMs, HEAD_TIMEOUT_MS),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, IDLE_TIMEOUT_MS),
    bodyTimeoutMs: positive('bodyTimeoutMs', options.bodyTimeoutMs, BODY_TIMEOUT_MS),
    lingerMs: positive('lingerMs', options.lingerMs, LINGER_MS),
    closeTimeoutMs: positive('closeTimeoutMs', options.closeTimeoutMs, CLOSE_TIMEOUT_MS),
    maxRequests: positive(
      'maxRequestsPerConnection',
      options.maxRequestsPerConnection,
      MAX_REQUESTS_PER_CONNECTION,
    ),
    maxConnections: positive('maxConnections', options.maxConnections, MAX_CONNECTIONS),
    maxPipelined: positive('maxPipelined', options.maxPipelined, MAX_PIPELINED),
    maxDrainBytes: positive('maxDrainBytes', options.maxDrainBytes, MAX_DRAIN_BYTES),
    writeHighWaterBytes: positive('writeHighWaterBytes', options.writeHighWaterBytes, WRITE_HIGH_WATER_BYTES),
    serverHeader: options.serverHeader === false ? undefined : (options.serverHeader ?? 'berth'),
    onError: options.onError ?? defaultOnError,
    tls: options.tls,
    h2c: options.h2c ?? false,
  });
}
