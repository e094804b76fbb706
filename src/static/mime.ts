/**
 * Content-Type for a served file, from its extension, and whether such a type is worth compressing.
 *
 * Types come from `mime-types` (mime-db); Berth adds `; charset=utf-8` itself instead of using
 * mime-types' contentType(), because mime-db leaves out the charset for some text formats
 * (application/xml, image/svg+xml, the +json / +xml types), and a served file with no charset
 * is decoded by browsers with a locale-dependent fallback (RFC 9110 §8.3.2 leaves the charset to
 * the media type). Binary media (image/video/audio/font, except SVG) never get one.
 *
 * The lookup is by extension only (`.ts` is video/mp2t as mime-db says — HLS segments, not
 * TypeScript). Results are memoised per known extension; unknown extensions are not cached, so
 * a client asking for many odd names cannot grow the table.
 */
import { extname } from 'node:path';
import { lookup } from 'mime-types';

/** What a file whose extension nobody knows is sent as (RFC 9110 §8.3: the recipient may sniff). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * Types Berth insists on whatever mime-db says: MPEG-DASH manifests and segments (ISO/IEC 23009-1
 * Annex C registers application/dash+xml; video/iso.segment is the IANA registration for `.m4s`).
 */
const OVERRIDES: ReadonlyMap<string, string> = new Map([
  ['mpd', 'application/dash+xml'],
  ['m4s', 'video/iso.segment'],
]);

/** application/* types that are text without a +json / +xml suffix. */
const TEXT_APPLICATION_TYPES: ReadonlySet<string> = new Set([
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/json',
  'application/xml',
  'application/xml-dtd',
  'application/manifest+json',
  'application/x-ndjson',
  'application/toml',
  'application/x-sh',
  'application/x-subrip',
  'application/vnd.apple.mpegurl',
  'application/x-mpegurl',
  'application/graphql',
  'application/sql',
]);

/** Compressible types outside text/* and the JSON / XML / JS families (already covered above). */
const OTHER_COMPRESSIBLE_TYPES: ReadonlySet<string> = new Set([
  'application/wasm',
  'image/svg+xml',
  'font/ttf',
  'font/otf',
  'application/vnd.ms-fontobject',
  'application/postscript',
  'application/rtf',
]);

const byExtension = new Map<string, string>();

/**
 * The Content-Type field value for the file at `path` (a file-system path or a URL path; only
 * the extension of its last segment counts, case-insensitively). Text types carry
 * `; charset=utf-8`; an unknown or missing extension (dotfiles like `.env` included) gives
 * `application/octet-stream`. Never throws.
 */
export function contentTypeFor(path: string): string {
  // path.extname() of the whole path, not mime-types' lookup(path): lookup('json') treats a bare
  // name as an extension and would call a file named `json` application/json.
  const ext = extname(path).slice(1).toLowerCase();
  if (ext === '') return DEFAULT_CONTENT_TYPE;
  const cached = byExtension.get(ext);
  if (cached !== undefined) return cached;
  const type = OVERRIDES.get(ext) ?? lookup(ext);
  if (type === false) return DEFAULT_CONTENT_TYPE;
  const value = isTextType(type) ? `${type}; charset=utf-8` : type;
  byExtension.set(ext, value);
  return value;
}

/**
 * Whether a response of this Content-Type is worth gzip/brotli: text, JSON, JavaScript, XML
 * (SVG included), WebAssembly and uncompressed fonts. Already-compressed formats (JPEG, PNG,
 * video, audio, zip, gzip, woff2, …) and unknown types are not. Parameters such as charset are
 * ignored; case-insensitive.
 */
export function isCompressible(contentType: string): boolean {
  const type = essence(contentType);
  return isTextType(type) || OTHER_COMPRESSIBLE_TYPES.has(type);
}

/** Whether a bare lower-case type/subtype is textual, i.e. takes a charset parameter. */
function isTextType(type: string): boolean {
  if (type.startsWith('text/')) return true;
  if (type === 'image/svg+xml') return true;
  if (!type.startsWith('application/')) return false;
  // RFC 6839 §3.1 / §4.1: the +json and +xml structured syntax suffixes are JSON and XML text.
  return TEXT_APPLICATION_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml');
}

/** `type/subtype` without parameters or whitespace, lower-cased (RFC 9110 §8.3.1: case-insensitive). */
function essence(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}
