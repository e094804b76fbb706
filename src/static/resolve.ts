/**
 * Request-target → file under the served root, safely. No sockets: the only I/O is
 * `realpath` / `stat` / `lstat` from node:fs/promises, so this runs in a unit test on a temp tree.
 *
 * The order of the steps is the security argument, so it is fixed:
 *  1. Take the path of the target (origin-form, or the path part of absolute-form; RFC 9112 §3.2).
 *     Any byte outside visible ASCII, a raw `\` or a `#` rejects the whole target (RFC 3986 §3.3
 *     allows none of them in a path; `\` is a separator to too many other programs).
 *  2. Split on `/` and percent-decode each segment exactly once (RFC 3986 §2.1), then read the bytes
 *     as UTF-8 with a fatal decoder: malformed escapes and non-UTF-8 (overlong `%C0%AE`, surrogates)
 *     are bad requests, never "repaired". A decoded `/`, `\`, NUL or other control character is a
 *     bad request: `%2F` would make one segment two after the checks below had run.
 *  3. Remove dot-segments (RFC 3986 §5.2.4) on the decoded segments — so `%2e%2e` is `..` — and
 *     drop empty segments (`//etc` names `etc` under the root). `..` above the root stays at the
 *     root, as §5.2.4 says for "/..". `%252e` decodes once to the literal name `%2e`.
 *  4. Dotfile policy on the remaining URL segments, before touching the disk (so `ignore` does not
 *     reveal what exists).
 *  5. Join under the root and check with path.relative() that the result stays inside.
 *  6. realpath() the result: a symlink anywhere on the way is followed, and the real path must
 *     again be inside the root. If it is not and followSymlinks is false the answer is `forbidden`
 *     (not `not-found`): the operator, reading the reason in a log, learns why a link they made is
 *     not served, and the client learns only that some name exists. A real path inside the root
 *     is checked against the dotfile policy too, so `docs -> .git` does not bypass it.
 *  7. stat() the real path. Directories asked for without the trailing slash are redirected
 *     (RFC 9110 §15.4.2) to the canonical path + `/`, re-encoded from the decoded segments and
 *     keeping the query; empty segments having been dropped, the Location starts with exactly one
 *     `/` and can never be read as a protocol-relative `//host`. A file asked for with a trailing
 *     slash is not found (its relative links would resolve wrongly). FIFOs, sockets and devices
 *     are forbidden: opening a FIFO would block.
 *
 * File-system errors: ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG → not-found; EACCES, EPERM → forbidden;
 * anything else is thrown (the caller answers 500).
 *
 * The returned `path` is the real path, so the caller opens the file without walking symlinks
 * again; a tree that changes between this check and the open is outside this module's reach.
 */
import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { DotfilesPolicy } from './options.js';

/** The per-request knobs of StaticOptions that path resolution obeys. */
export type ResolveOptions = {
  readonly dotfiles: DotfilesPolicy;
  readonly followSymlinks: boolean;
};

export type NotFound = { readonly kind: 'not-found' };
export type Forbidden = { readonly kind: 'forbidden'; readonly reason: string };
export type BadRequest = { readonly kind: 'bad-request'; readonly reason: string };
export type Conflict = { readonly kind: 'conflict'; readonly reason: string };

/**
 * Where a GET/HEAD target leads. `urlPath` is the normalised, percent-decoded path (`/café.txt`,
 * directories end with `/`); encodeUrlPath() turns it back into a URL path.
 */
export type Resolution =
  | { readonly kind: 'file'; readonly path: string; readonly stat: Stats; readonly urlPath: string }
  | { readonly kind: 'directory'; readonly path: string; readonly stat: Stats; readonly urlPath: string }
  | { readonly kind: 'redirect'; readonly location: string }
  | NotFound
  | Forbidden
  | BadRequest;

/**
 * Where a PUT target would be written. `path` is inside the root's real path; when the parent is
 * missing, the caller creates `dirname(path)` (or answers 409). `stat` is present iff `exists`.
 */
export type WriteResolution =
  | {
      readonly kind: 'target';
      readonly path: string;
      readonly urlPath: string;
      readonly parentExists: boolean;
      readonly exists: boolean;
      readonly stat?: Stats;
    }
  | NotFound
  | Forbidden
  | BadRequest
  | Conflict;

const NOT_FOUND: NotFound = Object.freeze({ kind: 'not-found' });

/**
 * Resolves a request-target (`req.url`, query allowed) to a file or directory under `root`, which
 * must be an absolute real path (the caller realpaths it once at start; a relative root throws
 * TypeError). Never returns a file or directory outside `root` unless `followSymlinks` is set and
 * the way out is a symlink. Rejects only with unexpected file-system errors.
 */
