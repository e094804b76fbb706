/**
 * Sends one file as the representation the request asks for: language variant (Apache
 * MultiViews-style `index.html.fr`), content coding (precompressed sibling or on the fly),
 * preconditions (RFC 9110 §13.2.2) and ranges (RFC 9110 §14). Takes a path and its stat, not a
 * request path, so anything that has a file to send can use it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Request, Response } from '../handler/types.js';
import { formatHttpDate } from '../http/date.js';
import { strongEtag } from '../http/etag.js';
import { chooseEncoding, chooseLanguage } from '../http/negotiate.js';
import { evaluateIfRange, evaluatePreconditions } from '../http/preconditions.js';
import { contentRange, parseRange, unsatisfiedRange } from '../http/range.js';
import type { FileCache } from './file-cache.js';
import { contentTypeFor, isCompressible } from './mime.js';
import { planMultipart } from './multipart.js';

/** Smallest file worth compressing on the fly (below it the framing costs more than it saves). */
export const MIN_COMPRESS_BYTES = 1024;
/** Brotli quality for on-the-fly compression: fast enough to stream, most of the gain of 11. */
const BROTLI_QUALITY = 5;

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Sibling suffixes of precompressed files, by content coding, in the server's order of preference. */
export const PRECOMPRESSED: readonly (readonly [string, string])[] = [
  ['br', '.br'],
  ['zstd', '.zst'],
  ['gzip', '.gz'],
];
export const ON_THE_FLY = ['br', 'gzip'] as const;
/** A two-letter ISO 639-1 code with an optional region: `fr`, `pt-BR`. */
const LANGUAGE_SUFFIX = /^([a-z]{2})(?:-[a-z]{2})?$/i;
const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

export type SendContext = {
  readonly cacheControl: string;
  readonly compress: boolean;
  readonly cache: FileCache;
  /** A directory's names (memoized), for variants and precompressed siblings. */
  directory(dir: string): DirectoryIndex | Promise<DirectoryIndex>;
};

/** A directory's names, with the language variants of each name found once, when it is read. */
export type DirectoryIndex = {
  readonly names: ReadonlySet<string>;
  /** `index.html` → ['fr', 'de'] when `index.html.fr` and `index.html.de` are present. */
  readonly languages: ReadonlyMap<string, readonly string[]>;
};

/** Builds the DirectoryIndex of a directory's names. */
export function indexDirectory(names: readonly string[]): DirectoryIndex {
  const languages = new Map<string, string[]>();
  for (const name of names) {
    const dot = name.lastIndexOf('.');
    if (dot <= 0) continue;
    const suffix = name.slice(dot + 1);
    if (!isLanguageSuffix(suffix)) continue;
    const base = name.slice(0, dot);
    const list = languages.get(base);
    if (list === undefined) languages.set(base, [suffix]);
    else list.push(suffix);
  }
  return { names: new Set(names), languages };
}

const NO_LANGUAGES: readonly string[] = [];

// Validators are strings built from (size, mtime); the last few are remembered so a hot file does
// not format its ETag and date on every request.
let lastTagFile = { size: -1, mtimeMs: -1 };
let lastTag = '';
export function etagOf(file: FileInfo): string {
  if (file.size !== lastTagFile.size || file.mtimeMs !== lastTagFile.mtimeMs) {
    lastTag = strongEtag(file.size, file.mtimeMs);
    lastTagFile = { size: file.size, mtimeMs: file.mtimeMs };
  }
  return lastTag;
}
const lastModifiedStrings = new Map<number, string>();
export function lastModifiedOf(mtimeMs: number): string {
  let text = lastModifiedStrings.get(mtimeMs);
  if (text === undefined) {
    if (lastModifiedStrings.size >= 4096) lastModifiedStrings.clear();
    text = formatHttpDate(new Date(mtimeMs));
    lastModifiedStrings.set(mtimeMs, text);
  }
  return text;
}

export type FileInfo = { path: string; size: number; mtimeMs: number };

