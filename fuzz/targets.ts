/**
 * The fuzz targets for src/wire/: what one input is fed to, and the properties checked on it.
 * Each `check(input)` is a pure function of the input (its random splits come from an Rng seeded
 * by the input's hash), so a saved crash replays exactly — by the fuzzer (fuzz/run.ts) and by the
 * regression test (src/wire/fuzz-regressions.property.test.ts).
 *
 * A check throws — a "crash" — when:
 * - the parser throws anything but its own ParseError, or a ParseError with a status it never uses;
 * - one push takes longer than SLOW_PUSH_MS, confirmed on a second run (a loop, or worse than linear);
 * - feeding the input whole, byte by byte, or cut at random offsets gives different results
 *   (messages, their heads, framing, body bytes and trailers, how it ended, bytes consumed);
 * - a message it accepts, serialised again (the head writer for HTTP/1.1 heads, plus a plain
 *   serialisation; bodies re-chunked at random sizes), does not parse back to the same message.
 *
 * Each input runs twice: with the default limits and with tight ones, so the 414/431 and the
 * extension and trailer limits are reachable by inputs of a few hundred bytes.
 */
import assert from 'node:assert/strict';
import { encodeChunk, lastChunkWithTrailers } from '../src/wire/body-encoders.js';
import { ChunkedDecoder, type ChunkedDecoderLimits } from '../src/wire/chunked-decoder.js';
import { responseFraming } from '../src/wire/framing.js';
import type { Framing, RequestHead, ResponseHead } from '../src/wire/head.js';
import { RequestParser, ResponseParser } from '../src/wire/head-parser.js';
import { writeRequestHead, writeResponseHead } from '../src/wire/head-writer.js';
import { type Limits, resolveLimits } from '../src/wire/limits.js';
import { ParseError } from '../src/wire/parse-error.js';
import { hashBytes, Rng } from './rng.js';

/** A single push slower than this is a finding ("finishes in bounded time"). */
export const SLOW_PUSH_MS = 50;
/** Messages read from one input, like a pipelining client; the rest is left unconsumed. */
const MAX_MESSAGES = 3;
/** Junk around the input, so a parser that reads outside [start, end) shows it. */
const PAD = Buffer.from('Z\r\n');
/** The statuses a ParseError may carry (parse-error.ts; 502 is the response parser's). */
const PARSE_ERROR_STATUSES = new Set([400, 414, 431, 501, 502, 505]);

/** One fuzz target: a name (the folder of its crashes and corpus) and the check of one input. */
export interface FuzzTarget {
  readonly name: string;
  /** Throws (AssertionError, SlowInputError, or whatever the parser threw) on a finding. */
  check(input: Buffer): void;
}

/** Thrown when a push stays over SLOW_PUSH_MS on a second run. */
export class SlowInputError extends Error {
  override readonly name = 'SlowInputError';
}

type Config = { readonly name: string; readonly limits: Limits; readonly chunked: ChunkedDecoderLimits };

function config(name: string, partial: Partial<Limits>): Config {
  const limits = resolveLimits(partial);
  return {
    name,
    limits,
    chunked: {
      maxChunkExtensionBytes: limits.maxChunkExtensionBytes,
      maxTrailerBytes: limits.maxTrailerBytes,
      maxTrailerFields: limits.maxHeaderFields,
    },
  };
}

const DEFAULT_CONFIG = config('default limits', {});
const TIGHT_CONFIG = config('tight limits', {
  maxHeadBytes: 300,
  maxHeaderFields: 6,
  maxRequestLineBytes: 64,
  maxChunkExtensionBytes: 24,
  maxTrailerBytes: 64,
});
const CONFIGS = [DEFAULT_CONFIG, TIGHT_CONFIG];

/** The slowest single push of the current feed, in ms. */
let slowestPushMs = 0;

function timed<T>(push: () => T): T {
  const t0 = performance.now();
  const result = push();
  const ms = performance.now() - t0;
  if (ms > slowestPushMs) slowestPushMs = ms;
  return result;
}

/** Runs `feed` and, if one of its pushes was slow, once more to tell a loop from a GC pause. */
function boundedTime<T>(label: string, feed: () => T): T {
  slowestPushMs = 0;
  const result = feed();
  if (slowestPushMs <= SLOW_PUSH_MS) return result;
  slowestPushMs = 0;
  feed();
  if (slowestPushMs > SLOW_PUSH_MS) {
    throw new SlowInputError(
      `${label}: one push took ${slowestPushMs.toFixed(1)} ms (limit ${SLOW_PUSH_MS})`,
    );
  }
  return result;
}