export async function resolveRequestPath(
  root: string,
  rawTarget: string,
  options: ResolveOptions,
): Promise<Resolution> {
  const parsed = parseTarget(root, rawTarget);
  if (parsed.kind !== 'path') return parsed;
  const { segments, trailingSlash, query } = parsed;
  const refused = dotfileRefusal(segments, options.dotfiles);
  if (refused !== undefined) return refused;

  const mapped = join(root, ...segments);
  if (relativeInside(root, mapped) === undefined) return forbidden('path leaves the root');

  let real: string;
  let st: Stats;
  try {
    real = await realpath(mapped);
    const rel = relativeInside(root, real);
    if (rel === undefined) {
      if (!options.followSymlinks) return forbidden('symlink leads outside the root');
    } else {
      const refusedReal = dotfileRefusal(rel === '' ? [] : rel.split(sep), options.dotfiles);
      if (refusedReal !== undefined) return refusedReal;
    }
    st = await stat(real);
  } catch (err) {
    return fsRefusal(err);
  }

  const urlPath = segments.length === 0 ? '/' : `/${segments.join('/')}`;
  if (st.isFile()) {
    if (trailingSlash) return NOT_FOUND;
    return { kind: 'file', path: real, stat: st, urlPath };
  }
  if (st.isDirectory()) {
    if (!trailingSlash) return { kind: 'redirect', location: `${encodeUrlPath(urlPath)}/${query}` };
    return { kind: 'directory', path: real, stat: st, urlPath: segments.length === 0 ? '/' : `${urlPath}/` };
  }
  return forbidden('not a regular file or directory');
}

/**
 * Resolves a PUT target to the file it would write, under `root` (an absolute real path). The same
 * parsing, dotfile and error rules as resolveRequestPath(), plus: the target must name a file (no
 * trailing slash); the nearest existing ancestor must be a directory (else `conflict`) whose real
 * path is inside the root; an existing target must not be a directory (`conflict`); a symlink as
 * target is replaced by its real path, which must be inside the root, and a dangling one is
 * forbidden (writing through it would create a file wherever it points). Writes never leave the
 * root: `followSymlinks` does not apply to them.
 */
export async function resolveWritePath(
  root: string,
  rawTarget: string,
  options: ResolveOptions,
): Promise<WriteResolution> {
  const parsed = parseTarget(root, rawTarget);
  if (parsed.kind !== 'path') return parsed;
  const { segments, trailingSlash } = parsed;
  if (trailingSlash) return badRequest('a PUT target must name a file, not a directory');
  const refused = dotfileRefusal(segments, options.dotfiles);
  if (refused !== undefined) return refused;
  const mapped = join(root, ...segments);
  if (relativeInside(root, mapped) === undefined) return forbidden('path leaves the root');

  const name = segments[segments.length - 1]!;
  const parents = segments.slice(0, -1);
  try {
    // The nearest existing ancestor, from the parent upwards; the root itself ends the walk.
    let depth = parents.length;
    let ancestor: string | undefined;
    for (; depth >= 0; depth--) {
      const candidate = join(root, ...parents.slice(0, depth));
      const real = await realpathIfExists(candidate);
      if (real === 'dangling') return forbidden('dangling symlink on the path');
      if (real !== undefined) {
        ancestor = real;
        break;
      }
    }
    if (ancestor === undefined) return NOT_FOUND;
    const refusedAncestor = realInsideRefusal(root, ancestor, options.dotfiles);
    if (refusedAncestor !== undefined) return refusedAncestor;
    if (!(await stat(ancestor)).isDirectory()) return conflict('a path segment is a file');

    const urlPath = `/${segments.join('/')}`;
    const parentExists = depth === parents.length;
    if (!parentExists) {
      const path = join(ancestor, ...parents.slice(depth), name);
      return { kind: 'target', path, urlPath, parentExists, exists: false };
    }

    let path = join(ancestor, name);
    const real = await realpathIfExists(path);
    if (real === 'dangling') return forbidden('target is a dangling symlink');
    if (real === undefined) return { kind: 'target', path, urlPath, parentExists, exists: false };
    if (real !== path) {
      const refusedTarget = realInsideRefusal(root, real, options.dotfiles);
      if (refusedTarget !== undefined) return refusedTarget;
      path = real;
    }
    const st = await stat(path);
    if (st.isDirectory()) return conflict('target is a directory');
    if (!st.isFile()) return conflict('target is not a regular file');
    return { kind: 'target', path, urlPath, parentExists, exists: true, stat: st };
  } catch (err) {
    return fsRefusal(err);
  }
}

/**
 * Percent-encodes a decoded URL path (as in Resolution's `urlPath`) segment by segment, keeping the
 * `/` separators: `/café dir/` → `/caf%C3%A9%20dir/`. Everything outside unreserved characters and
 * `!'()*` is encoded, `%`, `?`, `#` and `\` included.
 */
export function encodeUrlPath(urlPath: string): string {
  return urlPath.split('/').map(encodeURIComponent).join('/');
}

type ParsedTarget = {
  readonly kind: 'path';
  /** Decoded, dot-segment-free, non-empty segments. */
  readonly segments: string[];
  /** Whether the path ended with `/` (or with a dot-segment, which §5.2.4 turns into one). */
  readonly trailingSlash: boolean;
  /** `?…` as received, or ''. */
  readonly query: string;
};

