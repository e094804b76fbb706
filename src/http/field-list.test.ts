import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOws, splitList, trimOws, unquote } from './field-list.js';

test('isOws() accepts only SP and HTAB', () => {
  assert.equal(isOws(0x20), true);
  assert.equal(isOws(0x09), true);
  assert.equal(isOws(0x0a), false);
  assert.equal(isOws(0x41), false);
});

test('trimOws() removes SP and HTAB at both ends only', () => {
  assert.equal(trimOws(' \t a b \t'), 'a b');
  assert.equal(trimOws('ab'), 'ab');
  assert.equal(trimOws(' \t '), '');
  assert.equal(trimOws('\na\n'), '\na\n');
});

test('splitList() trims elements and drops empty ones', () => {
  assert.deepEqual(splitList('a, b ,c'), ['a', 'b', 'c']);
  assert.deepEqual(splitList(' , a,, ,b , '), ['a', 'b']);
  assert.deepEqual(splitList(''), []);
  assert.deepEqual(splitList(' ,\t, '), []);
});

test('splitList() does not split inside a quoted-string, escapes included', () => {
  assert.deepEqual(splitList('a="x, y", b'), ['a="x, y"', 'b']);
  assert.deepEqual(splitList('a="x\\", y", b'), ['a="x\\", y"', 'b']);
});

test('splitList() runs an unterminated quoted-string to the end', () => {
  assert.deepEqual(splitList('a, b="c, d'), ['a', 'b="c, d']);
  assert.deepEqual(splitList('a="\\'), ['a="\\']);
});

test('splitList() splits at another separator when asked', () => {
  assert.deepEqual(splitList('gzip; q=0.5 ;level="a;b"', 0x3b), ['gzip', 'q=0.5', 'level="a;b"']);
});

test('unquote() returns the content with quoted-pairs unescaped', () => {
  assert.equal(unquote('"abc"'), 'abc');
  assert.equal(unquote('""'), '');
  assert.equal(unquote('"a\\"b\\\\c"'), 'a"b\\c');
  assert.equal(unquote('"a, b"'), 'a, b');
});

test('unquote() rejects anything that is not exactly one quoted-string', () => {
  assert.equal(unquote('abc'), undefined);
  assert.equal(unquote('"'), undefined);
  assert.equal(unquote('"abc'), undefined);
  assert.equal(unquote('"a"b"'), undefined);
  assert.equal(unquote('"a\\"'), undefined);
  assert.equal(unquote('"a\nb"'), undefined);
  assert.equal(unquote('"a\\\nb"'), undefined);
});
