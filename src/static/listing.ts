/**
 * Directory listings: read a folder into plain entries, then render them as an HTML page or JSON.
 *
 * Reading and rendering are apart so the renderers stay pure (unit-tested with no files) and a
 * cache can keep entries rather than pages. The page is built for a strict Content-Security-Policy:
 * its one inline `<style>` and one inline `<script>` are constants, never templated, so their
 * hashes are computed once here (LISTING_STYLE_SHA256, LISTING_SCRIPT_SHA256, LISTING_CSP) and the
 * page carries no style attributes, no event-handler attributes and no external assets.
 *
 * Every name and path reaches the page through escapeHtml(); every href is built from
 * encodeURIComponent() per segment, so names holding `#`, `?`, `%`, spaces or markup stay names.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DotfilesPolicy } from './options.js';

/** One listed name: what stat() says about it, symlinks followed. */
export type ListingEntry = {
  readonly name: string;
  readonly isDirectory: boolean;
  /** Bytes for files; 0 for directories (their stat size is filesystem-dependent and means nothing here). */
  readonly size: number;
  /** Last modification, milliseconds since the epoch. */
  readonly mtimeMs: number;
};

export type ListingOptions = {
  /** Dotfiles are listed only under 'allow': 'ignore' answers 404 for them and 'deny' 403, so neither lists them. */
  readonly dotfiles: DotfilesPolicy;
};

/**
 * Stats in flight at once per listing. libuv runs fs calls on a small thread pool; bounding a
 * listing of a huge folder keeps it from queueing ahead of every other request's file reads.
 */
const STAT_CONCURRENCY = 16;

/** Errors that mean "this one name cannot be listed" (broken symlink, raced away, unreadable), not "the listing failed". */
const SKIPPED_STAT_ERRORS: ReadonlySet<string> = new Set(['ENOENT', 'ELOOP', 'ENOTDIR', 'EACCES', 'EPERM']);

/**
 * Lists `dirPath`, sorted directories first and then by name (see compareEntries).
 * Symlinks are shown as what they point to (stat, not lstat); broken ones and names that vanish or
 * cannot be stat'ed are skipped, as are sockets, FIFOs and devices, which are never served.
 * Rejects with the readdir() error when the folder itself cannot be read.
 * Names are decoded as UTF-8 by Node: a name that is not valid UTF-8 is listed with U+FFFD in it.
 */
export async function listDirectory(dirPath: string, options: ListingOptions): Promise<ListingEntry[]> {
  const names = await readdir(dirPath);
  const visible = options.dotfiles === 'allow' ? names : names.filter((name) => !name.startsWith('.'));
  const found: (ListingEntry | undefined)[] = new Array(visible.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < visible.length) {
      const index = next++;
      found[index] = await statEntry(dirPath, visible[index]!);
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(STAT_CONCURRENCY, visible.length); i++) workers.push(worker());
  await Promise.all(workers);
  return found.filter((entry) => entry !== undefined).sort(compareEntries);
}

async function statEntry(dirPath: string, name: string): Promise<ListingEntry | undefined> {
  try {
    const info = await stat(join(dirPath, name));
    if (info.isDirectory()) return { name, isDirectory: true, size: 0, mtimeMs: info.mtimeMs };
    if (info.isFile()) return { name, isDirectory: false, size: info.size, mtimeMs: info.mtimeMs };
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && SKIPPED_STAT_ERRORS.has(code)) return undefined;
    throw err;
  }
}

/**
 * Name order shared with the page's script: numeric-aware ("file2" before "file10"), then code
 * units, so the order is total and the server's first rendering matches a click on "Name".
 */
const NAME_COLLATOR = new Intl.Collator('en', { numeric: true });

