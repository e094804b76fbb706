/**
 * A raw HTTP/1.1 client for end-to-end tests: it writes exactly the bytes a test gives it (whole, or
 * in pieces with pauses between them) and collects exactly the bytes the server sends back, so a
 * test can see framing, order, interim responses and when the server closes — what fetch hides.
 *
 * parseResponses() splits the collected bytes into responses strictly: CRLF line ends, a status
 * line, fields, then a body framed by Content-Length, chunked coding (with trailers) or the close
 * of the connection (RFC 9112 §6.3). Whatever cannot be parsed stays in `rest`.
 *
 * Also here: curl() runs /usr/bin/curl, and startServer() starts a Berth server on 127.0.0.1 for
 * one test and closes it afterwards.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Handler, type Server, type ServerOptions } from '../../src/index.js';

/** Default bound on every wait in this file; tests pass shorter ones where they can. */
export const RAW_TIMEOUT_MS = 3_000;

export type RawTarget = { readonly port: number; readonly host?: string } | { readonly path: string };

export type ParsedResponse = {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  /** Fields in order as received, names as sent. */
  readonly fields: readonly (readonly [string, string])[];
  /** How the body was delimited. */
  readonly framing: 'none' | 'length' | 'chunked' | 'close';
  readonly body: Buffer;
  /** Chunk extensions seen, per chunk, as received (without the leading `;`). */
  readonly chunkExtensions: readonly string[];
  readonly trailers: readonly (readonly [string, string])[];
  /** The raw head bytes (status line and fields, up to and including the blank line). */
  readonly head: string;
};

export type ParseResult = {
  /** Interim (1xx) and final responses in the order they arrived. */
  readonly responses: ParsedResponse[];
  /** Final (non-1xx) responses only. */
  readonly finals: ParsedResponse[];
  /** Bytes after the last complete response (an incomplete one, or garbage). */
  readonly rest: Buffer;
};

