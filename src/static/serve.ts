/**
 * The static file server as a Handler: maps a request to a file under the root and answers it —
 * GET/HEAD for files, directories and listings; PUT/DELETE when uploads are on; OPTIONS; 405 for
 * the rest. File-system lookups are memoized for about a second so hot files cost no syscall.
 */
import { readdir, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HttpError } from '../handler/http-error.js';
import type { Handler, Request, Response } from '../handler/types.js';
import { strongEtag } from '../http/etag.js';
import { FileCache } from './file-cache.js';
import { listDirectory, renderListingHtml, renderListingJson } from './listing.js';
import { LookupCache } from './lookup-cache.js';
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_MEMORY_CACHE_BYTES,
  type DotfilesPolicy,
  type StaticOptions,
} from './options.js';
import { type Resolution, resolveRequestPath, resolveWritePath } from './resolve.js';
import { sendFast } from './send-fast.js';
import { type DirectoryIndex, indexDirectory, type SendContext, sendFile } from './send-file.js';
import { checkWritePreconditions, deleteFile, putFile } from './upload.js';

export type StaticConfig = Readonly<{
  root: string;
  cacheControl: string;
  spa: boolean;
  listing: boolean;
  dotfiles: DotfilesPolicy;
  followSymlinks: boolean;
  compress: boolean;
  cors: boolean;
  upload: boolean;
  maxUploadBytes: number;
  memoryCacheBytes: number;
}>;

/** Resolves the root (it must exist) and the defaults; the result is frozen. */
export async function resolveStaticConfig(options: StaticOptions): Promise<StaticConfig> {
  const root = await realpath(resolve(options.root));
  const maxAge = options.maxAgeSeconds;
  return Object.freeze({
    root,
    // Without -c, browsers revalidate every time (cheap: 304s); with it they may reuse for N seconds.
    cacheControl: maxAge === undefined ? 'no-cache' : `public, max-age=${Math.max(0, Math.floor(maxAge))}`,
    spa: options.spa ?? false,
    listing: options.listing ?? true,
    dotfiles: options.dotfiles ?? 'ignore',
    followSymlinks: options.followSymlinks ?? false,
    compress: options.compress ?? true,
    cors: options.cors ?? false,
    upload: options.upload ?? false,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    memoryCacheBytes: options.memoryCacheBytes ?? DEFAULT_MEMORY_CACHE_BYTES,
  });
}

/** Creates the file-serving handler for options.root. Rejects if the root does not exist. */
export async function createStaticHandler(options: StaticOptions): Promise<Handler> {
  const config = await resolveStaticConfig(options);
  const resolveOptions = { dotfiles: config.dotfiles, followSymlinks: config.followSymlinks };
  const resolutions = new LookupCache<Resolution>((path) =>
    resolveRequestPath(config.root, path, resolveOptions),
  );
  const directories = new LookupCache<DirectoryIndex>(async (dir) => indexDirectory(await readdir(dir)));
  const ctx: SendContext = {
    cacheControl: config.cacheControl,
    compress: config.compress,
    cache: new FileCache(config.memoryCacheBytes),
    directory: (dir) => directories.peek(dir) ?? directories.get(dir),
  };
  const fallback = options.fallback;
  const allow = config.upload ? 'GET, HEAD, OPTIONS, PUT, DELETE' : 'GET, HEAD, OPTIONS';

  // Not async: a hot file is answered without a promise (see serveRead and send-fast.ts).
  const handler: Handler = (req, res) => {
    if (config.cors) for (const name of Object.keys(CORS_HEADERS)) res.setHeader(name, CORS_HEADERS[name]!);
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        return serveRead(req, res, config, resolutions, ctx, fallback);
      case 'OPTIONS':
        res.statusCode = 204;
        res.setHeader('Allow', allow);
        if (config.cors) {
          res.setHeader('Access-Control-Allow-Methods', allow);
          const asked = req.headers['access-control-request-headers'];
          if (typeof asked === 'string') res.setHeader('Access-Control-Allow-Headers', asked);
          res.setHeader('Access-Control-Max-Age', '86400');
        }
        res.end();
        return;
      case 'PUT':
      case 'DELETE':
        if (config.upload) {
          return serveWrite(
            req,
            res,
            config,
            () => {
              resolutions.clear();
              directories.clear();
            },
            ctx,
          );
        }
        break;
    }
    if (fallback !== undefined) return fallback(req, res);
    // RFC 9110 §15.5.6: 405 lists the methods the resource does support.
    throw new HttpError(405, `${req.method} is not allowed here`, { headers: { Allow: allow } });
  };
  if (!config.cors) return handler;
  // Error answers are rendered by the engine from a fresh head: carry the CORS fields into them,
  // or a cross-origin script sees a network error instead of the status.
  return async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      throw new HttpError(err.status, err.message, {
        expose: err.expose,
        headers: { ...err.headers, ...CORS_HEADERS },
      });
    }
  };
}

