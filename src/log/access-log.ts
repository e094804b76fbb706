/**
 * The access log: one line per finished exchange, in Common, Combined or JSON format, written to
 * a file or to stdout.
 *
 * Lines are collected in memory and written together, at most every FLUSH_INTERVAL_MS or as soon as
 * FLUSH_BYTES accumulate, so a busy server makes a few large writes instead of one per request.
 * close() writes what is left. reopen() (SIGUSR1) closes the file and opens the same path again:
 * after `mv access.log access.log.1` the next lines go to a new access.log, which is how logrotate
 * and friends expect a server to behave. Lines already handed to the old file finish there.
 *
 * What is never logged: Authorization and Cookie values (the user field `%u` is always `-`, so a
 * Basic credential cannot leak through it either). What is escaped: every logged string field gets
 * `"` and `\` backslash-escaped and control characters (C0, DEL, C1) written as `\xHH`, so a request
 * cannot forge a line, hide one, or send escape sequences to the terminal of whoever reads the log
 * (log injection; nginx escapes the same way).
 *
 * Cost: wrap() adds one small record and three closures per request (the close listener and the
 * write/end counters). That is the price of counting body bytes through the public Response
 * contract; `--log off` makes wrap() return the handler untouched.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Handler, Request, Response } from '../handler/types.js';

export type AccessLogFormat = 'combined' | 'common' | 'json' | 'off';

/** Where lines go: a file appended to, or a stream (stdout by default). */
export type AccessLogOptions = {
  readonly format: AccessLogFormat;
  /** File to append to (created if missing); stdout when absent. */
  readonly file?: string | undefined;
  /** A stream to write to instead of stdout (tests); ignored when `file` is set. Never ended by close(). */
  readonly stream?: NodeJS.WritableStream | undefined;
  /** Receives write errors of the log file (the server keeps serving); one stderr line by default. */
  readonly onError?: ((err: Error) => void) | undefined;
};

/** One finished exchange, as formatAccessLine() prints it. */
export type AccessRecord = {
  readonly remoteAddress: string;
  /** When the request arrived, in ms since the epoch. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly status: number;
  /** Body bytes sent (0 for HEAD, 1xx, 204, 304). */
  readonly bytes: number;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
};

/** Longest wait before buffered lines are written. */
export const FLUSH_INTERVAL_MS = 100;
/** Buffered characters that make a write happen at once. */
export const FLUSH_BYTES = 64 * 1024;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let clfSecond = -1;
let clfText = '';

/** `[10/Oct/2000:13:55:36 +0000]`, always in UTC; cached per second. */
export function formatClfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === clfSecond) return clfText;
  const d = new Date(second * 1000);
  clfText =
    `[${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000]`;
  clfSecond = second;
  return clfText;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some terminals), the quote and the backslash.