/** Case-insensitive lookup: all values of a field, in order. */
export function fieldValues(res: ParsedResponse, name: string): string[] {
  const lower = name.toLowerCase();
  return res.fields.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/** Case-insensitive lookup: the field's values joined with ', ', undefined when absent. */
export function field(res: ParsedResponse, name: string): string | undefined {
  const values = fieldValues(res, name);
  return values.length === 0 ? undefined : values.join(', ');
}

/**
 * Splits bytes into HTTP/1.1 responses. `methods[i]` is the method of the request the i-th final
 * response answers (HEAD responses have no body). `closed` says the connection has ended, which
 * completes a close-delimited body.
 */
export function parseResponses(
  bytes: Buffer,
  options: { readonly methods?: readonly string[]; readonly closed?: boolean } = {},
): ParseResult {
  const responses: ParsedResponse[] = [];
  const finals: ParsedResponse[] = [];
  let pos = 0;
  for (;;) {
    const parsed = parseOne(bytes, pos, options.methods?.[finals.length] ?? 'GET', options.closed ?? false);
    if (parsed === undefined) break;
    responses.push(parsed.res);
    if (parsed.res.status >= 200) finals.push(parsed.res);
    pos = parsed.end;
  }
  return { responses, finals, rest: bytes.subarray(pos) };
}

function parseOne(
  buf: Buffer,
  start: number,
  method: string,
  closed: boolean,
): { res: ParsedResponse; end: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (headEnd === -1) return undefined;
  const head = buf.toString('latin1', start, headEnd + 4);
  const lines = head.slice(0, -4).split('\r\n');
  const match = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (match === null) return undefined;
  const status = Number(match[2]);
  const fields: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const base = { version: match[1]!, status, reason: match[3]!, fields, head };
  let pos = headEnd + 4;
  const empty = Buffer.alloc(0);
  const noBody = status < 200 || status === 204 || status === 304 || method === 'HEAD';
  const lookup = (name: string): string | undefined =>
    fields
      .filter(([n]) => n.toLowerCase() === name)
      .map(([, v]) => v)
      .join(', ') || undefined;
  if (noBody) {
    return {
      res: { ...base, framing: 'none', body: empty, chunkExtensions: [], trailers: [] },
      end: pos,
    };
  }
  const te = lookup('transfer-encoding');
  if (te !== undefined && te.toLowerCase().split(',').at(-1)?.trim() === 'chunked') {
    const parts: Buffer[] = [];
    const extensions: string[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
      if (lineEnd === -1) return undefined;
      const sizeLine = buf.toString('latin1', pos, lineEnd);
      const semi = sizeLine.indexOf(';');
      if (semi !== -1) extensions.push(sizeLine.slice(semi + 1));
      const size = Number.parseInt(semi === -1 ? sizeLine : sizeLine.slice(0, semi), 16);
      if (!Number.isFinite(size)) return undefined;
      pos = lineEnd + 2;
      if (size === 0) break;
      if (buf.length < pos + size + 2) return undefined;
      parts.push(buf.subarray(pos, pos + size));
      if (buf.toString('latin1', pos + size, pos + size + 2) !== '\r\n') return undefined;
      pos += size + 2;
    }
    const trailers: [string, string][] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
      if (lineEnd === -1) return undefined;
      const line = buf.toString('latin1', pos, lineEnd);
      pos = lineEnd + 2;
      if (line === '') break;
      const colon = line.indexOf(':');
      trailers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
    return {
      res: { ...base, framing: 'chunked', body: Buffer.concat(parts), chunkExtensions: extensions, trailers },
      end: pos,
    };
  }
  const cl = lookup('content-length');
  if (cl !== undefined) {
    const n = Number(cl);
    if (buf.length < pos + n) return undefined;
    return {
      res: {
        ...base,
        framing: 'length',
        body: buf.subarray(pos, pos + n),
        chunkExtensions: [],
        trailers: [],
      },
      end: pos + n,
    };
  }
  if (!closed) return undefined;
  return {
    res: { ...base, framing: 'close', body: buf.subarray(pos), chunkExtensions: [], trailers: [] },
    end: buf.length,
  };
}

/** One client connection that records every byte received, each 'data' event, and the close. */
export class RawClient {
  readonly socket: net.Socket;
  /** Number of 'data' events seen (each is at least one read from the kernel). */
  dataEvents = 0;
  /** The connection is fully closed (by either side). */
  closed = false;
  /** The server sent FIN. */
  ended = false;
  /** Error code of a socket error (e.g. ECONNRESET), if one happened. */
  errorCode: string | undefined = undefined;
  private chunks: Buffer[] = [];
  private waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.dataEvents++;
      this.chunks.push(chunk);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.errorCode = err.code ?? err.message;
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** Connects to a TCP port on 127.0.0.1 (or `host`) or to a unix socket path. */
  static connect(target: RawTarget, timeoutMs = RAW_TIMEOUT_MS): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket =
        'path' in target
          ? net.connect({ path: target.path })
          : net.connect({ port: target.port, host: target.host ?? '127.0.0.1' });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timed out'));
      }, timeoutMs);
      const client = new RawClient(socket);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(client);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Everything received so far. */
  get received(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Everything received so far, as latin1 text. */
  get text(): string {
    return this.received.toString('latin1');
  }

  /** Writes bytes; resolves once they are handed to the kernel. Errors (peer gone) are ignored. */
  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        resolve();
        return;
      }
      this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, () => resolve());
    });
  }

  /** Writes each piece, pausing delayMs between pieces. */
  async writePieces(pieces: readonly (string | Buffer)[], delayMs: number): Promise<void> {
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0) await sleep(delayMs);
      await this.write(pieces[i]!);
    }
  }

  /** Parses what has arrived so far. */
  parse(methods?: readonly string[]): ParseResult {
    return parseResponses(
      this.received,
      methods === undefined ? { closed: this.closed } : { methods, closed: this.closed },
    );
  }

  /** Resolves when `n` final responses are complete; rejects if the connection closes first or time runs out. */
  async responses(
    n: number,
    options: { readonly methods?: readonly string[]; readonly timeoutMs?: number } = {},
  ): Promise<ParsedResponse[]> {
    await this.until(
      () => this.closed || this.parse(options.methods).finals.length >= n,
      options.timeoutMs ?? RAW_TIMEOUT_MS,
      `${n} response(s)`,
    );
    const finals = this.parse(options.methods).finals;
    if (finals.length < n) {
      throw new Error(
        `connection closed after ${finals.length} of ${n} responses; received: ${JSON.stringify(this.text.slice(0, 600))}`,
      );
    }
    return finals;
  }

  /** Resolves when the connection has closed; rejects when time runs out. */
  async waitForClose(timeoutMs = RAW_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  /** Resolves once check() is true after some event; rejects with what arrived when time runs out. */
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.text.slice(0, 600))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Half-closes the client side (sends FIN). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export type ExchangeResult = {
  readonly bytes: Buffer;
  readonly text: string;
  readonly responses: ParsedResponse[];
  readonly finals: ParsedResponse[];
  readonly rest: Buffer;
  /** The server closed the connection before the exchange was over. */
  readonly closed: boolean;
  readonly dataEvents: number;
  readonly errorCode: string | undefined;
};

