import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEtag, parseEtagList, strongEtag, strongMatch, weakMatch } from './etag.js';

test('strongEtag() is the quoted hex size and hex mtime', () => {
  assert.equal(strongEtag(255, 4096), '"ff-1000"');
  assert.equal(strongEtag(0, 0), '"0-0"');
});

test('strongEtag() is stable for the same file state and drops sub-millisecond digits', () => {
  assert.equal(strongEtag(1234, 1_700_000_000_123.25), strongEtag(1234, 1_700_000_000_123.75));
  assert.notEqual(strongEtag(1234, 1_700_000_000_123), strongEtag(1234, 1_700_000_000_124));
  assert.notEqual(strongEtag(1234, 1_700_000_000_123), strongEtag(1235, 1_700_000_000_123));
});

test('strongEtag() output parses as one strong entity-tag, even before 1970', () => {
  for (const mtime of [0, 1_700_000_000_123.5, -1500.5]) {
    const tag = parseEtag(strongEtag(42, mtime));
    assert.ok(tag !== undefined);
    assert.equal(tag.weak, false);
  }
});

test('strongEtag() throws RangeError for a bad size or mtime', () => {
  assert.throws(() => strongEtag(-1, 0), RangeError);
  assert.throws(() => strongEtag(1.5, 0), RangeError);
  assert.throws(() => strongEtag(1, Number.NaN), RangeError);
  assert.throws(() => strongEtag(1, Number.POSITIVE_INFINITY), RangeError);
});

test('parseEtag() reads one strong or weak tag with OWS around it', () => {
  assert.deepEqual(parseEtag('"xyzzy"'), { weak: false, opaque: 'xyzzy' });
  assert.deepEqual(parseEtag(' W/"xyzzy"\t'), { weak: true, opaque: 'xyzzy' });
  assert.deepEqual(parseEtag('""'), { weak: false, opaque: '' });
});

test('parseEtag() rejects anything that is not exactly one tag', () => {
  for (const bad of ['', 'xyzzy', '"xyzzy', 'w/"x"', 'W/ "x"', '"x" "y"', '"x", "y"', '"a b"', '*']) {
    assert.equal(parseEtag(bad), undefined, bad);
  }
});

test('parseEtagList() reads the list of RFC 9110 §8.8.3 examples', () => {
  assert.deepEqual(parseEtagList('"xyzzy", "r2d2xxxx", "c3piozzzz"'), [
    { weak: false, opaque: 'xyzzy' },
    { weak: false, opaque: 'r2d2xxxx' },
    { weak: false, opaque: 'c3piozzzz' },
  ]);
  assert.deepEqual(parseEtagList('W/"xyzzy", W/"r2d2xxxx"'), [
    { weak: true, opaque: 'xyzzy' },
    { weak: true, opaque: 'r2d2xxxx' },
  ]);
});

test('parseEtagList() returns * only for a lone asterisk', () => {
  assert.equal(parseEtagList('*'), '*');
  assert.equal(parseEtagList(' * '), '*');
  assert.deepEqual(parseEtagList('*, "a"'), []);
  assert.deepEqual(parseEtagList('"a", *'), [{ weak: false, opaque: 'a' }]);
});

test('parseEtagList() tolerates OWS and empty elements', () => {
  assert.deepEqual(parseEtagList(' ,"a" ,\t, W/"b",, '), [
    { weak: false, opaque: 'a' },
    { weak: true, opaque: 'b' },
  ]);
  assert.deepEqual(parseEtagList(''), []);
  assert.deepEqual(parseEtagList(' , '), []);
});

test('parseEtagList() keeps commas and backslashes inside the opaque-tag', () => {
  assert.deepEqual(parseEtagList('"a,b", "c\\"'), [
    { weak: false, opaque: 'a,b' },
    { weak: false, opaque: 'c\\' },
  ]);
});

test('parseEtagList() stops at a malformed entry without throwing', () => {
  assert.deepEqual(parseEtagList('"a", b, "c"'), [{ weak: false, opaque: 'a' }]);
  assert.deepEqual(parseEtagList('"a", "b"x, "c"'), [{ weak: false, opaque: 'a' }]);
  assert.deepEqual(parseEtagList('"a", "unterminated'), [{ weak: false, opaque: 'a' }]);
  assert.deepEqual(parseEtagList('"a" "b"'), []);
  assert.deepEqual(parseEtagList('"a\tb"'), []);
});

test('strongMatch() and weakMatch() follow the table of RFC 9110 §8.8.3.2', () => {
  const w1 = { weak: true, opaque: '1' };
  const w2 = { weak: true, opaque: '2' };
  const s1 = { weak: false, opaque: '1' };
  const rows: [typeof w1, typeof w1, boolean, boolean][] = [
    [w1, w1, false, true],
    [w1, w2, false, false],
    [w1, s1, false, true],
    [s1, s1, true, true],
  ];
  for (const [a, b, strong, weak] of rows) {
    assert.equal(strongMatch(a, b), strong);
    assert.equal(strongMatch(b, a), strong);
    assert.equal(weakMatch(a, b), weak);
    assert.equal(weakMatch(b, a), weak);
  }
});
