import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { HISTORY_SAMPLES, Metrics, type MetricsOptions } from './metrics.js';

const T0 = Date.UTC(2025, 0, 1);
const open: Metrics[] = [];

/** A Metrics whose timer is stopped at once: the tests move the ring with sample(now). */
function metricsFor(options?: MetricsOptions): Metrics {
  const metrics = new Metrics(options);
  metrics.close();
  open.push(metrics);
  return metrics;
}

afterEach(() => {
  for (const m of open.splice(0)) m.close();
});

describe('Metrics', () => {
  it('has no history before the first sample, and zero totals', () => {
    const metrics = metricsFor();
    assert.deepEqual(metrics.history().t, []);
    const totals = metrics.totals();
    assert.equal(totals.requests, 0);
    assert.equal(totals.p50, null);
    assert.equal(totals.openConnections, null);
  });

  it('sample() appends one sample per call, stamped with its end time', () => {
    const metrics = metricsFor({ openConnections: () => 7 });
    metrics.sample(T0 + 1000);
    metrics.sample(T0 + 2000);
    const h = metrics.history();
    assert.deepEqual(h.t, [T0 + 1000, T0 + 2000]);
    assert.deepEqual(h.connections, [7, 7]);
    assert.deepEqual(h.p50, [null, null], 'no responses: no latency');
    assert.deepEqual(h.requests.slice(1), [0]);
  });

  it('reports cache outcomes per sample as a hit ratio, null when there were none', () => {
    const metrics = metricsFor({ cacheName: false });
    metrics.sample(T0);
    metrics.cacheOutcome(true);
    metrics.cacheOutcome(true);
    metrics.cacheOutcome(true);
    metrics.cacheOutcome(false);
    metrics.sample(T0 + 1000);
    metrics.sample(T0 + 2000);
    assert.deepEqual(metrics.history().cacheHitRatio, [null, 0.75, null]);
    const totals = metrics.totals();
    assert.equal(totals.cacheHits, 3);
    assert.equal(totals.cacheMisses, 1);
    assert.deepEqual(metrics.counters().classes, { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 });
  });

  it('keeps the last five minutes, oldest first, once the ring wraps', () => {
    const metrics = metricsFor();
    const extra = 7;
    for (let i = 1; i <= HISTORY_SAMPLES + extra; i++) metrics.sample(T0 + i * 1000);
    const { t } = metrics.history();
    assert.equal(t.length, HISTORY_SAMPLES);
    assert.equal(t[0], T0 + (extra + 1) * 1000);
    assert.equal(t.at(-1), T0 + (HISTORY_SAMPLES + extra) * 1000);
    assert.ok(
      t.every((v, i) => i === 0 || v > t[i - 1]!),
      'ascending',
    );
  });

  it('reads upstream health from the caller, and none when the reader throws', () => {
    const healthy = metricsFor({ upstreams: () => [{ name: 'a', healthy: true, activeRequests: 1 }] });
    assert.deepEqual(healthy.upstreams(), [{ name: 'a', healthy: true, activeRequests: 1 }]);
    const broken = metricsFor({
      upstreams: () => {
        throw new Error('boom');
      },
    });
    assert.deepEqual(broken.upstreams(), []);
    assert.deepEqual(metricsFor().upstreams(), []);
  });

  it('snapshot() carries the interval, the ring size, totals, samples and upstreams', () => {
    const metrics = metricsFor();
    metrics.sample(T0 + 1000);
    const snapshot = metrics.snapshot(T0 + 1500);
    assert.equal(snapshot.now, T0 + 1500);
    assert.equal(snapshot.intervalMs, 1000);
    assert.equal(snapshot.historySamples, HISTORY_SAMPLES);
    assert.equal(snapshot.samples.t.length, 1);
    assert.deepEqual(snapshot.upstreams, []);
    assert.doesNotThrow(() => JSON.stringify(snapshot));
  });

  it('close() is idempotent', () => {
    const metrics = new Metrics();
    metrics.close();
    metrics.close();
  });
});
