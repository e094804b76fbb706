/**
 * Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), for request bodies and
 * proxied responses. It is fed whatever bytes the socket delivers, split anywhere, and keeps its
 * place in a small state machine (the shape of hyper's `ChunkedState`: one state per position in
 * the grammar, one method per part of it — size line, end of data, trailer section).
 *
 * ```
 * chunked-body   = *chunk last-chunk trailer-section CRLF
 * chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-size     = 1*HEXDIG
 * last-chunk     = 1*("0") [ chunk-ext ] CRLF
 * chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * chunk-ext-val  = token / quoted-string
 * trailer-section = *( field-line CRLF )
 * ```
 *
 * The grammar is enforced exactly, because every leniency here is a request-smuggling seam when
 * a peer in front of us reads the same bytes differently (RFC 9112 §11.2): no whitespace that the
 * grammar does not place (so `5 \r\n` and `5;a \r\n` are rejected), no bare LF, no bare CR.
 * Chunk extensions are validated and skipped; their meaning is never used.
 *
 * Allocation: data is handed out as `subarray` views of the caller's buffer, never copied.
 * Only trailer fields allocate (a scratch buffer of `maxTrailerBytes`, made on first use and kept
 * across `reset()`, and the strings reported).
 */
import { FIELD_VALUE_BYTE, TOKEN_CHARS } from '../http/field-syntax.js';
import type { Limits } from './limits.js';
import { ParseError } from './parse-error.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

// States, in wire order. Those from SIZE_BWS to EXT_VALUE_BWS are "inside chunk-ext".
/** Before the first HEXDIG of a chunk-size. */
const SIZE_START = 0;
/** Inside chunk-size. */
const SIZE = 1;
/** BWS after chunk-size: only more BWS or ";" may follow. */
const SIZE_BWS = 2;
/** After ";" (and BWS): a chunk-ext-name must start. */
const EXT_NAME_START = 3;
const EXT_NAME = 4;
/** BWS after a chunk-ext-name: only more BWS, "=" or ";" may follow. */
const EXT_NAME_BWS = 5;
/** After "=" (and BWS): a token or quoted-string must start. */
const EXT_VALUE_START = 6;
const EXT_TOKEN = 7;
const EXT_QUOTED = 8;
/** After a backslash inside a quoted-string. */
const EXT_QUOTED_PAIR = 9;
/** After the closing DQUOTE: ";", CR or BWS. */
const EXT_VALUE_END = 10;
/** BWS after a chunk-ext-val: only more BWS or ";" may follow. */
const EXT_VALUE_BWS = 11;
/** After the CR that ends a chunk-size line. */
const SIZE_LF = 12;
const DATA = 13;
/** After chunk-data: the CR of its CRLF. */
const DATA_CR = 14;
const DATA_LF = 15;
/** At the start of a trailer line: a field name, or the CR of the final CRLF. */
const TRAILER_LINE = 16;
const TRAILER_NAME = 17;
/** OWS after the colon. */
const TRAILER_VALUE_START = 18;
const TRAILER_VALUE = 19;
const TRAILER_LF = 20;
/** After the CR of the final CRLF. */
const END_LF = 21;
const DONE = 22;

/**
 * More HEXDIGs than this in one chunk-size are refused even if the value is small: it bounds how
 * many leading zeros a peer can make us read (Number.MAX_SAFE_INTEGER has 14 hex digits).
 */
const MAX_CHUNK_SIZE_DIGITS = 16;
const NOT_HEX = 0xff;
const HEX_VALUE = (() => {
  const table = new Uint8Array(256).fill(NOT_HEX);
  for (let d = 0; d < 10; d++) table[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    table[0x41 + d] = 10 + d;
    table[0x61 + d] = 10 + d;
  }
  return table;
})();

/** The limits the decoder enforces; `maxTrailerFields` counts fields like `maxHeaderFields`. */
export type ChunkedDecoderLimits = Pick<Limits, 'maxChunkExtensionBytes' | 'maxTrailerBytes'> & {
  readonly maxTrailerFields: number;
};

/**
 * Decodes one chunked message body at a time; `reset()` readies it for the next message on the
 * same connection. One instance per connection (or per upstream), reused.
 *
 * After `push` throws, the message is unrecoverable (RFC 9112 §2.2: answer and close); the
 * decoder must be `reset()` before any further use.
 */
