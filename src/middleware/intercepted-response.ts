/**
 * InterceptedResponse: the stand-in Response that intercept() hands to next. It keeps no fields of
 * its own — status and fields live in the real response until the head goes out — and follows
 * node:http's rules towards next (no field changes after writeHead() or a first write, no write
 * after end). See intercept.ts for the life of an intercepted response.
 */
import type { Duplex, Readable } from 'node:stream';
import type { CookieOptions, HeaderValue, Response } from '../handler/types.js';
import { isValidFieldValue } from '../http/field-syntax.js';
import type { OnHead } from './intercept.js';

type Mode = 'open' | 'head' | 'hold' | 'pass' | 'replace' | 'transform' | 'abandoned';
type Listener = { readonly fn: () => void; readonly once: boolean };

/** The stand-in Response next writes to; intercept() makes one per request. */
export class InterceptedResponse implements Response {
  private mode: Mode = 'open';
  private ended = false;
  /** The real response closed (finished, or the client went away). */
  private gone = false;
  private held: (string | Uint8Array)[] | undefined = undefined;
  private heldBytes = 0;
  private holdBytes = 0;
  private stream: Duplex | undefined = undefined;
  private afterWrite: (() => void) | undefined = undefined;
  /** The transform stream is paused until the real response drains. */
  private waitingForRealDrain = false;
  private drainListeners: Listener[] | undefined = undefined;
  private forwardingDrain = false;
  /** 'done' once the real response is ended (or abandoned, or closed); or the transform's error. */
  private outcome: 'pending' | 'done' | { readonly error: unknown } = 'pending';
  private waiter: { resolve: () => void; reject: (err: unknown) => void } | undefined = undefined;
  private waiting: Promise<void> | undefined = undefined;

  constructor(
    private readonly real: Response,
    private readonly onHead: OnHead,
  ) {
    real.once('close', () => this.onRealClose());
  }

  get statusCode(): number {
    return this.real.statusCode;
  }

  set statusCode(status: number) {
    if (this.mode === 'open') this.real.statusCode = status;
  }

  get statusMessage(): string {
    return this.real.statusMessage;
  }

  set statusMessage(message: string) {
    if (this.mode === 'open') this.real.statusMessage = message;
  }

  get headersSent(): boolean {
    return this.mode !== 'open';
  }

  get writableEnded(): boolean {
    return this.ended;
  }

  /** next has ended the response and the plan has taken it over: nothing is left to decide. */
  get complete(): boolean {
    return this.ended && (this.mode === 'pass' || this.mode === 'replace' || this.mode === 'transform');
  }

  setHeader(name: string, value: HeaderValue): this {
    this.assertOpen();
    this.real.setHeader(name, value);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.real.getHeader(name);
  }

  removeHeader(name: string): void {
    this.assertOpen();
    this.real.removeHeader(name);
  }

  hasHeader(name: string): boolean {
    return this.real.hasHeader(name);
  }

  getHeaderNames(): string[] {
    return this.real.getHeaderNames();
  }

