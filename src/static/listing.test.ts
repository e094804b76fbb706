import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  LISTING_CSP,
  LISTING_SCRIPT_SHA256,
  LISTING_STYLE_SHA256,
  type ListingEntry,
  listDirectory,
  renderListingHtml,
  renderListingJson,
} from './listing.js';

const MTIME_MS = Date.UTC(2024, 3, 5, 12, 34, 56);

function file(name: string, size = 10, mtimeMs = MTIME_MS): ListingEntry {
  return { name, isDirectory: false, size, mtimeMs };
}

function dir(name: string, mtimeMs = MTIME_MS): ListingEntry {
  return { name, isDirectory: true, size: 0, mtimeMs };
}

/** The data-name of each entry row, in page order, unescaped. */
function rowNames(html: string): string[] {
  const body = html.slice(html.indexOf('<tbody id="entries">'), html.indexOf('</tbody></table>'));
  return [...body.matchAll(/<tr data-name="([^"]*)"/g)].map((m) =>
    m[1]!
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&amp;', '&'),
  );
}

/** The href of each entry row's link, in page order, as written in the HTML. */
function rowHrefs(html: string): string[] {
  return [...html.matchAll(/<td class="name (?:dir|file)"><a href="([^"]*)"/g)].map((m) => m[1]!);
}

