/**
 * Parser and engine limits as named constants, with the shape servers take to override them.
 * Each limit answers with the status RFC 9110/9112 (or RFC 6585 for 431) gives it.
 */

/** Whole request head (request-line + fields), in bytes → 431 beyond it (RFC 6585 §5). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Number of header fields → 431 beyond it. */
export const MAX_HEADER_FIELDS = 100;
/** Request-line length in bytes → 414 beyond it (RFC 9112 §3 recommends at least 8000 octets). */
export const MAX_REQUEST_LINE_BYTES = 8 * 1024;
/** Body buffered for req.text()/json()/buffer() → 413 beyond it. */
export const MAX_BUFFERED_BODY_BYTES = 1024 * 1024;
/** Chunk extensions summed over one message → 400 beyond it (extensions are otherwise unbounded). */
export const MAX_CHUNK_EXTENSION_BYTES = 4 * 1024;
/** Trailer section of a chunked body, in bytes and fields (counted like the head). */
export const MAX_TRAILER_BYTES = 16 * 1024;

export type Limits = {
  readonly maxHeadBytes: number;
  readonly maxHeaderFields: number;
  readonly maxRequestLineBytes: number;
  readonly maxBufferedBodyBytes: number;
  readonly maxChunkExtensionBytes: number;
  readonly maxTrailerBytes: number;
};

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxHeadBytes: MAX_HEAD_BYTES,
  maxHeaderFields: MAX_HEADER_FIELDS,
  maxRequestLineBytes: MAX_REQUEST_LINE_BYTES,
  maxBufferedBodyBytes: MAX_BUFFERED_BODY_BYTES,
  maxChunkExtensionBytes: MAX_CHUNK_EXTENSION_BYTES,
  maxTrailerBytes: MAX_TRAILER_BYTES,
});

/** Fills the limits a caller left out with the defaults; the result is frozen. */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  return Object.freeze({ ...DEFAULT_LIMITS, ...partial });
}
