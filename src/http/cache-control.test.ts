import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCacheControl } from './cache-control.js';

const entries = (header: string | undefined) => [...parseCacheControl(header)];

test('parseCacheControl() maps directives without arguments to true', () => {
  assert.deepEqual(entries('no-store, must-revalidate'), [
    ['no-store', true],
    ['must-revalidate', true],
  ]);
});

test('parseCacheControl() keeps token arguments as strings', () => {
  assert.deepEqual(entries('public, max-age=3600, s-maxage=0'), [
    ['public', true],
    ['max-age', '3600'],
    ['s-maxage', '0'],
  ]);
});

test('parseCacheControl() lower-cases names but not arguments', () => {
  assert.deepEqual(entries('Max-Age=60, X-Ext=AbC'), [
    ['max-age', '60'],
    ['x-ext', 'AbC'],
  ]);
});

test('parseCacheControl() unquotes quoted-string arguments, commas and escapes included', () => {
  assert.deepEqual(entries('no-cache="Set-Cookie, Authorization", private'), [
    ['no-cache', 'Set-Cookie, Authorization'],
    ['private', true],
  ]);
  assert.deepEqual(entries('x="a\\"b\\\\c"'), [['x', 'a"b\\c']]);
  assert.deepEqual(entries('max-age="5"'), [['max-age', '5']]);
});

test('parseCacheControl() tolerates OWS around elements and empty elements', () => {
  assert.deepEqual(entries(' ,\tmax-age=5 ,, no-cache ,'), [
    ['max-age', '5'],
    ['no-cache', true],
  ]);
});

test('parseCacheControl() skips a directive with whitespace around its =', () => {
  assert.deepEqual(entries('max-age =5, s-maxage= 6, public'), [['public', true]]);
});

test('parseCacheControl() keeps the first of duplicate directives', () => {
  assert.deepEqual(entries('max-age=10, MAX-AGE=20, max-age'), [['max-age', '10']]);
});

test('parseCacheControl() skips malformed directives and keeps the rest', () => {
  assert.deepEqual(entries('max-age=, no-store'), [['no-store', true]]);
  assert.deepEqual(entries('max-age=1 2, public'), [['public', true]]);
  assert.deepEqual(entries('"quoted", x=y'), [['x', 'y']]);
  assert.deepEqual(entries('a b, private'), [['private', true]]);
  assert.deepEqual(entries('x="unterminated, y'), []);
  assert.deepEqual(entries('x="a"b, y'), [['y', true]]);
  assert.deepEqual(entries('max-age=1, max-age=oops"'), [['max-age', '1']]);
});

test('parseCacheControl() uses a later duplicate when the first one is malformed', () => {
  assert.deepEqual(entries('max-age=", max-age=5'), []);
  assert.deepEqual(entries('max-age=1 1, max-age=5'), [['max-age', '5']]);
});

test('parseCacheControl() returns an empty map for no header or an empty one', () => {
  assert.equal(parseCacheControl(undefined).size, 0);
  assert.equal(parseCacheControl('').size, 0);
});
