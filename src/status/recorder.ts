/**
 * The hot-path half of Metrics: cumulative counters, updated once per finished response (and once
 * per body chunk for bytes). Only numbers change here — typed-array slots and number fields — so a
 * request costs a few increments and one Math.log2. Metrics reads these counters once a second and
 * at scrape time; nothing here allocates or schedules.
 */
import type { Response } from '../handler/types.js';
import { type CacheResult, cacheResult } from './cache-result.js';
import { LATENCY_BUCKETS, latencyBucket } from './latency.js';

/** Status classes by index: 0 is 1xx … 4 is 5xx. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** A status class label: `1xx` … `5xx`. */
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Cumulative counters since start; see the module comment. */
export class Recorder {
  /** Finished responses per status class (index 0 = 1xx). A status of 600 or more counts as 5xx. */
  readonly classes = new Float64Array(STATUS_CLASSES.length);
  /** Responses whose exchange ended before the response did (the client went away). */
  aborted = 0;
  /** Body bytes as handlers wrote them (see MeasuredResponse). */
  bytes = 0;
  cacheHits = 0;
  cacheMisses = 0;
  /** Latency histogram of finished responses (see latency.ts). */
  readonly latency = new Float64Array(LATENCY_BUCKETS);
  latencySumMs = 0;
  /** Largest latency since Metrics last reset it (each sample). */
  windowMaxMs = 0;
  /** Largest latency since start. */
  maxMs = 0;

  /**
   * @param cacheName The cache's name in Cache-Status, read from each response for the hit ratio;
   *   undefined when the caller reports through Metrics.cacheOutcome() instead.
   */
  constructor(private readonly cacheName: string | undefined) {}

  /** Counts one response that ended, `ms` after its handler started. */
  finished(res: Response, ms: number): void {
    const status = res.statusCode;
    const index = status < 200 ? 0 : status >= 500 ? 4 : ((status / 100) | 0) - 1;
    this.classes[index]!++;
    this.latency[latencyBucket(ms)]!++;
    this.latencySumMs += ms;
    if (ms > this.windowMaxMs) this.windowMaxMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
    if (this.cacheName === undefined) return;
    const field = res.getHeader('cache-status');
    if (field === undefined) return;
    // A list set as an array: the last element carries the last member.
    const value = typeof field === 'string' ? field : typeof field === 'number' ? '' : (field.at(-1) ?? '');
    this.cache(cacheResult(value, this.cacheName));
  }

  /** Counts one cache outcome. */
  cache(result: CacheResult): void {
    if (result === 'hit') this.cacheHits++;
    else if (result === 'miss') this.cacheMisses++;
  }
}
