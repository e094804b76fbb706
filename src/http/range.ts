/**
 * Range requests (RFC 9110 §14): parsing the Range header against a representation's length, and
 * the Content-Range values of 206 and 416 responses. Only the `bytes` unit is understood.
 *
 * Grammar (RFC 9110 §14.1.1, §14.1.2):
 * ```
 * Range        = range-unit "=" range-set
 * range-set    = 1#range-spec
 * range-spec   = int-range / suffix-range / other-range
 * int-range    = first-pos "-" [ last-pos ]
 * suffix-range = "-" suffix-length
 * ```
 * Like Go's `net/http/fs.go` `parseRange`, a pure function of the header and the size.
 */
import { splitList } from './field-list.js';

/** An inclusive byte range: `start` and `end` are both offsets of bytes that are sent. */
export type ByteRange = { readonly start: number; readonly end: number };

/**
 * The Range header's verdict: `none` — send the whole representation with 200 (no header, a unit
 * other than bytes, an invalid header, or too many ranges); `ranges` — send these with 206,
 * sorted, non-overlapping, non-adjacent, at least one; `unsatisfiable` — send 416.
 */
export type RangeResult =
  | { kind: 'none' }
  | { kind: 'ranges'; ranges: ByteRange[] }
  | { kind: 'unsatisfiable' };

/** Default cap on the number of ranges in one response, counted after coalescing. */
export const DEFAULT_MAX_RANGES = 16;

const NONE: RangeResult = Object.freeze({ kind: 'none' });
const UNSATISFIABLE: RangeResult = Object.freeze({ kind: 'unsatisfiable' });

/**
 * Parses a Range field value for a representation of `size` bytes (RFC 9110 §14.2).
 *
 * - The unit must be `bytes`, case-insensitively (§14.1: "Range unit names are case-insensitive");
 *   another unit is ignored (§14.2: "An origin server MUST ignore a Range header field that
 *   contains a range unit it does not understand") → `none`.
 * - A syntactically invalid range-set — empty, a non-digit, `a-b` with b < a (§14.1.2: "invalid
 *   if the last-pos value is present and less than the first-pos") — is ignored (§14.2: a server
 *   "MAY ignore or reject ... an invalid ranges-specifier") → `none`. OWS around the commas and
 *   empty elements are accepted (§5.6.1.2).
 * - `a-b` and `a-` end at min(b, size - 1); `-n` is the last n bytes, the whole representation
 *   if it is shorter (§14.1.2). A range starting at or after `size`, and `-0`, are unsatisfiable
 *   and dropped (§14.1.1: satisfiable means "first-pos less than the current length" or "a
 *   non-zero suffix-length"); if none is left → `unsatisfiable`. A zero-length representation
 *   therefore makes every Range unsatisfiable.
 * - The rest are sorted by start and coalesced where they overlap or touch (§15.3.7.2 lets a
 *   server coalesce). Sorting departs from the SHOULD of §15.3.7.2 (parts "in the same order
 *   that the corresponding range-spec appeared"); in exchange no byte is sent twice, so the body
 *   of a 206 is never larger than the representation, however many ranges are asked for.
 * - More than `maxRanges` (default 16) ranges after coalescing → `none`: the whole representation
 *   is sent, as §14.2 allows for "a set of many small ranges" that signals a broken client or a
 *   denial-of-service attempt. (Merging them into one range would send almost as much, with a
 *   206 the client may not expect.)
 *
 * A single range covering the whole representation (`bytes=0-`) stays a range: media players
 * ask for it and expect 206. Numbers beyond 2^53 lose precision but stay larger than any size.
 *
 * @throws RangeError when `size` is not a non-negative safe integer.
 */
export function parseRange(
  header: string | undefined,
  size: number,
  options?: { maxRanges?: number | undefined },
): RangeResult {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size: ${size}`);
  if (header === undefined) return NONE;
  const eq = header.indexOf('=');
  // range-unit "=" with no OWS around the "=" (none in the grammar).
  if (eq !== 5 || header.slice(0, 5).toLowerCase() !== 'bytes') return NONE;
  const specs = splitList(header.slice(6));
  if (specs.length === 0) return NONE; // 1#range-spec: at least one
  const ranges: { start: number; end: number }[] = [];
  for (const spec of specs) {
    const dash = spec.indexOf('-');
    if (dash < 0) return NONE;
    if (dash === 0) {
      const suffixLength = digitsValue(spec, 1, spec.length);
      if (suffixLength === undefined) return NONE;
      if (suffixLength === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - suffixLength), end: size - 1 });
      continue;
    }
    const first = digitsValue(spec, 0, dash);
    if (first === undefined) return NONE;
    let last = Number.POSITIVE_INFINITY;
    if (dash + 1 < spec.length) {
      const value = digitsValue(spec, dash + 1, spec.length);
      if (value === undefined || value < first) return NONE;
      last = value;
    }
    if (first >= size) continue;
    ranges.push({ start: first, end: Math.min(last, size - 1) });
  }
  if (ranges.length === 0) return UNSATISFIABLE;
  const merged = ranges.length === 1 ? ranges : coalesce(ranges);
  const maxRanges = options?.maxRanges ?? DEFAULT_MAX_RANGES;
  if (merged.length > maxRanges) return NONE;
  return { kind: 'ranges', ranges: merged };
}

/** The Content-Range of a 206 part (RFC 9110 §14.4): `bytes <start>-<end>/<size>`. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

/**
 * The Content-Range of a 416 response (RFC 9110 §14.4: "a server generating a 416 ... ought to
 * send a Content-Range header field with an unsatisfied-range value"): `bytes`, a `*` in place
 * of the range, then a `/` and the size.
 */
export function unsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}

/** Sorts `ranges` by start in place and merges overlapping or adjacent ones. */
function coalesce(ranges: { start: number; end: number }[]): ByteRange[] {
  ranges.sort(byStart);
  const merged: { start: number; end: number }[] = [];
  let current = ranges[0]!;
  for (let i = 1; i < ranges.length; i++) {
    const next = ranges[i]!;
    if (next.start <= current.end + 1) {
      if (next.end > current.end) current.end = next.end;
    } else {
      merged.push(current);
      current = next;
    }
  }
  merged.push(current);
  return merged;
}

function byStart(a: ByteRange, b: ByteRange): number {
  return a.start - b.start;
}

/** The value of the `1*DIGIT` in `s[start, end)`, or undefined if it is empty or has a non-digit. */
function digitsValue(s: string, start: number, end: number): number | undefined {
  if (start >= end) return undefined;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (!(d >= 0 && d <= 9)) return undefined;
    value = value * 10 + d;
  }
  return value;
}
