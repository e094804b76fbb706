/**
 * Connection: one client socket, read as a sequence of HTTP/1.1 requests and written as the
 * matching sequence of responses.
 *
 * The life of a request:
 * 1. A read arrives (onData). The socket is not written during the read: output is batched.
 * 2. The head parser consumes bytes until a head is complete. Its framing was decided once, by the
 *    parser (RFC 9112 §6.3); a body, if any, is fed from the following bytes to the request.
 * 3. A ServerRequest and ServerResponse are made, the response joins the queue, and the handler is
 *    called at once — before the rest of the read is parsed, so pipelined requests run concurrently.
 * 4. The response writes its head and body as views (mostly into the shared slab). Only the
 *    response at the front of the queue reaches the socket; later ones are held until it finishes,
 *    so responses leave strictly in request order (RFC 9112 §9.3.2).
 * 5. At the end of the read, everything produced is written at once: adjacent slab views are
 *    merged, so sixteen pipelined hello-worlds leave in a single write.
 * 6. When the front response finishes, the next one is promoted and its held bytes flushed. If the
 *    finished one said close, the socket is ended after the flush and lingers briefly so the client
 *    reads the response before any reset.
 *
 * Reading and writing states are kept apart: `reading` says what the next input byte is; the
 * queue says what is owed. Keep-alive follows from both (see mayKeepAlive()).
 */
import type { Socket } from 'node:net';
import { HttpError } from '../handler/http-error.js';
import type { Handler } from '../handler/types.js';
import { ChunkedDecoder } from '../wire/chunked-decoder.js';
import type { RequestHead } from '../wire/head.js';
import { RequestParser } from '../wire/head-parser.js';
import { ParseError } from '../wire/parse-error.js';
import type { EngineConfig } from './config.js';
import { OutputBatch } from './output-batch.js';
import { type BodySource, ServerRequest } from './request.js';
import { type ResponseSink, ServerResponse } from './response.js';

enum Reading {
  Head = 0,
  Body = 1,
  /** Nothing more is parsed; input is read and dropped until the socket closes (lingering close). */
  Closed = 2,
}

enum Pause {
  Write = 1,
  Body = 2,
  Pipeline = 4,
}

/** What the connection waits for when its deadline passes. */
enum Wait {
  None = 0,
  Head = 1,
  Idle = 2,
  Body = 3,
  Write = 4,
  Linger = 5,
}

/** Body bytes buffered for a handler that is not reading them before reading is paused. */
const BODY_HIGH_WATER_BYTES = 64 * 1024;
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const H2_PREFACE_LINE = Buffer.from('PRI * HTTP/2.0\r\n', 'latin1');

/** The server side a connection reports to. */
export interface ConnectionOwner {
  readonly config: EngineConfig;
  readonly handler: Handler;
  /** Coarse clock in ms, advanced by the owner's sweep; deadlines are compared against it. */
  readonly now: number;
  readonly closing: boolean;
  forget(conn: Connection): void;
  reportError(err: unknown): void;
  /** Takes over a socket that turned out to speak HTTP/2 (h2c with prior knowledge). */
  acceptHttp2(socket: Socket): void;
}

export class Connection implements ResponseSink, BodySource {
  /** Deadline in coarse ms (0: none) and what it is for; checked by the owner's sweep. */
  deadline = 0;
  private wait: Wait = Wait.Head;
  private reading: Reading = Reading.Head;
  private readonly parser: RequestParser;
  private readonly config: EngineConfig;
  /** Responses owed, oldest first, linked through res.next (no array: idle connections stay small). */
  private first: ServerResponse | undefined = undefined;
  private last: ServerResponse | undefined = undefined;
  private owed = 0;
  private requests = 0;
  private closing = false;
  private ended = false;
  private paused = 0;
  private stash: Buffer | undefined = undefined;
  private bodyReq: ServerRequest | undefined = undefined;
  private bodyRemaining = 0;
  private bodyChunked = false;
  /** Body bytes read since the body deadline last moved (see bodyArrived()). */
  private bodyWindowBytes = 0;
  private decoder: ChunkedDecoder | undefined = undefined;
  private discarding = false;
  private discarded = 0;
  private continueOwed: ServerRequest | undefined = undefined;
  /** A CONNECT or Upgrade request whose answer decides whether the bytes after it are HTTP. */
  private switching: ServerResponse | undefined = undefined;
  private readonly output: OutputBatch;
  private peerAddress: string | undefined = undefined;
  private peerPort = 0;
  /** Made on the first chunked body only: most connections never need it. */
  private deliverBound: ((chunk: Buffer) => void) | undefined = undefined;

