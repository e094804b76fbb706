/**
 * The request side of an upstream exchange: the head (framing fields chosen here, never by the
 * caller) and the body, written with backpressure.
 *
 * Framing (RFC 9112 §6.1, §6.2): a body of known length goes with Content-Length, any other body
 * chunked (RFC 9112 §7.1), with the caller's trailers after the last chunk. Whatever
 * Content-Length or Transfer-Encoding the caller passed is dropped: two framings for one message
 * is how request smuggling starts (RFC 9112 §6.3 ¶3). POST, PUT and PATCH without a body say
 * `Content-Length: 0` (RFC 9110 §8.6: a user agent SHOULD send it when the method defines a
 * meaning for content), which also spares the upstream a 411; so does a body the caller says is
 * empty (`bodyLength: 0`), whose iterable is then not read. A request without Host gets the
 * target's authority (RFC 9112 §3.2).
 *
 * The first body chunk is read before a socket is taken, so the head and that chunk leave in one
 * write (cork/uncork), and a stale pooled socket can be swapped for a fresh one with the chunk
 * still in hand. Chunks are written as given (views, never copied).
 */
import type net from 'node:net';
import { CRLF, chunkHeader, LAST_CHUNK, lastChunkWithTrailers } from '../wire/body-encoders.js';
import { writeRequestHead } from '../wire/head-writer.js';
import type { FieldList, UpstreamRequest, UpstreamTarget } from './upstream-types.js';

export type RequestBody =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'length';
      readonly length: number;
      readonly first: IteratorResult<Buffer>;
      readonly rest: AsyncIterator<Buffer>;
    }
  | {
      readonly kind: 'chunked';
      readonly first: IteratorResult<Buffer>;
      readonly rest: AsyncIterator<Buffer>;
      readonly trailers: (() => FieldList) | undefined;
    };

/** A request ready to write, possibly twice (see the pool's stale-socket retry). */
export type PreparedRequest = {
  readonly method: string;
  readonly head: Buffer;
  readonly body: RequestBody;
  /** Idempotent (RFC 9110 §9.2.2) with no body: safe to send again after a reset. */
  readonly replayable: boolean;
};

/** What the writer reports to, and is stopped by: the exchange on the connection. */
export interface WriteState {
  /** False once the exchange is over (answered early, failed, aborted): stop writing. */
  readonly active: boolean;
  /** Set before the first byte is handed to the socket. */
  requestSent: boolean;
  /** Set once the last byte is handed to the socket. */
  writeDone: boolean;
}

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const CONTENT_LENGTH_ZERO: readonly [string, string] = ['Content-Length', '0'];
const CHUNKED: readonly [string, string] = ['Transfer-Encoding', 'chunked'];
const CONNECTION_UPGRADE: readonly [string, string] = ['Connection', 'Upgrade'];

/**
 * Builds the head and reads the first body chunk. Rejects with TypeError for an invalid method,
 * target, field or bodyLength (before any socket is touched), or with the body's own error.
 * `upgrade`: the request asks for a protocol switch or a tunnel; it carries no body, and an
 * Upgrade request without a Connection field gets `Connection: Upgrade` (RFC 9110 §7.8).
 */
export async function prepareRequest(
  target: UpstreamTarget,
  req: UpstreamRequest,
  upgrade: boolean,
): Promise<PreparedRequest> {
  const { method, body, bodyLength } = req;
  if (bodyLength !== undefined && !(Number.isSafeInteger(bodyLength) && bodyLength >= 0)) {
    throw new TypeError(`invalid bodyLength ${bodyLength}`);
  }
  if (body === undefined && bodyLength !== undefined && bodyLength > 0) {
    throw new TypeError('bodyLength without a body');
  }
  if (upgrade && body !== undefined && bodyLength !== 0) {
    throw new TypeError('an upgrade or CONNECT request has no body');
  }
  if (!upgrade && method === 'CONNECT') throw new TypeError('CONNECT goes through upgrade()');
  const fields: (readonly [string, string])[] = [];
  let hasConnection = false;
  let hasUpgrade = false;
  let hasHost = false;
  for (const field of req.headers) {
    const name = field[0];
    if (isNamed(name, 'content-length') || isNamed(name, 'transfer-encoding')) continue;
    if (isNamed(name, 'host')) hasHost = true;
    else if (isNamed(name, 'connection')) hasConnection = true;
    else if (isNamed(name, 'upgrade')) hasUpgrade = true;
    fields.push(field);
  }
  // RFC 9112 §3.2: "A client MUST send a Host header field in all HTTP/1.1 request messages."
  // For CONNECT it is the target's authority (RFC 9110 §9.3.6), not the upstream's.
  if (!hasHost) fields.unshift(['Host', method === 'CONNECT' ? req.target : hostOf(target)]);
  if (upgrade && method !== 'CONNECT') {
    if (!hasUpgrade) throw new TypeError('upgrade() needs an Upgrade field');
    if (!hasConnection) fields.push(CONNECTION_UPGRADE);
  }
  let kind: RequestBody['kind'] = 'none';
  if (body !== undefined && bodyLength !== 0) {
    kind = bodyLength === undefined ? 'chunked' : 'length';
    fields.push(bodyLength === undefined ? CHUNKED : ['Content-Length', String(bodyLength)]);
  } else if (
    method === 'POST' ||
    method === 'PUT' ||
    method === 'PATCH' ||
    (bodyLength === 0 && method !== 'CONNECT')
  ) {
    fields.push(CONTENT_LENGTH_ZERO);
  }
  // Throws TypeError for a method, target or field that could split the head.
  const head = writeRequestHead(method, req.target, fields);
  if (kind === 'none' || body === undefined) {
    return { method, head, body: { kind: 'none' }, replayable: IDEMPOTENT.has(method) };
  }
  const rest = body[Symbol.asyncIterator]();
  const first = await rest.next();
  return {
    method,
    head,
    replayable: false,
    body:
      kind === 'length'
        ? { kind, length: bodyLength!, first, rest }
        : { kind: 'chunked', first, rest, trailers: req.trailers },
  };
}

