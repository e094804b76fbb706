/**
 * One upstream socket and the exchanges it carries, one at a time.
 *
 * Life of an exchange: the pool hands a connected socket to send(). The request is written
 * (upstream-request.ts) while the response is read from 'data' events in the same turn of
 * events: the head through ResponseParser, 1xx interim heads reported and skipped (RFC 9110
 * §15.2), the framing decided once by responseFraming() (RFC 9112 §6.3), then the body through
 * the length count or ChunkedDecoder into an UpstreamBody. The promise settles at the final head;
 * the body streams on. Reading state and writing state are kept apart and the socket's reuse is
 * derived from the pair: it goes back to the pool only when the request was all written, the
 * response was all read with nothing after it, and neither side said close (RFC 9112 §9.3).
 * A response that ends before the request was all sent (an early 413) ends the exchange and the
 * socket, so the writer is never left waiting on an upstream that stopped reading.
 *
 * Every failure ends in fail(): the socket is destroyed and the error goes to whoever is waiting
 * (the head promise, or the body iterator). A 'reset' on a socket that served an exchange
 * before, with no response byte seen, goes back to the pool (owner.replay()) to be sent once
 * more on a fresh socket, when that is safe (nothing sent, or idempotent without a
 * body, RFC 9112 §9.3.1).
 *
 * One socket timer serves every phase: connect timeout while connecting, response timeout while
 * an exchange waits on the upstream (it is off while the body consumer holds bytes), idle
 * timeout while pooled, counted by SilenceTimer (silence-timer.ts) so that going from the pool to
 * an exchange and back changes no timer.
 */
import type net from 'node:net';
import { ChunkedDecoder } from '../wire/chunked-decoder.js';
import { responseFraming } from '../wire/framing.js';
import type { ResponseHead } from '../wire/head.js';
import { ResponseParser } from '../wire/head-parser.js';
import { DEFAULT_LIMITS } from '../wire/limits.js';
import { SilenceTimer } from './silence-timer.js';
import { type BodySource, UpstreamBody } from './upstream-body.js';
import { abortReason, asError, type Exchange, pairs, Response } from './upstream-exchange.js';
import { writeBodiless, writeRequest } from './upstream-request.js';
import { openSocket, type SocketSettings, socketError } from './upstream-socket.js';
import { type FieldList, UpstreamError, type UpstreamTarget } from './upstream-types.js';

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The exchange ended cleanly and the socket may carry another. */
  released(conn: UpstreamConnection): void;
  /**
   * The socket was stale (closed by the upstream under a reused connection, nothing of the
   * response seen) and `ex` is safe to send again: the pool sends it on a fresh socket once,
   * or rejects it with `err`.
   */
  replay(ex: Exchange, err: UpstreamError): void;
  /** The socket closed, or was handed over by an upgrade; called once. */
  gone(conn: UpstreamConnection): void;
}

export type ConnectionTimeouts = {
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly idleTimeoutMs: number;
};

const CHUNKED_LIMITS = {
  maxChunkExtensionBytes: DEFAULT_LIMITS.maxChunkExtensionBytes,
  maxTrailerBytes: DEFAULT_LIMITS.maxTrailerBytes,
  maxTrailerFields: DEFAULT_LIMITS.maxHeaderFields,
};

const READ_HEAD = 0;
const READ_LENGTH = 1;
const READ_CHUNKED = 2;
const READ_CLOSE = 3;
const READ_DONE = 4;

