/**
 * Incremental parsers for request and response heads (RFC 9112 §2–§5).
 *
 * Input may arrive split anywhere. The parser works line by line: a line is parsed as soon as its
 * CRLF has arrived, and only the unfinished last line is kept between pushes (copied, since the
 * caller's read buffer does not outlive the push). When a whole head arrives in one read — the
 * common case — nothing is copied: indexOf finds each LF and every line is parsed in place.
 */

import { TOKEN_CHARS } from '../http/field-syntax.js';
import { parseFieldLine } from './field-line.js';
import { persists, requestFraming } from './framing.js';
import { RequestHead, ResponseHead } from './head.js';
import { type Limits, resolveLimits } from './limits.js';
import { ParseError } from './parse-error.js';
import { authorityOf, isAuthority, targetForm } from './target.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

/** Line machine shared by the request and the response parser. */
abstract class HeadReader<Head> {
  /** Bytes of the last push's input that belong to the head returned (or all of them, if none). */
  consumed = 0;
  protected readonly limits: Limits;
  protected head: Head | undefined = undefined;
  private partial: Buffer | undefined = undefined;
  private partialLength = 0;
  private headBytes = 0;
  private fieldCount = 0;

  constructor(limits: Partial<Limits> = {}) {
    this.limits = resolveLimits(limits);
  }

  /** Forgets any partial head, ready for the next message. */
  reset(): void {
    this.head = undefined;
    this.partialLength = 0;
    this.headBytes = 0;
    this.fieldCount = 0;
    if (this.partial !== undefined && this.partial.length > 4096) this.partial = undefined;
  }

  /** True while some bytes of a head have been received but the head is not complete. */
  get started(): boolean {
    return this.headBytes > 0 || this.partialLength > 0;
  }