export class ChunkedDecoder {
  private readonly maxExtensionBytes: number;
  private readonly maxTrailerBytes: number;
  private readonly maxTrailerFields: number;

  private state = SIZE_START;
  /** Bytes of chunk-data still to come in the current chunk; while in SIZE, the size read so far. */
  private remaining = 0;
  private sizeDigits = 0;
  /** Chunk-extension bytes seen in this message (RFC 9112 §7.1.1 sets no bound; we do). */
  private extensionBytes = 0;
  /** Field-line bytes of the trailer section so far, CRLFs included, final CRLF not. */
  private trailerBytes = 0;
  /** Holds the current trailer field line (name, then value) until its CRLF. */
  private scratch: Buffer | undefined;
  private lineLength = 0;
  private nameLength = 0;
  private fields: string[] = [];

  /** Takes the limits once; they are not re-read per message. */
  constructor(limits: ChunkedDecoderLimits) {
    this.maxExtensionBytes = limits.maxChunkExtensionBytes;
    this.maxTrailerBytes = limits.maxTrailerBytes;
    this.maxTrailerFields = limits.maxTrailerFields;
  }

  /** True once the last-chunk and the trailer section (with its final CRLF) have been read. */
  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * The trailer fields received, flat: `[name, value, name, value, ...]`. Names are as received;
   * values have their surrounding OWS removed and are decoded as latin1, so obs-text bytes
   * survive (`Buffer.from(value, 'latin1')` gives them back). Trailers are reported only — they
   * never change framing. The array belongs to the caller once `done`: `reset()` starts a new
   * array rather than clearing this one.
   */
  get trailers(): string[] {
    return this.fields;
  }

  /** Readies the decoder for the next message. Allocates nothing unless the last message had trailers. */
  reset(): void {
    this.state = SIZE_START;
    this.remaining = 0;
    this.sizeDigits = 0;
    this.extensionBytes = 0;
    this.trailerBytes = 0;
    this.lineLength = 0;
    this.nameLength = 0;
    if (this.fields.length !== 0) this.fields = [];
  }

  /**
   * Decodes the bytes `buf[start, end)`. Calls `onData(view)` for each run of chunk-data: `view`
   * is a subarray of `buf`, valid only during the call — the callee copies it if it keeps it.
   * Returns how many bytes were consumed. Decoding stops right after the final CRLF of the
   * trailer section, so bytes after the message (a pipelined request) are left unconsumed; until
   * then every byte given is consumed. Returns 0 once `done`.
   *
   * Throws ParseError (status 400) for any framing error: `bad-chunk-size`, `bad-chunk-framing`,
   * `chunk-extension-too-large`, `bare-lf`, `bad-trailer`, `trailer-too-large`. An exception from
   * `onData` propagates unchanged.
   */
  push(buf: Buffer, start: number, end: number, onData: (chunk: Buffer) => void): number {
    let i = start;
    while (i < end) {
      const state = this.state;
      if (state === DATA) {
        const n = Math.min(this.remaining, end - i);
        this.remaining -= n;
        if (this.remaining === 0) this.state = DATA_CR;
        onData(buf.subarray(i, i + n));
        i += n;
        continue;
      }
      if (state === DONE) break;
      const c = buf[i]!;
      i++;
      if (state <= SIZE_LF) this.state = this.sizeLine(c);
      else if (state <= DATA_LF) this.state = this.dataEnd(c);
      else this.state = this.trailerSection(c);
    }
    return i - start;
  }