/**
 * Connects, writes `request` (a string or Buffer at once, or an array of pieces with delayMs between
 * them), and collects the reply until `responses` final responses are complete — or, when
 * `responses` is not given, until the server closes the connection. Rejects on timeout.
 */
export async function exchange(
  target: RawTarget,
  request: string | Buffer | readonly (string | Buffer)[],
  options: {
    readonly responses?: number;
    readonly methods?: readonly string[];
    readonly delayMs?: number;
    readonly timeoutMs?: number;
  } = {},
): Promise<ExchangeResult> {
  const client = await RawClient.connect(target);
  try {
    if (Array.isArray(request)) await client.writePieces(request, options.delayMs ?? 10);
    else await client.write(request as string | Buffer);
    const timeoutMs = options.timeoutMs ?? RAW_TIMEOUT_MS;
    if (options.responses === undefined) await client.waitForClose(timeoutMs);
    else {
      const n = options.responses;
      await client.until(
        () => client.closed || client.parse(options.methods).finals.length >= n,
        timeoutMs,
        `${n} response(s)`,
      );
    }
    const parsed = client.parse(options.methods);
    return {
      bytes: client.received,
      text: client.text,
      ...parsed,
      closed: client.closed,
      dataEvents: client.dataEvents,
      errorCode: client.errorCode,
    };
  } finally {
    client.destroy();
  }
}

export type CurlResult = { readonly stdout: string; readonly stderr: string; readonly code: number };

/** Runs /usr/bin/curl with args, killed after timeoutMs; resolves even when curl exits non-zero. */
export function curl(args: readonly string[], timeoutMs = 5_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('/usr/bin/curl', args, { timeout: timeoutMs, encoding: 'latin1' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ stdout, stderr, code });
    });
  });
}

export type Running = { readonly server: Server; readonly port: number; readonly url: string };

/** Starts a server on 127.0.0.1 with a free port. */
export async function startServer(handler: Handler, options?: ServerOptions): Promise<Running> {
  const server = createServer(handler, options);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.address();
  if (!('port' in address)) throw new Error('expected a TCP address');
  return { server, port: address.port, url: `http://127.0.0.1:${address.port}` };
}

/** Runs body against a fresh server and always closes it (bounded by a timeout). */
export async function withServer(
  handler: Handler,
  options: ServerOptions | undefined,
  body: (running: Running) => Promise<void>,
): Promise<void> {
  const running = await startServer(handler, options);
  try {
    await body(running);
  } finally {
    await closeServer(running.server);
  }
}

/** Closes a server; a server that fails to close within the bound fails the test. */
export async function closeServer(server: Server, timeoutMs = RAW_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`server.close() took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([server.close(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A GET request head for `path` (HTTP/1.1 with Host unless told otherwise). */
export function get(path = '/', extra = '', version = '1.1'): string {
  return `GET ${path} HTTP/${version}\r\nHost: test\r\n${extra}\r\n`;
}

/** IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
