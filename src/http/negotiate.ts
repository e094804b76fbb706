/**
 * Proactive content negotiation (RFC 9110 §12): quality-value lists, the choice of a content
 * coding from Accept-Encoding (§12.5.3) and of a language from Accept-Language (§12.5.4 with
 * RFC 4647 matching). Pure: the caller passes what it can serve, in its order of preference.
 */
import { splitList, trimOws } from './field-list.js';
import { TOKEN_CHARS } from './field-syntax.js';

/** One member of a quality list: the value lower-cased, and its weight 0–1 (1 when no `q`). */
export type QualityItem = { value: string; q: number };

/**
 * Weight of `identity` when Accept-Encoding lists neither it nor `*`: acceptable (§12.5.3:
 * "acceptable by default"), but ranked after every coding the client did list with q > 0,
 * since a client that lists codings wants one of them.
 */
const IMPLICIT_IDENTITY_Q = Number.MIN_VALUE;

/**
 * Parses a list of values with optional weights, as in Accept-Encoding, Accept-Language and
 * Accept-Charset (RFC 9110 §12.4.2: `weight = OWS ";" OWS "q=" qvalue`).
 *
 * Members keep the header's order (the caller ranks them). Each value is lower-cased — content
 * codings, language tags and charsets are case-insensitive — and must be made of tchar (or `/`,
 * so Accept media ranges parse too), else the member is dropped. The parameter name `q` is
 * case-insensitive (§5.6.6); a `q` that is not a qvalue (`"0" [ "." 0*3DIGIT ] / "1" [ "."
 * 0*3("0") ]`: at most three decimals, at most 1) drops the member; a second `q` and any other
 * parameter are ignored. OWS and empty elements are tolerated (§5.6.1.2). Never throws.
 */
export function parseQualityList(header: string): QualityItem[] {
  const items: QualityItem[] = [];
  for (const element of splitList(header)) {
    const semi = element.indexOf(';');
    const value = semi < 0 ? element : trimOws(element.slice(0, semi));
    if (!isValue(value)) continue;
    let q: number | undefined = 1;
    let seenQ = false;
    if (semi >= 0) {
      for (const param of splitList(element.slice(semi + 1), 0x3b)) {
        const eq = param.indexOf('=');
        if (eq < 0 || seenQ) continue;
        const name = trimOws(param.slice(0, eq));
        if (name !== 'q' && name !== 'Q') continue;
        seenQ = true;
        q = parseQvalue(trimOws(param.slice(eq + 1)));
      }
    }
    if (q !== undefined) items.push({ value: value.toLowerCase(), q });
  }
  return items;
}

/**
 * Chooses the content coding to send from `available` (lower-case registered names, the
 * server's preference first, e.g. `['br', 'zstd', 'gzip', 'identity']`), per RFC 9110 §12.5.3:
 *
 * - A listed coding has its q; `*` gives its q to every coding not listed by name; `x-gzip` and
 *   `x-compress` count as `gzip` and `compress` (§8.4.1.1, §8.4.1.3). q=0 means not acceptable.
 * - `identity` is acceptable unless excluded by `identity;q=0`, or by `*;q=0` without an
 *   `identity` entry; when neither it nor `*` is listed it ranks below every listed coding.
 * - The highest q wins; ties go to the earlier entry of `available`.
 * - An empty header "implies that the user agent does not want any content coding": identity.
 * - No header at all: `identity` if offered, else the first of `available`. §12.5.3 lets any
 *   coding go to such a client, but many (curl, scripts) that omit the header cannot decode one.
 *
 * Returns undefined when nothing in `available` is acceptable: the caller sends 406, or
 * identity anyway (§12.5.3 allows that too).
 */