export class UpstreamConnection implements BodySource {
  readonly socket: net.Socket;
  /** Resolves once connected (TLS: handshake done and verified); rejects with an UpstreamError. */
  readonly ready: Promise<void>;
  /** Exchanges completed on this socket. */
  uses = 0;
  /** Counted in its pool's open sockets; cleared once, by the pool. */
  counted = true;
  private readonly owner: ConnectionOwner;
  private readonly timeouts: ConnectionTimeouts;
  private readonly secure: boolean;
  private connecting = true;
  private idle = false;
  private readonly timer: SilenceTimer;
  private bodyPaused = false;
  /** Inside onData: a pause the body asks for waits for the end of the read (see pauseBody). */
  private inData = false;
  private pauseWanted = false;
  private exchange: Exchange | undefined = undefined;
  private reading = READ_DONE;
  private remaining = 0;
  private readonly parser = new ResponseParser();
  private readonly decoder = new ChunkedDecoder(CHUNKED_LIMITS);
  private settleReady: ((err: UpstreamError | undefined) => void) | undefined;

  constructor(
    target: UpstreamTarget,
    settings: SocketSettings,
    timeouts: ConnectionTimeouts,
    owner: ConnectionOwner,
  ) {
    this.owner = owner;
    this.timeouts = timeouts;
    this.secure = target.kind === 'tcp' && target.tls;
    const socket = openSocket(target, settings);
    this.socket = socket;
    this.timer = new SilenceTimer(
      socket,
      timeouts.connectTimeoutMs,
      Math.min(timeouts.idleTimeoutMs, timeouts.responseTimeoutMs),
    );
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = (err) => {
        this.settleReady = undefined;
        if (err === undefined) {
          resolve();
          return;
        }
        // Free the pool slot now, not at 'close' a turn later, so stats() agree with the error.
        socket.destroy();
        owner.gone(this);
        reject(err);
      };
    });
    socket.once(this.secure ? 'secureConnect' : 'connect', this.onConnect);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
  }

  /** Whether a pooled socket can take an exchange (the upstream may have closed it meanwhile). */
  get usable(): boolean {
    const s = this.socket;
    return !s.destroyed && s.writable && !s.readableEnded;
  }

  /** Pools the socket: it idles, unref'd, until taken or until the idle timeout closes it. */
  park(): void {
    this.idle = true;
    this.socket.unref();
  }

  /**
   * Starts `ex` on this socket; the exchange settles its own promise at the final response head
   * (or the 101 / tunnel answer when it is an upgrade): with UpstreamError, the body's error or
   * the abort reason, or through the owner's replay() when the socket turns out stale.
   */
  send(ex: Exchange): void {
    const signal = ex.options.signal;
    if (signal?.aborted) {
      // Aborted while the socket was being found: it is unused, so it goes back.
      this.owner.released(this);
      ex.reject(abortReason(signal));
      return;
    }
    if (!this.usable) {
      this.socket.destroy();
      const err = new UpstreamError('reset', 'the upstream closed the connection', false);
      if (this.uses > 0) this.owner.replay(ex, err);
      else ex.reject(err);
      return;
    }
    this.exchange = ex;
    this.idle = false;
    this.reading = READ_HEAD;
    this.socket.ref();
    // The write about to happen restarts the timer; only a count of earlier silence is undone.
    this.timer.backToTick();
    signal?.addEventListener('abort', this.onAbort);
    if (ex.request.body.kind === 'none') writeBodiless(this.socket, ex.request, ex);
    else writeRequest(this.socket, ex.request, ex).catch((err: unknown) => this.fail(ex, asError(err)));
  }

  /**
   * Inside a read, the pause waits for the read's end: a body that arrives whole in one read
   * (the usual small response) then never pauses and resumes its socket, which costs a
   * readStop, a readStart, a nextTick and two timer changes.
   */
  pauseBody(): void {
    if (this.exchange === undefined || this.bodyPaused) return;
    if (this.inData) {
      this.pauseWanted = true;
      return;
    }
    this.bodyPaused = true;
    this.timer.arm(0);
    this.socket.pause();
  }

  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.timer.arm(this.timer.tick);
    this.socket.resume();
  }

  abortBody(reason: Error): void {
    if (this.exchange !== undefined) this.fail(this.exchange, reason);
  }

  private readonly onConnect = (): void => {
    this.connecting = false;
    this.timer.arm(this.timer.tick);
    this.settleReady?.(undefined);
  };

  private readonly onData = (buf: Buffer): void => {
    const ex = this.exchange;
    if (ex === undefined) {
      // Bytes no request asked for: whatever they are, the framing of this socket is lost.
      this.socket.destroy();
      return;
    }
    ex.responseStarted = true;
    if (!this.bodyPaused) this.timer.backToTick();
    const end = buf.length;
    let pos = 0;
    this.inData = true;
    try {
      while (pos < end && this.exchange === ex) {
        switch (this.reading) {
          case READ_HEAD: {
            const head = this.parser.push(buf, pos, end);
            pos += this.parser.consumed;
            if (head !== undefined) pos = this.onHead(ex, head, buf, pos);
            break;
          }
          case READ_LENGTH: {
            const n = Math.min(this.remaining, end - pos);
            ex.body!.push(pos === 0 && n === end ? buf : buf.subarray(pos, pos + n));
            pos += n;
            this.remaining -= n;
            if (this.remaining === 0) this.finishResponse(ex, [], pos < end);
            break;
          }
          case READ_CHUNKED:
            pos += this.decoder.push(buf, pos, end, this.onChunk);
            if (this.decoder.done) this.finishResponse(ex, pairs(this.decoder.trailers), pos < end);
            break;
          case READ_CLOSE:
            ex.body!.push(pos === 0 ? buf : buf.subarray(pos));
            pos = end;
            break;
          default:
            pos = end;
        }
      }
    } catch (err) {
      this.fail(ex, asError(err));
    } finally {
      this.inData = false;
      if (this.pauseWanted) {
        this.pauseWanted = false;
        // Still the same exchange, its body not yet all here: the consumer holds bytes.
        if (this.exchange === ex) this.pauseBody();
      }
    }
  };

  private readonly onChunk = (chunk: Buffer): void => {
    this.exchange!.body!.push(chunk);
  };

  /** Takes a complete head; returns where the bytes after it start. */
  private onHead(ex: Exchange, head: ResponseHead, buf: Buffer, pos: number): number {
    this.parser.reset();
    const status = head.status;
    const method = ex.request.method;
    if (status === 101 || (method === 'CONNECT' && status >= 200 && status < 300)) {
      // RFC 9110 §15.2.2: a server sends 101 only in answer to an Upgrade request.
      if (!ex.upgrade) throw new UpstreamError('protocol', `unrequested ${status} from the upstream`, true);
      this.detach(ex, head, buf.subarray(pos));
      return buf.length;
    }
    if (status < 200) {
      ex.options.onInformational?.(status, pairs(head.rawHeaders));
      return pos;
    }
    const framing = responseFraming(head.facts, status, method);
    ex.keepAlive = head.keepAlive;
    const body = new UpstreamBody(this);
    ex.body = body;
    ex.headSettled = true;
    // The caller runs in a later microtask, after this read is done: a body that came with the
    // head is already in `body` (often complete) by the time it looks.
    ex.resolve(new Response(status, head.reason, head.rawHeaders, body));
    switch (framing.kind) {
      case 'none':
        this.finishResponse(ex, [], pos < buf.length);
        break;
      case 'length':
        this.remaining = framing.length;
        this.reading = READ_LENGTH;
        break;
      case 'chunked':
        this.decoder.reset();
        this.reading = READ_CHUNKED;
        break;
      case 'close':
        ex.keepAlive = false;
        this.reading = READ_CLOSE;
        break;
    }
    return pos;
  }

  /** The response is complete; `extra`: bytes followed it that no request asked for. */
  private finishResponse(ex: Exchange, trailers: FieldList, extra: boolean): void {
    this.reading = READ_DONE;
    ex.body!.end(trailers);
    // Reuse needs both sides done and nothing stray on the wire.
    const reuse = ex.keepAlive && ex.writeDone && !extra && this.usable;
    this.endExchange(ex);
    this.uses++;
    if (reuse) this.owner.released(this);
    else this.socket.destroy();
  }

  /** Hands the socket over for relaying (101, or a 2xx to CONNECT), paused, outside the pool. */
  private detach(ex: Exchange, head: ResponseHead, rest: Buffer): void {
    this.endExchange(ex);
    const socket = this.socket;
    socket.pause();
    this.timer.arm(0);
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.off('timeout', this.onTimeout);
    // Keep a listener, so an error before the new owner adds its own does not crash the process.
    socket.off('error', this.onError);
    socket.on('error', ignore);
    this.owner.gone(this);
    ex.headSettled = true;
    ex.resolve({
      status: head.status,
      reason: head.reason,
      headers: pairs(head.rawHeaders),
      socket,
      head: rest,
    });
  }

  private endExchange(ex: Exchange): void {
    ex.active = false;
    this.exchange = undefined;
    this.reading = READ_DONE;
    ex.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.bodyPaused) {
      this.bodyPaused = false;
      this.timer.arm(this.timer.tick);
      this.socket.resume();
    }
  }

  /** Ends the exchange with `err` and destroys the socket. */
  private fail(ex: Exchange, err: Error): void {
    if (this.exchange !== ex) return;
    this.endExchange(ex);
    this.socket.destroy();
    if (ex.headSettled) {
      ex.body?.fail(err);
      return;
    }
    const stale =
      err instanceof UpstreamError &&
      err.kind === 'reset' &&
      this.uses > 0 &&
      !ex.responseStarted &&
      (!ex.requestSent || ex.request.replayable);
    if (stale) this.owner.replay(ex, err);
    else ex.reject(err);
  }

  private readonly onEnd = (): void => {
    const ex = this.exchange;
    if (ex !== undefined) {
      if (this.reading === READ_CLOSE) {
        // RFC 9112 §6.3 ¶8: a body without length or chunked framing ends at the close.
        this.finishResponse(ex, [], false);
      } else {
        const message =
          this.reading === READ_HEAD
            ? 'the upstream closed the connection before a complete response head'
            : 'the upstream closed the connection before the response body ended';
        this.fail(ex, new UpstreamError('reset', message, ex.requestSent || this.reading !== READ_HEAD));
      }
    }
    this.socket.destroy();
  };

  private readonly onError = (err: Error): void => {
    if (this.connecting) {
      this.settleReady?.(socketError(err, true, this.secure, false));
      return;
    }
    const ex = this.exchange;
    if (ex !== undefined) this.fail(ex, socketError(err, false, this.secure, ex.requestSent));
  };

  private readonly onClose = (): void => {
    this.settleReady?.(
      new UpstreamError('connect', 'the upstream closed the connection while connecting', false),
    );
    const ex = this.exchange;
    if (ex !== undefined) {
      this.fail(ex, new UpstreamError('reset', 'the upstream connection closed', ex.requestSent));
    }
    this.owner.gone(this);
  };

  private readonly onTimeout = (): void => {
    const ex = this.exchange;
    if (this.connecting) {
      this.settleReady?.(
        new UpstreamError(
          'timeout',
          `no connection to the upstream within ${this.timeouts.connectTimeoutMs} ms`,
          false,
        ),
      );
      this.socket.destroy();
      return;
    }
    const limit =
      ex !== undefined
        ? this.timeouts.responseTimeoutMs
        : this.idle
          ? this.timeouts.idleTimeoutMs
          : undefined;
    // Not this phase's limit yet: the timer waits out the rest.
    if (limit === undefined || !this.timer.expired(limit)) return;
    if (ex !== undefined) {
      const what = this.reading === READ_HEAD ? 'no response head' : 'no response body bytes';
      this.fail(
        ex,
        new UpstreamError(
          'timeout',
          `${what} from the upstream for ${this.timeouts.responseTimeoutMs} ms`,
          ex.requestSent,
        ),
      );
    }
    this.socket.destroy();
  };

  private readonly onAbort = (): void => {
    const ex = this.exchange;
    if (ex === undefined) return;
    this.fail(ex, abortReason(ex.options.signal));
  };
}

function ignore(): void {}