const NEEDS_ESCAPE = /[\x00-\x1f\x7f-\x9f"\\]/;
const ESCAPED = /[\x00-\x1f\x7f-\x9f"\\]/g;
// What JSON.stringify leaves raw but a terminal would act on.
const JSON_RAW_CONTROLS = /[\x7f-\x9f]/g;

function escapeChar(c: string): string {
  if (c === '"') return '\\"';
  if (c === '\\') return '\\\\';
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** A field as it appears in a CLF line: `-` when absent or empty, escaped otherwise. */
export function escapeLogField(value: string | undefined): string {
  if (value === undefined || value === '') return '-';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, escapeChar) : value;
}

function jsonControl(c: string): string {
  return `\\u00${c.charCodeAt(0).toString(16)}`;
}

/**
 * One log line (with its trailing newline) for a record. Common:
 * `host - - [time] "METHOD url HTTP/v" status bytes`; Combined adds `"referer" "user-agent"`;
 * JSON is one object per line with ISO time and durationMs.
 */
export function formatAccessLine(format: Exclude<AccessLogFormat, 'off'>, r: AccessRecord): string {
  if (format === 'json') {
    const line = JSON.stringify({
      time: new Date(r.startMs).toISOString(),
      remote: r.remoteAddress,
      method: r.method,
      url: r.url,
      httpVersion: r.httpVersion,
      status: r.status,
      bytes: r.bytes,
      referer: r.referer ?? null,
      userAgent: r.userAgent ?? null,
      durationMs: Math.round(r.durationMs * 1000) / 1000,
    });
    return `${line.replace(JSON_RAW_CONTROLS, jsonControl)}\n`;
  }
  const common =
    `${escapeLogField(r.remoteAddress)} - - ${formatClfTime(r.startMs)} ` +
    `"${escapeLogField(r.method)} ${escapeLogField(r.url)} HTTP/${escapeLogField(r.httpVersion)}" ` +
    `${r.status} ${r.bytes === 0 ? '-' : r.bytes}`;
  if (format === 'common') return `${common}\n`;
  return `${common} "${escapeLogField(r.referer)}" "${escapeLogField(r.userAgent)}"\n`;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.join(', ');
}

function byteLength(chunk: string | Uint8Array | undefined): number {
  if (chunk === undefined) return 0;
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
}

/** Whether a response carries no body whatever the handler wrote (RFC 9110 §6.4.1). */
function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/**
 * An access log with a lifecycle: open() it, wrap() handlers, reopen() on SIGUSR1, close() at exit.
 * Write errors go to onError and never reach requests.
 */
export class AccessLog {
  readonly format: AccessLogFormat;
  private stream: NodeJS.WritableStream;
  private readonly file: string | undefined;
  private readonly onError: (err: Error) => void;
  private lines: string[] = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private closed = false;

  private constructor(options: AccessLogOptions, stream: NodeJS.WritableStream) {
    this.format = options.format;
    this.file = options.format === 'off' ? undefined : options.file;
    this.stream = stream;
    this.onError =
      options.onError ?? ((err) => process.stderr.write(`berth: access log: ${oneLine(err.message)}\n`));
  }

  /**
   * Opens the log. With `file`, resolves once the file is open for appending and rejects (an fs
   * error) when it cannot be, so a wrong path fails at start, not at the first request.
   */
  static async open(options: AccessLogOptions): Promise<AccessLog> {
    if (options.format === 'off' || options.file === undefined) {
      return new AccessLog(options, options.stream ?? process.stdout);
    }
    const log = new AccessLog(options, await openAppend(options.file));
    log.watch(log.stream as WriteStream);
    return log;
  }

  /**
   * Returns a handler that runs `handler` and logs the exchange when its response closes (sent in
   * full, or the client went away). With format 'off', `handler` itself.
   */
  wrap(handler: Handler): Handler {
    if (this.format === 'off') return handler;
    return (req, res) => {
      this.track(req, res);
      return handler(req, res);
    };
  }

  /** Queues one record's line; written within FLUSH_INTERVAL_MS. Dropped after close(). */
  log(record: AccessRecord): void {
    if (this.closed || this.format === 'off') return;
    const line = formatAccessLine(this.format, record);
    this.lines.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= FLUSH_BYTES) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Writes the buffered lines now, in one write. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.pendingChars = 0;
    this.stream.write(text);
  }

  /**
   * Closes the log file and opens the same path again (log rotation). Buffered lines go to the old
   * file first. A no-op for stdout. Rejects when the path cannot be opened; the old file then stays
   * in use.
   */
  async reopen(): Promise<void> {
    if (this.file === undefined || this.closed) return;
    const fresh = await openAppend(this.file);
    this.flush();
    const old = this.stream as WriteStream;
    this.stream = fresh;
    this.watch(fresh);
    old.end();
  }

  /** Writes what is buffered and closes the file; resolves once the bytes are handed to the OS. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.format === 'off') return;
    if (this.file !== undefined) {
      const stream = this.stream as WriteStream;
      if (!stream.closed) {
        const done = once(stream, 'close');
        stream.end();
        await done.catch(() => undefined);
      }
      return;
    }
    // stdout or a caller's stream: wait until what was written is flushed, never end it.
    await new Promise<void>((resolve) => {
      this.stream.write('', () => resolve());
    });
  }

  private watch(stream: WriteStream): void {
    stream.on('error', (err) => this.onError(err));
  }

  private track(req: Request, res: Response): void {
    const startMs = Date.now();
    const start = performance.now();
    let bytes = 0;
    const write = res.write;
    const end = res.end;
    // Counted before the call: end() may finish the exchange, and so fire 'close', synchronously.
    res.write = (chunk) => {
      bytes += byteLength(chunk);
      return write.call(res, chunk);
    };
    res.end = (chunk) => {
      if (!res.writableEnded) bytes += byteLength(chunk);
      end.call(res, chunk);
    };
    res.once('close', () => {
      const status = res.statusCode;
      this.log({
        remoteAddress: req.remoteAddress,
        startMs,
        durationMs: performance.now() - start,
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
        status,
        bytes: hasNoBody(req.method, status) ? 0 : bytes,
        referer: headerText(req.headers.referer),
        userAgent: headerText(req.headers['user-agent']),
      });
    });
  }
}

/** Opens a file for appending; resolves once it is open, rejects with the fs error otherwise. */
async function openAppend(file: string): Promise<WriteStream> {
  const stream = createWriteStream(file, { flags: 'a' });
  await once(stream, 'open');
  return stream;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