function compareNames(a: string, b: string): number {
  return NAME_COLLATOR.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Directories first, then by name: the order of listDirectory() and of both renderers. */
export function compareEntries(a: ListingEntry, b: ListingEntry): number {
  if (a.isDirectory !== b.isDirectory) return a.isDirectory ? -1 : 1;
  return compareNames(a.name, b.name);
}

/**
 * The page's only style. Colours come from custom properties swapped under prefers-color-scheme;
 * the time of day and the size column's padding give way on narrow screens.
 */
const LISTING_STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--row:#f6f8fa;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--row:#161b22;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:60rem;margin:0 auto}
h1{font-size:1.25rem;font-weight:600;margin:0 0 1rem;overflow-wrap:anywhere}
h1 .label{color:var(--muted);font-weight:400}
a{color:var(--link);text-decoration:none}
a:hover,a:focus-visible{text-decoration:underline}
table{width:100%;border-collapse:collapse}
th,td{padding:.4rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
th button{all:unset;cursor:pointer;color:var(--fg)}
th button:focus-visible{outline:2px solid var(--link);outline-offset:2px}
th button::after{content:"";display:inline-block;width:1em;color:var(--muted)}
th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
tbody tr:hover{background:var(--row)}
td.name{overflow-wrap:anywhere;width:100%}
td.dir a{font-weight:600}
td.size,th.size{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.mtime{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
.up a{color:var(--muted)}
.empty{color:var(--muted)}
@media (max-width:36rem){body{padding:.6rem;font-size:14px}th,td{padding:.35rem .3rem}td.mtime .time{display:none}}
`;

/**
 * The page's only script: sorts the rows of #entries when a column header is clicked. A second
 * click on the same column reverses it; directories stay first either way; ties go by name.
 * The row's data-name/data-size/data-mtime attributes are the keys, so no cell text is parsed.
 */
const LISTING_SCRIPT = `
(() => {
  const table = document.getElementById('listing');
  const body = document.getElementById('entries');
  if (!table || !body || !table.tHead) return;
  const collator = new Intl.Collator('en', { numeric: true });
  const byName = (a, b) => {
    const x = a.dataset.name, y = b.dataset.name;
    return collator.compare(x, y) || (x < y ? -1 : x > y ? 1 : 0);
  };
  const byNumber = (key) => (a, b) => Number(a.dataset[key]) - Number(b.dataset[key]);
  const compare = { name: byName, size: byNumber('size'), mtime: byNumber('mtime') };
  let column = 'name';
  let direction = 1;
  for (const button of table.tHead.querySelectorAll('button[data-sort]')) {
    button.addEventListener('click', () => {
      const key = button.dataset.sort;
      const order = compare[key];
      if (!order) return;
      direction = key === column ? -direction : 1;
      column = key;
      const rows = Array.from(body.rows);
      rows.sort((a, b) =>
        (Number(b.dataset.dir) - Number(a.dataset.dir)) || (direction * order(a, b)) || byName(a, b));
      body.append(...rows);
      for (const th of table.tHead.rows[0].cells) th.removeAttribute('aria-sort');
      button.parentElement.setAttribute('aria-sort', direction > 0 ? 'ascending' : 'descending');
    });
  }
})();
`;

function sha256Base64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/** Base64 SHA-256 of the listing page's inline script, for `script-src 'sha256-…'`. */
export const LISTING_SCRIPT_SHA256: string = sha256Base64(LISTING_SCRIPT);

/** Base64 SHA-256 of the listing page's inline style, for `style-src 'sha256-…'`. */
export const LISTING_STYLE_SHA256: string = sha256Base64(LISTING_STYLE);

/**
 * A Content-Security-Policy under which the listing page works fully and nothing else runs:
 * only its own script and style, no plugins, no framing, `data:` only for the blank favicon.
 */
export const LISTING_CSP: string = [
  "default-src 'none'",
  `script-src 'sha256-${LISTING_SCRIPT_SHA256}'`,
  `style-src 'sha256-${LISTING_STYLE_SHA256}'`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values alike. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** The non-empty segments of a decoded URL path: '/a//b/' → ['a', 'b']. */
function pathSegments(urlPath: string): string[] {
  return urlPath.split('/').filter((segment) => segment !== '');
}

/** An absolute href for the folder made of `segments`, each percent-encoded on its own. */
function folderHref(segments: readonly string[]): string {
  let href = '/';
  for (const segment of segments) href += `${encodeURIComponent(segment)}/`;
  return href;
}

const SIZE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Bytes for people: "512 B", "1.5 KiB", "23 MiB" (one decimal below 10 of a unit). */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${SIZE_UNITS[unit]}`;
}

const BYTES_FORMAT = new Intl.NumberFormat('en');

function entryRow(base: string, entry: ListingEntry): string {
  const name = escapeHtml(entry.name);
  const href = escapeHtml(base + encodeURIComponent(entry.name) + (entry.isDirectory ? '/' : ''));
  const iso = new Date(entry.mtimeMs).toISOString();
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 16);
  const size = entry.isDirectory
    ? '<td class="size" data-value="0">—</td>'
    : `<td class="size" data-value="${entry.size}" title="${BYTES_FORMAT.format(entry.size)} bytes">${formatSize(entry.size)}</td>`;
  return (
    `<tr data-name="${name}" data-dir="${entry.isDirectory ? 1 : 0}" data-size="${entry.size}" data-mtime="${entry.mtimeMs}">` +
    `<td class="name ${entry.isDirectory ? 'dir' : 'file'}"><a href="${href}">${name}${entry.isDirectory ? '/' : ''}</a></td>` +
    size +
    `<td class="mtime" data-value="${entry.mtimeMs}"><time datetime="${iso}" title="${iso}">${date}<span class="time"> ${time}</span></time></td>` +
    '</tr>'
  );
}

/**
 * Renders the listing page for the folder at `urlPath` (the decoded, normalized URL path).
 * Rows come directories first, then by name, whatever the order of `entries`; hrefs are absolute.
 * The page's inline script and style are the ones hashed in LISTING_SCRIPT_SHA256 and
 * LISTING_STYLE_SHA256, so it runs under LISTING_CSP.
 */
export function renderListingHtml(urlPath: string, entries: readonly ListingEntry[]): string {
  const segments = pathSegments(urlPath);
  const base = folderHref(segments);
  const title = escapeHtml(`Index of ${base === '/' ? '/' : `/${segments.join('/')}/`}`);

  let crumbs = '<a href="/">/</a>';
  for (let i = 0; i < segments.length; i++) {
    crumbs += `<a href="${escapeHtml(folderHref(segments.slice(0, i + 1)))}">${escapeHtml(segments[i]!)}</a>/`;
  }

  const up =
    segments.length === 0
      ? ''
      : `<tbody class="up"><tr><td class="name" colspan="3"><a href="${escapeHtml(folderHref(segments.slice(0, -1)))}" rel="up">../ <span class="label">Parent directory</span></a></td></tr></tbody>`;

  const rows = [...entries].sort(compareEntries).map((entry) => entryRow(base, entry));
  const empty = rows.length === 0 ? '<p class="empty">This folder is empty.</p>' : '';

  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="color-scheme" content="light dark">' +
    '<link rel="icon" href="data:,">' +
    `<title>${title}</title><style>${LISTING_STYLE}</style></head>\n<body><main>` +
    `<h1><span class="label">Index of </span>${crumbs}</h1>` +
    '<table id="listing"><thead><tr>' +
    '<th class="name" aria-sort="ascending"><button type="button" data-sort="name">Name</button></th>' +
    '<th class="size"><button type="button" data-sort="size">Size</button></th>' +
    '<th class="mtime"><button type="button" data-sort="mtime">Modified</button></th>' +
    `</tr></thead>${up}<tbody id="entries">\n${rows.join('\n')}\n</tbody></table>${empty}` +
    `</main><script>${LISTING_SCRIPT}</script></body></html>\n`
  );
}

/**
 * Renders the listing as JSON: `{ "path": urlPath, "entries": [{ name, type, size, mtime }] }`,
 * type 'file' | 'directory', mtime an ISO 8601 string; entries directories first, then by name.
 */
export function renderListingJson(urlPath: string, entries: readonly ListingEntry[]): string {
  return JSON.stringify({
    path: urlPath,
    entries: [...entries].sort(compareEntries).map((entry) => ({
      name: entry.name,
      type: entry.isDirectory ? 'directory' : 'file',
      size: entry.size,
      mtime: new Date(entry.mtimeMs).toISOString(),
    })),
  });
}
