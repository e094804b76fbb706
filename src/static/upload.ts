/**
 * PUT and DELETE of single files under the static root, and the write preconditions that guard them.
 *
 * The life of a PUT: the body streams into a temporary dotfile beside the target
 * (`.berth-upload-<random>`, never served because dotfiles are not), with one awaited write per
 * chunk so a slow disk slows the client down instead of filling memory; the bytes are counted
 * against the upload limit as they arrive; the file is fsynced, renamed over the target (atomic on
 * one filesystem, so a reader sees the old file or the new one, never half of either), and the
 * folder is fsynced so the rename itself survives a crash. On any failure before the rename —
 * limit, disk full, client gone — the temporary file is removed and the target is untouched.
 *
 * Paths come from the resolver (static/resolve.ts); this module trusts `target.path` to be inside
 * the root and does no path reasoning of its own.
 *
 * The entity-tag list parsing and comparison below belong in http/ (an `etag.ts` beside the other
 * RFC 9110 helpers) once that module exists; they live here until then so upload has no dependency
 * on unwritten code.
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { type FileHandle, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HttpError } from '../handler/http-error.js';
import type { IncomingHeaders, Request } from '../handler/types.js';
import { parseHttpDate } from '../http/date.js';
import { type EntityTag, parseEtag, parseEtagList, strongMatch, weakMatch } from '../http/etag.js';
import { encodeUrlPath } from './resolve.js';

/** Name prefix of in-flight upload files; a dotfile, so the static server never serves one. */
export const UPLOAD_TEMP_PREFIX = '.berth-upload-';

/** Where a PUT or DELETE lands, as static/resolve.ts's `resolveWritePath` describes it. */
export type WriteTarget = {
  /** Absolute file-system path of the target, inside the root. */
  path: string;
  /** The decoded URL path of the target (`/docs/a b.txt`); encoded for the Location field. */
  urlPath: string;
  exists: boolean;
  parentExists: boolean;
  /** The target's stat when it exists, if the resolver has it (saves one stat call). */
  stat?: Stats | undefined;
};

export type PutOptions = {
  /** Largest body accepted, in bytes; more → 413. */
  maxUploadBytes: number;
  /** The current representation's entity-tag (`"…"` or `W/"…"`), if the file exists and has one. */
  etag?: string | undefined;
};

/**
 * 201 with the new file's Location (always present with 201), or 204 when an existing file was
 * replaced (RFC 9110 §9.3.4).
 */
export type PutResult = { status: 201 | 204; location?: string };

/** The outcome of the write preconditions: go on, or answer 412 Precondition Failed. */
export type WritePrecondition = { kind: 'proceed' } | { kind: 'failed'; reason: string };

/** What the preconditions are evaluated against: the target's current state. */
export type CurrentState = {
  exists: boolean;
  /** Entity-tag of the current representation (`"…"` or `W/"…"`); none → If-Match lists never match. */
  etag?: string | undefined;
  /** Last modification time in ms since the epoch, for If-Unmodified-Since. */
  lastModifiedMs?: number | undefined;
};

/**
 * Writes the request body to `target.path`, replacing any file there atomically.
 *
 * The write preconditions are checked again here with `options.etag` (see evaluateWritePreconditions):
 * the same inputs give the same answer, so a caller that already checked loses nothing and one that
 * forgot cannot skip them. Reads `req` to its end, or until it fails.
 *
 * Throws HttpError: 400 for a Content-Range (partial PUT, RFC 9110 §14.5), 409 when the parent
 * folder is missing or not a folder, or the target is a folder, 412 for a failed precondition,
 * 413 beyond `maxUploadBytes` (Content-Length checked before any byte is read) or on EFBIG,
 * 403 when the file system refuses (EACCES, EPERM, EROFS), 507 when it is full (ENOSPC, EDQUOT).
 * A body that never completes (client gone, timeout) rejects with the connection's error. Any
 * other error is rethrown as is (a 500). In every failing case the temporary file is gone and the
 * target is as it was.
 */
