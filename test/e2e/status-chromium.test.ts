/**
 * The status page in a real browser: Debian's Chromium, driven by playwright-core, against a Berth
 * server with metrics and the status endpoints, while the test sends it steady traffic (2xx, 4xx,
 * 5xx, slow answers, cache hits and misses). Checks that the charts get drawn from status.json
 * within a few seconds, under the page's own CSP with no violations, and keeps a screenshot.
 * Chromium is required: CI installs it, so a missing binary fails here rather than skipping.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import type { Handler } from '../../src/index.js';
import { withStatus } from '../../src/status/handler.js';
import { Metrics } from '../../src/status/metrics.js';
import { launchChromium } from './chromium.js';
import { closeServer, type Running, startServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 30_000;
const MIN_SCREENSHOT_BYTES = 8 * 1024;
/** Samples on the chart before the screenshot: enough for a line with a shape. */
const SAMPLES_BEFORE_SCREENSHOT = 5;
const TRAFFIC_INTERVAL_MS = 20;
const SCREENSHOT_PATH = join(tmpdir(), 'berth-status-chromium.png');
const PHONE_SCREENSHOT_PATH = join(tmpdir(), 'berth-status-chromium-phone-dark.png');
const CHARTS = ['requests', 'latency', 'status', 'connections', 'bytes', 'cache'] as const;

/** Answers by path: a few kinds of status, a slow path, cache hits and misses. */
const site: Handler = async (req, res) => {
  const path = req.url;
  if (path === '/slow') await sleep(40 + Math.random() * 60);
  if (path === '/hit' || path === '/miss') {
    res.setHeader('Cache-Status', path === '/hit' ? 'berth; hit; ttl=60' : 'berth; fwd=uri-miss; stored');
  }
  res.statusCode = path === '/missing' ? 404 : path === '/error' ? 500 : path === '/moved' ? 301 : 200;
  res.end('x'.repeat(path === '/large' ? 20_000 : 200));
};

const TRAFFIC = ['/', '/hit', '/hit', '/hit', '/miss', '/large', '/slow', '/missing', '/error', '/moved'];

let running: Running | undefined;
let metrics: Metrics | undefined;
let browser: Browser | undefined;
let traffic: NodeJS.Timeout | undefined;

before(async () => {
  browser = await launchChromium();
  let server: Running['server'] | undefined;
  metrics = new Metrics({
    openConnections: () => server?.connectionCount ?? 0,
    upstreams: () => [
      { name: 'http://127.0.0.1:3001', healthy: true, activeRequests: 2 },
      { name: 'http://127.0.0.1:3002', healthy: false, activeRequests: 0 },
      { name: '<b>unix:/run/app.sock</b>', healthy: true },
    ],
  });
  running = await startServer(withStatus(metrics.wrap(site), { metrics, enabled: true }));
  server = running.server;
  let n = 0;
  traffic = setInterval(() => {
    const path = TRAFFIC[n++ % TRAFFIC.length]!;
    fetch(`${running!.url}${path}`)
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }, TRAFFIC_INTERVAL_MS);
});

after(async () => {
  clearInterval(traffic);
  await browser?.close();
  metrics?.close();
  if (running !== undefined) await closeServer(running.server, 5_000);
});

/**
 * Browser-side expressions (strings: this project compiles without the DOM library). POINT_COUNTS
 * is the number of points of every chart line, keyed `chart-id/series`.
 */
const POINT_COUNTS = `Object.fromEntries(Array.from(document.querySelectorAll('polyline[data-series]'), (line) => [
  line.closest('figure').id + '/' + line.dataset.series,
  line.getAttribute('points').trim() === '' ? 0 : line.getAttribute('points').trim().split(' ').length,
]))`;

/**
 * Polls from here until `series` has at least `n` points (page.waitForFunction would compile its
 * predicate inside the page, which the page's CSP rightly refuses); returns all the counts.
 */
