/**
 * Upstream servers on 127.0.0.1 (or a unix socket) for the upstream client's tests: node:http
 * servers, raw net servers that send exactly the bytes a test gives, and helpers to read bodies.
 * Every server counts the connections it accepted and closes them all on close().
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { UpstreamTarget } from './upstream-types.js';

export type TestUpstream = {
  readonly target: UpstreamTarget;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Connections open now. */
  readonly openSockets: () => number;
  close(): Promise<void>;
};

type Listening = http.Server | https.Server | net.Server;

async function track(
  server: Listening,
  listen: { port: 0; host: string } | { path: string },
): Promise<TestUpstream> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(listen, resolve));
  const address = server.address();
  const target: UpstreamTarget =
    'path' in listen
      ? { kind: 'unix', path: listen.path }
      : {
          kind: 'tcp',
          host: '127.0.0.1',
          port: (address as net.AddressInfo).port,
          tls: server instanceof https.Server,
        };
  return {
    target,
    connections: () => accepted,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A node:http upstream; `path` listens on a unix socket instead of 127.0.0.1. */
export function httpUpstream(
  handler: http.RequestListener,
  options: { path?: string; setup?: (server: http.Server) => void } = {},
): Promise<TestUpstream> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 10_000;
  options.setup?.(server);
  return track(server, options.path === undefined ? { port: 0, host: '127.0.0.1' } : { path: options.path });
}

/** A node:https upstream with the given certificate. */
export function httpsUpstream(
  cert: string,
  key: string,
  handler: http.RequestListener,
): Promise<TestUpstream> {
  return track(https.createServer({ cert, key }, handler), { port: 0, host: '127.0.0.1' });
}

/** A raw upstream: `onSocket` gets each accepted socket and writes what the test needs. */
export function rawUpstream(onSocket: (socket: net.Socket) => void): Promise<TestUpstream> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    onSocket(socket);
  });
  return track(server, { port: 0, host: '127.0.0.1' });
}

/**
 * Calls `onRequest(socket, index)` for each request head (bodiless requests only) arriving on
 * `socket`, index counting from 0 on that connection.
 */
export function onRequestHeads(
  socket: net.Socket,
  onRequest: (socket: net.Socket, index: number) => void,
): void {
  let pending = '';
  let index = 0;
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
      pending = pending.slice(end + 4);
      onRequest(socket, index++);
    }
  });
}

/** A TCP port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The whole body; the test-only place where a body is buffered. */
export async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** An async iterable over the given pieces, as a streamed request body. */
export async function* streamOf(...pieces: string[]): AsyncGenerator<Buffer> {
  for (const piece of pieces) {
    await new Promise((resolve) => setImmediate(resolve));
    yield Buffer.from(piece);
  }
}

/** Waits until `predicate` holds, polling; rejects after `ms`. */
export async function eventually(predicate: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