  /** One byte of `chunk-size [ chunk-ext ] CRLF` (RFC 9112 §7.1, §7.1.1). */
  private sizeLine(c: number): number {
    switch (this.state) {
      case SIZE_START:
        if (HEX_VALUE[c] === NOT_HEX) throw badSize(c);
        this.remaining = 0;
        this.sizeDigits = 0;
        this.addDigit(c);
        return SIZE;
      case SIZE:
        if (HEX_VALUE[c] !== NOT_HEX) {
          this.addDigit(c);
          return SIZE;
        }
        if (c === CR) return SIZE_LF;
        if (c === SEMICOLON) return this.extension(EXT_NAME_START);
        if (c === SP || c === HTAB) return this.extension(SIZE_BWS);
        throw badSize(c);
      case SIZE_BWS:
        if (c === SEMICOLON) return this.extension(EXT_NAME_START);
        if (c === SP || c === HTAB) return this.extension(SIZE_BWS);
        throw badSize(c);
      case EXT_NAME_START:
        if (TOKEN_CHARS[c] === 1) return this.extension(EXT_NAME);
        if (c === SP || c === HTAB) return this.extension(EXT_NAME_START);
        throw badExtension(c);
      case EXT_NAME:
        if (TOKEN_CHARS[c] === 1) return this.extension(EXT_NAME);
        if (c === CR) return SIZE_LF;
        if (c === SEMICOLON) return this.extension(EXT_NAME_START);
        if (c === EQUALS) return this.extension(EXT_VALUE_START);
        if (c === SP || c === HTAB) return this.extension(EXT_NAME_BWS);
        throw badExtension(c);
      case EXT_NAME_BWS:
        if (c === SEMICOLON) return this.extension(EXT_NAME_START);
        if (c === EQUALS) return this.extension(EXT_VALUE_START);
        if (c === SP || c === HTAB) return this.extension(EXT_NAME_BWS);
        throw badExtension(c);
      case EXT_VALUE_START:
        if (TOKEN_CHARS[c] === 1) return this.extension(EXT_TOKEN);
        if (c === DQUOTE) return this.extension(EXT_QUOTED);
        if (c === SP || c === HTAB) return this.extension(EXT_VALUE_START);
        throw badExtension(c);
      case EXT_TOKEN:
        if (TOKEN_CHARS[c] === 1) return this.extension(EXT_TOKEN);
        if (c === CR) return SIZE_LF;
        if (c === SEMICOLON) return this.extension(EXT_NAME_START);
        if (c === SP || c === HTAB) return this.extension(EXT_VALUE_BWS);
        throw badExtension(c);
      case EXT_QUOTED:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
        if (c === DQUOTE) return this.extension(EXT_VALUE_END);
        if (c === BACKSLASH) return this.extension(EXT_QUOTED_PAIR);
        if (FIELD_VALUE_BYTE[c] === 1) return this.extension(EXT_QUOTED);
        throw badExtension(c);
      case EXT_QUOTED_PAIR:
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        if (FIELD_VALUE_BYTE[c] === 1) return this.extension(EXT_QUOTED);
        throw badExtension(c);
      case EXT_VALUE_END:
        if (c === CR) return SIZE_LF;
        if (c === SEMICOLON) return this.extension(EXT_NAME_START);
        if (c === SP || c === HTAB) return this.extension(EXT_VALUE_BWS);
        throw badExtension(c);
      case EXT_VALUE_BWS:
        if (c === SEMICOLON) return this.extension(EXT_NAME_START);
        if (c === SP || c === HTAB) return this.extension(EXT_VALUE_BWS);
        throw badExtension(c);
      default: // SIZE_LF
        if (c !== LF) {
          throw new ParseError(400, 'bad-chunk-framing', 'chunk-size line: CR not followed by LF');
        }
        // last-chunk = 1*("0") [ chunk-ext ] CRLF — the size is zero, whatever the number of zeros.
        return this.remaining === 0 ? TRAILER_LINE : DATA;
    }
  }

  /**
   * RFC 9112 §7.1: "Recipients MUST anticipate potentially large hexadecimal numerals and
   * prevent parsing errors due to integer conversion overflows or precision loss."
   */
  private addDigit(c: number): void {
    const value = HEX_VALUE[c]!;
    if (
      ++this.sizeDigits > MAX_CHUNK_SIZE_DIGITS ||
      this.remaining > (Number.MAX_SAFE_INTEGER - value) / 16
    ) {
      throw new ParseError(400, 'bad-chunk-size', 'chunk-size too large');
    }
    this.remaining = this.remaining * 16 + value;
  }

  /** Counts one byte against the per-message extension budget; returns `next`, an extension state. */
  private extension(next: number): number {
    if (++this.extensionBytes > this.maxExtensionBytes) {
      throw new ParseError(400, 'chunk-extension-too-large', 'chunk extensions exceed the limit');
    }
    return next;
  }