function checkParseError(err: unknown): {
  readonly kind: 'error';
  readonly status: number;
  readonly code: string;
} {
  if (!(err instanceof ParseError)) throw err;
  assert.ok(PARSE_ERROR_STATUSES.has(err.status), `ParseError with status ${err.status}`);
  assert.equal(typeof err.code, 'string');
  return { kind: 'error', status: err.status, code: err.code };
}

/** The cuts a check compares against feeding the input whole. */
function splits(length: number, rng: Rng): number[][] {
  const bytewise = Array.from({ length: Math.max(0, length - 1) }, (_, k) => k + 1);
  const one = [rng.below(length + 1)];
  const several = new Set<number>();
  for (let k = 1 + rng.below(4); k > 0; k--) several.add(rng.below(length + 1));
  return [bytewise, one, [...several].sort((a, b) => a - b)];
}

/** Cuts `length` bytes into pieces of random sizes (for re-chunking a body). */
function randomPieces(length: number, rng: Rng): number[] {
  const sizes: number[] = [];
  let left = length;
  while (left > 0) {
    const n = 1 + rng.below(rng.oneIn(4) ? left : Math.min(left, 16));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

// ---- request and response messages: head, framing, body ----

/** One message as read: its head, its framing, its body (latin1) and trailers. */
export type Message<Head> = {
  readonly head: Head;
  readonly framing: Framing;
  readonly body: string;
  readonly trailers: readonly string[];
};

/** How reading the input ended. */
export type MessagesEnd =
  | { readonly kind: 'error'; readonly status: number; readonly code: string }
  /** Input ended between messages, at a boundary; `consumed` bytes were used. */
  | { readonly kind: 'clean'; readonly consumed: number }
  | { readonly kind: 'incomplete'; readonly stage: 'head' | 'body'; readonly consumed: number }
  /** A close-delimited body ended with the input. */
  | { readonly kind: 'eof'; readonly consumed: number }
  /** MAX_MESSAGES were read, or the protocol switched (101); the rest is not HTTP/1.1. */
  | { readonly kind: 'stopped'; readonly consumed: number };

export type MessagesOutcome<Head> = { readonly messages: Message<Head>[]; readonly end: MessagesEnd };

interface HeadSide<Head> {
  parser(limits: Limits): {
    push(buf: Buffer, start: number, end: number): Head | undefined;
    consumed: number;
    reset(): void;
    started: boolean;
  };
  /** The body framing of a head; may throw ParseError (responses: responseFraming()). */
  framing(head: Head): Framing;
  /** True when nothing after this head is HTTP/1.1 (a 101 response). */
  switches(head: Head): boolean;
  /** The head's bytes with the head writer when it can write them, else undefined. */
  write(head: Head): Buffer | undefined;
  /** A plain serialisation of the head: start-line, `name: value` lines, CRLF. */
  serialise(head: Head): Buffer;
}

function fieldPairs(raw: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

function plainHead(startLine: string, raw: readonly string[]): Buffer {
  let text = `${startLine}\r\n`;
  for (const [name, value] of fieldPairs(raw)) text += `${name}: ${value}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

const REQUEST_SIDE: HeadSide<RequestHead> = {
  parser: (limits) => new RequestParser(limits),
  framing: (head) => head.framing,
  switches: () => false,
  write: (head) =>
    head.version === '1.1'
      ? writeRequestHead(head.method, head.target, fieldPairs(head.rawHeaders))
      : undefined,
  serialise: (head) => plainHead(`${head.method} ${head.target} HTTP/${head.version}`, head.rawHeaders),
};

const RESPONSE_SIDE: HeadSide<ResponseHead> = {
  parser: (limits) => new ResponseParser(limits),
  // The request was a GET: the proxy's usual case, where every framing rule applies.
  framing: (head) => responseFraming(head.facts, head.status, 'GET'),
  switches: (head) => head.status === 101,
  write: (head) =>
    head.version === '1.1'
      ? writeResponseHead(head.status, fieldPairs(head.rawHeaders), head.reason)
      : undefined,
  serialise: (head) => plainHead(`HTTP/${head.version} ${head.status} ${head.reason}`, head.rawHeaders),
};

/**
 * Reads up to MAX_MESSAGES messages from `input` fed in the pieces cut at `cuts`, as the
 * connection does: the head parser until a head, then the body by its framing, then reset.
 */
function feedMessages<Head>(
  side: HeadSide<Head>,
  input: Buffer,
  cuts: readonly number[],
  cfg: Config,
): MessagesOutcome<Head> {
  const padded = Buffer.concat([PAD, input, PAD]);
  const bounds = [0, ...cuts, input.length];
  const parser = side.parser(cfg.limits);
  const decoder = new ChunkedDecoder(cfg.chunked);
  const messages: Message<Head>[] = [];
  let head: Head | undefined;
  let framing: Framing = { kind: 'none' };
  let remaining = 0;
  let body: Buffer[] = [];
  let consumed = 0;
  let pieceStart = 0;
  let pieceEnd = 0;
  const onData = (view: Buffer) => {
    assert.equal(view.buffer, padded.buffer, 'chunk data is a view of the input');
    assert.ok(view.byteOffset >= padded.byteOffset + pieceStart, 'chunk data starts inside the piece');
    assert.ok(
      view.byteOffset + view.length <= padded.byteOffset + pieceEnd,
      'chunk data ends inside the piece',
    );
    body.push(Buffer.from(view));
  };
  const finish = (trailers: readonly string[]) => {
    messages.push({ head: head!, framing, body: Buffer.concat(body).toString('latin1'), trailers });
    head = undefined;
    body = [];
  };
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      let pos = PAD.length + bounds[k]!;
      const end = PAD.length + bounds[k + 1]!;
      while (pos < end) {
        if (head === undefined) {
          if (messages.length === MAX_MESSAGES) return { messages, end: { kind: 'stopped', consumed } };
          const got = timed(() => parser.push(padded, pos, end));
          if (got === undefined) {
            assert.equal(parser.consumed, end - pos, 'consumes every byte while the head is unfinished');
            consumed += end - pos;
            break;
          }
          assert.ok(parser.consumed > 0 && parser.consumed <= end - pos, 'consumes at most the bytes given');
          pos += parser.consumed;
          consumed += parser.consumed;
          parser.reset();
          head = got;
          framing = side.framing(got);
          if (side.switches(got)) {
            finish([]);
            return { messages, end: { kind: 'stopped', consumed } };
          }
          if (framing.kind === 'none') finish([]);
          else if (framing.kind === 'length') remaining = framing.length;
          else if (framing.kind === 'chunked') decoder.reset();
          continue;
        }
        switch (framing.kind) {
          case 'length': {
            const n = Math.min(remaining, end - pos);
            body.push(Buffer.from(padded.subarray(pos, pos + n)));
            remaining -= n;
            pos += n;
            consumed += n;
            if (remaining === 0) finish([]);
            break;
          }
          case 'chunked': {
            pieceStart = pos;
            pieceEnd = end;
            const n = timed(() => decoder.push(padded, pos, end, onData));
            if (!decoder.done) assert.equal(n, end - pos, 'the decoder consumes every byte until done');
            else assert.ok(n > 0, 'the decoder consumed the final CRLF');
            pos += n;
            consumed += n;
            if (decoder.done) finish([...decoder.trailers]);
            break;
          }
          default: // 'close': everything to the end of the input
            body.push(Buffer.from(padded.subarray(pos, end)));
            consumed += end - pos;
            pos = end;
        }
      }
    }
  } catch (err) {
    return { messages, end: checkParseError(err) };
  }
  if (head !== undefined) {
    if (framing.kind !== 'close') return { messages, end: { kind: 'incomplete', stage: 'body', consumed } };
    finish([]);
    return { messages, end: { kind: 'eof', consumed } };
  }
  if (parser.started) return { messages, end: { kind: 'incomplete', stage: 'head', consumed } };
  return { messages, end: { kind: 'clean', consumed } };
}

/** The bytes of a body in `framing`, re-chunked at random sizes when chunked. */
function encodeBody(framing: Framing, body: string, trailers: readonly string[], rng: Rng): Buffer {
  const bytes = Buffer.from(body, 'latin1');
  if (framing.kind !== 'chunked') return bytes;
  const parts: Buffer[] = [];
  let at = 0;
  for (const n of randomPieces(bytes.length, rng)) {
    const chunk = encodeChunk(bytes.subarray(at, at + n));
    // Now and then a chunk extension, which the decoder validates and skips (RFC 9112 §7.1.1).
    if (rng.oneIn(4)) chunk[0] = Buffer.concat([chunk[0]!.subarray(0, -2), Buffer.from(';x="1"\r\n')]);
    parts.push(...chunk);
    at += n;
  }
  parts.push(lastChunkWithTrailers(fieldPairs(trailers)));
  return Buffer.concat(parts);
}

function checkMessages<Head>(side: HeadSide<Head>, input: Buffer, label: string): void {
  const rng = new Rng(hashBytes(input));
  for (const cfg of CONFIGS) {
    const whole = boundedTime(`${label}, whole, ${cfg.name}`, () => feedMessages(side, input, [], cfg));
    for (const cuts of splits(input.length, rng)) {
      const name =
        cuts.length === Math.max(0, input.length - 1) ? 'byte by byte' : `cut at ${cuts.join(',')}`;
      const split = boundedTime(`${label}, ${name}, ${cfg.name}`, () => feedMessages(side, input, cuts, cfg));
      assert.deepEqual(split, whole, `${label}: fed ${name} (${cfg.name}) differs from fed whole`);
    }
    // Round trip with the default limits only: re-serialising may add a space per field line.
    if (cfg === DEFAULT_CONFIG) for (const message of whole.messages) roundTrip(side, message, label, rng);
  }
}

function roundTrip<Head>(side: HeadSide<Head>, message: Message<Head>, label: string, rng: Rng): void {
  const plain = side.serialise(message.head);
  const written = side.write(message.head);
  if (written !== undefined) {
    assert.equal(written.toString('latin1'), plain.toString('latin1'), `${label}: the head writer agrees`);
  }
  const bytes = Buffer.concat([plain, encodeBody(message.framing, message.body, message.trailers, rng)]);
  const again = feedMessages(side, bytes, [], DEFAULT_CONFIG);
  const endKind =
    message.framing.kind === 'close' ? 'eof' : side.switches(message.head) ? 'stopped' : 'clean';
  assert.deepEqual(
    again,
    { messages: [message], end: { kind: endKind, consumed: bytes.length } },
    `${label}: re-serialised message ${JSON.stringify(bytes.toString('latin1').slice(0, 300))} parses differently`,
  );
}

// ---- the chunked decoder alone ----

export type ChunkedOutcome =
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly code: string;
      readonly bodies: readonly Body[];
    }
  | {
      readonly kind: 'ok';
      readonly bodies: readonly Body[];
      readonly partial: string;
      readonly consumed: number;
    };

type Body = { readonly data: string; readonly trailers: readonly string[] };

/** Decodes up to two chunked bodies back to back (reset between), fed in the pieces cut at `cuts`. */
function feedChunked(input: Buffer, cuts: readonly number[], cfg: Config): ChunkedOutcome {
  const decoder = new ChunkedDecoder(cfg.chunked);
  const padded = Buffer.concat([PAD, input, PAD]);
  const bounds = [0, ...cuts, input.length];
  const bodies: Body[] = [];
  let data: Buffer[] = [];
  let consumed = 0;
  const onData = (view: Buffer) => {
    assert.equal(view.buffer, padded.buffer, 'chunk data is a view of the input');
    data.push(Buffer.from(view));
  };
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      let pos = PAD.length + bounds[k]!;
      const end = PAD.length + bounds[k + 1]!;
      while (pos < end && bodies.length < 2) {
        const n = timed(() => decoder.push(padded, pos, end, onData));
        if (!decoder.done) assert.equal(n, end - pos, 'consumes every byte until done');
        pos += n;
        consumed += n;
        if (decoder.done) {
          bodies.push({ data: Buffer.concat(data).toString('latin1'), trailers: [...decoder.trailers] });
          data = [];
          decoder.reset();
        }
      }
    }
  } catch (err) {
    return { ...checkParseError(err), bodies };
  }
  return { kind: 'ok', bodies, partial: Buffer.concat(data).toString('latin1'), consumed };
}

function checkChunked(input: Buffer): void {
  const rng = new Rng(hashBytes(input));
  for (const cfg of CONFIGS) {
    const whole = boundedTime(`chunked, whole, ${cfg.name}`, () => feedChunked(input, [], cfg));
    for (const cuts of splits(input.length, rng)) {
      const split = boundedTime(`chunked, split, ${cfg.name}`, () => feedChunked(input, cuts, cfg));
      assert.deepEqual(
        split,
        whole,
        `chunked: fed at ${cuts.length} cuts (${cfg.name}) differs from fed whole`,
      );
    }
    if (cfg !== DEFAULT_CONFIG) continue;
    for (const body of whole.bodies) {
      const encoded = encodeBody({ kind: 'chunked' }, body.data, body.trailers, rng);
      const again = feedChunked(encoded, [], cfg);
      assert.deepEqual(
        again,
        { kind: 'ok', bodies: [body], partial: '', consumed: encoded.length },
        `chunked: re-encoded body ${JSON.stringify(encoded.toString('latin1').slice(0, 300))} decodes differently`,
      );
    }
  }
}

export const TARGETS: readonly FuzzTarget[] = [
  { name: 'request', check: (input) => checkMessages(REQUEST_SIDE, input, 'request') },
  { name: 'response', check: (input) => checkMessages(RESPONSE_SIDE, input, 'response') },
  { name: 'chunked', check: checkChunked },
];