async function waitForPoints(
  page: Page,
  series: string,
  n: number,
  timeoutMs: number,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = (await page.evaluate(POINT_COUNTS)) as Record<string, number>;
    if ((counts[series] ?? 0) >= n) return counts;
    if (Date.now() > deadline)
      throw new Error(`${series} has fewer than ${n} points: ${JSON.stringify(counts)}`);
    await sleep(200);
  }
}

describe('the status page in Chromium', { timeout: TEST_TIMEOUT_MS }, () => {
  it('draws every chart from live samples under its CSP, and lists the upstreams', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      const foreign: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(running!.url) && !request.url().startsWith('data:')) {
          foreign.push(request.url());
        }
      });

      const response = await page.goto(`${running!.url}/.berth/status`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'Berth status');

      // A few samples in the window: every line of the always-busy charts has points.
      const counts = await waitForPoints(page, 'chart-requests/requests', SAMPLES_BEFORE_SCREENSHOT, 15_000);
      for (const series of [
        'chart-requests/requests',
        'chart-latency/p50',
        'chart-latency/p99',
        'chart-status/c2xx',
        'chart-status/c4xx',
        'chart-status/c5xx',
        'chart-connections/connections',
        'chart-bytes/bytes',
        'chart-cache/cacheHitRatio',
      ]) {
        assert.ok((counts[series] ?? 0) >= 2, `${series} has points: ${JSON.stringify(counts)}`);
      }

      for (const chart of CHARTS) {
        const box = await page.locator(`#chart-${chart} svg`).boundingBox();
        assert.ok(box !== null && box.width > 100 && box.height > 40, `#chart-${chart} svg is laid out`);
        const line = await page.locator(`#chart-${chart} polyline`).first().boundingBox();
        assert.ok(line !== null && line.width > 0, `#chart-${chart} line has a size`);
      }
      const yLabel = await page.locator('#chart-requests text[data-y="1"]').textContent();
      assert.ok(yLabel !== null && yLabel !== '', 'the y axis is labelled');
      assert.equal(await page.locator('#chart-requests text[data-x="0"]').textContent(), '\u22121 min');

      const requests = await page.locator('[data-total="requests"]').textContent();
      assert.ok(Number(requests?.replace(/,/g, '')) > 10, `requests total ${requests}`);
      assert.equal(await page.locator('#upstreams tr').count(), 3);
      assert.deepEqual(await page.locator('#upstreams td.down').allTextContents(), ['down']);
      assert.equal(await page.locator('#upstreams b').count(), 0, 'an upstream name stays text');
      assert.ok(await page.locator('#stale').isHidden(), 'the page is updating');
      assert.equal(
        await page.evaluate("getComputedStyle(document.querySelector('.charts')).display"),
        'grid',
        'status.css applied',
      );

      await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
      assert.ok((await stat(SCREENSHOT_PATH)).size > MIN_SCREENSHOT_BYTES, 'the screenshot is not blank');
      assert.deepEqual(problems, [], 'no console errors or CSP violations');
      assert.deepEqual(foreign, [], 'no request leaves the server');
    } finally {
      await context.close();
    }
  });

  it('fits a phone in dark mode', async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    try {
      const page = await context.newPage();
      await page.goto(`${running!.url}/.berth/status`);
      await waitForPoints(page, 'chart-latency/p99', 2, 10_000);
      const width = await page.evaluate('document.documentElement.scrollWidth');
      assert.ok(Number(width) <= 390, `no sideways scrolling (${width}px)`);
      await page.screenshot({ path: PHONE_SCREENSHOT_PATH, fullPage: true });
      assert.ok((await stat(PHONE_SCREENSHOT_PATH)).size > MIN_SCREENSHOT_BYTES);
    } finally {
      await context.close();
    }
  });

  it('shows the totals without JavaScript', async () => {
    const context = await browser!.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${running!.url}/.berth/status`);
      const requests = await page.locator('[data-total="requests"]').textContent();
      assert.ok(Number(requests?.replace(/,/g, '')) > 0, `server-rendered total ${requests}`);
      assert.equal(await page.locator('#upstreams tr').count(), 3);
    } finally {
      await context.close();
    }
  });
});