  /** The CRLF after chunk-data: exactly CR then LF (RFC 9112 §7.1 `chunk-data CRLF`). */
  private dataEnd(c: number): number {
    if (this.state === DATA_CR) {
      if (c === CR) return DATA_LF;
      if (c === LF) throw bareLf();
    } else if (c === LF) {
      return SIZE_START;
    }
    throw new ParseError(400, 'bad-chunk-framing', 'chunk data not followed by CRLF');
  }

  /**
   * One byte of `trailer-section CRLF` (RFC 9112 §7.1.2), with the field-line rules of a head
   * (RFC 9112 §5): the name is a token with no whitespace before the colon (§5.1 ¶2), no obs-fold
   * (§5.2: rejected, as a server may), values are HTAB/SP/VCHAR/obs-text (RFC 9110 §5.5).
   */
  private trailerSection(c: number): number {
    switch (this.state) {
      case TRAILER_LINE:
        if (c === CR) return END_LF;
        if (TOKEN_CHARS[c] === 1) {
          if (this.fields.length >= this.maxTrailerFields * 2) throw trailerTooLarge();
          this.scratch ??= Buffer.allocUnsafe(this.maxTrailerBytes);
          this.lineLength = 0;
          this.keep(c);
          return TRAILER_NAME;
        }
        if (c === LF) throw bareLf();
        if (c === SP || c === HTAB) throw badTrailer('obs-fold or leading whitespace in trailer section');
        throw badTrailer('invalid trailer field name');
      case TRAILER_NAME:
        if (TOKEN_CHARS[c] === 1) {
          this.keep(c);
          return TRAILER_NAME;
        }
        if (c === COLON) {
          this.count();
          this.nameLength = this.lineLength;
          return TRAILER_VALUE_START;
        }
        if (c === LF) throw bareLf();
        if (c === SP || c === HTAB) throw badTrailer('whitespace before colon in trailer field');
        throw badTrailer('invalid trailer field name');
      case TRAILER_VALUE_START:
        if (c === SP || c === HTAB) {
          this.count();
          return TRAILER_VALUE_START;
        }
        return this.value(c);
      case TRAILER_VALUE:
        return this.value(c);
      case TRAILER_LF:
        if (c !== LF) throw badTrailer('CR not followed by LF in trailer section');
        this.count();
        this.endField();
        return TRAILER_LINE;
      default: // END_LF
        if (c !== LF) throw badTrailer('CR not followed by LF at end of trailer section');
        return DONE;
    }
  }

  private value(c: number): number {
    if (c === CR) {
      this.count();
      return TRAILER_LF;
    }
    if (c === LF) throw bareLf();
    if (FIELD_VALUE_BYTE[c] !== 1) throw badTrailer('invalid byte in trailer field value');
    this.keep(c);
    return TRAILER_VALUE;
  }

  /** Counts one byte of a trailer field line against maxTrailerBytes. */
  private count(): void {
    if (++this.trailerBytes > this.maxTrailerBytes) throw trailerTooLarge();
  }

  /** Counts and stores one byte of a trailer field line (it fits: the line is within the limit). */
  private keep(c: number): void {
    this.count();
    this.scratch![this.lineLength++] = c;
  }

  private endField(): void {
    const scratch = this.scratch!;
    let valueEnd = this.lineLength;
    // Leading OWS was never stored; drop the trailing OWS (RFC 9112 §5: `OWS field-value OWS`).
    while (valueEnd > this.nameLength && (scratch[valueEnd - 1] === SP || scratch[valueEnd - 1] === HTAB)) {
      valueEnd--;
    }
    this.fields.push(
      scratch.toString('latin1', 0, this.nameLength),
      scratch.toString('latin1', this.nameLength, valueEnd),
    );
  }
}

function badSize(c: number): ParseError {
  if (c === LF) return bareLf();
  return new ParseError(400, 'bad-chunk-size', 'chunk-size is not 1*HEXDIG');
}

function badExtension(c: number): ParseError {
  if (c === LF) return bareLf();
  return new ParseError(400, 'bad-chunk-framing', 'malformed chunk extension');
}

function bareLf(): ParseError {
  return new ParseError(400, 'bare-lf', 'LF without CR in chunked framing');
}

function badTrailer(message: string): ParseError {
  return new ParseError(400, 'bad-trailer', message);
}

function trailerTooLarge(): ParseError {
  return new ParseError(400, 'trailer-too-large', 'trailer section exceeds the limit');
}