export async function putFile(req: Request, target: WriteTarget, options: PutOptions): Promise<PutResult> {
  const { headers } = req;
  // RFC 9110 §14.5: "An origin server that allows PUT on a given target resource MUST send a 400
  // (Bad Request) response to a PUT request that contains a Content-Range header field".
  if (headers['content-range'] !== undefined) {
    throw new HttpError(400, 'partial PUT (Content-Range) is not supported');
  }
  const max = options.maxUploadBytes;
  const declared = contentLength(headers);
  if (declared !== undefined && declared > max) throw tooLarge(max);

  checkWritePreconditions(headers, {
    exists: target.exists,
    etag: options.etag,
    lastModifiedMs: target.stat?.mtimeMs,
  });

  if (!target.parentExists) throw new HttpError(409, 'the parent folder does not exist');
  let mode: number | undefined;
  if (target.exists) {
    const current = target.stat ?? (await stat(target.path).catch(() => undefined));
    // RFC 9110 §9.3.4 names 409 for a PUT that conflicts with the target's state; a folder cannot
    // be replaced by a file. (405 would claim PUT is never allowed there, which is also true for a
    // folder, but 409 tells the client what to change.)
    if (current?.isDirectory()) throw new HttpError(409, 'the target is a folder');
    if (current !== undefined) mode = current.mode & 0o7777;
  }

  const folder = dirname(target.path);
  const tempPath = join(folder, UPLOAD_TEMP_PREFIX + randomBytes(9).toString('hex'));
  let file: FileHandle | undefined;
  let renamed = false;
  try {
    file = await open(tempPath, 'wx', 0o666);
    // A replacement keeps the permissions of the file it replaces rather than the umask default.
    if (mode !== undefined) await file.chmod(mode);
    let total = 0;
    for await (const chunk of req) {
      total += chunk.length;
      if (total > max) throw tooLarge(max);
      await writeAll(file, chunk);
    }
    await file.sync();
    const closing = file;
    file = undefined;
    await closing.close();
    await rename(tempPath, target.path);
    renamed = true;
  } catch (err) {
    throw fsError(err);
  } finally {
    if (file !== undefined) await file.close().catch(() => {});
    if (!renamed) await rm(tempPath, { force: true }).catch(() => {});
  }
  await syncFolder(folder);
  return target.exists ? { status: 204 } : { status: 201, location: encodeUrlPath(target.urlPath) };
}

/**
 * Removes the file at `target.path`. Resolves 204; throws HttpError 404 when there is no file,
 * 409 when the target is a folder (folders are not deleted through HTTP), 403 when the file system
 * refuses. The folder is fsynced afterwards so the removal survives a crash.
 */
export async function deleteFile(target: Pick<WriteTarget, 'path' | 'exists' | 'stat'>): Promise<204> {
  if (!target.exists) throw new HttpError(404, 'no such file');
  if (target.stat?.isDirectory()) throw new HttpError(409, 'the target is a folder');
  try {
    await unlink(target.path);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') throw new HttpError(404, 'no such file');
    // Linux says EISDIR for unlink(folder); macOS says EPERM, which Linux also uses for the sticky bit.
    if (code === 'EISDIR') throw new HttpError(409, 'the target is a folder');
    if (code === 'EPERM' && (await isFolder(target.path))) throw new HttpError(409, 'the target is a folder');
    throw fsError(err);
  }
  await syncFolder(dirname(target.path));
  return 204;
}

/**
 * Throws HttpError(412) when evaluateWritePreconditions() says the request must not proceed;
 * returns nothing otherwise. For callers that answer a failed precondition with the usual 412.
 */
export function checkWritePreconditions(headers: IncomingHeaders, current: CurrentState): void {
  const result = evaluateWritePreconditions(headers, current);
  if (result.kind === 'failed') throw new HttpError(412, result.reason);
}