/** Sends path (already stat'ed: size, mtimeMs) as the response to a GET or HEAD request. */
export async function sendFile(req: Request, res: Response, file: FileInfo, ctx: SendContext): Promise<void> {
  const headers = req.headers;
  const dir = dirname(file.path);
  const name = basename(file.path);
  const known = ctx.directory(dir);
  const index = known instanceof Promise ? await known : known;
  const siblings = index.names;
  const vary: string[] = [];
  let source = file;

  // Languages: `name.<lang>` siblings are variants of `name` (Apache MultiViews naming).
  const languages = index.languages.get(name) ?? NO_LANGUAGES;
  if (languages.length > 0) {
    vary.push('Accept-Language');
    const chosen = chooseLanguage(str(headers['accept-language']), languages);
    if (chosen !== undefined) {
      const variant = join(dir, `${name}.${chosen}`);
      const info = await stat(variant);
      source = { path: variant, size: info.size, mtimeMs: info.mtimeMs };
      res.setHeader('Content-Language', chosen);
    }
  }

  // `index.html.fr` asked for by name is still HTML, in French.
  const dot = name.lastIndexOf('.');
  const ownLanguage = dot > 0 && name.lastIndexOf('.', dot - 1) > 0 ? name.slice(dot + 1) : '';
  const languageFile = ownLanguage !== '' && isLanguageSuffix(ownLanguage);
  if (languageFile && source === file) res.setHeader('Content-Language', ownLanguage);
  const contentType = contentTypeFor(languageFile ? name.slice(0, dot) : name);
  const rangeHeader = req.method === 'GET' ? str(headers.range) : undefined;
  // Content codings: a precompressed sibling, else compression on the fly. With a Range header
  // the identity representation is sent, so byte ranges always refer to the file as stored.
  let encoding = 'identity';
  let encodedFile: FileInfo | undefined;
  if (ctx.compress) {
    vary.push('Accept-Encoding');
    if (rangeHeader === undefined) {
      const sourceName = basename(source.path);
      const available: string[] = [];
      const precompressed = new Map<string, string>();
      for (const [coding, suffix] of PRECOMPRESSED) {
        if (siblings.has(sourceName + suffix)) {
          available.push(coding);
          precompressed.set(coding, join(dir, sourceName + suffix));
        }
      }
      if (isCompressible(contentType) && source.size >= MIN_COMPRESS_BYTES) {
        for (const coding of ON_THE_FLY) if (!precompressed.has(coding)) available.push(coding);
      }
      available.push('identity');
      encoding = chooseEncoding(str(headers['accept-encoding']), available) ?? 'identity';
      const sibling = precompressed.get(encoding);
      if (sibling !== undefined) {
        const info = await stat(sibling);
        encodedFile = { path: sibling, size: info.size, mtimeMs: info.mtimeMs };
      }
    }
  }

  // A strong validator per representation (RFC 9110 §8.8.3): a language variant or an encoded
  // form is a different representation of this URL, so its tag says which, even when the files
  // happen to share size and mtime.
  const validatorFile = encodedFile ?? source;
  const baseTag = etagOf(validatorFile);
  const language = source === file ? '' : `-${basename(source.path).slice(name.length + 1)}`;
  const coding = encoding === 'identity' ? '' : `-${encoding}`;
  const etag = language === '' && coding === '' ? baseTag : `${baseTag.slice(0, -1)}${language}${coding}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', lastModifiedOf(source.mtimeMs));
  res.setHeader('Cache-Control', ctx.cacheControl);
  if (vary.length > 0) res.setHeader('Vary', vary.join(', '));

  const verdict = evaluatePreconditions(
    req.method,
    {
      'if-match': str(headers['if-match']),
      'if-none-match': str(headers['if-none-match']),
      'if-modified-since': str(headers['if-modified-since']),
      'if-unmodified-since': str(headers['if-unmodified-since']),
    },
    { etag, lastModifiedMs: source.mtimeMs, exists: true },
  );
  if (verdict.kind === 'not-modified') {
    // RFC 9110 §15.4.5: 304 carries the validators, Cache-Control and Vary, never a body.
    res.statusCode = 304;
    res.end();
    return;
  }
  if (verdict.kind === 'failed') {
    res.statusCode = 412;
    res.end();
    return;
  }

  res.setHeader('Content-Type', contentType);
  if (encoding !== 'identity') res.setHeader('Content-Encoding', encoding);
  if (encoding === 'identity' || encodedFile !== undefined) res.setHeader('Accept-Ranges', 'bytes');
  const head = req.method === 'HEAD';

  if (encodedFile !== undefined) {
    await sendBytes(res, encodedFile, undefined, head, ctx);
    return;
  }
  if (encoding !== 'identity') {
    await sendCompressed(res, source, encoding, head, ctx);
    return;
  }
  if (
    rangeHeader !== undefined &&
    evaluateIfRange(str(headers['if-range']), { etag, lastModifiedMs: source.mtimeMs }, Date.now())
  ) {
    const parsed = parseRange(rangeHeader, source.size);
    if (parsed.kind === 'unsatisfiable') {
      res.statusCode = 416;
      res.setHeader('Content-Range', unsatisfiedRange(source.size));
      res.end();
      return;
    }
    if (parsed.kind === 'ranges') {
      res.statusCode = 206;
      if (parsed.ranges.length === 1) {
        const range = parsed.ranges[0]!;
        res.setHeader('Content-Range', contentRange(range, source.size));
        await sendBytes(res, source, range, head, ctx);
        return;
      }
      await sendMultipart(res, source, parsed.ranges, contentType, head, ctx);
      return;
    }
  }
  await sendBytes(res, source, undefined, head, ctx);
}

/** The whole file or one range of it, from memory when cached, else streamed from disk. */
async function sendBytes(
  res: Response,
  file: FileInfo,
  range: { start: number; end: number } | undefined,
  head: boolean,
  ctx: SendContext,
): Promise<void> {
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  const length = file.size === 0 ? 0 : end - start + 1;
  res.setHeader('Content-Length', length);
  if (head || length === 0) {
    res.end();
    return;
  }
  const cached =
    ctx.cache.peek(file.path, file.size, file.mtimeMs) ??
    (await ctx.cache.get(file.path, file.size, file.mtimeMs));
  if (cached !== undefined) {
    res.end(range === undefined ? cached.data : cached.data.subarray(start, end + 1));
    return;
  }
  // Large reads: fewer trips through the thread pool and the socket per megabyte.
  await res.send(createReadStream(file.path, { start, end, highWaterMark: readChunkBytes(length) }));
}

async function sendMultipart(
  res: Response,
  file: FileInfo,
  ranges: readonly { start: number; end: number }[],
  contentType: string,
  head: boolean,
  ctx: SendContext,
): Promise<void> {
  const plan = planMultipart(ranges, file.size, contentType);
  res.setHeader('Content-Type', plan.contentType);
  res.setHeader('Content-Length', plan.length);
  if (head) {
    res.end();
    return;
  }
  const cached = await ctx.cache.get(file.path, file.size, file.mtimeMs);
  async function* parts(): AsyncGenerator<Buffer> {
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i]!;
      yield plan.heads[i]!;
      if (cached !== undefined) yield cached.data.subarray(range.start, range.end + 1);
      else for await (const chunk of createReadStream(file.path, range)) yield chunk as Buffer;
    }
    yield plan.closing;
  }
  await res.send(parts());
}

/** Compresses on the fly: small files once, into the memory cache; large ones as a stream. */
async function sendCompressed(
  res: Response,
  file: FileInfo,
  encoding: string,
  head: boolean,
  ctx: SendContext,
): Promise<void> {
  const cached = await ctx.cache.get(file.path, file.size, file.mtimeMs);
  if (cached !== undefined) {
    let data = cached.encoded.get(encoding);
    if (data === undefined) {
      data = encoding === 'br' ? await brotli(cached.data, brotliOptions()) : await gzip(cached.data);
      ctx.cache.addEncoded(cached, encoding, data);
    }
    res.setHeader('Content-Length', data.length);
    res.end(head ? undefined : data);
    return;
  }
  if (head) {
    res.end();
    return;
  }
  const compressor = encoding === 'br' ? zlib.createBrotliCompress(brotliOptions()) : zlib.createGzip();
  const source = createReadStream(file.path);
  const done = pipeline(source, compressor);
  await Promise.all([res.send(compressor), done]);
}

/** Read size for streaming a body of `length` bytes: 64 KiB for small ones, up to 1 MiB. */
function readChunkBytes(length: number): number {
  return Math.min(1024 * 1024, Math.max(64 * 1024, 2 ** Math.floor(Math.log2(Math.max(1, length / 8)))));
}

function brotliOptions(): zlib.BrotliOptions {
  return { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY } };
}

/**
 * Whether a file-name suffix names a language: an assigned ISO 639-1 code (so `x.js.map` or
 * `app.js` are never taken for variants), and not a compression suffix (`.br` is brotli here,
 * even though it is also Breton's code).
 */
export function isLanguageSuffix(suffix: string): boolean {
  const match = LANGUAGE_SUFFIX.exec(suffix);
  if (match === null || suffix === 'br' || suffix === 'gz') return false;
  return languageNames.of(match[1]!.toLowerCase()) !== undefined;
}

function str(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