export function chooseEncoding(
  acceptEncoding: string | undefined,
  available: readonly string[],
): string | undefined {
  if (acceptEncoding === undefined) return available.includes('identity') ? 'identity' : available[0];
  const items = parseQualityList(acceptEncoding);
  let best: string | undefined;
  let bestQ = 0;
  for (const coding of available) {
    const q = encodingWeight(coding.toLowerCase(), items);
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/**
 * Chooses a language from `available` (language tags, the server's preference first), per
 * RFC 9110 §12.5.4 with the matching schemes of RFC 4647, case-insensitively:
 *
 * - Ranges are tried from the highest q down, equal q in header order.
 * - Basic filtering (RFC 4647 §3.3.1): `fr` matches `fr` and `fr-ca`; the first match in
 *   `available` order wins. If none matches, the range is truncated as in lookup (RFC 4647 §3.4)
 *   and each shorter prefix must equal a tag exactly: `fr-CA` falls back to `fr`, not `fr-fr`.
 * - `*` matches the first available tag not otherwise excluded.
 * - q=0 excludes: a tag is never chosen when the most specific range matching it has q=0
 *   (`*, de;q=0` rules out `de` and `de-at`).
 *
 * Returns undefined when nothing matches, and also when the header is absent or empty: the
 * client expressed no preference, so the caller sends its default representation.
 * The returned string is the `available` entry as given (its case preserved).
 */
export function chooseLanguage(
  acceptLanguage: string | undefined,
  available: readonly string[],
): string | undefined {
  if (acceptLanguage === undefined || available.length === 0) return undefined;
  const ranges = parseQualityList(acceptLanguage);
  const wanted: QualityItem[] = [];
  for (const range of ranges) if (range.q > 0) wanted.push(range);
  if (wanted.length === 0) return undefined;
  wanted.sort(byQualityDescending); // stable: equal q keep header order

  const tags: string[] = [];
  const allowed: boolean[] = [];
  for (const tag of available) {
    const lower = tag.toLowerCase();
    tags.push(lower);
    allowed.push(mostSpecificRange(lower, ranges)?.q !== 0);
  }
  for (const range of wanted) {
    const index = matchLanguage(range.value, tags, allowed);
    if (index !== undefined) return available[index];
  }
  return undefined;
}

/** The weight Accept-Encoding gives `coding` (lower case); 0 when not acceptable. */
function encodingWeight(coding: string, items: readonly QualityItem[]): number {
  let star: number | undefined;
  for (const item of items) {
    const name = item.value === 'x-gzip' ? 'gzip' : item.value === 'x-compress' ? 'compress' : item.value;
    if (name === coding) return item.q;
    if (name === '*' && star === undefined) star = item.q;
  }
  if (star !== undefined) return star;
  return coding === 'identity' ? IMPLICIT_IDENTITY_Q : 0;
}

/** The index in `tags` of the first allowed tag that `range` selects, or undefined. */
function matchLanguage(
  range: string,
  tags: readonly string[],
  allowed: readonly boolean[],
): number | undefined {
  for (let i = 0; i < tags.length; i++) {
    if (allowed[i] && basicMatch(range, tags[i]!)) return i;
  }
  if (range === '*') return undefined;
  for (let prefix = truncate(range); prefix !== ''; prefix = truncate(prefix)) {
    for (let i = 0; i < tags.length; i++) if (allowed[i] && tags[i] === prefix) return i;
  }
  return undefined;
}

/**
 * RFC 4647 §3.3.1 basic filtering: "A language range matches a particular language tag if, in a
 * case-insensitive comparison, it exactly equals the tag, or if it exactly equals a prefix of the
 * tag such that the first character following the prefix is '-'." `*` matches every tag.
 */
function basicMatch(range: string, tag: string): boolean {
  if (range === '*' || range === tag) return true;
  return tag.length > range.length && tag.startsWith(range) && tag.charCodeAt(range.length) === 0x2d;
}

/** The range that most specifically matches `tag` (longest; `*` least), the first on a tie. */
function mostSpecificRange(tag: string, ranges: readonly QualityItem[]): QualityItem | undefined {
  let best: QualityItem | undefined;
  let bestLength = -1;
  for (const range of ranges) {
    if (!basicMatch(range.value, tag)) continue;
    const length = range.value === '*' ? 0 : range.value.length;
    if (length > bestLength) {
      best = range;
      bestLength = length;
    }
  }
  return best;
}

/**
 * RFC 4647 §3.4 lookup truncation: drops the last subtag, and a single-character subtag left
 * before it ("zh-hant-x-a" → "zh-hant"); '' when nothing is left.
 */
function truncate(range: string): string {
  let cut = range.lastIndexOf('-');
  if (cut < 0) return '';
  if (cut >= 2 && range.charCodeAt(cut - 2) === 0x2d) cut -= 2;
  return range.slice(0, cut);
}

function byQualityDescending(a: QualityItem, b: QualityItem): number {
  return b.q - a.q;
}

/** `"0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]` (RFC 9110 §12.4.2) as a number, or undefined. */
function parseQvalue(s: string): number | undefined {
  const n = s.length;
  if (n === 0 || n > 5) return undefined;
  const lead = s.charCodeAt(0);
  if (lead !== 0x30 && lead !== 0x31) return undefined;
  if (n > 1 && s.charCodeAt(1) !== 0x2e) return undefined;
  let thousandths = 0;
  let scale = 100;
  for (let i = 2; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (!(d >= 0 && d <= 9)) return undefined;
    thousandths += d * scale;
    scale /= 10;
  }
  if (lead === 0x31) return thousandths === 0 ? 1 : undefined;
  return thousandths / 1000;
}

/** A non-empty run of tchar and `/` (a token, or a media range such as `text/*`). */
function isValue(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x2f && (c > 0xff || TOKEN_CHARS[c] !== 1)) return false;
  }
  return true;
}
