/**
 * Framing for outgoing chunked bodies (RFC 9112 §7.1): chunk headers, the last-chunk and the
 * trailer section, as Buffers ready for one `writev`. Content-Length and close-delimited bodies
 * need no framing bytes, so they have nothing here.
 *
 * Shared Buffers (`CRLF`, `LAST_CHUNK`, cached chunk headers) are read-only by contract: callers
 * hand them to the socket and never write into them.
 */
import { isToken, isValidFieldValue } from '../http/field-syntax.js';

/** `\r\n`, the line terminator of chunk framing (RFC 9112 §7.1). Shared; never mutate. */
export const CRLF: Buffer = Buffer.from('\r\n', 'latin1');

/** `0\r\n\r\n`: last-chunk with no extensions and an empty trailer section (RFC 9112 §7.1). Shared. */
export const LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');

/** Sizes below this have their header built once and shared. */
const SMALL_CACHE_SIZE = 1024;
const smallHeaders: (Buffer | undefined)[] = new Array(SMALL_CACHE_SIZE);
/** Headers for exact powers of two (the usual stream highWaterMarks, 16 KiB and 64 KiB among them). */
const powerOfTwoHeaders = new Map<number, Buffer>();

/**
 * The chunk-size line for a chunk of `size` bytes: lowercase hex digits then CRLF, no
 * extensions (RFC 9112 §7.1). Headers for sizes below 1024 and for powers of two are cached and
 * shared — never mutate the result. Throws RangeError if `size` is not a non-negative safe
 * integer. `chunkHeader(0)` is the start of the last-chunk; prefer `encodeChunk`, which never
 * emits it by accident.
 */
export function chunkHeader(size: number): Buffer {
  if (size < SMALL_CACHE_SIZE && size >= 0 && Number.isInteger(size)) {
    let header = smallHeaders[size];
    if (header === undefined) {
      header = build(size);
      smallHeaders[size] = header;
    }
    return header;
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid chunk size: ${size}`);
  if (size <= 0x40000000 && (size & (size - 1)) === 0) {
    let header = powerOfTwoHeaders.get(size);
    if (header === undefined) {
      header = build(size);
      powerOfTwoHeaders.set(size, header);
    }
    return header;
  }
  return build(size);
}

function build(size: number): Buffer {
  return Buffer.from(`${size.toString(16)}\r\n`, 'latin1');
}

/**
 * Frames `data` as one chunk: `[chunkHeader(n), data, CRLF]`, for a `writev`. Empty data gives
 * `[]`, because a zero-size chunk would end the body (RFC 9112 §7.1: the last-chunk has size 0).
 * `data` is not copied; a Uint8Array that is not a Buffer is wrapped as a Buffer view of the same
 * memory, so the caller must not change it until it has been written.
 */
export function encodeChunk(data: Uint8Array): Buffer[] {
  const n = data.byteLength;
  if (n === 0) return [];
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, n);
  return [chunkHeader(n), body, CRLF];
}

/**
 * The last-chunk followed by a trailer section holding `fields` in order, then the final CRLF
 * (RFC 9112 §7.1.2): `0\r\nname: value\r\n...\r\n`. Values are written as latin1. Throws
 * TypeError if a name is not a token (RFC 9110 §5.6.2) or a value holds NUL, CR, LF or another
 * control except HTAB or a char above 0xFF (RFC 9110 §5.5) — that would let a value inject
 * fields or end the message early. With no fields, returns the shared `LAST_CHUNK`.
 *
 * Which fields are allowed in a trailer (RFC 9110 §6.5.1) and whether the client announced it
 * accepts them (`TE: trailers`, RFC 9110 §10.1.4) is the caller's decision.
 */
export function lastChunkWithTrailers(fields: readonly (readonly [string, string])[]): Buffer {
  if (fields.length === 0) return LAST_CHUNK;
  let text = '0\r\n';
  for (const [name, value] of fields) {
    if (!isToken(name)) throw new TypeError(`invalid trailer field name: ${JSON.stringify(name)}`);
    if (!isValidFieldValue(value)) throw new TypeError(`invalid value for trailer field ${name}`);
    text += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${text}\r\n`, 'latin1');
}
