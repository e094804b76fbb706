import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from './metrics.js';
import { formatNumber, renderStatusPage, STATUS_CSP, summarize } from './page.js';

describe('the status page', () => {
  it('renderStatusPage() shows the totals as text and escapes upstream names', () => {
    const metrics = new Metrics({
      openConnections: () => 3,
      upstreams: () => [
        { name: '<img src=x onerror=alert(1)>', healthy: false },
        { name: 'http://127.0.0.1:3000', healthy: true, activeRequests: 12 },
      ],
    });
    metrics.close();
    metrics.cacheOutcome(true);
    const html = renderStatusPage(metrics.snapshot());
    assert.match(html, /<dd data-total="connections" data-format="count">3<\/dd>/);
    assert.match(html, /<dd data-total="hitRatio" data-format="ratio">100\.0%<\/dd>/);
    assert.ok(!html.includes('<img'), 'the name stays text');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.match(html, /<td class="down">down<\/td>/);
    assert.match(html, /<td class="num">12<\/td>/);
  });

  it('renderStatusPage() has one SVG per chart with one polyline per series, and no inline script or style', () => {
    const metrics = new Metrics();
    metrics.close();
    const html = renderStatusPage(metrics.snapshot());
    assert.equal(html.match(/<svg /g)?.length, 6);
    assert.equal(html.match(/<polyline /g)?.length, 1 + 2 + 5 + 1 + 1 + 1);
    assert.ok(!/<script>|<style|style="/.test(html));
    assert.match(html, /<script src="status.js" defer><\/script>/);
    assert.ok(STATUS_CSP.includes("script-src 'self'"));
  });

  it('summarize() takes the request rate from the last sample and the hit ratio from the totals', () => {
    const metrics = new Metrics({ cacheName: false });
    metrics.close();
    metrics.cacheOutcome(false);
    metrics.sample(Date.now());
    const summary = summarize(metrics.snapshot());
    assert.equal(summary.rps, 0);
    assert.equal(summary.hitRatio, 0);
    assert.equal(summary.connections, null);
  });

  it('formatNumber() writes each kind of number as the page shows it', () => {
    assert.equal(formatNumber(null, 'count'), '–');
    assert.equal(formatNumber(12345, 'count'), '12,345');
    assert.equal(formatNumber(2.345, 'rate'), '2.3');
    assert.equal(formatNumber(0.5, 'ms'), '0.50 ms');
    assert.equal(formatNumber(12.34, 'ms'), '12.3 ms');
    assert.equal(formatNumber(2500, 'ms'), '2.50 s');
    assert.equal(formatNumber(512, 'bytes'), '512 B');
    assert.equal(formatNumber(1536, 'bytes'), '1.5 KiB');
    assert.equal(formatNumber(0.875, 'ratio'), '87.5%');
    assert.equal(formatNumber(3_723_000, 'duration'), '1h 2m');
    assert.equal(formatNumber(65_000, 'duration'), '1m 5s');
  });
});
