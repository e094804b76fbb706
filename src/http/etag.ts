/**
 * Entity tags (RFC 9110 §8.8.3): generating the server's own strong tags, parsing the lists in
 * If-Match and If-None-Match, and the two comparison functions of §8.8.3.2.
 *
 * Grammar (RFC 9110 §8.8.3):
 * ```
 * entity-tag = [ weak ] opaque-tag
 * weak       = %s"W/"
 * opaque-tag = DQUOTE *etagc DQUOTE
 * etagc      = %x21 / %x23-7E / obs-text
 * ```
 * `etagc` includes the comma and the backslash, and an opaque-tag is not a quoted-string (no
 * escapes), so lists of entity-tags are scanned here rather than cut with field-list's splitList.
 */
import { isOws } from './field-list.js';

/**
 * One parsed entity-tag. `opaque` is the characters between the double quotes, without them:
 * `W/"xyz"` is `{ weak: true, opaque: 'xyz' }`.
 */
export type EntityTag = { weak: boolean; opaque: string };

/**
 * A strong entity-tag for a file, `"<size-hex>-<mtime-hex>"` (quotes included, ready for the
 * ETag field), from its size in bytes and its modification time in epoch milliseconds (fractions
 * dropped). The same size and mtime always give the same tag, across processes and restarts.
 *
 * Strong means "changes whenever the bytes change" (RFC 9110 §8.8.1); that holds as long as a
 * rewrite of the file moves its mtime or its size. Two same-size writes within one millisecond
 * share a tag — the residual risk of every size+mtime scheme (nginx uses whole seconds).
 *
 * @throws RangeError when `size` is not a non-negative safe integer or `mtimeMs` is not finite.
 */
export function strongEtag(size: number, mtimeMs: number): string {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size: ${size}`);
  if (!Number.isFinite(mtimeMs)) throw new RangeError(`invalid mtime: ${mtimeMs}`);
  // A negative mtime (before 1970) formats as `-abc`; `-` is an etagc, so the tag stays valid.
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/**
 * Parses one entity-tag, e.g. the server's own ETag or an If-Range validator, with OWS around it
 * allowed. Returns undefined unless `s` is exactly one entity-tag.
 */
export function parseEtag(s: string): EntityTag | undefined {
  const n = s.length;
  let i = 0;
  while (i < n && isOws(s.charCodeAt(i))) i++;
  const end = etagEnd(s, i);
  if (end < 0) return undefined;
  let j = end;
  while (j < n && isOws(s.charCodeAt(j))) j++;
  return j === n ? etagAt(s, i, end) : undefined;
}

/**
 * Parses an If-Match or If-None-Match field value: `"*" / #entity-tag` (RFC 9110 §13.1.1,
 * §13.1.2). Returns `'*'` when the value is a lone `*` (OWS around it allowed), else the
 * entity-tags in order. OWS and empty list elements are skipped (RFC 9110 §5.6.1.2). A
 * malformed element — a bad tag, junk after a tag, a `*` inside a list — ends the scan: the tags
 * before it are returned and the rest is dropped. Never throws; `''` gives `[]`.
 */
export function parseEtagList(header: string): EntityTag[] | '*' {
  const n = header.length;
  let i = 0;
  while (i < n && isOws(header.charCodeAt(i))) i++;
  if (header.charCodeAt(i) === 0x2a) {
    let j = i + 1;
    while (j < n && isOws(header.charCodeAt(j))) j++;
    return j === n ? '*' : [];
  }
  const tags: EntityTag[] = [];
  for (;;) {
    while (i < n) {
      const c = header.charCodeAt(i);
      if (c !== 0x2c && !isOws(c)) break;
      i++;
    }
    if (i === n) return tags;
    const end = etagEnd(header, i);
    if (end < 0) return tags;
    let j = end;
    while (j < n && isOws(header.charCodeAt(j))) j++;
    if (j < n && header.charCodeAt(j) !== 0x2c) return tags;
    tags.push(etagAt(header, i, end));
    i = j;
  }
}

/**
 * The strong comparison of RFC 9110 §8.8.3.2: "two entity tags are equivalent if both are not
 * weak and their opaque-tags match character-by-character". Used by If-Match and If-Range.
 */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/**
 * The weak comparison of RFC 9110 §8.8.3.2: "two entity tags are equivalent if their
 * opaque-tags match character-by-character, regardless of either or both being tagged as
 * 'weak'". Used by If-None-Match.
 */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/** The index just past the entity-tag starting at `s[i]`, or -1 if none starts there. */
function etagEnd(s: string, i: number): number {
  // `weak = %s"W/"` is case-sensitive: a lower-case `w/` is not an entity-tag.
  if (s.charCodeAt(i) === 0x57 && s.charCodeAt(i + 1) === 0x2f) i += 2;
  if (s.charCodeAt(i) !== 0x22) return -1;
  const n = s.length;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (!(c === 0x21 || (c >= 0x23 && c <= 0x7e) || (c >= 0x80 && c <= 0xff))) return -1;
  }
  return -1;
}

/** The entity-tag in `s[start, end)`, already validated by etagEnd. */
function etagAt(s: string, start: number, end: number): EntityTag {
  const weak = s.charCodeAt(start) === 0x57;
  return { weak, opaque: s.slice(weak ? start + 3 : start + 1, end - 1) };
}