  /**
   * Feeds buf[start, end). Returns the head once its final empty line has arrived, with
   * `consumed` set to the bytes of this input it used; otherwise undefined (all input consumed).
   * Throws ParseError; after an error the parser must not be fed again.
   */
  push(buf: Buffer, start: number, end: number): Head | undefined {
    let pos = start;
    if (this.partialLength > 0) {
      // Finish the line left over from an earlier push: copy up to and including its LF.
      const lf = buf.indexOf(LF, start);
      const stop = lf === -1 || lf >= end ? end : lf + 1;
      const before = this.partialLength;
      this.appendPartial(buf, start, stop);
      if (stop === end && (lf === -1 || lf >= end)) {
        this.rejectBareCr(this.partial!, 0, before - 1, this.partialLength - 1);
        this.checkPartialLimits(this.partialLength);
        this.consumed = end - start;
        return undefined;
      }
      const line = this.partial!;
      const lineLength = this.partialLength;
      this.partialLength = 0;
      if (this.takeLine(line, 0, lineLength - 1)) {
        this.consumed = stop - start;
        return this.complete();
      }
      pos = stop;
    }
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1 || lf >= end) break;
      if (this.takeLine(buf, pos, lf)) {
        this.consumed = lf + 1 - start;
        return this.complete();
      }
      pos = lf + 1;
    }
    if (pos < end) {
      this.appendPartial(buf, pos, end);
      this.rejectBareCr(this.partial!, 0, 0, this.partialLength - 1);
      this.checkPartialLimits(this.partialLength);
    }
    this.consumed = end - start;
    return undefined;
  }

  /**
   * Takes the line buf[start, lf) whose LF is at lf. Returns true when it was the empty line that
   * ends the head.
   */
  private takeLine(buf: Buffer, start: number, lf: number): boolean {
    const bareLf = lf === start || buf[lf - 1] !== CR;
    if (bareLf || this.overLineLimits(lf + 1 - start)) {
      // Judge the line first as push() judges it when it comes byte by byte, so the answer does
      // not depend on how the bytes arrived: a bare CR found before the line passes a limit, then
      // the limits an unfinished line of this length passes, then the bare LF.
      this.rejectBareCr(buf, start, start, lf - 1);
      this.checkPartialLimits(lf - start);
      // RFC 9112 §2.2: a bare LF is not a line terminator here; only CRLF is accepted.
      if (bareLf) throw new ParseError(400, 'bare-lf', 'bare LF in the message head');
    }
    const end = lf - 1;
    this.headBytes += lf + 1 - start;
    // The limits are judged in the order checkPartialLimits() judges an unfinished line, so the
    // answer does not depend on how the bytes arrived: an over-long start-line first (RFC 9112 §3:
    // a request-target "longer than any URI it wishes to parse MUST" get 414), even when it also
    // exceeds the head limit; then the head size (431, RFC 6585 §5).
    if (this.head === undefined && end - start > this.limits.maxRequestLineBytes) {
      throw this.startLineTooLong();
    }
    if (this.headBytes > this.limits.maxHeadBytes) throw headTooLarge();
    if (this.head === undefined) {
      // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
      if (end === start) return false;
      this.head = this.startLine(buf, start, end);
      return false;
    }
    if (end === start) return true;
    if (++this.fieldCount > this.limits.maxHeaderFields) throw tooManyFields();
    const head = this.head as unknown as RequestHead | ResponseHead;
    parseFieldLine(buf, start, end, head.rawHeaders, head.facts);
    return false;
  }

  private appendPartial(buf: Buffer, start: number, end: number): void {
    const needed = this.partialLength + (end - start);
    if (this.partial === undefined || this.partial.length < needed) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 256, (this.partial?.length ?? 0) * 2));
      if (this.partial !== undefined) this.partial.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    buf.copy(this.partial, this.partialLength, start, end);
    this.partialLength = needed;
  }

  /** Whether a complete line of `length` bytes, CRLF included, is over a limit (takeLine() throws). */
  private overLineLimits(length: number): boolean {
    return (
      (this.head === undefined && length - 2 > this.limits.maxRequestLineBytes) ||
      this.headBytes + length > this.limits.maxHeadBytes
    );
  }

  /** Whether an unfinished line of `length` bytes is over a limit (checkPartialLimits() throws). */
  private overPartialLimits(length: number): boolean {
    return (
      (this.head === undefined && length > this.limits.maxRequestLineBytes + 2) ||
      this.headBytes + length > this.limits.maxHeadBytes
    );
  }

  private checkPartialLimits(length: number): void {
    if (this.head === undefined && length > this.limits.maxRequestLineBytes + 2) {
      throw this.startLineTooLong();
    }
    if (this.headBytes + length > this.limits.maxHeadBytes) throw headTooLarge();
  }

  /**
   * RFC 9112 §2.2: a bare CR (one not followed by LF) makes the element holding it invalid. In a
   * complete line the line parsers reject it, since no element of a head admits CR; this finds one
   * in line[from, last) — a CR followed by another byte of the line that starts at `start` — so the
   * peer is answered now rather than after the head timeout. The line up to that CR goes to the
   * same line parser, which throws the error the complete line would give. Byte by byte, that CR
   * is judged when the byte after it arrives, after the limits: a line already over a limit by
   * then (overPartialLimits) is left to checkPartialLimits().
   */
  private rejectBareCr(line: Buffer, start: number, from: number, last: number): void {
    if (from >= last) return;
    const cr = line.subarray(0, last).indexOf(CR, from);
    if (cr === -1 || this.overPartialLimits(cr - start + 2)) return;
    if (this.head === undefined) {
      this.startLine(line, start, cr + 1);
    } else {
      if (this.fieldCount >= this.limits.maxHeaderFields) throw tooManyFields();
      parseFieldLine(line, start, cr + 1, [], undefined);
    }
    throw new ParseError(400, 'bad-field-value', 'bare CR in the message head');
  }

  private complete(): Head {
    const head = this.finish(this.head!);
    this.head = undefined;
    this.headBytes = 0;
    this.fieldCount = 0;
    return head;
  }

  protected abstract startLine(buf: Buffer, start: number, end: number): Head;
  protected abstract startLineTooLong(): ParseError;
  protected abstract finish(head: Head): Head;
}

function headTooLarge(): ParseError {
  return new ParseError(431, 'head-too-large', 'request header fields too large');
}

function tooManyFields(): ParseError {
  return new ParseError(431, 'too-many-fields', 'too many header fields');
}

/** Parses request heads; see HeadReader.push(). */
export class RequestParser extends HeadReader<RequestHead> {
  protected override startLineTooLong(): ParseError {
    return new ParseError(414, 'request-line-too-long', 'request-line too long');
  }

  /** request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces only. */
  protected override startLine(buf: Buffer, start: number, end: number): RequestHead {
    if (end - start > this.limits.maxRequestLineBytes) throw this.startLineTooLong();
    let i = start;
    while (i < end && TOKEN_CHARS[buf[i]!] === 1) i++;
    if (i === start || buf[i] !== SP) throw badRequestLine('invalid method or request-line syntax');
    const method = methodString(buf, start, i);
    const targetStart = ++i;
    for (; i < end; i++) {
      const c = buf[i]!;
      // RFC 9112 §3.2: no whitespace, controls or non-ASCII in the target; "#" starts a fragment,
      // which is never sent (RFC 9110 §7.1).
      if (c <= SP || c >= 0x7f || c === 0x23) break;
    }
    if (i === targetStart || buf[i] !== SP) throw new ParseError(400, 'bad-target', 'invalid request target');
    const target = buf.latin1Slice(targetStart, i);
    const head = new RequestHead();
    head.method = method;
    head.target = target;
    head.version = parseVersion(buf, i + 1, end, method, target);
    head.form = targetForm(method, target);
    return head;
  }

