/**
 * The directory listing page in a real browser: Debian's Chromium, driven by playwright-core,
 * against a tiny Berth server that lists a temp folder of hostile names. Checks that names stay
 * text (no markup from a name runs), that the column headers sort, that percent-encoded links
 * reach their files, and that the page still works under LISTING_CSP (its hashes are right).
 * Chromium is required: CI installs it, so a missing binary fails here rather than skipping.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createServer, type Handler, type Server } from '../../src/index.js';
import {
  LISTING_CSP,
  listDirectory,
  renderListingHtml,
  renderListingJson,
} from '../../src/static/listing.js';
import { launchChromium } from './chromium.js';

const TEST_TIMEOUT_MS = 15_000;
const MIN_SCREENSHOT_BYTES = 2 * 1024;
const SCREENSHOT_PATH = join(tmpdir(), 'berth-listing-chromium.png');
const PHONE_SCREENSHOT_PATH = join(tmpdir(), 'berth-listing-chromium-phone-dark.png');

const IMG_NAME = '<img src=x onerror=window.__pwned=1>.txt';
const SVG_NAME = '<svg onload=window.__pwned=2>';
const QUOTES_NAME = `a&b"c'.txt`;
const ODD_NAME = '100% #1 ?.txt';
const ODD_CONTENT = 'reached through a percent-encoded href';

/** Files by size, and two folders; file mtimes increase down the list so "Modified" has an order. */
const FILES: readonly { name: string; size: number }[] = [
  { name: 'zz tiny.txt', size: 1 },
  { name: ODD_NAME, size: ODD_CONTENT.length },
  { name: IMG_NAME, size: 500 },
  { name: QUOTES_NAME, size: 3_000 },
  { name: SVG_NAME, size: 20_000 },
];
const FOLDERS = ['sub dir', 'another'] as const;

/** ICU's order (Node's and Chromium's): punctuation, then digits, then letters. */
const BY_NAME = ['another', 'sub dir', IMG_NAME, SVG_NAME, ODD_NAME, QUOTES_NAME, 'zz tiny.txt'];
const BY_SIZE = ['another', 'sub dir', 'zz tiny.txt', ODD_NAME, IMG_NAME, QUOTES_NAME, SVG_NAME];
const BY_SIZE_DESC = ['another', 'sub dir', SVG_NAME, QUOTES_NAME, IMG_NAME, ODD_NAME, 'zz tiny.txt'];

let root = '';
let server: Server | undefined;
let baseUrl = '';
let browser: Browser | undefined;

/** Lists the temp folder at '/', serves its top-level files by name, 404 for the rest. */
const handler: Handler = async (req, res) => {
  const url = new URL(req.url, 'http://listing.test');
  if (url.pathname === '/') {
    const entries = await listDirectory(root, { dotfiles: 'ignore' });
    const accept = req.headers.accept;
    if (typeof accept === 'string' && accept.includes('application/json')) {
      res.setHeader('Content-Type', 'application/json');
      res.end(renderListingJson('/', entries));
      return;
    }
    if (url.searchParams.has('csp')) res.setHeader('Content-Security-Policy', LISTING_CSP);
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(renderListingHtml('/', entries));
    return;
  }
  const name = decodeURIComponent(url.pathname.slice(1));
  if (name.includes('/') || name.startsWith('.')) {
    res.statusCode = 404;
    res.end();
    return;
  }
  try {
    const body = await readFile(join(root, name));
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(body);
  } catch {
    res.statusCode = 404;
    res.end();
  }
};

/** The data-name of each entry row, in page order. */
function rowNames(page: Page): Promise<(string | null)[]> {
  return page
    .locator('#entries > tr')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name')));
}

