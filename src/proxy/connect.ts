/** CONNECT (RFC 9110 §9.3.6) for the forward proxy: a raw TCP tunnel to host:port. */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Request, Response } from '../handler/types.js';
import { answer } from './answer.js';
import { splitAuthority } from './target-uri.js';
import { relay } from './tunnel.js';
import { UpstreamError } from './upstream-types.js';

/** What a CONNECT needs from the forward proxy's configuration. */
export type ConnectConfig = {
  readonly connectPorts: ReadonlySet<number>;
  readonly tunnelConnectTimeoutMs: number;
  readonly tunnelIdleTimeoutMs: number;
  readonly log: (line: string) => void;
};

/**
 * Answers CONNECT host:port: only to `connectPorts` (403 else), a TCP connect with a timeout (502,
 * or 504 on timeout), then 200, takeOver() and a two-way relay with an idle timeout.
 */
export async function connectTunnel(req: Request, res: Response, config: ConnectConfig): Promise<void> {
  // The head parser accepted only `uri-host ":" port` here (RFC 9110 §9.3.6).
  const authority = splitAuthority(req.url, 0);
  if (authority === undefined || authority.port === 0) {
    answer(res, 400, 'CONNECT needs host:port');
    return;
  }
  if (!config.connectPorts.has(authority.port)) {
    config.log(`forward proxy: refused CONNECT ${req.url} from ${req.remoteAddress}: port not allowed`);
    answer(
      res,
      403,
      `CONNECT is allowed only to port${config.connectPorts.size === 1 ? '' : 's'} ${[...config.connectPorts].join(', ')}`,
    );
    return;
  }
  let upstream: net.Socket;
  try {
    upstream = await connectTcp(authority.host, authority.port, config.tunnelConnectTimeoutMs);
  } catch (err) {
    const timedOut = err instanceof UpstreamError && err.kind === 'timeout';
    config.log(`forward proxy: CONNECT ${req.url} failed: ${(err as Error).message}`);
    if (timedOut) answer(res, 504, `no connection to ${req.url} within ${config.tunnelConnectTimeoutMs} ms`);
    else answer(res, 502, `could not connect to ${req.url}: ${(err as Error).message}`);
    return;
  }
  // Until the relay owns it, an error on the idle upstream socket only destroys it.
  const early = (): void => {
    upstream.destroy();
  };
  upstream.on('error', early);
  res.statusCode = 200;
  let taken: { socket: Duplex; head: Buffer };
  try {
    taken = await res.takeOver();
  } catch (err) {
    upstream.destroy();
    throw err;
  } finally {
    upstream.off('error', early);
  }
  const { up, down } = await relay(taken.socket, taken.head, upstream, Buffer.alloc(0), {
    idleTimeoutMs: config.tunnelIdleTimeoutMs,
  });
  config.log(
    `forward proxy: tunnel ${req.url} for ${req.remoteAddress} closed: ${up} bytes up, ${down} down`,
  );
}

/** A TCP connection, half-open allowed (for the relay); rejects with UpstreamError('timeout') after timeoutMs. */
function connectTcp(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new UpstreamError('timeout', `connect timed out after ${timeoutMs} ms`, false));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