  protected override finish(head: RequestHead): RequestHead {
    const facts = head.facts;
    // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, with several, or with an invalid one.
    if (facts.hostCount > 1) throw badHost('more than one Host field');
    if (facts.hostCount === 0) {
      if (head.version === '1.1') throw badHost('missing Host field');
    } else if (facts.host !== '' && !isAuthority(facts.host!, false)) {
      throw badHost('invalid Host field');
    }
    // RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored for the authority.
    if (head.form === 'absolute') head.authority = authorityOf(head.target);
    else if (head.form === 'authority') head.authority = head.target;
    else head.authority = facts.host ?? '';
    head.framing = requestFraming(facts, head.version);
    head.keepAlive = persists(facts, head.version);
    // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
    head.expectContinue = facts.expect === '100-continue' && head.version === '1.1';
    return head;
  }
}

/** Parses response heads (the proxy's upstream side); see HeadReader.push(). */
export class ResponseParser extends HeadReader<ResponseHead> {
  protected override startLineTooLong(): ParseError {
    return new ParseError(502, 'bad-status-line', 'status-line too long');
  }

  /** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). */
  protected override startLine(buf: Buffer, start: number, end: number): ResponseHead {
    // The version is judged first, as the bytes come: a line cut short at a bare CR
    // (rejectBareCr) then fails with the error the whole line gives.
    const head = new ResponseHead();
    head.version = parseVersion(buf, start, Math.min(end, start + 8), '', '');
    // The SP before an empty reason-phrase is often left out; the rest is exact.
    if (end - start < 12 || buf[start + 8] !== SP || (end > start + 12 && buf[start + 12] !== SP)) {
      throw new ParseError(502, 'bad-status-line', 'invalid status-line');
    }
    let status = 0;
    for (let i = start + 9; i < start + 12; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) throw new ParseError(502, 'bad-status-line', 'invalid status code');
      status = status * 10 + d;
    }
    if (status < 100) throw new ParseError(502, 'bad-status-line', 'invalid status code');
    head.status = status;
    for (let i = start + 13; i < end; i++) {
      const c = buf[i]!;
      if ((c < SP && c !== 0x09) || c === 0x7f)
        throw new ParseError(502, 'bad-status-line', 'invalid reason phrase');
    }
    head.reason = end > start + 13 ? buf.latin1Slice(start + 13, end) : '';
    return head;
  }

  protected override finish(head: ResponseHead): ResponseHead {
    head.keepAlive = persists(head.facts, head.version);
    return head;
  }
}

/**
 * HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3). 1.x with x ≥ 1 is served as 1.1
 * (RFC 9110 §2.5); another major version gets 505. `PRI * HTTP/2.0` is the HTTP/2 preface.
 */
function parseVersion(buf: Buffer, start: number, end: number, method: string, target: string): string {
  if (
    end - start !== 8 ||
    buf[start] !== 0x48 ||
    buf[start + 1] !== 0x54 ||
    buf[start + 2] !== 0x54 ||
    buf[start + 3] !== 0x50 ||
    buf[start + 4] !== 0x2f ||
    buf[start + 6] !== 0x2e
  ) {
    throw new ParseError(400, 'bad-version', 'invalid HTTP version');
  }
  const major = buf[start + 5]! - 0x30;
  const minor = buf[start + 7]! - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9)
    throw new ParseError(400, 'bad-version', 'invalid HTTP version');
  if (major === 2 && minor === 0 && method === 'PRI' && target === '*') {
    throw new ParseError(505, 'http2-preface', 'HTTP/2 connection preface on an HTTP/1.1 connection');
  }
  if (major !== 1) throw new ParseError(505, 'unsupported-version', 'HTTP version not supported');
  return minor === 0 ? '1.0' : '1.1';
}

/** Method strings for the common methods are shared constants; others are sliced (case kept). */
function methodString(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  const c = buf[start];
  if (n === 3 && c === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return 'GET';
  if (
    n === 4 &&
    c === 0x50 &&
    buf[start + 1] === 0x4f &&
    buf[start + 2] === 0x53 &&
    buf[start + 3] === 0x54
  ) {
    return 'POST';
  }
  if (
    n === 4 &&
    c === 0x48 &&
    buf[start + 1] === 0x45 &&
    buf[start + 2] === 0x41 &&
    buf[start + 3] === 0x44
  ) {
    return 'HEAD';
  }
  return buf.latin1Slice(start, end);
}

function badRequestLine(message: string): ParseError {
  return new ParseError(400, 'bad-request-line', message);
}

function badHost(message: string): ParseError {
  return new ParseError(400, 'bad-host', message);
}
