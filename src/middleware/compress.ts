/**
 * The `compress` middleware: gzip or brotli for the responses next produces, decided when their
 * head goes out (through intercept()), streamed through node:zlib with backpressure both ways.
 *
 * A response is compressed when all of these hold:
 * - the request is not HEAD and asks for no Range. With a Range the response is left alone
 *   entirely, so byte ranges always count bytes of the identity representation (and a 206 is
 *   never re-encoded: its Content-Range would lie);
 * - the status has content: not 1xx, 204, 206 or 304;
 * - next set no Content-Encoding of its own (static files may come precompressed) and no
 *   `Cache-Control: no-transform` (RFC 9111 §5.2.2.6);
 * - the Content-Type is one worth compressing (static/mime.ts isCompressible: text, JSON, JS, XML,
 *   SVG, wasm, …), but not text/event-stream, whose events must arrive as they are written;
 * - Accept-Encoding prefers br or gzip to identity (RFC 9110 §12.5.3, q-values, via
 *   http/negotiate.ts chooseEncoding; brotli first on a tie);
 * - the body reaches `minBytes`: below it the gzip framing costs more than it saves. A declared
 *   Content-Length decides at once; otherwise up to minBytes are held before deciding.
 *
 * Responses of a compressible type get `Vary: Accept-Encoding` whether or not this one was
 * compressed (RFC 9110 §12.5.5: the choice depended on it), HEAD responses and 304s included —
 * a 304 carries the Vary and ETag the 200 would have (RFC 9110 §15.4.5).
 *
 * A compressed response loses Content-Length (the engine chunks it) and Accept-Ranges (ranges
 * are served on the identity bytes only, as nginx does), and its strong ETag becomes weak:
 * RFC 9110 §8.8.3 — a strong tag names one exact byte sequence, and the gzip bytes are not the
 * identity bytes. A weak tag still revalidates (If-None-Match compares weakly, §13.1.2) and can
 * never make an If-Range resume splice gzip bytes onto identity bytes (If-Range compares
 * strongly, §13.1.5).
 *
 * Streaming: when next pauses between writes (yields the event loop), what zlib holds is flushed
 * (a sync flush, not a full one: the dictionary is kept), so a slow stream's early bytes reach the
 * client before its end. Writes within one tick share one flush.
 */
import zlib from 'node:zlib';
import type { MiddlewareConfig } from '../config/model.js';
import type { Response } from '../handler/types.js';
import { parseCacheControl } from '../http/cache-control.js';
import { chooseEncoding } from '../http/negotiate.js';
import { isCompressible } from '../static/mime.js';
import { appendVary } from './fields.js';
import { type BodyPlan, type HeadView, intercept, PASS } from './intercept.js';
import type { Middleware } from './types.js';

export type CompressConfig = Extract<MiddlewareConfig, { readonly kind: 'compress' }>;

/** The codings made here, in the server's order of preference (RFC 9110 §12.5.3 ties). */
const CODINGS: readonly string[] = ['br', 'gzip', 'identity'];
/** Brotli quality: fast enough to stream, most of the gain of 11 (as static/send-file.ts uses). */
const BROTLI_QUALITY = 5;

/**
 * Builds the `compress` middleware. Throws when `minBytes` is not a non-negative safe integer.
 * Errors from zlib end the exchange as handler errors (the connection is cut once the head is out).
 */
export function compress(config: CompressConfig): Middleware {
  const minBytes = config.minBytes;
  if (!Number.isSafeInteger(minBytes) || minBytes < 0) {
    throw new Error(`compress.minBytes must be a whole number of bytes, not ${minBytes}`);
  }
  return (next) => (req, res) => {
    if (req.headers.range !== undefined || req.method === 'CONNECT') return next(req, res);
    const accept = req.headers['accept-encoding'];
    const acceptEncoding = typeof accept === 'object' ? accept.join(', ') : accept;
    const headOnly = req.method === 'HEAD';
    return intercept(next, req, res, (head) => plan(head, acceptEncoding, headOnly, minBytes));
  };
}