const SLASH = 0x2f;
const QUESTION = 0x3f;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const DOT = 0x2e;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseTarget(root: string, raw: string): ParsedTarget | BadRequest {
  if (!isAbsolute(root)) throw new TypeError(`root must be an absolute real path, got ${root}`);
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return badRequest('control, space or non-ASCII character in the target');
    if (c === BACKSLASH) return badRequest('backslash in the target');
    if (c === HASH) return badRequest('fragment in the target');
  }

  let pathStart = 0;
  let pathEnd: number;
  if (raw.charCodeAt(0) === SLASH) {
    pathEnd = raw.indexOf('?');
  } else {
    // absolute-form (RFC 9112 §3.2.2): scheme "://" authority [path-abempty] ["?" query]
    const schemeEnd = raw.indexOf('://');
    if (schemeEnd <= 0 || !isScheme(raw, schemeEnd))
      return badRequest('not an origin-form or absolute-form target');
    let i = schemeEnd + 3;
    while (i < raw.length && raw.charCodeAt(i) !== SLASH && raw.charCodeAt(i) !== QUESTION) i++;
    pathStart = i;
    pathEnd = raw.indexOf('?', i);
  }
  if (pathEnd === -1) pathEnd = raw.length;
  const query = raw.slice(pathEnd);

  const segments: string[] = [];
  // An empty path (absolute-form `http://host`) is `/` (RFC 9110 §4.2.3).
  let trailingSlash = true;
  let start = pathStart + 1;
  while (start <= pathEnd) {
    let end = raw.indexOf('/', start);
    if (end === -1 || end > pathEnd) end = pathEnd;
    const segment = decodeSegment(raw.slice(start, end));
    if (typeof segment !== 'string') return segment;
    if (segment === '' || segment === '.') {
      trailingSlash = true;
    } else if (segment === '..') {
      segments.pop();
      trailingSlash = true;
    } else {
      segments.push(segment);
      trailingSlash = false;
    }
    start = end + 1;
  }
  return { kind: 'path', segments, trailingSlash, query };
}

/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
function isScheme(raw: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = raw.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (i === 0 ? !alpha : !alpha && !isDigit(raw.charCodeAt(i)) && !'+-.'.includes(raw[i]!)) return false;
  }
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** One segment, percent-decoded once and read as strict UTF-8; the caller has checked it is visible ASCII. */
function decodeSegment(raw: string): string | BadRequest {
  if (!raw.includes('%')) return raw;
  const bytes = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== PERCENT) {
      bytes[n++] = c;
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi === undefined || lo === undefined) return badRequest('malformed percent-escape');
    const byte = (hi << 4) | lo;
    // A decoded "/" or "\" would be a separator the dot-segment step never saw; NUL and other
    // controls have no business in a file name and would end up in headers and listings.
    if (byte === SLASH || byte === BACKSLASH) return badRequest('encoded path separator');
    if (byte < 0x20 || byte === 0x7f) return badRequest('encoded control character');
    bytes[n++] = byte;
    i += 2;
  }
  try {
    return UTF8.decode(bytes.subarray(0, n));
  } catch {
    return badRequest('percent-escapes are not UTF-8');
  }
}

function hexValue(c: number): number | undefined {
  if (isDigit(c)) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return undefined;
}

/** The refusal the policy gives a path with a segment starting with `.`, or undefined when allowed. */
function dotfileRefusal(
  segments: readonly string[],
  policy: DotfilesPolicy,
): NotFound | Forbidden | undefined {
  if (policy === 'allow') return undefined;
  for (const segment of segments) {
    if (segment.charCodeAt(0) === DOT) return policy === 'deny' ? forbidden('dotfile') : NOT_FOUND;
  }
  return undefined;
}

/** `path` relative to `root` when inside it ('' for the root itself), undefined when outside. */
function relativeInside(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel;
}

/** For writes: a real path must be inside the root, whatever followSymlinks says, and obey the dotfile policy. */
function realInsideRefusal(
  root: string,
  real: string,
  policy: DotfilesPolicy,
): NotFound | Forbidden | undefined {
  const rel = relativeInside(root, real);
  if (rel === undefined) return forbidden('symlink leads outside the root');
  return dotfileRefusal(rel === '' ? [] : rel.split(sep), policy);
}

/** realpath(), or undefined when nothing is there, or 'dangling' when a symlink is there pointing nowhere. */
async function realpathIfExists(path: string): Promise<string | 'dangling' | undefined> {
  try {
    return await realpath(path);
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
  }
  try {
    const info = await lstat(path);
    // Not a symlink: the file appeared between the two calls (a concurrent PUT created it), so it
    // is not dangling; its real path is asked for again (found by the soak run as a spurious 403).
    if (!info.isSymbolicLink()) return await realpath(path).catch(() => undefined);
    return 'dangling';
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function fsRefusal(err: unknown): NotFound | Forbidden {
  switch (errorCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'ENAMETOOLONG':
      return NOT_FOUND;
    case 'EACCES':
    case 'EPERM':
      return forbidden('permission denied');
    default:
      throw err;
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function forbidden(reason: string): Forbidden {
  return { kind: 'forbidden', reason };
}

function badRequest(reason: string): BadRequest {
  return { kind: 'bad-request', reason };
}

function conflict(reason: string): Conflict {
  return { kind: 'conflict', reason };
}
