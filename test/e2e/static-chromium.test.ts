/**
 * The static file server in a real browser (Debian's Chromium through playwright-core): a video
 * that seeks through range requests, the French page for a French browser, and a cross-origin
 * fetch with a preflight against a server with CORS on (and refused by one without). The demo
 * site in public/ is served as it is; a wrapper records every request the server answers.
 * Chromium is required: CI installs it, so a missing binary fails here rather than skipping.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import type { Handler } from '../../src/index.js';
import { createStaticHandler } from '../../src/static/serve.js';
import { launchChromium } from './chromium.js';
import { closeServer, type Running, startServer } from './raw-client.js';

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public');
const TEST_TIMEOUT_MS = 15_000;
const MEDIA_TIMEOUT_MS = 8_000;
const SEEK_TO_SECONDS = 3;
const VIDEO_PAGE = `<!doctype html><meta charset="utf-8"><title>clip</title>
<video id="v" src="/media/clip.mp4" muted preload="auto" playsinline></video>\n`;

/** The page's video element, as a script expression (the tests' TypeScript has no DOM types). */
const VIDEO = "document.getElementById('v')";

/**
 * A script that sets currentTime and resolves `{ ok, detail }` on `seeked`, on a media error, or
 * after timeoutMs.
 */
function seekScript(to: number, timeoutMs: number): string {
  return `new Promise((resolve) => {
    const v = ${VIDEO};
    if (v.error !== null) return resolve({ ok: false, detail: 'media error ' + v.error.code + ': ' + v.error.message });
    const timer = setTimeout(() => resolve({ ok: false, detail: 'no seeked event; readyState ' + v.readyState }), ${timeoutMs});
    v.addEventListener('seeked', () => { clearTimeout(timer); resolve({ ok: true, detail: 'seeked' }); }, { once: true });
    v.addEventListener('error', () => { clearTimeout(timer); resolve({ ok: false, detail: 'media error ' + v.error?.code }); }, { once: true });
    v.currentTime = ${to};
  })`;
}

/** A script that fetches url (with a header that forces a preflight) and resolves what came back. */
function crossOriginScript(url: string, preflight: boolean): string {
  const init = preflight ? "{ headers: { 'X-Berth-Test': '1' } }" : '{}';
  return `fetch(${JSON.stringify(url)}, ${init}).then(
    async (res) => ({ status: res.status, etag: res.headers.get('etag'), length: (await res.text()).length }),
    (err) => ({ error: String(err) }),
  )`;
}

type Seen = { method: string; url: string; range: string | undefined; status: number };

/** Records every request (after the handler answered it); serves VIDEO_PAGE at /video.html. */
function recording(files: Handler, seen: Seen[]): Handler {
  return async (req, res) => {
    try {
      if (req.url === '/video.html') {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(VIDEO_PAGE);
        return;
      }
      await files(req, res);
    } finally {
      const range = req.headers.range;
      seen.push({
        method: req.method,
        url: req.url,
        range: typeof range === 'string' ? range : undefined,
        status: res.statusCode,
      });
    }
  };
}

let browser: Browser | undefined;
/** No CORS: the page origin for the video and language tests. */
let plain: Running | undefined;
/** CORS on: the other origin of the cross-origin test. */
let open: Running | undefined;
const plainSeen: Seen[] = [];
const openSeen: Seen[] = [];

before(async () => {
  // Fails early with a clear message when Chromium is missing.
  browser = await launchChromium();
  plain = await startServer(recording(await createStaticHandler({ root: PUBLIC }), plainSeen));
  open = await startServer(recording(await createStaticHandler({ root: PUBLIC, cors: true }), openSeen));
});

after(async () => {
  await browser?.close();
  if (plain !== undefined) await closeServer(plain.server);
  if (open !== undefined) await closeServer(open.server);
});

describe('the static server in Chromium', { timeout: TEST_TIMEOUT_MS }, () => {
  it('lets a video seek: range requests answered with 206, and the frame is ready after seeking', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      plainSeen.length = 0;
      await page.goto(`${plain!.url}/video.html`);
      await page.waitForFunction(`${VIDEO}.readyState >= 1 || ${VIDEO}.error !== null`, undefined, {
        timeout: MEDIA_TIMEOUT_MS,
      });
      const seek = (await page.evaluate(seekScript(SEEK_TO_SECONDS, MEDIA_TIMEOUT_MS))) as {
        ok: boolean;
        detail: string;
      };
      assert.ok(seek.ok, seek.detail);
      await page.waitForFunction(`${VIDEO}.readyState >= 2`, undefined, { timeout: MEDIA_TIMEOUT_MS });
      const state = (await page.evaluate(
        `({ currentTime: ${VIDEO}.currentTime, readyState: ${VIDEO}.readyState })`,
      )) as {
        currentTime: number;
        readyState: number;
      };
      assert.ok(state.readyState >= 2, `readyState ${state.readyState}`);
      assert.ok(Math.abs(state.currentTime - SEEK_TO_SECONDS) < 0.5, `currentTime ${state.currentTime}`);

      const media = plainSeen.filter((s) => s.url === '/media/clip.mp4');
      assert.ok(media.length > 0, 'the browser fetched the clip');
      assert.ok(
        media.some((s) => s.range !== undefined && s.status === 206),
        `a Range request answered with 206: ${JSON.stringify(media)}`,
      );
      for (const s of media) if (s.range !== undefined) assert.equal(s.status, 206, JSON.stringify(s));
    } finally {
      await context.close();
    }
  });

  it('shows the French page to a French browser and the English one otherwise', async () => {
    const french = await readFile(join(PUBLIC, 'index.html.fr'), 'utf8');
    const title = /<title>([^<]*)<\/title>/.exec(french)?.[1];
    for (const [locale, lang] of [
      ['fr-FR', 'fr'],
      ['en-US', 'en'],
      ['de-DE', 'en'],
    ] as const) {
      const context = await browser!.newContext({ locale });
      try {
        const page = await context.newPage();
        const response = await page.goto(`${plain!.url}/`);
        assert.equal(response?.status(), 200, locale);
        assert.equal(await page.evaluate('document.documentElement.lang'), lang, locale);
        if (lang === 'fr') {
          assert.equal(await page.title(), title);
          assert.equal(response?.headers()['content-language'], 'fr');
        }
        assert.match(response?.headers().vary ?? '', /Accept-Language/, locale);
      } finally {
        await context.close();
      }
    }
  });

  it('fetches across origins with a preflight when CORS is on, and is refused when it is off', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${plain!.url}/video.html`);
      openSeen.length = 0;
      const allowed = (await page.evaluate(crossOriginScript(`${open!.url}/style.css`, true))) as {
        status?: number;
        etag?: string | null;
        length?: number;
        error?: string;
      };
      const css = await readFile(join(PUBLIC, 'style.css'), 'utf8');
      assert.deepEqual(allowed, {
        status: 200,
        etag: allowed.etag ?? 'missing',
        length: css.length,
      });
      assert.ok(allowed.etag?.startsWith('"'), 'ETag is exposed to the script');
      assert.ok(
        openSeen.some((s) => s.method === 'OPTIONS' && s.status === 204),
        `a preflight was answered: ${JSON.stringify(openSeen)}`,
      );

      await page.goto(`${open!.url}/style.css`);
      const refused = (await page.evaluate(crossOriginScript(`${plain!.url}/style.css`, false))) as {
        error?: string;
      };
      assert.match(refused.error ?? JSON.stringify(refused), /TypeError/, 'no CORS headers without cors');
    } finally {
      await context.close();
    }
  });
});
