import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSize } from './units.js';

test('parseSize() reads bytes and binary units, upper or lower case, with an optional B or iB', () => {
  assert.equal(parseSize(1000), 1000);
  assert.equal(parseSize('1000'), 1000);
  assert.equal(parseSize('512k'), 512 * 1024);
  assert.equal(parseSize('10m'), 10 * 1024 ** 2);
  assert.equal(parseSize('1g'), 1024 ** 3);
  assert.equal(parseSize('2T'), 2 * 1024 ** 4);
  assert.equal(parseSize('10MB'), 10 * 1024 ** 2);
  assert.equal(parseSize('1GiB'), 1024 ** 3);
  assert.equal(parseSize(' 64 k '), 64 * 1024);
});

test('parseSize() rounds fractions of a unit down to whole bytes', () => {
  assert.equal(parseSize('1.5k'), 1536);
  assert.equal(parseSize('0.1k'), 102);
});

test('parseSize() counts a bare number in the unit it is told', () => {
  assert.equal(parseSize(256, 1024 * 1024), 256 * 1024 * 1024);
  assert.equal(parseSize('256', 1024 * 1024), 256 * 1024 * 1024);
  assert.equal(parseSize('1g', 1024 * 1024), 1024 ** 3);
});

test('parseSize() refuses negative, unknown, empty and unsafe sizes', () => {
  for (const bad of ['-1', '1x', '', 'k', '1 g g', '9999999999t', 'Infinity']) {
    assert.equal(parseSize(bad), undefined, bad);
  }
  assert.equal(parseSize(-1), undefined);
  assert.equal(parseSize(Number.NaN), undefined);
  assert.equal(parseSize(2 ** 60), undefined);
});

test('parseDuration() reads seconds as numbers and units as text, in milliseconds', () => {
  assert.equal(parseDuration(10), 10_000);
  assert.equal(parseDuration(0.25), 250);
  assert.equal(parseDuration('10'), 10_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('0'), 0);
});

test('parseDuration() refuses negative durations and unknown units', () => {
  for (const bad of ['-1s', '1w', '', 's', '10 min', '1S']) assert.equal(parseDuration(bad), undefined, bad);
  assert.equal(parseDuration(-5), undefined);
});