/** The decision for one response; see the module comment for the rules. */
function plan(
  head: HeadView,
  acceptEncoding: string | undefined,
  headOnly: boolean,
  minBytes: number,
): BodyPlan {
  const res = head.res;
  const status = res.statusCode;
  if (status < 200 || status === 204 || status === 206) return PASS;
  if (res.hasHeader('content-encoding') || noTransform(res)) return PASS;
  const type = fieldString(res, 'content-type');
  // A 304 may omit Content-Type; it still owes the Vary and ETag of the 200 (RFC 9110 §15.4.5).
  if (type === undefined ? status !== 304 : !isCompressible(type) || isEventStream(type)) return PASS;
  const coding = chooseEncoding(acceptEncoding, CODINGS) ?? 'identity';
  if (status === 304 || headOnly || coding === 'identity') {
    appendVary(res, 'Accept-Encoding');
    if (status === 304 && coding !== 'identity') weakenEtag(res);
    return PASS;
  }
  const declared = contentLength(res);
  if (declared === undefined && !head.ended && head.bufferedBytes < minBytes) {
    return { kind: 'hold', bytes: minBytes };
  }
  appendVary(res, 'Accept-Encoding');
  if ((declared ?? head.bufferedBytes) < minBytes) return PASS;

  res.setHeader('Content-Encoding', coding);
  res.removeHeader('content-length');
  res.removeHeader('accept-ranges');
  weakenEtag(res);
  const stream =
    coding === 'br' ? zlib.createBrotliCompress(brotliOptions(type!, declared)) : zlib.createGzip();
  const flushKind = coding === 'br' ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH;
  return { kind: 'transform', stream, afterWrite: idleFlusher(stream, flushKind) };
}

/**
 * Returns a function that schedules one flush of `stream` for when the current tick's writes are
 * done (setImmediate), unless one is scheduled already or the stream has ended.
 */
function idleFlusher(stream: zlib.Gzip | zlib.BrotliCompress, kind: number): () => void {
  let queued = false;
  const flush = (): void => {
    queued = false;
    if (!stream.writableEnded && !stream.destroyed) stream.flush(kind);
  };
  return () => {
    if (queued) return;
    queued = true;
    setImmediate(flush);
  };
}

function brotliOptions(type: string, declared: number | undefined): zlib.BrotliOptions {
  const params: Record<number, number> = {
    [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
    [zlib.constants.BROTLI_PARAM_MODE]: type.toLowerCase().startsWith('text/')
      ? zlib.constants.BROTLI_MODE_TEXT
      : zlib.constants.BROTLI_MODE_GENERIC,
  };
  if (declared !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = declared;
  return { params };
}

/** `"x"` becomes `W/"x"` (RFC 9110 §8.8.3: the encoded bytes are another representation). */
function weakenEtag(res: Response): void {
  const etag = res.getHeader('etag');
  if (typeof etag === 'string' && etag.startsWith('"')) res.setHeader('ETag', `W/${etag}`);
}

function noTransform(res: Response): boolean {
  const cacheControl = fieldString(res, 'cache-control');
  return cacheControl !== undefined && parseCacheControl(cacheControl).has('no-transform');
}

function isEventStream(type: string): boolean {
  return type.trimStart().toLowerCase().startsWith('text/event-stream');
}

/** The Content-Length next declared, when it is a valid one. */
function contentLength(res: Response): number | undefined {
  const value = res.getHeader('content-length');
  if (value === undefined || typeof value === 'object') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A field's value as one string (repeated lines joined, RFC 9110 §5.3), or undefined. */
function fieldString(res: Response, name: string): string | undefined {
  const value = res.getHeader(name);
  if (value === undefined) return undefined;
  return typeof value === 'object' ? value.join(', ') : String(value);
}
