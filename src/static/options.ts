/**
 * What the static file server can be told, resolved once into a frozen StaticConfig.
 * The CLI (`berth serve`) and, later, the config file build this same shape.
 */

import type { Handler } from '../handler/types.js';

export type DotfilesPolicy = 'ignore' | 'deny' | 'allow';

export type StaticOptions = {
  /** Folder served; resolved to an absolute real path once at start. */
  root: string;
  /** Cache-Control max-age in seconds; undefined → `no-cache` (browsers revalidate). */
  maxAgeSeconds?: number;
  /** Serve index.html for unknown paths that accept HTML (single-page apps), with status 200. */
  spa?: boolean;
  /** Directory listings (default true). */
  listing?: boolean;
  /** ignore → 404 (default), deny → 403, allow → served. */
  dotfiles?: DotfilesPolicy;
  /** Serve symlinks whose real path leaves the root (default false). */
  followSymlinks?: boolean;
  /** On-the-fly gzip/brotli and precompressed siblings (default true). */
  compress?: boolean;
  /** Access-Control-Allow-Origin: * and preflight answers. */
  cors?: boolean;
  /** PUT and DELETE enabled (auth is the caller's business: see static/auth.ts). */
  upload?: boolean;
  /** Largest PUT body in bytes → 413 beyond it. */
  maxUploadBytes?: number;
  /** Bytes of small files kept in memory (default 64 MiB); 0 disables the cache. */
  memoryCacheBytes?: number;
  /**
   * Where requests go that are not for a file: GET/HEAD of a missing path and methods the file
   * server does not handle (POST to /api, …). The everyday "static + API" setup (`--fallback-proxy`).
   */
  fallback?: Handler | undefined;
};

export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_MEMORY_CACHE_BYTES = 64 * 1024 * 1024;
