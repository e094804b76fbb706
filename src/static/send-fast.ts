/**
 * The common case of the file server without a promise: a plain GET or HEAD (no Range, no
 * conditional) for a file already in the memory cache, with no language variants and no
 * precompressed siblings, sent as stored. What sendFile() would work out for such a file depends
 * only on the file and its directory, so it is worked out once into a Plan and reused while the
 * directory index and the file's size and mtime stay the same. Anything else returns false and
 * goes to sendFile(), which gives the same answer the long way (about 2.5 µs more per request).
 */
import { basename, dirname } from 'node:path';
import type { Request, Response } from '../handler/types.js';
import { chooseEncoding } from '../http/negotiate.js';
import { contentTypeFor, isCompressible } from './mime.js';
import {
  type DirectoryIndex,
  etagOf,
  type FileInfo,
  isLanguageSuffix,
  lastModifiedOf,
  MIN_COMPRESS_BYTES,
  ON_THE_FLY,
  PRECOMPRESSED,
  type SendContext,
} from './send-file.js';

type Plan = {
  readonly index: DirectoryIndex;
  readonly size: number;
  readonly mtimeMs: number;
  /** dirname(path), kept so a hot file does not call dirname() per request. */
  readonly dir: string;
  /** False when the file has variants or siblings that only sendFile() handles. */
  readonly plain: boolean;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: string;
  /** Content codings on offer (identity last) when compression is on, else just identity. */
  readonly codings: readonly string[];
};

const IDENTITY_ONLY: readonly string[] = ['identity'];
const ON_THE_FLY_CODINGS: readonly string[] = [...ON_THE_FLY, 'identity'];
/** Plans remembered at most; past this the memo starts over. */
const MAX_PLANS = 4096;

const plans = new Map<string, Plan>();

/** Sends `file` as sendFile() would and returns true, or returns false having sent nothing. */
export function sendFast(req: Request, res: Response, file: FileInfo, ctx: SendContext): boolean {
  const headers = req.headers;
  if (
    headers.range !== undefined ||
    headers['if-none-match'] !== undefined ||
    headers['if-modified-since'] !== undefined ||
    headers['if-match'] !== undefined ||
    headers['if-unmodified-since'] !== undefined
  ) {
    return false;
  }
  const cached = ctx.cache.peek(file.path, file.size, file.mtimeMs);
  if (cached === undefined || file.size === 0) return false;
  let plan = plans.get(file.path);
  const dir = plan?.dir ?? dirname(file.path);
  const index = ctx.directory(dir);
  if (index instanceof Promise) return false;
  if (
    plan === undefined ||
    plan.index !== index ||
    plan.size !== file.size ||
    plan.mtimeMs !== file.mtimeMs
  ) {
    plan = makePlan(file, dir, index, ctx.compress);
    if (plans.size >= MAX_PLANS) plans.clear();
    plans.set(file.path, plan);
  }
  if (!plan.plain) return false;
  if (plan.codings !== IDENTITY_ONLY) {
    const accept = headers['accept-encoding'];
    const chosen = chooseEncoding(Array.isArray(accept) ? accept.join(', ') : accept, plan.codings);
    if (chosen !== 'identity') return false;
  }
  // The fields and their order are sendFile()'s for the identity representation.
  res.setHeader('ETag', plan.etag);
  res.setHeader('Last-Modified', plan.lastModified);
  res.setHeader('Cache-Control', ctx.cacheControl);
  if (ctx.compress) res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('Content-Type', plan.contentType);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Length', file.size);
  res.end(req.method === 'HEAD' ? undefined : cached.data);
  return true;
}

function makePlan(file: FileInfo, dir: string, index: DirectoryIndex, compress: boolean): Plan {
  const name = basename(file.path);
  const dot = name.lastIndexOf('.');
  // `index.html.fr` asked for by name carries Content-Language: sendFile()'s to send.
  const languageFile = dot > 0 && name.lastIndexOf('.', dot - 1) > 0 && isLanguageSuffix(name.slice(dot + 1));
  const hasVariants = (index.languages.get(name)?.length ?? 0) > 0;
  const hasSiblings = compress && PRECOMPRESSED.some(([, suffix]) => index.names.has(name + suffix));
  const contentType = contentTypeFor(name);
  return {
    index,
    size: file.size,
    mtimeMs: file.mtimeMs,
    dir,
    plain: !languageFile && !hasVariants && !hasSiblings,
    contentType,
    etag: etagOf(file),
    lastModified: lastModifiedOf(file.mtimeMs),
    codings:
      compress && isCompressible(contentType) && file.size >= MIN_COMPRESS_BYTES
        ? ON_THE_FLY_CODINGS
        : IDENTITY_ONLY,
  };
}