  constructor(
    private readonly socket: Socket,
    private readonly owner: ConnectionOwner,
  ) {
    this.config = owner.config;
    this.parser = new RequestParser(this.config.limits);
    this.output = new OutputBatch(socket, this);
    this.deadline = owner.now + this.config.headTimeoutMs;
    socket.setNoDelay(true);
    // Shared listener functions find the connection on the socket: no closures per connection.
    (socket as OwnedSocket)[CONNECTION] = this;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  get serverHeader(): string | undefined {
    return this.config.serverHeader;
  }

  get maxBufferedBodyBytes(): number {
    return this.config.limits.maxBufferedBodyBytes;
  }

  get remoteAddress(): string {
    if (this.peerAddress === undefined) {
      this.peerAddress = this.socket.remoteAddress ?? '';
      this.peerPort = this.socket.remotePort ?? 0;
    }
    return this.peerAddress;
  }

  get remotePort(): number {
    if (this.peerAddress === undefined) void this.remoteAddress;
    return this.peerPort;
  }

  /** True when nothing is owed and no request is partly received: safe to close at once. */
  get idle(): boolean {
    return this.owed === 0 && this.reading === Reading.Head && !this.parser.started;
  }

  /** Graceful shutdown: finish what is owed, take no new requests, then close. */
  shutdown(): void {
    this.closing = true;
    if (this.idle) this.endSocket();
  }

  /** Cuts the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  onData(chunk: Buffer): void {
    if (this.reading === Reading.Closed) return;
    if (this.stash !== undefined) {
      // Still waiting for the pipeline to shorten: keep input in order behind what is stashed.
      this.stash = Buffer.concat([this.stash, chunk]);
      return;
    }
    const output = this.output;
    output.holding = true;
    this.process(chunk, 0);
    output.holding = false;
    output.flush();
  }

  /** Parses buf from pos: heads, bodies, and the heads of pipelined requests after them. */
  private process(buf: Buffer, pos: number): void {
    const end = buf.length;
    let headStart = pos;
    try {
      while (pos < end) {
        if (this.reading === Reading.Body) {
          pos = this.readBody(buf, pos, end);
          continue;
        }
        if (this.reading === Reading.Closed) return;
        if (this.closing) {
          // After a request that ends the connection nothing more is parsed (RFC 9112 §9.6).
          this.reading = Reading.Closed;
          return;
        }
        if (this.mustWait()) {
          this.stash = buf.subarray(pos);
          this.pause(Pause.Pipeline);
          return;
        }
        if (!this.parser.started) this.setDeadline(Wait.Head, this.config.headTimeoutMs);
        headStart = pos;
        const head = this.parser.push(buf, pos, end);
        pos += this.parser.consumed;
        if (head === undefined) return;
        this.parser.reset();
        this.onHead(head);
      }
    } catch (err) {
      if (err instanceof ParseError && err.code === 'http2-preface' && this.mayHandOver()) {
        // The preface's first line ends at the first LF of this read (the parser judges a line
        // when its LF arrives); HTTP/2 gets that line back, then everything after it.
        const lineEnd = buf.indexOf(0x0a, headStart) + 1;
        this.handOverToHttp2(Buffer.concat([H2_PREFACE_LINE, buf.subarray(lineEnd)]));
        return;
      }
      this.onReadError(err);
    }
  }

  /** h2c with prior knowledge (RFC 9113 §3.3): only as the very first thing on a connection. */
  private mayHandOver(): boolean {
    return this.config.h2c && this.requests === 0 && this.owed === 0;
  }

  private handOverToHttp2(bytes: Buffer): void {
    const socket = this.detach();
    socket.unshift(bytes);
    this.owner.acceptHttp2(socket);
  }

  /** Lets go of the socket for good (HTTP/2, a tunnel): no listener, deadline or state is left. */
  private detach(): Socket {
    const socket = this.socket;
    socket.removeListener('data', onSocketData);
    socket.removeListener('drain', onSocketDrain);
    socket.removeListener('end', onSocketEnd);
    socket.removeListener('error', onSocketError);
    socket.removeListener('close', onSocketClose);
    this.reading = Reading.Closed;
    this.ended = true;
    this.deadline = 0;
    this.owner.forget(this);
    socket.pause();
    // Pauses made for HTTP no longer apply to whoever reads the socket next.
    this.paused = 0;
    return socket;
  }

  private onHead(head: RequestHead): void {
    this.requests++;
    const config = this.config;
    const keepAlive =
      head.keepAlive && !this.closing && !this.owner.closing && this.requests < config.maxRequests;
    if (!keepAlive) this.closing = true;
    const framing = head.framing;
    const hasBody = framing.kind !== 'none';
    const req = new ServerRequest(head, this, hasBody);
    const res = new ServerResponse(this, head.method === 'HEAD', head.version === '1.0', keepAlive);
    res.request = req;
    this.enqueue(res);
    // CONNECT (RFC 9110 §9.3.6) and Upgrade (RFC 9110 §7.8): what follows may be tunnel bytes,
    // so nothing more is parsed until the handler has answered.
    if (head.method === 'CONNECT' || (head.facts.connectionUpgrade && head.facts.hasUpgrade)) {
      this.switching = res;
      res.tunnel = head.method === 'CONNECT';
    }
    if (hasBody) {
      this.reading = Reading.Body;
      this.bodyReq = req;
      this.discarding = false;
      this.bodyChunked = framing.kind === 'chunked';
      if (framing.kind === 'length') this.bodyRemaining = framing.length;
      else (this.decoder ??= new ChunkedDecoder(config.chunkedLimits)).reset();
      if (head.expectContinue) this.continueOwed = req;
      this.bodyWindowBytes = 0;
      this.setDeadline(Wait.Body, config.bodyTimeoutMs);
    } else {
      this.setDeadline(Wait.None, 0);
    }
    // RFC 9110 §10.1.1: an expectation other than 100-continue may be answered with 417.
    if (head.version === '1.1' && head.facts.expect !== undefined && !head.expectContinue) {
      res.sendError(417, 'only 100-continue is supported', {}, hasBody);
      return;
    }
    this.dispatch(req, res);
  }

  private dispatch(req: ServerRequest, res: ServerResponse): void {
    let result: void | Promise<void>;
    try {
      result = this.owner.handler(req, res);
    } catch (err) {
      this.handlerFailed(res, err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      watch(this, res, result);
    }
  }

  /** A handler threw or rejected: answer 500 (or its HttpError status), or cut if the head went out. */
  handlerFailed(res: ServerResponse, err: unknown): void {
    const status = err instanceof HttpError || err instanceof ParseError ? err.status : 500;
    if (status >= 500 && !(err instanceof ParseError)) this.owner.reportError(err);
    if (res.aborted || (res.writableEnded && res.isFinished)) return;
    const expose = err instanceof HttpError ? err.expose : err instanceof ParseError;
    const message = expose ? (err as Error).message : '';
    const headers = err instanceof HttpError ? err.headers : {};
    if (!res.sendError(status, message, headers, err instanceof ParseError)) {
      // Reported above already when it was a server error: once is enough.
      this.abort(res, err instanceof Error ? err : new Error(String(err)), status >= 500);
    }
  }

  private readBody(buf: Buffer, pos: number, end: number): number {
    const req = this.bodyReq!;
    if (this.bodyChunked) {
      const decoder = this.decoder!;
      const used = decoder.push(buf, pos, end, (this.deliverBound ??= (chunk) => this.deliver(chunk)));
      if (decoder.done) this.bodyDone(req, decoder.trailers);
      else this.bodyArrived(used);
      return pos + used;
    }
    const n = Math.min(this.bodyRemaining, end - pos);
    this.bodyRemaining -= n;
    this.deliver(buf.subarray(pos, pos + n));
    if (this.bodyRemaining === 0) this.bodyDone(req, undefined);
    else this.bodyArrived(n);
    return pos + n;
  }

  /**
   * Moves the body deadline on once minBodyBytesPerTimeout bytes have come since it last moved:
   * a body trickled slower than minBodyBytesPerSecond times out like one that stopped.
   */
  private bodyArrived(n: number): void {
    if ((this.paused & Pause.Body) !== 0) {
      // The handler is not keeping up, not the client: no body deadline runs until it reads
      // again (resumeBody). A proxy streaming to a slow upstream must not get 408 for it.
      this.bodyWindowBytes = 0;
      this.deadline = 0;
      return;
    }
    const bytes = this.bodyWindowBytes + n;
    if (bytes < this.config.minBodyBytesPerTimeout) {
      this.bodyWindowBytes = bytes;
      return;
    }
    this.bodyWindowBytes = 0;
    this.setDeadline(Wait.Body, this.config.bodyTimeoutMs);
  }

  private deliver(chunk: Buffer): void {
    if (this.discarding) {
      this.discarded += chunk.length;
      // RFC 9112 §9.6 ¶?: the server may close instead of reading an unwanted body to its end.
      if (this.discarded > this.config.maxDrainBytes) this.closeAfterFlush();
      return;
    }
    const req = this.bodyReq!;
    req.pushBody(chunk);
    if (req.bufferedBytes > BODY_HIGH_WATER_BYTES) this.pause(Pause.Body);
  }

  private bodyDone(req: ServerRequest, trailers: readonly string[] | undefined): void {
    this.reading = this.closing ? Reading.Closed : Reading.Head;
    this.bodyReq = undefined;
    this.bodyRemaining = 0;
    this.discarding = false;
    if (this.continueOwed === req) this.continueOwed = undefined;
    this.resume(Pause.Body);
    req.endBody(trailers);
    if (this.owed > 0) this.setDeadline(Wait.None, 0);
    else if (this.closing) this.closeAfterFlush();
    else this.setDeadline(Wait.Idle, this.config.idleTimeoutMs);
  }

  private onReadError(err: unknown): void {
    const parseError = err instanceof ParseError ? err : undefined;
    if (parseError === undefined) {
      this.owner.reportError(err);
      this.destroy();
      return;
    }
    this.reading = Reading.Closed;
    this.closing = true;
    const req = this.bodyReq;
    if (req !== undefined) {
      // Bad body framing: the handler reading it gets the error; its response says close.
      this.bodyReq = undefined;
      req.failBody(parseError);
      if (this.owed === 0) this.closeAfterFlush();
      return;
    }
    if (parseError.code === 'http2-preface') {
      if (this.owed === 0) this.closeAfterFlush();
      return;
    }
    // RFC 9112 §2.2 ¶4 / §3: answer the malformed request with its 4xx/5xx and close.
    const res = new ServerResponse(this, false, false, false);
    this.enqueue(res);
    res.sendError(parseError.status, parseError.message, {}, true);
  }

  // ResponseSink ---------------------------------------------------------------------------

  send(res: ServerResponse, bytes: Buffer): void {
    if (this.ended || res.aborted) return;
    if (res !== this.first) {
      (res.held ??= []).push(bytes);
      res.heldBytes += bytes.length;
      return;
    }
    this.output.add(bytes);
  }

  finished(res: ServerResponse): void {
    res.isFinished = true;
    if (res === this.switching) {
      // Answered without taking over: an Upgrade goes on as HTTP; after a refused CONNECT the
      // client may already have sent tunnel bytes, so the connection closes (RFC 9110 §9.3.6).
      this.switching = undefined;
      if (res.tunnel) this.closing = true;
    }
    const req = res.request;
    if (req !== undefined && req === this.bodyReq) {
      // The response is complete but its body is still arriving: read and drop the rest, within
      // a bound, so the next request can be parsed (RFC 9110 §10.1.1, RFC 9112 §9.6).
      if (this.continueOwed === req || this.bodyRemaining > this.config.maxDrainBytes) this.closing = true;
      this.discarding = true;
      this.discarded = 0;
      req.failBody(new HttpError(400, 'response already sent'));
      this.resumeBody();
    }
    if (res === this.first) this.advance();
  }

  abort(res: ServerResponse, reason: Error, reported = false): void {
    if (!reported) this.owner.reportError(reason);
    res.aborted = true;
    this.output.flush();
    this.destroy();
  }

  async takeOver(res: ServerResponse): Promise<{ socket: Socket; head: Buffer }> {
    // Let the read that carried the request finish first: the bytes after it are stashed then.
    await Promise.resolve();
    const status = res.statusCode;
    const allowed = res === this.switching && (res.tunnel ? status >= 200 && status < 300 : status === 101);
    if (!allowed || res !== this.first || this.ended) {
      throw new Error(
        'takeOver() needs a 2xx answer to CONNECT or a 101 to an Upgrade request, before any body',
      );
    }
    this.switching = undefined;
    res.sendBareHead();
    const head = this.stash ?? Buffer.alloc(0);
    this.stash = undefined;
    this.output.flush();
    this.dequeue();
    return { socket: this.detach(), head };
  }

  backedUp(res: ServerResponse): boolean {
    if (res !== this.first) return res.heldBytes > this.config.writeHighWaterBytes;
    return this.output.bytes + this.socket.writableLength > this.config.writeHighWaterBytes;
  }

  mayKeepAlive(res: ServerResponse): boolean {
    // Only the last response owed says close: earlier pipelined ones are answered normally
    // (RFC 9112 §9.3.2), and the close applies after the last (RFC 9112 §9.6).
    if ((this.closing || this.owner.closing) && this.last === res) return false;
    const req = res.request;
    if (req === undefined || req !== this.bodyReq || req.bodyWanted) return true;
    // Answering before the body was asked for: with 100-continue owed the client may never send
    // it; otherwise drop it only if it is small enough to read.
    return this.continueOwed !== req && this.bodyRemaining <= this.config.maxDrainBytes;
  }

  // BodySource -----------------------------------------------------------------------------

  wantBody(req: ServerRequest): void {
    if (this.continueOwed === req) {
      this.continueOwed = undefined;
      let res = this.first;
      while (res !== undefined && res.request !== req) res = res.next;
      // RFC 9110 §10.1.1: send 100 Continue when the handler starts reading, unless a final
      // response has already begun.
      if (res !== undefined && !res.headersSent) this.send(res, CONTINUE);
      this.output.flushSoon();
    }
    if (req.bufferedBytes <= BODY_HIGH_WATER_BYTES) this.resumeBody();
  }

  /** Reads the body again after Pause.Body, with a fresh body deadline if it is still arriving. */
  private resumeBody(): void {
    if ((this.paused & Pause.Body) === 0) return;
    this.resume(Pause.Body);
    if (this.bodyReq !== undefined && this.wait === Wait.Body && this.deadline === 0) {
      this.bodyWindowBytes = 0;
      this.setDeadline(Wait.Body, this.config.bodyTimeoutMs);
    }
  }

  // Output ---------------------------------------------------------------------------------

  /** Called by the OutputBatch after each write. */
  afterWrite(needDrain: boolean): void {
    if (!needDrain) {
      // The socket took everything, so no 'drain' will come to say so: a writer waiting on the
      // backlog (res.write() returned false before this flush) and parsing can go on now.
      this.first?.emit('drain');
      this.resumeParsing();
      return;
    }
    this.pause(Pause.Write);
    if (this.wait === Wait.None || this.wait === Wait.Idle)
      this.setDeadline(Wait.Write, this.config.bodyTimeoutMs);
  }

  onDrain(): void {
    this.resume(Pause.Write);
    if (this.wait === Wait.Write) this.setDeadline(Wait.None, 0);
    this.first?.emit('drain');
    this.resumeParsing();
  }

  /**
   * Whether parsing further requests must wait: too many responses owed, or the responses
   * already made are not leaving (a client that sends but does not read).
   */
  private mustWait(): boolean {
    return (
      this.switching !== undefined ||
      this.owed >= this.config.maxPipelined ||
      (this.paused & Pause.Write) !== 0 ||
      this.output.bytes + this.socket.writableLength > this.config.writeHighWaterBytes
    );
  }

  /** Picks up stashed input once mustWait() no longer holds, on a fresh stack. */
  private resumeParsing(): void {
    if ((this.paused & Pause.Pipeline) === 0 || this.mustWait()) return;
    this.resume(Pause.Pipeline);
    queueMicrotask(() => {
      const stash = this.stash;
      this.stash = undefined;
      if (stash !== undefined) this.onData(stash);
    });
  }

  /** Promotes the next response once the front one has finished, flushing what it held. */
  private advance(): void {
    while (this.first?.isFinished) {
      const done = this.dequeue();
      done.emit('close');
      if (!done.keepAlive) {
        this.closeAfterFlush();
        return;
      }
      const next = this.first;
      if (next !== undefined && next.held !== undefined) {
        for (const bytes of next.held) this.output.add(bytes);
        next.held = undefined;
        next.heldBytes = 0;
        next.emit('drain');
      }
    }
    if (this.owed > 0) return;
    if (this.closing && this.reading !== Reading.Body) {
      this.closeAfterFlush();
      return;
    }
    if (this.reading === Reading.Head) {
      if (this.parser.started) this.setDeadline(Wait.Head, this.config.headTimeoutMs);
      else this.setDeadline(Wait.Idle, this.config.idleTimeoutMs);
    }
    this.resumeParsing();
  }

  private enqueue(res: ServerResponse): void {
    if (this.last === undefined) this.first = res;
    else this.last.next = res;
    this.last = res;
    this.owed++;
  }

  private dequeue(): ServerResponse {
    const res = this.first!;
    this.first = res.next;
    res.next = undefined;
    if (this.first === undefined) this.last = undefined;
    this.owed--;
    return res;
  }

  /** Drops every response still owed: the client will never get them. */
  private abortOwed(): void {
    for (let res = this.first; res !== undefined; res = res.next) {
      if (!res.isFinished) {
        res.aborted = true;
        res.emit('close');
      }
    }
    this.first = undefined;
    this.last = undefined;
    this.owed = 0;
  }

  /** Ends the socket once queued bytes are out, then lingers reading and dropping input. */
  private closeAfterFlush(): void {
    if (this.ended) return;
    this.reading = Reading.Closed;
    this.abortOwed();
    this.bodyReq?.failBody(new Error('connection closing'));
    this.bodyReq = undefined;
    this.resume(Pause.Write | Pause.Body | Pause.Pipeline);
    this.endSocket();
  }

  private endSocket(): void {
    this.ended = true;
    this.reading = Reading.Closed;
    this.setDeadline(Wait.Linger, this.config.lingerMs);
    this.output.endAfterFlush = true;
    if (this.output.empty) this.socket.end();
    else this.output.flushSoon();
  }

  // Socket events and timeouts -------------------------------------------------------------

  onEnd(): void {
    // The client will send nothing more: a partial request can never complete.
    const req = this.bodyReq;
    if (req !== undefined) {
      this.bodyReq = undefined;
      req.failBody(new HttpError(400, 'request body cut short'));
    }
    this.closing = true;
    this.reading = Reading.Closed;
    if (this.owed === 0) this.endSocket();
  }

  onClose(): void {
    this.ended = true;
    this.reading = Reading.Closed;
    this.abortOwed();
    this.bodyReq?.failBody(new Error('connection closed'));
    this.bodyReq = undefined;
    this.owner.forget(this);
  }

  /** Called by the owner's sweep when the deadline has passed. */
  onTimeout(): void {
    const wait = this.wait;
    this.deadline = 0;
    if (wait === Wait.Head && this.parser.started && this.owed === 0) {
      // A partly received head that stalls (slowloris): 408, then close (RFC 9110 §15.5.9).
      this.reading = Reading.Closed;
      this.closing = true;
      const res = new ServerResponse(this, false, false, false);
      this.enqueue(res);
      res.sendError(408, 'request head not received in time', {}, true);
      this.setDeadline(Wait.Linger, this.config.lingerMs);
      return;
    }
    if (wait === Wait.Body && this.bodyReq !== undefined) {
      const req = this.bodyReq;
      this.bodyReq = undefined;
      this.reading = Reading.Closed;
      this.closing = true;
      req.failBody(new HttpError(408, 'request body not received in time'));
      this.setDeadline(Wait.Linger, this.config.bodyTimeoutMs);
      return;
    }
    if (wait === Wait.Head || wait === Wait.Idle) {
      if (this.owed === 0) this.endSocket();
      return;
    }
    if (wait === Wait.Write) {
      // The peer has not taken a byte for bodyTimeoutMs (slow read, slowhttptest -X). A plain close
      // would leave the kernel an orphaned socket trickling the queued bytes (up to the send
      // buffer) to it, ESTABLISHED on the peer's side, for as long as it reads a byte now and then:
      // reset instead, so the kernel drops the bytes and the peer sees the connection go.
      this.reset();
      return;
    }
    // Lingering over: give up on the peer. The bytes already queued still go out, then FIN.
    this.destroy();
  }

  /** Cuts the connection with RST (SO_LINGER 0), dropping whatever is queued for the peer. */
  private reset(): void {
    try {
      this.socket.resetAndDestroy();
    } catch {
      // Only plain TCP sockets can be reset (node throws ERR_INVALID_HANDLE_TYPE for TLS).
      this.socket.destroy();
    }
  }

  private setDeadline(wait: Wait, ms: number): void {
    if (this.ended && wait !== Wait.Linger) return;
    this.wait = wait;
    this.deadline = wait === Wait.None ? 0 : this.owner.now + ms;
  }

  private pause(reason: Pause): void {
    if (this.paused === 0) this.socket.pause();
    this.paused |= reason;
  }

  private resume(reasons: number): void {
    if (this.paused === 0) return;
    this.paused &= ~reasons;
    if (this.paused === 0) this.socket.resume();
  }
}

const CONNECTION = Symbol('berth.connection');
type OwnedSocket = Socket & { [CONNECTION]: Connection };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[CONNECTION].onData(chunk);
}
function onSocketDrain(this: OwnedSocket): void {
  this[CONNECTION].onDrain();
}
function onSocketEnd(this: OwnedSocket): void {
  this[CONNECTION].onEnd();
}
function onSocketError(this: OwnedSocket): void {
  // The 'close' that follows does the cleanup; an error here is the peer's doing (reset, timeout).
  this.destroy();
}
function onSocketClose(this: OwnedSocket): void {
  this[CONNECTION].onClose();
}

/** Awaits an async handler; a rejection becomes an error response (no closure per request). */
async function watch(conn: Connection, res: ServerResponse, result: Promise<void>): Promise<void> {
  try {
    await result;
  } catch (err) {
    conn.handlerFailed(res, err);
  }
}
