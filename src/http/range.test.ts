import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentRange, DEFAULT_MAX_RANGES, parseRange, unsatisfiedRange } from './range.js';

const NONE = { kind: 'none' };
const UNSATISFIABLE = { kind: 'unsatisfiable' };
const ranges = (...pairs: [number, number][]) => ({
  kind: 'ranges',
  ranges: pairs.map(([start, end]) => ({ start, end })),
});

test('parseRange() returns none without a Range header', () => {
  assert.deepEqual(parseRange(undefined, 100), NONE);
});

test('parseRange() reads the int-range, open and suffix forms of RFC 9110 §14.1.2', () => {
  assert.deepEqual(parseRange('bytes=0-499', 10000), ranges([0, 499]));
  assert.deepEqual(parseRange('bytes=500-999', 10000), ranges([500, 999]));
  assert.deepEqual(parseRange('bytes=9500-', 10000), ranges([9500, 9999]));
  assert.deepEqual(parseRange('bytes=-500', 10000), ranges([9500, 9999]));
  assert.deepEqual(parseRange('bytes=0-0', 10000), ranges([0, 0]));
});

test('parseRange() keeps bytes=0- as a range of the whole representation', () => {
  assert.deepEqual(parseRange('bytes=0-', 10), ranges([0, 9]));
});

test('parseRange() accepts the unit in any case', () => {
  assert.deepEqual(parseRange('Bytes=0-1', 10), ranges([0, 1]));
  assert.deepEqual(parseRange('BYTES=0-1', 10), ranges([0, 1]));
});

test('parseRange() ignores a unit other than bytes', () => {
  assert.deepEqual(parseRange('items=0-1', 10), NONE);
  assert.deepEqual(parseRange('byte=0-1', 10), NONE);
  assert.deepEqual(parseRange('bytesx=0-1', 10), NONE);
});

test('parseRange() ignores a syntactically invalid header', () => {
  for (const bad of [
    '',
    'bytes',
    'bytes=',
    'bytes=,',
    'bytes =0-1',
    'bytes= 0-1x',
    'bytes=-',
    'bytes=1',
    'bytes=a-b',
    'bytes=1-2-3',
    'bytes=0-1, x',
    'bytes=0 - 1',
    'bytes=+1-2',
    'bytes=--1',
  ]) {
    assert.deepEqual(parseRange(bad, 10), NONE, bad);
  }
});

test('parseRange() ignores an int-range whose last-pos is below its first-pos', () => {
  assert.deepEqual(parseRange('bytes=5-2', 10), NONE);
  assert.deepEqual(parseRange('bytes=0-1, 5-2', 10), NONE);
});

test('parseRange() tolerates OWS and empty elements in the range-set', () => {
  assert.deepEqual(parseRange('bytes= 0-1 , ,\t5-6,', 10), ranges([0, 1], [5, 6]));
});

test('parseRange() clamps the end to the last byte', () => {
  assert.deepEqual(parseRange('bytes=5-1000', 10), ranges([5, 9]));
  assert.deepEqual(parseRange('bytes=5-99999999999999999999999', 10), ranges([5, 9]));
});

test('parseRange() sends the whole representation for a suffix longer than it', () => {
  assert.deepEqual(parseRange('bytes=-1000', 10), ranges([0, 9]));
});

test('parseRange() drops ranges that start at or beyond the end', () => {
  assert.deepEqual(parseRange('bytes=0-1, 10-20', 10), ranges([0, 1]));
  assert.deepEqual(parseRange('bytes=99999999999999999999-, 2-3', 10), ranges([2, 3]));
});

test('parseRange() is unsatisfiable when every range starts beyond the end', () => {
  assert.deepEqual(parseRange('bytes=10-', 10), UNSATISFIABLE);
  assert.deepEqual(parseRange('bytes=10-20, 30-40', 10), UNSATISFIABLE);
});

test('parseRange() is unsatisfiable for a zero suffix-length', () => {
  assert.deepEqual(parseRange('bytes=-0', 10), UNSATISFIABLE);
  assert.deepEqual(parseRange('bytes=-0, 1-2', 10), ranges([1, 2]));
});

test('parseRange() is unsatisfiable for any range of a zero-length representation', () => {
  for (const header of ['bytes=0-', 'bytes=0-0', 'bytes=-1', 'bytes=-0']) {
    assert.deepEqual(parseRange(header, 0), UNSATISFIABLE, header);
  }
});

test('parseRange() sorts ranges and coalesces overlapping ones', () => {
  assert.deepEqual(parseRange('bytes=50-59, 0-9', 100), ranges([0, 9], [50, 59]));
  assert.deepEqual(parseRange('bytes=0-20, 10-30', 100), ranges([0, 30]));
  assert.deepEqual(parseRange('bytes=10-30, 0-5, 15-20', 100), ranges([0, 5], [10, 30]));
  assert.deepEqual(parseRange('bytes=-10, 80-', 100), ranges([80, 99]));
});

test('parseRange() coalesces adjacent ranges', () => {
  assert.deepEqual(parseRange('bytes=0-9, 10-19', 100), ranges([0, 19]));
  assert.deepEqual(parseRange('bytes=0-9, 11-19', 100), ranges([0, 9], [11, 19]));
});

test('parseRange() bounds the bytes sent by a pile of overlapping ranges to the size', () => {
  const header = `bytes=${Array.from({ length: 1000 }, () => '0-').join(',')}`;
  assert.deepEqual(parseRange(header, 100), ranges([0, 99]));
});

test('parseRange() sends the whole representation for more than maxRanges after coalescing', () => {
  const spec = (n: number) => Array.from({ length: n }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',');
  assert.equal(parseRange(`bytes=${spec(DEFAULT_MAX_RANGES)}`, 1000).kind, 'ranges');
  assert.deepEqual(parseRange(`bytes=${spec(DEFAULT_MAX_RANGES + 1)}`, 1000), NONE);
  assert.deepEqual(parseRange('bytes=0-1, 5-6', 10, { maxRanges: 1 }), NONE);
  assert.deepEqual(parseRange('bytes=0-1, 2-6', 10, { maxRanges: 1 }), ranges([0, 6]));
});

test('parseRange() throws RangeError for an invalid size', () => {
  assert.throws(() => parseRange('bytes=0-1', -1), RangeError);
  assert.throws(() => parseRange('bytes=0-1', 1.5), RangeError);
});

test('contentRange() writes the byte-range-resp of RFC 9110 §14.4', () => {
  assert.equal(contentRange({ start: 42, end: 1233 }, 1234), 'bytes 42-1233/1234');
});

test('unsatisfiedRange() writes the unsatisfied-range of RFC 9110 §14.4', () => {
  assert.equal(unsatisfiedRange(1234), 'bytes */1234');
});
