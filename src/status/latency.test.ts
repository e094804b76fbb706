import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  latencyBucket,
  latencyQuantile,
  OVERFLOW_BUCKET,
  STEPS_PER_OCTAVE,
} from './latency.js';

function histogram(durationsMs: readonly number[]): Float64Array {
  const counts = new Float64Array(LATENCY_BUCKETS);
  for (const ms of durationsMs) counts[latencyBucket(ms)]!++;
  return counts;
}

describe('latency histogram', () => {
  it('latencyBucket() puts a duration in the bucket whose bound is the first at or above it', () => {
    for (const ms of [0.2, 0.9, 1, 1.5, 7, 99.9, 250, 1234.5, 60_000]) {
      const i = latencyBucket(ms);
      assert.ok(ms <= LATENCY_BOUNDS_MS[i]!, `${ms} ≤ bound ${i}`);
      assert.ok(i === 0 || ms > LATENCY_BOUNDS_MS[i - 1]!, `${ms} > bound ${i - 1}`);
    }
  });

  it('latencyBucket() keeps a duration equal to a power-of-two bound in that bound’s bucket', () => {
    for (let i = 0; i < OVERFLOW_BUCKET; i += STEPS_PER_OCTAVE) {
      assert.equal(latencyBucket(LATENCY_BOUNDS_MS[i]!), i, `bound ${LATENCY_BOUNDS_MS[i]} ms`);
    }
  });

  it('latencyBucket() sends tiny, negative and NaN durations to bucket 0 and huge ones to the overflow', () => {
    assert.equal(latencyBucket(0), 0);
    assert.equal(latencyBucket(-5), 0);
    assert.equal(latencyBucket(Number.NaN), 0);
    assert.equal(latencyBucket(0.1), 0);
    assert.equal(latencyBucket(10 * 60_000), OVERFLOW_BUCKET);
  });

  it('the bounds double every STEPS_PER_OCTAVE buckets, from 0.125 ms to 65.536 s', () => {
    assert.equal(LATENCY_BOUNDS_MS[0], 0.125);
    assert.equal(LATENCY_BOUNDS_MS.at(-1), 65_536);
    assert.equal(LATENCY_BOUNDS_MS[STEPS_PER_OCTAVE], 0.25);
  });

  it('latencyQuantile() is undefined for an empty histogram', () => {
    assert.equal(latencyQuantile(new Float64Array(LATENCY_BUCKETS), 0.5), undefined);
  });

  it('latencyQuantile() estimates p50 and p99 within one bucket’s width (19%)', () => {
    // 98 fast requests around 2 ms, two slow ones at 300 ms: p50 ≈ 2 ms, p99 is a slow one.
    const durations = [...Array.from({ length: 98 }, (_, i) => 1.8 + i * 0.004), 300, 300];
    const counts = histogram(durations);
    const p50 = latencyQuantile(counts, 0.5, 300)!;
    const p99 = latencyQuantile(counts, 0.99, 300)!;
    assert.ok(p50 > 2 / 1.19 && p50 < 2 * 1.19, `p50 ${p50}`);
    assert.ok(p99 > 300 / 1.19 && p99 <= 300, `p99 ${p99}`);
  });

  it('latencyQuantile() never answers more than the largest duration seen', () => {
    const counts = histogram([5, 5, 5]);
    assert.equal(latencyQuantile(counts, 0.99, 5), 5);
    assert.ok(latencyQuantile(counts, 0.99)! > 5, 'without the max, the bucket bound');
  });

  it('latencyQuantile() answers the largest duration for the overflow bucket', () => {
    assert.equal(latencyQuantile(histogram([100_000]), 0.5, 100_000), 100_000);
  });
});