const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, ETag, Last-Modified',
});

/** GET and HEAD; synchronous when the target is a hot file send-fast.ts can answer. */
function serveRead(
  req: Request,
  res: Response,
  config: StaticConfig,
  resolutions: LookupCache<Resolution>,
  ctx: SendContext,
  fallback: Handler | undefined,
): void | Promise<void> {
  const resolution = resolutions.peek(req.url);
  if (resolution?.kind === 'file') {
    const file = { path: resolution.path, size: resolution.stat.size, mtimeMs: resolution.stat.mtimeMs };
    if (sendFast(req, res, file, ctx)) return;
    return sendFile(req, res, file, ctx);
  }
  return serveResolution(req, res, config, resolutions, ctx, fallback, resolution);
}

async function serveResolution(
  req: Request,
  res: Response,
  config: StaticConfig,
  resolutions: LookupCache<Resolution>,
  ctx: SendContext,
  fallback: Handler | undefined,
  known: Resolution | undefined,
): Promise<void> {
  const target = req.url;
  const query = target.indexOf('?');
  const resolution = known ?? (await resolutions.get(target));
  switch (resolution.kind) {
    case 'file':
      await sendResolved(req, res, resolution, ctx);
      return;
    case 'directory': {
      const names = (await ctx.directory(resolution.path)).names;
      if (names.has('index.html')) {
        const index = await resolutions.get(`${resolution.urlPath}index.html`);
        if (index.kind === 'file') {
          await sendResolved(req, res, index, ctx);
          return;
        }
      }
      if (!config.listing) throw new HttpError(403, 'directory listing is turned off');
      const entries = await listDirectory(resolution.path, { dotfiles: config.dotfiles });
      const json = wantsJson(req);
      res.setHeader('Content-Type', json ? 'application/json' : 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Vary', 'Accept');
      res.end(
        json
          ? renderListingJson(resolution.urlPath, entries)
          : renderListingHtml(resolution.urlPath, entries),
      );
      return;
    }
    case 'redirect':
      res.statusCode = 301;
      res.setHeader('Location', resolution.location);
      res.end();
      return;
    case 'not-found':
      if (fallback !== undefined) return fallback(req, res);
      if (config.spa && acceptsHtml(req)) {
        const index = await resolutions.get('/index.html');
        if (index.kind === 'file') {
          await sendResolved(req, res, index, ctx);
          return;
        }
      }
      notFound(res, query === -1 ? target : target.slice(0, query));
      return;
    case 'forbidden':
      throw new HttpError(403, 'forbidden');
    case 'bad-request':
      throw new HttpError(400, resolution.reason);
  }
}

async function serveWrite(
  req: Request,
  res: Response,
  config: StaticConfig,
  changed: () => void,
  ctx: SendContext,
): Promise<void> {
  const target = await resolveWritePath(config.root, req.url, {
    dotfiles: config.dotfiles,
    followSymlinks: config.followSymlinks,
  });
  switch (target.kind) {
    case 'target':
      break;
    case 'not-found':
      throw new HttpError(404, 'not found');
    case 'forbidden':
      throw new HttpError(403, 'forbidden');
    case 'bad-request':
      throw new HttpError(400, target.reason);
    case 'conflict':
      throw new HttpError(409, target.reason);
  }
  const etag = target.stat === undefined ? undefined : strongEtag(target.stat.size, target.stat.mtimeMs);
  // RFC 9110 §13.1.1 / §13.1.2: If-Match and If-None-Match: * stop lost updates between writers.
  checkWritePreconditions(req.headers, { exists: target.exists, etag, lastModifiedMs: target.stat?.mtimeMs });
  try {
    if (req.method === 'DELETE') {
      if (!target.exists) throw new HttpError(404, 'not found');
      res.statusCode = await deleteFile(target);
      res.end();
      return;
    }
    const result = await putFile(req, target, { maxUploadBytes: config.maxUploadBytes, etag });
    res.statusCode = result.status;
    if (result.location !== undefined) res.setHeader('Location', result.location);
    res.end();
  } finally {
    ctx.cache.remove(target.path);
    changed();
  }
}

function sendResolved(
  req: Request,
  res: Response,
  file: { path: string; stat: { size: number; mtimeMs: number } },
  ctx: SendContext,
): Promise<void> {
  return sendFile(req, res, { path: file.path, size: file.stat.size, mtimeMs: file.stat.mtimeMs }, ctx);
}

function notFound(res: Response, path: string): void {
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.end(
    `<!doctype html><meta charset="utf-8"><title>404 Not Found</title><h1>404 Not Found</h1><p>Nothing at ${escapeHtml(path)}.</p>\n`,
  );
}

function acceptsHtml(req: Request): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

function wantsJson(req: Request): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('application/json') && !accept.includes('text/html');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
