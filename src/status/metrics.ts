/**
 * Metrics: what the status page and /.berth/metrics show, collected cheaply.
 *
 * Two halves. The hot path (wrap(), via MeasuredResponse and Recorder) only bumps cumulative
 * counters: responses per status class, a latency histogram (latency.ts), body bytes, cache hits
 * and misses. Once a second one unref'd interval timer (per Metrics, never per request) closes a
 * sample: the difference between the counters now and at the last sample, with p50/p99 from the
 * histogram's difference, the open connections read from the caller's function, written into a
 * ring of the last five minutes. Everything a reader wants (snapshot(), the Prometheus collectors)
 * is computed from those counters when it is asked for, not per request.
 *
 * What "bytes" means: response body bytes as the handler wrote them (write(), end(), send()),
 * before any chunked framing, and zero for HEAD, 1xx, 204 and 304. The head is not counted, nor
 * error bodies the engine writes itself (a handler that threw).
 */
import type { Handler } from '../handler/types.js';
import { LATENCY_BUCKETS, latencyQuantile } from './latency.js';
import { MeasuredResponse } from './measured-response.js';
import { Recorder, STATUS_CLASSES, type StatusClass } from './recorder.js';

/** Length of one sample. */
export const SAMPLE_INTERVAL_MS = 1000;
/** Samples kept: five minutes of one-second samples. */
export const HISTORY_SAMPLES = 300;

/** One upstream as the status page shows it. */
export type UpstreamHealth = {
  readonly name: string;
  readonly healthy: boolean;
  /** Requests in flight to it, when the caller knows. */
  readonly activeRequests?: number;
};

/** What Metrics reads from the rest of the server; all optional. */
export type MetricsOptions = {
  /**
   * Reads the number of open client connections, e.g. `() => server.connectionCount`; called once
   * per sample and per scrape. The server may be created after the Metrics (a closure over a `let`).
   */
  readonly openConnections?: () => number;
  /**
   * Reads the upstreams' health, e.g. from UpstreamGroup.status(); called per status.json request
   * and per scrape, never per request. A throw is treated as no upstreams.
   */
  readonly upstreams?: () => readonly UpstreamHealth[];
  /**
   * The cache's name in the Cache-Status field (RFC 9211), read from each response to count hits and
   * misses; default `berth`. `false` reads no field: report through cacheOutcome() instead.
   */
  readonly cacheName?: string | false;
};

/**
 * The last five minutes, oldest first, one entry per sample in each column. Rates are per second
 * over the sample's own length; p50/p99 are in ms and null for a sample with no responses; the hit
 * ratio is null with no cache traffic; connections is null when no reader was given.
 */
export type MetricsHistory = {
  /** Sample end times, ms since the epoch. */
  readonly t: number[];
  /** Responses that ended plus exchanges aborted, per second. */
  readonly requests: number[];
  readonly p50: (number | null)[];
  readonly p99: (number | null)[];
  readonly c1xx: number[];
  readonly c2xx: number[];
  readonly c3xx: number[];
  readonly c4xx: number[];
  readonly c5xx: number[];
  readonly aborted: number[];
  readonly bytes: number[];
  readonly connections: (number | null)[];
  readonly cacheHitRatio: (number | null)[];
};

/** Counts since start (or, for openConnections, right now). */
export type MetricsTotals = {
  readonly uptimeMs: number;
  /** Finished responses plus aborted ones. */
  readonly requests: number;
  readonly byClass: Readonly<Record<StatusClass, number>>;
  readonly aborted: number;
  readonly bytes: number;
  readonly openConnections: number | null;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** All-time latency quantiles in ms (null before the first response). */
  readonly p50: number | null;
  readonly p99: number | null;
};

/** Everything /.berth/status.json returns. */
export type MetricsSnapshot = {
  readonly now: number;
  readonly intervalMs: number;
  readonly historySamples: number;
  readonly totals: MetricsTotals;
  readonly samples: MetricsHistory;
  readonly upstreams: readonly UpstreamHealth[];
};

/** The raw cumulative counters, for exporters (prometheus.ts). Arrays are copies. */
export type MetricsCounters = {
  readonly classes: Readonly<Record<StatusClass, number>>;
  readonly aborted: number;
  readonly bytes: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Latency histogram counts per bucket (see latency.ts), not cumulative across buckets. */
  readonly latency: readonly number[];
  readonly latencySumMs: number;
};

