/**
 * multipart/byteranges bodies (RFC 9110 §14.6): one part per range, each with its own
 * Content-Type and Content-Range, so a client can fetch several pieces of a file in one response.
 */
import { randomBytes } from 'node:crypto';
import { contentRange } from '../http/range.js';

export type ByteRange = { readonly start: number; readonly end: number };

export type MultipartPlan = {
  readonly boundary: string;
  readonly contentType: string;
  /** Total body length, for Content-Length. */
  readonly length: number;
  /** Part heads (before each range's bytes) and the closing delimiter, in order. */
  readonly heads: readonly Buffer[];
  readonly closing: Buffer;
};

/** Lays out the body for ranges of a size-byte representation of the given media type. */
export function planMultipart(ranges: readonly ByteRange[], size: number, mediaType: string): MultipartPlan {
  const boundary = `berth-${randomBytes(12).toString('hex')}`;
  const heads: Buffer[] = [];
  let length = 0;
  ranges.forEach((range, i) => {
    const head = Buffer.from(
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${mediaType}\r\nContent-Range: ${contentRange(range, size)}\r\n\r\n`,
      'latin1',
    );
    heads.push(head);
    length += head.length + (range.end - range.start + 1);
  });
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  length += closing.length;
  return { boundary, contentType: `multipart/byteranges; boundary=${boundary}`, length, heads, closing };
}
