/**
 * Test helper (imported by the wire/ parser tests; not a test file itself): runs a head parser
 * over one input fed whole, byte by byte, and split in two at every offset, and asserts that
 * every way of feeding gives the same outcome — the same head, or the same error status and
 * code — and the same number of bytes consumed. A parser that keeps state between pushes wrongly
 * shows up here, whatever the test is about.
 *
 * The input is placed inside junk bytes (`Z\r\n` on both sides) and fed as `[start, end)` of the
 * larger buffer, so a parser that looks outside the range it was given shows it.
 */
import assert from 'node:assert/strict';
import type { RequestHead, ResponseHead } from './head.js';
import { RequestParser, ResponseParser } from './head-parser.js';
import type { Limits } from './limits.js';
import { ParseError } from './parse-error.js';

/** What the splits helper needs of a parser: RequestParser and ResponseParser both fit. */
export interface IncrementalHeadParser<Head> {
  push(buf: Buffer, start: number, end: number): Head | undefined;
  readonly consumed: number;
}

/** The result of feeding one input: a head (and the bytes of the input it used), no head yet, or an error. */
export type HeadOutcome<Head> =
  | { readonly kind: 'head'; readonly head: Head; readonly consumed: number }
  | { readonly kind: 'incomplete'; readonly consumed: number }
  | { readonly kind: 'error'; readonly status: number; readonly code: string };

const PAD = Buffer.from('Z\r\n');

/**
 * Inputs up to this length are split at every offset; longer ones (the limit tests) at the first
 * and last SAMPLE_EDGE offsets and every SAMPLE_STRIDE-th one between, to keep the run short.
 */
const SPLIT_EVERY_OFFSET_UP_TO = 4096;
const SAMPLE_EDGE = 256;
const SAMPLE_STRIDE = 97;

/** Feeds `input` to a fresh parser in the pieces cut at `cuts` (ascending offsets). */
function feed<Head>(
  make: () => IncrementalHeadParser<Head>,
  input: Buffer,
  cuts: readonly number[],
): HeadOutcome<Head> {
  const parser = make();
  const padded = Buffer.concat([PAD, input, PAD]);
  const bounds = [0, ...cuts, input.length];
  let consumed = 0;
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      const a = bounds[k]!;
      const b = bounds[k + 1]!;
      const head = parser.push(padded, PAD.length + a, PAD.length + b);
      consumed += parser.consumed;
      if (head !== undefined) {
        assert.ok(parser.consumed <= b - a, 'consumes no more than it was given');
        return { kind: 'head', head, consumed };
      }
      assert.equal(parser.consumed, b - a, 'consumes every byte while the head is unfinished');
    }
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    return { kind: 'error', status: err.status, code: err.code };
  }
  return { kind: 'incomplete', consumed };
}

function splitOffsets(length: number): number[] {
  if (length <= SPLIT_EVERY_OFFSET_UP_TO) return Array.from({ length: length + 1 }, (_, k) => k);
  const offsets: number[] = [];
  for (let k = 0; k <= length; k++) {
    if (k <= SAMPLE_EDGE || k >= length - SAMPLE_EDGE || k % SAMPLE_STRIDE === 0) offsets.push(k);
  }
  return offsets;
}

/**
 * Parses `input` (a latin1 string or bytes) whole, byte by byte and split at every offset, with a
 * fresh parser from `make` each time; asserts all agree and returns the common outcome.
 */
export function parseEverySplit<Head>(
  make: () => IncrementalHeadParser<Head>,
  input: string | Buffer,
): HeadOutcome<Head> {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const label = buf.length > 120 ? `${buf.length}-byte input` : JSON.stringify(buf.toString('latin1'));
  const whole = feed(make, buf, []);
  const bytewise = Array.from({ length: Math.max(0, buf.length - 1) }, (_, k) => k + 1);
  assert.deepEqual(feed(make, buf, bytewise), whole, `byte by byte: ${label}`);
  for (const k of splitOffsets(buf.length)) {
    assert.deepEqual(feed(make, buf, [k]), whole, `split at ${k}: ${label}`);
  }
  return whole;
}

/** An error outcome, for `assert.deepEqual(parseRequest(input), fails(400, 'bad-target'))`. */
export function fails(status: number, code: string): HeadOutcome<never> {
  return { kind: 'error', status, code };
}

/** parseEverySplit() with a fresh RequestParser (given `limits`) each time. */
export function parseRequest(input: string | Buffer, limits: Partial<Limits> = {}): HeadOutcome<RequestHead> {
  return parseEverySplit(() => new RequestParser(limits), input);
}

/** parseEverySplit() with a fresh ResponseParser (given `limits`) each time. */
export function parseResponse(
  input: string | Buffer,
  limits: Partial<Limits> = {},
): HeadOutcome<ResponseHead> {
  return parseEverySplit(() => new ResponseParser(limits), input);
}

/** The request head parsed from `input` (every split agreeing); fails the test if there is none. */
export function requestHead(input: string | Buffer, limits: Partial<Limits> = {}): RequestHead {
  return headOf(parseRequest(input, limits), input);
}

/** The response head parsed from `input` (every split agreeing); fails the test if there is none. */
export function responseHead(input: string | Buffer, limits: Partial<Limits> = {}): ResponseHead {
  return headOf(parseResponse(input, limits), input);
}

function headOf<Head>(outcome: HeadOutcome<Head>, input: string | Buffer): Head {
  if (outcome.kind !== 'head') {
    const shown = typeof input === 'string' ? JSON.stringify(input).slice(0, 200) : `${input.length} bytes`;
    assert.fail(`expected a head from ${shown}, got ${JSON.stringify(outcome)}`);
  }
  return outcome.head;
}