/**
 * Writes the request: head and first chunk in one write, then each chunk as the socket drains.
 * Resolves once the last byte is handed to the socket (state.writeDone), or early when the
 * exchange stops being active. Rejects with the body's own error, a RangeError when the body's
 * size differs from bodyLength, or a TypeError from invalid trailers.
 */
export async function writeRequest(
  socket: net.Socket,
  req: PreparedRequest,
  state: WriteState,
): Promise<void> {
  const body = req.body;
  state.requestSent = true;
  socket.cork();
  socket.write(req.head);
  if (body.kind === 'none') {
    state.writeDone = true;
    socket.uncork();
    return;
  }
  try {
    if (body.kind === 'length') await writeLength(socket, body, state);
    else await writeChunked(socket, body, state);
  } finally {
    if (!state.writeDone) closeSource(body.rest);
  }
}

async function writeLength(
  socket: net.Socket,
  body: Extract<RequestBody, { kind: 'length' }>,
  state: WriteState,
): Promise<void> {
  let written = 0;
  let step = body.first;
  let corked = true;
  while (!step.done) {
    const chunk = step.value;
    written += chunk.length;
    if (written > body.length) throw new RangeError('the request body is longer than bodyLength');
    const ok = socket.write(chunk);
    if (corked) {
      corked = false;
      socket.uncork();
    }
    if (written === body.length) break;
    if (!ok) await drained(socket);
    if (stopped(socket, state)) return;
    step = await body.rest.next();
    if (stopped(socket, state)) return;
  }
  if (corked) socket.uncork();
  if (written < body.length) throw new RangeError('the request body is shorter than bodyLength');
  state.writeDone = true;
  // Every byte is out. Let the source reach its end (bytes past bodyLength are never sent).
  if (!step.done) closeSource(body.rest);
}

async function writeChunked(
  socket: net.Socket,
  body: Extract<RequestBody, { kind: 'chunked' }>,
  state: WriteState,
): Promise<void> {
  let step = body.first;
  // The socket is corked here: the head is waiting for the first chunk.
  for (;;) {
    if (step.done) {
      socket.write(body.trailers === undefined ? LAST_CHUNK : lastChunkWithTrailers(body.trailers()));
      state.writeDone = true;
      socket.uncork();
      return;
    }
    const chunk = step.value;
    let ok = true;
    // An empty chunk would read as the last-chunk (RFC 9112 §7.1); skip it.
    if (chunk.length > 0) {
      socket.write(chunkHeader(chunk.length));
      socket.write(chunk);
      ok = socket.write(CRLF);
    }
    socket.uncork();
    if (!ok) await drained(socket);
    if (stopped(socket, state)) return;
    step = await body.rest.next();
    if (stopped(socket, state)) return;
    socket.cork();
  }
}

/** The exchange is over, or its socket is (its 'close' will end the exchange). */
function stopped(socket: net.Socket, state: WriteState): boolean {
  return !state.active || socket.destroyed;
}

/** Resolves when the socket wants more bytes, or is gone (the connection reports why). */
function drained(socket: net.Socket): Promise<void> {
  if (socket.destroyed || !socket.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Lets a body source we stopped reading release what it holds; its errors are not ours now. */
function closeSource(source: AsyncIterator<Buffer>): void {
  if (source.return === undefined) return;
  source.return().catch(() => {});
}

/** The Host a target implies when the caller gave none: the authority, default port left out. */
function hostOf(target: UpstreamTarget): string {
  if (target.kind === 'unix') return 'localhost';
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.port === (target.tls ? 443 : 80) ? host : `${host}:${target.port}`;
}

/** Case-insensitive name comparison without allocating for the names that differ in length. */
function isNamed(name: string, lower: string): boolean {
  return name.length === lower.length && name.toLowerCase() === lower;
}