before(async () => {
  // Fails early with a clear message when Chromium is missing.
  browser = await launchChromium();
  root = await mkdtemp(join(tmpdir(), 'berth-listing-e2e-'));
  const oldest = Date.UTC(2023, 0, 1) / 1000;
  for (const [i, { name, size }] of FILES.entries()) {
    const path = join(root, name);
    await writeFile(path, name === ODD_NAME ? ODD_CONTENT : 'x'.repeat(size));
    await utimes(path, oldest + i * 86_400, oldest + i * 86_400);
  }
  for (const folder of FOLDERS) {
    // Equal mtimes: sorting by "Modified" then falls back to the name.
    await mkdir(join(root, folder));
    await utimes(join(root, folder), oldest, oldest);
  }
  await writeFile(join(root, '.hidden'), 'not listed');
  await symlink(join(root, 'missing'), join(root, 'broken link'));

  server = createServer(handler);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.address();
  if (!('port' in address)) throw new Error('expected a TCP address');
  baseUrl = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('the listing page in Chromium', { timeout: TEST_TIMEOUT_MS }, () => {
  it('renders one row per entry, keeps hostile names as text, sorts by column, and links by encoded name', async () => {
    const context = await browser!.newContext({ viewport: { width: 900, height: 520 } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${baseUrl}/`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'Index of /');

      assert.deepEqual(await rowNames(page), BY_NAME);
      for (const name of [IMG_NAME, SVG_NAME, QUOTES_NAME]) {
        assert.equal(await page.getByRole('link', { name, exact: true }).count(), 1, name);
      }
      assert.equal(await page.locator('img, svg').count(), 0);
      assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
      assert.equal(await page.locator('.up').count(), 0, 'no parent link at the root');

      const sizeHeader = page.getByRole('button', { name: 'Size' });
      await sizeHeader.click();
      assert.deepEqual(await rowNames(page), BY_SIZE);
      assert.equal(await page.locator('th.size').getAttribute('aria-sort'), 'ascending');
      await sizeHeader.click();
      assert.deepEqual(await rowNames(page), BY_SIZE_DESC);
      assert.equal(await page.locator('th.size').getAttribute('aria-sort'), 'descending');

      await page.getByRole('button', { name: 'Modified' }).click();
      assert.deepEqual(await rowNames(page), [...[...FOLDERS].sort(), ...FILES.map((f) => f.name)]);

      await page.getByRole('button', { name: 'Name' }).click();
      assert.deepEqual(await rowNames(page), BY_NAME);
      assert.equal(await page.locator('th.name').getAttribute('aria-sort'), 'ascending');

      await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
      assert.ok((await stat(SCREENSHOT_PATH)).size > MIN_SCREENSHOT_BYTES, 'the screenshot is not blank');

      await page.getByRole('link', { name: ODD_NAME, exact: true }).click();
      await page.waitForURL(`${baseUrl}/100%25%20%231%20%3F.txt`);
      assert.equal((await page.textContent('body'))?.trim(), ODD_CONTENT);
    } finally {
      await context.close();
    }
  });

  it('works under LISTING_CSP: the style applies and the sort script runs, with no violations', async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 700 }, colorScheme: 'dark' });
    try {
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (message.text().includes('Content Security Policy')) violations.push(message.text());
      });
      const response = await page.goto(`${baseUrl}/?csp`);
      assert.equal(response?.headers()['content-security-policy'], LISTING_CSP);
      assert.equal(
        await page.evaluate("getComputedStyle(document.querySelector('th button')).cursor"),
        'pointer',
        'the inline style was applied',
      );
      await page.getByRole('button', { name: 'Size' }).click();
      assert.deepEqual(await rowNames(page), BY_SIZE, 'the inline script ran');
      assert.deepEqual(violations, []);
      await page.screenshot({ path: PHONE_SCREENSHOT_PATH, fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('answers JSON when asked for it', async () => {
    const response = await fetch(`${baseUrl}/`, { headers: { accept: 'application/json' } });
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = (await response.json()) as { path: string; entries: { name: string; type: string }[] };
    assert.equal(body.path, '/');
    assert.deepEqual(
      body.entries.map((e) => e.name),
      BY_NAME,
    );
    assert.equal(body.entries[0]?.type, 'directory');
  });
});
