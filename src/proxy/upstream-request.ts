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
import { isToken, isValidFieldValue } from '../http/field-syntax.js';
import { CRLF, chunkHeader, LAST_CHUNK, lastChunkWithTrailers } from '../wire/body-encoders.js';
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
  /** The head as a latin1 string (checked: one byte per character, no CR/LF/NUL in a field). */
  readonly head: string;
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
const NO_BODY: RequestBody = Object.freeze({ kind: 'none' });

/** Whether `req` has body bytes to read (then prepareRequest(), else prepareHead() will do). */
export function hasBody(req: UpstreamRequest): boolean {
  return req.body !== undefined && req.bodyLength !== 0;
}

/**
 * Builds the head of a request without body bytes to send, synchronously: the common case
 * (GET, HEAD, an empty POST) costs no promise. Throws TypeError for an invalid method, target,
 * field or bodyLength, or for a request that has body bytes (use prepareRequest()).
 * `upgrade`: the request asks for a protocol switch or a tunnel; an Upgrade request without a
 * Connection field gets `Connection: Upgrade` (RFC 9110 §7.8).
 */
export function prepareHead(target: UpstreamTarget, req: UpstreamRequest, upgrade: boolean): PreparedRequest {
  if (hasBody(req)) throw new TypeError('prepareHead() takes a request without body bytes');
  const head = headOf(target, req, upgrade, 'none');
  return { method: req.method, head, body: NO_BODY, replayable: IDEMPOTENT.has(req.method) };
}

/**
 * Builds the head and reads the first body chunk. Rejects with TypeError for an invalid method,
 * target, field or bodyLength (before any socket is touched), or with the body's own error.
 */
export async function prepareRequest(
  target: UpstreamTarget,
  req: UpstreamRequest,
  upgrade: boolean,
): Promise<PreparedRequest> {
  const { method, body, bodyLength } = req;
  if (body === undefined || bodyLength === 0) return prepareHead(target, req, upgrade);
  const kind = bodyLength === undefined ? 'chunked' : 'length';
  const head = headOf(target, req, upgrade, kind);
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
 * The head, checked and framed (see the module comment), in one pass over the caller's fields.
 * It is a string, not a Buffer: net.Socket writes a latin1 string without making a Buffer first
 * (decodeStrings is off), and a copy into a Buffer of our own would be one more per request.
 */
function headOf(
  target: UpstreamTarget,
  req: UpstreamRequest,
  upgrade: boolean,
  kind: RequestBody['kind'],
): string {
  const { method, body, bodyLength } = req;
  if (bodyLength !== undefined && !(Number.isSafeInteger(bodyLength) && bodyLength >= 0)) {
    throw new TypeError(`invalid bodyLength ${bodyLength}`);
  }
  if (body === undefined && bodyLength !== undefined && bodyLength > 0) {
    throw new TypeError('bodyLength without a body');
  }
  if (upgrade && kind !== 'none') throw new TypeError('an upgrade or CONNECT request has no body');
  if (!upgrade && method === 'CONNECT') throw new TypeError('CONNECT goes through upgrade()');
  if (!isToken(method)) throw new TypeError(`invalid method "${method}"`);
  const requestTarget = req.target;
  for (let i = 0; i < requestTarget.length; i++) {
    const c = requestTarget.charCodeAt(i);
    // RFC 9112 §3.2: the target has no whitespace; the parser refuses controls and non-ASCII too.
    if (c <= 0x20 || c >= 0x7f) throw new TypeError('invalid character in the request target');
  }
  let fields = '';
  let hasConnection = false;
  let hasUpgrade = false;
  let hasHost = false;
  for (const field of req.headers) {
    const name = field[0];
    const value = field[1];
    if (!isToken(name)) throw new TypeError(`invalid field name "${name}"`);
    // Only names of these lengths can be a framing, Host, Connection or Upgrade field.
    switch (name.length) {
      case 14:
      case 17:
        if (isNamed(name, 'content-length') || isNamed(name, 'transfer-encoding')) continue;
        break;
      case 4:
        if (isNamed(name, 'host')) hasHost = true;
        break;
      case 10:
        if (isNamed(name, 'connection')) hasConnection = true;
        break;
      case 7:
        if (isNamed(name, 'upgrade')) hasUpgrade = true;
        break;
    }
    if (!isValidFieldValue(value)) throw new TypeError(`invalid character in the value of "${name}"`);
    fields += `${name}: ${value}\r\n`;
  }
  let head = `${method} ${requestTarget} HTTP/1.1\r\n`;
  // RFC 9112 §3.2: "A client MUST send a Host header field in all HTTP/1.1 request messages."
  // For CONNECT it is the target's authority (RFC 9110 §9.3.6), not the upstream's.
  if (!hasHost) head += `Host: ${method === 'CONNECT' ? requestTarget : hostOf(target)}\r\n`;
  head += fields;
  if (upgrade && method !== 'CONNECT') {
    if (!hasUpgrade) throw new TypeError('upgrade() needs an Upgrade field');
    if (!hasConnection) head += 'Connection: Upgrade\r\n';
  }
  if (kind === 'length') head += `Content-Length: ${bodyLength}\r\n`;
  else if (kind === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  else if (
    method === 'POST' ||
    method === 'PUT' ||
    method === 'PATCH' ||
    (bodyLength === 0 && method !== 'CONNECT')
  ) {
    head += 'Content-Length: 0\r\n';
  }
  return `${head}\r\n`;
}

/**
 * Writes a request without body bytes: the head, in one write (no cork: there is nothing to
 * gather it with).
 */
export function writeBodiless(socket: net.Socket, req: PreparedRequest, state: WriteState): void {
  state.requestSent = true;
  socket.write(req.head, 'latin1');
  state.writeDone = true;
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
  if (body.kind === 'none') {
    writeBodiless(socket, req, state);
    return;
  }
  state.requestSent = true;
  socket.cork();
  socket.write(req.head, 'latin1');
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
