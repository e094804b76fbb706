/**
 * The fixed latency histogram behind the status page and /.berth/metrics: log-spaced buckets, four
 * per doubling, from 0.125 ms to 65.536 s. Bucket i holds durations in (BOUND[i-1], BOUND[i]] ms;
 * bucket 0 everything up to 0.125 ms, the last one everything beyond 65.536 s.
 *
 * Why this shape: one Math.log2 and one increment per request, no allocation, and a relative
 * error of at most 2^(1/4) ≈ 19% per bucket (less after interpolation), which is what p50/p99 on a
 * dashboard need. Every fourth bound is an exact power of two in ms (…, 0.5, 1, 2, 4, … ms), and
 * those are the `le` bounds exported to Prometheus: a cumulative count at a subset of bounds is
 * still exact, so the coarser export loses nothing but resolution.
 */

/** log2 of the smallest bound in ms (0.125 ms). */
const MIN_LOG2_MS = -3;
/** Buckets per doubling of the duration. */
export const STEPS_PER_OCTAVE = 4;
/** Doublings covered: 2^-3 ms to 2^16 ms (65.536 s). */
const OCTAVES = 19;
/** Index of the overflow bucket (durations beyond the last finite bound). */
export const OVERFLOW_BUCKET = OCTAVES * STEPS_PER_OCTAVE + 1;
/** Number of buckets, the overflow bucket included. */
export const LATENCY_BUCKETS = OVERFLOW_BUCKET + 1;

/** The finite upper bounds in ms, ascending; bucket i's bound is LATENCY_BOUNDS_MS[i]. */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(
  Array.from({ length: OVERFLOW_BUCKET }, (_, i) => 2 ** (i / STEPS_PER_OCTAVE + MIN_LOG2_MS)),
);

const FIRST_BOUND_MS = LATENCY_BOUNDS_MS[0]!;
const LAST_BOUND_MS = LATENCY_BOUNDS_MS[OVERFLOW_BUCKET - 1]!;

/** The bucket a duration in ms falls in. NaN and negative durations count as the smallest. */
export function latencyBucket(ms: number): number {
  if (!(ms > FIRST_BOUND_MS)) return 0;
  if (ms > LAST_BOUND_MS) return OVERFLOW_BUCKET;
  // log2 is exact for powers of two, so a duration equal to an exported bound stays in its bucket.
  return Math.ceil((Math.log2(ms) - MIN_LOG2_MS) * STEPS_PER_OCTAVE);
}

/**
 * The q-quantile (0 < q ≤ 1) of the durations counted in `counts` (LATENCY_BUCKETS entries), by
 * linear interpolation inside the bucket that holds it; never more than `maxMs`, the largest
 * duration seen, when given. Undefined when nothing was counted.
 */
export function latencyQuantile(counts: ArrayLike<number>, q: number, maxMs?: number): number | undefined {
  let total = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) total += counts[i]!;
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    const n = counts[i]!;
    if (n === 0 || seen + n < rank) {
      seen += n;
      continue;
    }
    const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
    // The overflow bucket has no upper bound: the largest duration seen is the best guess.
    const upper = i === OVERFLOW_BUCKET ? (maxMs ?? lower) : LATENCY_BOUNDS_MS[i]!;
    const estimate = lower + ((upper - lower) * (rank - seen)) / n;
    return maxMs === undefined ? estimate : Math.min(estimate, maxMs);
  }
  return undefined;
}