describe('renderListingHtml()', () => {
  it('escapes hostile names everywhere they appear', () => {
    const hostile = ['<script>alert(1)</script>.txt', `a&b"c'.txt`, '<img src=x onerror=alert(1)>'];
    const html = renderListingHtml(
      '/',
      hostile.map((name) => file(name)),
    );
    assert.ok(!html.includes('<script>alert(1)'));
    assert.ok(!html.includes('<img'));
    assert.ok(!html.includes(`a&b"c'`));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;.txt'));
    assert.ok(html.includes('a&amp;b&quot;c&#39;.txt'));
    // Exactly one script element and one style element: the page's own.
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.equal(html.match(/<style/g)?.length, 1);
    assert.deepEqual(rowNames(html).sort(), [...hostile].sort());
  });

  it('escapes hostile path segments in the title and breadcrumb', () => {
    const html = renderListingHtml('/<b>x</b>&"y/', []);
    assert.ok(!html.includes('<b>'));
    assert.ok(html.includes('<title>Index of /&lt;b&gt;x&lt;'));
    assert.ok(html.includes('>&lt;b&gt;x&lt;</a>/'));
  });

  it('percent-encodes each href segment so #, ?, % and spaces stay part of the name', () => {
    const html = renderListingHtml('/my docs/50%/', [file('a #1?.txt'), file('100%.txt'), dir('sub dir')]);
    assert.deepEqual(rowHrefs(html), [
      '/my%20docs/50%25/sub%20dir/',
      '/my%20docs/50%25/100%25.txt',
      '/my%20docs/50%25/a%20%231%3F.txt',
    ]);
    assert.ok(
      html.includes(
        '<a href="/">/</a><a href="/my%20docs/">my docs</a>/<a href="/my%20docs/50%25/">50%</a>/',
      ),
    );
  });

  it('percent-encodes quotes and ampersands in hrefs and HTML-escapes what encoding leaves', () => {
    const html = renderListingHtml('/', [file(`a&b"c'.txt`)]);
    // encodeURIComponent leaves ' alone; the attribute escape takes it.
    assert.deepEqual(rowHrefs(html), ['/a%26b%22c&#39;.txt']);
  });

  it('links the parent folder everywhere but at the root', () => {
    assert.ok(!renderListingHtml('/', []).includes('rel="up"'));
    assert.ok(renderListingHtml('/a/', []).includes('<a href="/" rel="up">'));
    assert.ok(renderListingHtml('/a/b c/', []).includes('<a href="/a/" rel="up">'));
  });

  it('orders rows directories first, then by name with numbers compared as numbers', () => {
    const html = renderListingHtml('/', [
      file('file10.txt'),
      dir('zeta'),
      file('file2.txt'),
      file('Apple.txt'),
      dir('alpha'),
      file('banana.txt'),
    ]);
    assert.deepEqual(rowNames(html), ['alpha', 'zeta', 'Apple.txt', 'banana.txt', 'file2.txt', 'file10.txt']);
  });

  it('marks directories with a trailing slash and shows sizes for people with exact bytes beside', () => {
    const html = renderListingHtml('/', [
      dir('docs'),
      file('big.bin', 1536),
      file('huge.bin', 5 * 1024 ** 3),
    ]);
    assert.ok(html.includes('>docs/</a>'));
    assert.ok(html.includes('data-value="1536" title="1,536 bytes">1.5 KiB</td>'));
    assert.ok(html.includes('title="5,368,709,120 bytes">5.0 GiB</td>'));
    assert.ok(html.includes(`data-mtime="${MTIME_MS}"`));
    assert.ok(html.includes('<time datetime="2024-04-05T12:34:56.000Z"'));
  });

  it('says so when the folder is empty', () => {
    assert.ok(renderListingHtml('/', []).includes('This folder is empty.'));
  });

  it('carries a viewport, a dark scheme and the script and style whose hashes are exported', () => {
    const html = renderListingHtml('/', [file('a')]);
    assert.ok(html.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'));
    assert.ok(html.includes('prefers-color-scheme:dark'));
    const script = html.slice(html.indexOf('<script>') + 8, html.indexOf('</script>'));
    const style = html.slice(html.indexOf('<style>') + 7, html.indexOf('</style>'));
    const sha = (text: string) => createHash('sha256').update(text).digest('base64');
    assert.equal(sha(script), LISTING_SCRIPT_SHA256);
    assert.equal(sha(style), LISTING_STYLE_SHA256);
    assert.ok(LISTING_CSP.includes(`'sha256-${LISTING_SCRIPT_SHA256}'`));
    assert.ok(LISTING_CSP.includes(`'sha256-${LISTING_STYLE_SHA256}'`));
  });
});

describe('renderListingJson()', () => {
  it('gives path and entries with name, type, size and ISO mtime, directories first', () => {
    const json = JSON.parse(renderListingJson('/x y/', [file('b.txt', 42), dir('a<dir>'), file('a.txt', 7)]));
    assert.deepEqual(json, {
      path: '/x y/',
      entries: [
        { name: 'a<dir>', type: 'directory', size: 0, mtime: '2024-04-05T12:34:56.000Z' },
        { name: 'a.txt', type: 'file', size: 7, mtime: '2024-04-05T12:34:56.000Z' },
        { name: 'b.txt', type: 'file', size: 42, mtime: '2024-04-05T12:34:56.000Z' },
      ],
    });
  });
});

describe('listDirectory()', () => {
  let root = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-listing-'));
    await writeFile(join(root, 'b.txt'), 'hello');
    await writeFile(join(root, '.secret'), 'shh');
    await mkdir(join(root, 'sub'));
    await mkdir(join(root, '.git'));
    await symlink(join(root, 'sub'), join(root, 'link-to-dir'));
    await symlink(join(root, 'b.txt'), join(root, 'link-to-file'));
    await symlink(join(root, 'missing'), join(root, 'broken'));
    await utimes(join(root, 'b.txt'), MTIME_MS / 1000, MTIME_MS / 1000);
  });

  after(() => rm(root, { recursive: true, force: true }));

  it('hides dotfiles unless told to allow them, and sorts directories first', async () => {
    for (const dotfiles of ['ignore', 'deny'] as const) {
      const names = (await listDirectory(root, { dotfiles })).map((e) => e.name);
      assert.deepEqual(names, ['link-to-dir', 'sub', 'b.txt', 'link-to-file']);
    }
    const names = (await listDirectory(root, { dotfiles: 'allow' })).map((e) => e.name);
    assert.deepEqual(names, ['.git', 'link-to-dir', 'sub', '.secret', 'b.txt', 'link-to-file']);
  });

  it('shows symlinks as their target and skips broken ones', async () => {
    const entries = await listDirectory(root, { dotfiles: 'ignore' });
    const byName = new Map(entries.map((e) => [e.name, e]));
    assert.equal(byName.get('link-to-dir')?.isDirectory, true);
    assert.equal(byName.get('link-to-file')?.isDirectory, false);
    assert.equal(byName.get('link-to-file')?.size, 5);
    assert.equal(byName.has('broken'), false);
    assert.deepEqual(byName.get('b.txt'), { name: 'b.txt', isDirectory: false, size: 5, mtimeMs: MTIME_MS });
    assert.equal(byName.get('sub')?.size, 0);
  });

  it('rejects when the folder cannot be read', async () => {
    await assert.rejects(listDirectory(join(root, 'nope'), { dotfiles: 'ignore' }), { code: 'ENOENT' });
  });
});
