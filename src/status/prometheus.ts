/**
 * /.berth/metrics: Metrics in the Prometheus text exposition format, through prom-client with a
 * private Registry (never the global one, so an embedding application's metrics and ours cannot
 * collide, and two servers in one process keep apart).
 *
 * Filled at scrape time, not on the hot path: every prom-client object here has a collect()
 * callback that copies the Metrics counters in when a scrape asks. prom-client's observe()/inc()
 * hash a label object per call; per request that would cost more than the whole Recorder.
 *
 * The latency histogram is not a prom-client Histogram: its buckets can only be filled by
 * observe(), one call per request. It is a small collector object instead, which the Registry
 * formats like any metric (registry.js only calls `get()` and reads `name`), exporting the
 * power-of-two bounds of latency.ts in seconds.
 */
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { LATENCY_BOUNDS_MS, LATENCY_BUCKETS, STEPS_PER_OCTAVE } from './latency.js';
import type { Metrics } from './metrics.js';
import { STATUS_CLASSES } from './recorder.js';

/** Prefix of every name this registry exports, process metrics included. */
export const METRIC_PREFIX = 'berth_';

/** What createPrometheusRegistry() exports besides the request metrics. */
export type PrometheusOptions = {
  /** Add prom-client's process metrics (CPU, memory, event loop lag, GC…) as `berth_…`; default true. */
  readonly processMetrics?: boolean;
};

/**
 * A private Registry exporting `metrics`: berth_requests_total{class}, berth_requests_aborted_total,
 * berth_request_duration_seconds (histogram), berth_response_bytes_total, berth_open_connections,
 * berth_cache_requests_total{result}, berth_upstream_healthy{upstream},
 * berth_upstream_active_requests{upstream}, and the process metrics. Render with
 * `await registry.metrics()`, served as `registry.contentType`.
 *
 * Process metrics start a few process-wide observers (event loop delay, GC) that prom-client cannot
 * stop: create one registry per Metrics, once (withStatus() does so on the first scrape).
 */
export function createPrometheusRegistry(metrics: Metrics, options: PrometheusOptions = {}): Registry {
  const registry = new Registry();
  const registers = [registry];

  new Counter({
    name: `${METRIC_PREFIX}requests_total`,
    help: 'Finished responses, by status class.',
    labelNames: ['class'] as const,
    registers,
    collect() {
      const { classes } = metrics.counters();
      this.reset();
      for (const c of STATUS_CLASSES) this.inc({ class: c }, classes[c]);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}requests_aborted_total`,
    help: 'Exchanges that ended before their response did (the client went away).',
    registers,
    collect() {
      this.reset();
      this.inc(metrics.counters().aborted);
    },
  });
  registry.registerMetric(latencyHistogram(metrics));
  new Counter({
    name: `${METRIC_PREFIX}response_bytes_total`,
    help: 'Response body bytes as handlers wrote them (no heads, no chunk framing; none for HEAD, 204, 304).',
    registers,
    collect() {
      this.reset();
      this.inc(metrics.counters().bytes);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}open_connections`,
    help: 'Open client connections.',
    registers,
    collect() {
      const open = metrics.openConnections();
      if (open === null) this.reset();
      else this.set(open);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}cache_requests_total`,
    help: 'Cache lookups that could be answered from the cache, by result (hit or miss).',
    labelNames: ['result'] as const,
    registers,
    collect() {
      const { cacheHits, cacheMisses } = metrics.counters();
      this.reset();
      this.inc({ result: 'hit' }, cacheHits);
      this.inc({ result: 'miss' }, cacheMisses);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}upstream_healthy`,
    help: 'Whether an upstream is taking traffic (1) or is down or ejected (0).',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      this.reset();
      for (const u of metrics.upstreams()) this.set({ upstream: u.name }, u.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}upstream_active_requests`,
    help: 'Requests in flight to an upstream.',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      this.reset();
      for (const u of metrics.upstreams()) {
        if (u.activeRequests !== undefined) this.set({ upstream: u.name }, u.activeRequests);
      }
    },
  });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

type SampleValue = { metricName: string; labels: Record<string, string | number>; value: number };

/** berth_request_duration_seconds, as a collector object (see the module comment). */
function latencyHistogram(metrics: Metrics): Metric {
  const name = `${METRIC_PREFIX}request_duration_seconds`;
  const help = 'Time from the handler starting to its response ending, for finished responses.';
  const collector = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const { latency, latencySumMs } = metrics.counters();
      const values: SampleValue[] = [];
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS; i++) {
        cumulative += latency[i]!;
        // Every STEPS_PER_OCTAVE-th bound is a power of two in ms: those are exported.
        if (i % STEPS_PER_OCTAVE === 0 && i < LATENCY_BOUNDS_MS.length) {
          values.push({
            metricName: `${name}_bucket`,
            labels: { le: LATENCY_BOUNDS_MS[i]! / 1000 },
            value: cumulative,
          });
        }
      }
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: cumulative });
      values.push({ metricName: `${name}_sum`, labels: {}, value: latencySumMs / 1000 });
      values.push({ metricName: `${name}_count`, labels: {}, value: cumulative });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {},
  };
  // The Registry needs `name` and `get()` only; prom-client's types admit its own classes alone.
  return collector as unknown as Metric;
}