/** Columns of the ring, one Float64Array each. NaN marks "no value". */
const COLUMNS = [
  't',
  'dt',
  'p50',
  'p99',
  'c1xx',
  'c2xx',
  'c3xx',
  'c4xx',
  'c5xx',
  'aborted',
  'bytes',
  'connections',
  'hits',
  'misses',
] as const;
type Column = (typeof COLUMNS)[number];
/** The ring's status-class columns, in STATUS_CLASSES order. */
const CLASS_COLUMNS = ['c1xx', 'c2xx', 'c3xx', 'c4xx', 'c5xx'] as const;

/**
 * Request metrics with a lifecycle: construct, wrap() the handler, read snapshot(), close() at
 * shutdown (stops the sampling timer). One Metrics per server.
 */
export class Metrics {
  private readonly recorder: Recorder;
  private readonly readConnections: (() => number) | undefined;
  private readonly readUpstreams: (() => readonly UpstreamHealth[]) | undefined;
  private readonly startedAt = Date.now();
  private readonly ring = Object.fromEntries(
    COLUMNS.map((c) => [c, new Float64Array(HISTORY_SAMPLES)]),
  ) as Record<Column, Float64Array>;
  /** Next slot to write, and how many slots hold samples. */
  private head = 0;
  private filled = 0;
  private lastSampleAt = this.startedAt;
  /** The cumulative counters as the last sample saw them. */
  private readonly seenClasses = new Float64Array(STATUS_CLASSES.length);
  private readonly seenLatency = new Float64Array(LATENCY_BUCKETS);
  private readonly windowLatency = new Float64Array(LATENCY_BUCKETS);
  private seen = { aborted: 0, bytes: 0, hits: 0, misses: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MetricsOptions = {}) {
    const cacheName = options.cacheName ?? 'berth';
    this.recorder = new Recorder(cacheName === false ? undefined : cacheName);
    this.readConnections = options.openConnections;
    this.readUpstreams = options.upstreams;
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Returns a handler that runs `next` with a measuring Response (see measured-response.ts): every
   * response is counted once it ends or its client goes away. Wrap inside withStatus() so the status
   * page's own polling is not counted.
   */
  wrap(next: Handler): Handler {
    const recorder = this.recorder;
    return (req, res) => next(req, new MeasuredResponse(res, recorder, req.method === 'HEAD'));
  }

  /** Reports one cache lookup, for callers that set `cacheName: false`. */
  cacheOutcome(hit: boolean): void {
    this.recorder.cache(hit ? 'hit' : 'miss');
  }

  /** The open-connection count from the caller's reader; null without one. */
  openConnections(): number | null {
    return this.readConnections === undefined ? null : this.readConnections();
  }

  /** The upstreams' health from the caller's reader; empty without one or when it throws. */
  upstreams(): readonly UpstreamHealth[] {
    if (this.readUpstreams === undefined) return [];
    try {
      return this.readUpstreams();
    } catch {
      return [];
    }
  }

  /** A copy of the cumulative counters. */
  counters(): MetricsCounters {
    const r = this.recorder;
    return {
      classes: byClass(r.classes),
      aborted: r.aborted,
      bytes: r.bytes,
      cacheHits: r.cacheHits,
      cacheMisses: r.cacheMisses,
      latency: Array.from(r.latency),
      latencySumMs: r.latencySumMs,
    };
  }

  /**
   * Closes the current sample (the timer calls this every SAMPLE_INTERVAL_MS) and writes it to the
   * ring, overwriting the oldest after five minutes. `now` is the sample's end, ms since the epoch.
   */
  sample(now: number = Date.now()): void {
    const r = this.recorder;
    const ring = this.ring;
    const i = this.head;
    ring.t[i] = now;
    ring.dt[i] = Math.max(1, now - this.lastSampleAt);
    this.lastSampleAt = now;
    for (let c = 0; c < STATUS_CLASSES.length; c++) {
      ring[CLASS_COLUMNS[c]!][i] = r.classes[c]! - this.seenClasses[c]!;
    }
    this.seenClasses.set(r.classes);
    for (let b = 0; b < LATENCY_BUCKETS; b++) this.windowLatency[b] = r.latency[b]! - this.seenLatency[b]!;
    this.seenLatency.set(r.latency);
    ring.p50[i] = latencyQuantile(this.windowLatency, 0.5, r.windowMaxMs) ?? Number.NaN;
    ring.p99[i] = latencyQuantile(this.windowLatency, 0.99, r.windowMaxMs) ?? Number.NaN;
    r.windowMaxMs = 0;
    const seen = this.seen;
    ring.aborted[i] = r.aborted - seen.aborted;
    ring.bytes[i] = r.bytes - seen.bytes;
    ring.hits[i] = r.cacheHits - seen.hits;
    ring.misses[i] = r.cacheMisses - seen.misses;
    this.seen = { aborted: r.aborted, bytes: r.bytes, hits: r.cacheHits, misses: r.cacheMisses };
    ring.connections[i] = this.openConnections() ?? Number.NaN;
    this.head = (i + 1) % HISTORY_SAMPLES;
    this.filled = Math.min(this.filled + 1, HISTORY_SAMPLES);
  }

  /** The samples in the ring, oldest first, as per-second rates (see MetricsHistory). */
  history(): MetricsHistory {
    const ring = this.ring;
    const h: { [K in keyof MetricsHistory]: (number | null)[] } = {
      t: [],
      requests: [],
      p50: [],
      p99: [],
      c1xx: [],
      c2xx: [],
      c3xx: [],
      c4xx: [],
      c5xx: [],
      aborted: [],
      bytes: [],
      connections: [],
      cacheHitRatio: [],
    };
    const first = (this.head - this.filled + HISTORY_SAMPLES) % HISTORY_SAMPLES;
    for (let k = 0; k < this.filled; k++) {
      const i = (first + k) % HISTORY_SAMPLES;
      const perSecond = 1000 / ring.dt[i]!;
      let requests = ring.aborted[i]!;
      for (const c of CLASS_COLUMNS) {
        requests += ring[c][i]!;
        h[c].push(rate(ring[c][i]!, perSecond));
      }
      h.t.push(ring.t[i]!);
      h.requests.push(rate(requests, perSecond));
      h.p50.push(orNull(ring.p50[i]!));
      h.p99.push(orNull(ring.p99[i]!));
      h.aborted.push(rate(ring.aborted[i]!, perSecond));
      h.bytes.push(rate(ring.bytes[i]!, perSecond));
      h.connections.push(orNull(ring.connections[i]!));
      const lookups = ring.hits[i]! + ring.misses[i]!;
      h.cacheHitRatio.push(lookups === 0 ? null : ring.hits[i]! / lookups);
    }
    return h as MetricsHistory;
  }

  /** Counts since start, plus the open connections now. */
  totals(now: number = Date.now()): MetricsTotals {
    const r = this.recorder;
    const classes = byClass(r.classes);
    let requests = r.aborted;
    for (const n of r.classes) requests += n;
    return {
      uptimeMs: now - this.startedAt,
      requests,
      byClass: classes,
      aborted: r.aborted,
      bytes: r.bytes,
      openConnections: this.openConnections(),
      cacheHits: r.cacheHits,
      cacheMisses: r.cacheMisses,
      p50: orNull(latencyQuantile(r.latency, 0.5, r.maxMs) ?? Number.NaN),
      p99: orNull(latencyQuantile(r.latency, 0.99, r.maxMs) ?? Number.NaN),
    };
  }

  /** Totals, history and upstream health: the body of /.berth/status.json. */
  snapshot(now: number = Date.now()): MetricsSnapshot {
    return {
      now,
      intervalMs: SAMPLE_INTERVAL_MS,
      historySamples: HISTORY_SAMPLES,
      totals: this.totals(now),
      samples: this.history(),
      upstreams: this.upstreams(),
    };
  }

  /** Stops the sampling timer (counting goes on; only sample() moves the ring now). Idempotent. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function byClass(classes: Float64Array): Record<StatusClass, number> {
  return {
    '1xx': classes[0]!,
    '2xx': classes[1]!,
    '3xx': classes[2]!,
    '4xx': classes[3]!,
    '5xx': classes[4]!,
  };
}

/** A count over a sample as a per-second rate, to 3 decimals (JSON stays short). */
function rate(count: number, perSecond: number): number {
  return Math.round(count * perSecond * 1000) / 1000;
}

/** NaN (no value) as null, anything else to 3 decimals. */
function orNull(n: number): number | null {
  return Number.isNaN(n) ? null : Math.round(n * 1000) / 1000;
}