/**
 * Evaluates the preconditions of a state-changing request (PUT, DELETE) in the order of
 * RFC 9110 §13.2.2, against the target's current state:
 *
 * 1. If-Match: `*` is true when the file exists; a list is true when one member matches
 *    `current.etag` by the strong comparison (§13.1.1 — a weak tag on either side never matches).
 * 2. Only without If-Match, If-Unmodified-Since: false when the file was modified after the date
 *    (at one-second resolution); ignored when the date is invalid or the time is unknown (§13.1.4).
 * 3. If-None-Match: `*` is false when the file exists; a list is false when one member matches by
 *    the weak comparison (§13.1.2). For a method other than GET/HEAD a false result is a 412.
 *
 * A malformed entity-tag list matches nothing. Pure: no I/O.
 */
export function evaluateWritePreconditions(
  headers: IncomingHeaders,
  current: CurrentState,
): WritePrecondition {
  const ifMatch = single(headers['if-match']);
  if (ifMatch !== undefined) {
    const list = parseEtagList(ifMatch);
    const tag = current.etag === undefined ? undefined : parseEtag(current.etag);
    const holds =
      list === '*'
        ? current.exists
        : current.exists && tag !== undefined && list.some((t) => strongMatch(t, tag));
    if (!holds) return { kind: 'failed', reason: 'If-Match does not match the current file' };
  } else {
    const ifUnmodifiedSince = single(headers['if-unmodified-since']);
    if (ifUnmodifiedSince !== undefined && current.exists && current.lastModifiedMs !== undefined) {
      const since = parseHttpDate(ifUnmodifiedSince);
      if (since !== undefined && Math.floor(current.lastModifiedMs / 1000) * 1000 > since) {
        return { kind: 'failed', reason: 'the file was modified since If-Unmodified-Since' };
      }
    }
  }
  const ifNoneMatch = single(headers['if-none-match']);
  if (ifNoneMatch !== undefined) {
    const list = parseEtagList(ifNoneMatch);
    if (list === '*') {
      if (current.exists) return { kind: 'failed', reason: 'the file exists (If-None-Match: *)' };
    } else if (
      current.exists &&
      current.etag !== undefined &&
      list.some((t) => weakMatchText(t, current.etag!))
    ) {
      return { kind: 'failed', reason: 'If-None-Match matches the current file' };
    }
  }
  return { kind: 'proceed' };
}

function weakMatchText(tag: EntityTag, current: string): boolean {
  const parsed = parseEtag(current);
  return parsed !== undefined && weakMatch(tag, parsed);
}

/** A header as one string; the multimap only makes arrays of set-cookie, which is never asked for here. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The Content-Length as a number, when present and well-formed (the engine has validated framing). */
function contentLength(headers: IncomingHeaders): number | undefined {
  const value = single(headers['content-length']);
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function tooLarge(max: number): HttpError {
  return new HttpError(413, `uploads are limited to ${max} bytes`);
}

/** Writes all of `chunk` at the file's current position (a write may take fewer bytes than asked). */
async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Fsyncs a folder so a rename or unlink in it is durable. Windows cannot open a folder for fsync,
 * and some file systems refuse (EINVAL, ENOTSUP); there the rename's own guarantee is all there is.
 */
async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await handle?.close().catch(() => {});
  }
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** Maps a file-system error to the status it means for the client; anything else passes through. */
function fsError(err: unknown): unknown {
  if (err instanceof HttpError) return err;
  switch (errorCode(err)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new HttpError(507, 'not enough storage for the upload', { expose: true, cause: err });
    case 'EFBIG':
      return new HttpError(413, 'the file would be larger than the file system allows', { cause: err });
    case 'ENOENT': // the parent folder went away while the body was arriving
    case 'ENOTDIR':
      return new HttpError(409, 'the parent folder does not exist', { cause: err });
    case 'EISDIR':
      return new HttpError(409, 'the target is a folder', { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new HttpError(403, 'the server may not write there', { cause: err });
    default:
      return err;
  }
}
