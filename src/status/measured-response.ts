/**
 * The Response a measured handler sees: a thin delegate over the engine's, which counts body bytes
 * on their way through write()/end()/send() and reports the exchange to the Recorder once, when
 * the engine's response closes (or when takeOver() hands the socket away: no 'close' follows that).
 *
 * Why a delegate and not patched methods (access-log.ts patches write/end on the instance): adding
 * own properties to the engine's ServerResponse gives those objects a second shape on the engine's
 * own hot path; a delegate leaves them alone. Its cost is one object and one listener closure per
 * request. Every method forwards, so backpressure (write()'s return value, drain(), 'drain') is
 * the engine's own; methods that return `this` return the delegate.
 *
 * Latency runs from the handler's start to the 'close' of its response, which the engine fires
 * when the response has handed over its last byte (or the client went away). A response that
 * never ended (writableEnded false at 'close') counts as aborted, with no status and no latency.
 * A handler that throws still counts: the engine answers 500 on the same response, then closes it.
 */
import { performance } from 'node:perf_hooks';
import type { Duplex, Readable } from 'node:stream';
import type { CookieOptions, HeaderValue, Response } from '../handler/types.js';
import type { Recorder } from './recorder.js';

/** The measuring delegate Metrics.wrap() hands to the handler (see the module comment). */
export class MeasuredResponse implements Response {
  private readonly startMs = performance.now();
  private reported = false;

  constructor(
    private readonly inner: Response,
    private readonly recorder: Recorder,
    /** HEAD responses carry no body whatever the handler writes (RFC 9110 §9.3.2). */
    private readonly isHead: boolean,
  ) {
    // The one closure per request. (An anonymous argument, not a class field: esbuild's keepNames,
    // which tsx uses, would name a field's arrow with a defineProperty per instance.)
    inner.once('close', () => this.report());
  }

  get statusCode(): number {
    return this.inner.statusCode;
  }
  set statusCode(value: number) {
    this.inner.statusCode = value;
  }
  get statusMessage(): string {
    return this.inner.statusMessage;
  }
  set statusMessage(value: string) {
    this.inner.statusMessage = value;
  }
  get headersSent(): boolean {
    return this.inner.headersSent;
  }
  get writableEnded(): boolean {
    return this.inner.writableEnded;
  }

  setHeader(name: string, value: HeaderValue): this {
    this.inner.setHeader(name, value);
    return this;
  }
  getHeader(name: string): HeaderValue | undefined {
    return this.inner.getHeader(name);
  }
  removeHeader(name: string): void {
    this.inner.removeHeader(name);
  }
  hasHeader(name: string): boolean {
    return this.inner.hasHeader(name);
  }
  getHeaderNames(): string[] {
    return this.inner.getHeaderNames();
  }

  writeHead(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): this;
  writeHead(statusCode: number, statusMessage: string, headers?: Readonly<Record<string, HeaderValue>>): this;
  writeHead(
    statusCode: number,
    messageOrHeaders?: string | Readonly<Record<string, HeaderValue>>,
    headers?: Readonly<Record<string, HeaderValue>>,
  ): this {
    if (typeof messageOrHeaders === 'string') this.inner.writeHead(statusCode, messageOrHeaders, headers);
    else this.inner.writeHead(statusCode, messageOrHeaders);
    return this;
  }

  writeInformational(statusCode: number, headers?: Readonly<Record<string, HeaderValue>>): void {
    this.inner.writeInformational(statusCode, headers);
  }

  write(chunk: string | Uint8Array): boolean {
    const ok = this.inner.write(chunk);
    this.count(chunk);
    return ok;
  }

  end(chunk?: string | Uint8Array): void {
    // Counted before the call: end() may fire 'close' (and so report) synchronously.
    if (chunk !== undefined && !this.inner.writableEnded) this.count(chunk);
    this.inner.end(chunk);
  }

  drain(): Promise<void> {
    return this.inner.drain();
  }

  /** The engine's send(), fed through a counting iterator (its early return destroys `body`). */
  send(body: Readable | AsyncIterable<Uint8Array | string>): Promise<void> {
    return this.inner.send(this.counted(body));
  }

  addTrailers(trailers: Readonly<Record<string, string>>): void {
    this.inner.addTrailers(trailers);
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    this.inner.setCookie(name, value, options);
    return this;
  }

  async takeOver(): Promise<{ socket: Duplex; head: Buffer }> {
    const taken = await this.inner.takeOver();
    // The engine fires no 'close' for a response whose socket was handed over: its head was the end.
    this.report();
    return taken;
  }

  on(event: 'drain' | 'close', listener: () => void): this {
    this.inner.on(event, listener);
    return this;
  }
  once(event: 'drain' | 'close', listener: () => void): this {
    this.inner.once(event, listener);
    return this;
  }
  off(event: 'drain' | 'close', listener: () => void): this {
    this.inner.off(event, listener);
    return this;
  }

  private count(chunk: string | Uint8Array): void {
    if (this.isHead) return;
    const status = this.inner.statusCode;
    // RFC 9110 §6.4.1: 1xx, 204 and 304 responses have no content, whatever was written.
    if (status < 200 || status === 204 || status === 304) return;
    this.recorder.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
  }

  private async *counted(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
    for await (const chunk of body) {
      this.count(chunk);
      yield chunk;
    }
  }

  private report(): void {
    if (this.reported) return;
    this.reported = true;
    if (this.inner.writableEnded) this.recorder.finished(this.inner, performance.now() - this.startMs);
    else this.recorder.aborted++;
  }
}