  writeHead(
    statusCode: number,
    messageOrHeaders?: string | Readonly<Record<string, HeaderValue>>,
    headers?: Readonly<Record<string, HeaderValue>>,
  ): this {
    if (this.mode !== 'open') throw new Error('writeHead() called after the head was sent');
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) {
      throw new RangeError(`invalid status code ${statusCode}`);
    }
    const fields = typeof messageOrHeaders === 'string' ? headers : messageOrHeaders;
    if (typeof messageOrHeaders === 'string') {
      if (!isValidFieldValue(messageOrHeaders))
        throw new TypeError('invalid character in the status message');
      this.real.statusMessage = messageOrHeaders;
    }
    this.real.statusCode = statusCode;
    if (fields !== undefined)
      for (const name of Object.keys(fields)) this.real.setHeader(name, fields[name]!);
    this.mode = 'head';
    return this;
  }

  writeInformational(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): void {
    if (this.mode !== 'open') throw new Error('interim responses must precede the final head');
    this.real.writeInformational(statusCode, headers);
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.ended) throw new Error('write() after end()');
    return this.body(chunk, false);
  }

  end(chunk?: string | Uint8Array): void {
    if (this.ended) return;
    this.ended = true;
    this.body(chunk, true);
  }

  drain(): Promise<void> {
    if (this.mode === 'pass') return this.real.drain();
    if (this.mode !== 'transform' || this.gone || !this.stream!.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.once('drain', resolve));
  }

  async send(body: Readable | AsyncIterable<Uint8Array | string>): Promise<void> {
    try {
      for await (const chunk of body) {
        if (this.gone || this.mode === 'abandoned' || this.mode === 'replace') break;
        if (!this.write(chunk as Uint8Array | string)) await this.drain();
      }
    } finally {
      if (this.gone && 'destroy' in body && typeof body.destroy === 'function') body.destroy();
    }
    if (!this.gone) this.end();
  }

  addTrailers(trailers: Readonly<Record<string, string>>): void {
    this.real.addTrailers(trailers);
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    this.assertOpen();
    this.real.setCookie(name, value, options);
    return this;
  }

  takeOver(): Promise<{ socket: Duplex; head: Buffer }> {
    if (this.mode === 'open' || this.mode === 'head') {
      this.onHead({ res: this.real, bufferedBytes: 0, ended: true });
      this.mode = 'pass';
    }
    return this.real.takeOver();
  }

  on(event: 'drain' | 'close', fn: () => void): this {
    return this.listen(event, fn, false);
  }

  once(event: 'drain' | 'close', fn: () => void): this {
    return this.listen(event, fn, true);
  }

  off(event: 'drain' | 'close', fn: () => void): this {
    if (event === 'close') {
      this.real.off('close', fn);
      return this;
    }
    const list = this.drainListeners;
    const i = list === undefined ? -1 : list.findIndex((l) => l.fn === fn);
    if (i !== -1) list!.splice(i, 1);
    return this;
  }

  /**
   * Resolves when the real response has been ended by this wrapper, or abandoned, or closed;
   * rejects when the transform stream failed.
   */
  finished(): Promise<void> {
    const outcome = this.outcome;
    if (outcome === 'done') return Promise.resolve();
    if (outcome !== 'pending') return Promise.reject(outcome.error);
    this.waiting ??= new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
    return this.waiting;
  }

  /** Lets go after next failed: held bytes dropped, the transform destroyed, later writes ignored. */
  abandon(): void {
    this.mode = 'abandoned';
    this.held = undefined;
    this.stream?.destroy();
    this.settle(undefined);
  }

  private assertOpen(): void {
    if (this.mode !== 'open') throw new Error('cannot change headers after they are sent');
  }

  /** A chunk (or the end) from next, by mode. */
  private body(chunk: string | Uint8Array | undefined, last: boolean): boolean {
    switch (this.mode) {
      case 'open':
      case 'head':
      case 'hold':
        return this.collect(chunk, last);
      case 'pass':
        if (!last) return this.real.write(chunk!);
        this.real.end(chunk);
        this.settle(undefined);
        return true;
      case 'transform': {
        if (this.gone) return true;
        const stream = this.stream!;
        if (last) {
          if (chunk === undefined) stream.end();
          else stream.end(chunk);
          return true;
        }
        const ok = stream.write(chunk);
        this.afterWrite?.();
        return ok;
      }
      case 'replace':
      case 'abandoned':
        return true;
    }
  }

  /** Holds the chunk until onHead has decided; then starts the plan. */
  private collect(chunk: string | Uint8Array | undefined, last: boolean): boolean {
    if (chunk !== undefined) {
      const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (n > 0) {
        (this.held ??= []).push(chunk);
        this.heldBytes += n;
      }
    }
    if (this.mode === 'hold' && !last && this.heldBytes < this.holdBytes) return true;
    const plan = this.onHead({ res: this.real, bufferedBytes: this.heldBytes, ended: last });
    if (plan.kind === 'hold' && !last && plan.bytes > this.heldBytes) {
      this.mode = 'hold';
      this.holdBytes = plan.bytes;
      return true;
    }
    const held = this.held;
    this.held = undefined;
    switch (plan.kind) {
      case 'pass':
      case 'hold':
        this.mode = 'pass';
        return this.startPass(held, last);
      case 'replace':
        this.mode = 'replace';
        this.real.end(plan.body);
        this.settle(undefined);
        return true;
      case 'transform':
        this.mode = 'transform';
        return this.startTransform(plan.stream, plan.afterWrite, held, last);
    }
  }

  private startPass(held: (string | Uint8Array)[] | undefined, last: boolean): boolean {
    const real = this.real;
    if (last) {
      real.end(held === undefined ? undefined : held.length === 1 ? held[0] : concat(held));
      this.settle(undefined);
      return true;
    }
    // An empty first write still sends the head now, as it would without the wrapper.
    if (held === undefined) return real.write(EMPTY);
    let ok = true;
    for (const chunk of held) ok = real.write(chunk);
    return ok;
  }

  private startTransform(
    stream: Duplex,
    afterWrite: (() => void) | undefined,
    held: (string | Uint8Array)[] | undefined,
    last: boolean,
  ): boolean {
    this.stream = stream;
    this.afterWrite = afterWrite;
    stream.on('data', (chunk: Buffer) => this.output(chunk));
    stream.once('end', () => {
      if (!this.gone && !this.real.writableEnded) this.real.end();
      this.settle(undefined);
    });
    stream.on('error', (err) => this.fail(err));
    stream.on('drain', () => this.emitDrain());
    if (this.gone) {
      stream.destroy();
      return true;
    }
    let ok = true;
    if (held !== undefined) for (const chunk of held) ok = stream.write(chunk);
    if (last) stream.end();
    else if (held !== undefined) afterWrite?.();
    return ok;
  }

  /** Transform output to the real response, pausing the stream while the response is backed up. */
  private output(chunk: Buffer): void {
    const stream = this.stream!;
    if (this.gone || this.real.writableEnded) {
      // The client is gone, or the engine answered an error on the real response meanwhile.
      stream.destroy();
      this.settle(undefined);
      return;
    }
    if (this.real.write(chunk) || this.waitingForRealDrain) return;
    this.waitingForRealDrain = true;
    stream.pause();
    this.real.once('drain', () => {
      this.waitingForRealDrain = false;
      if (!this.gone) stream.resume();
    });
  }

  private onRealClose(): void {
    this.gone = true;
    if (this.stream !== undefined && this.outcome === 'pending') this.stream.destroy();
    this.held = undefined;
    this.settle(undefined);
    // Wakes writers waiting in drain(): their writes are ignored from now on.
    this.emitDrain();
  }

  /** The transform failed: later writes are ignored, a writer in drain() is woken, finished() rejects. */
  private fail(error: unknown): void {
    this.mode = 'abandoned';
    this.settle({ error });
    this.emitDrain();
  }

  private settle(failure: { error: unknown } | undefined): void {
    if (this.outcome !== 'pending') return;
    this.outcome = failure ?? 'done';
    const waiter = this.waiter;
    this.waiter = undefined;
    if (failure !== undefined) waiter?.reject(failure.error);
    else waiter?.resolve();
  }

  private listen(event: 'drain' | 'close', fn: () => void, once: boolean): this {
    if (event === 'close') {
      if (once) this.real.once('close', fn);
      else this.real.on('close', fn);
      return this;
    }
    (this.drainListeners ??= []).push({ fn, once });
    if (!this.forwardingDrain) {
      // The real response's 'drain' concerns next only while bytes pass straight through.
      this.forwardingDrain = true;
      this.real.on('drain', () => {
        if (this.mode === 'pass') this.emitDrain();
      });
    }
    return this;
  }

  private emitDrain(): void {
    const list = this.drainListeners;
    if (list === undefined || list.length === 0) return;
    for (const l of list.slice()) {
      if (l.once) list.splice(list.indexOf(l), 1);
      l.fn();
    }
  }
}

const EMPTY = Buffer.alloc(0);

function concat(chunks: readonly (string | Uint8Array)[]): Buffer {
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}
