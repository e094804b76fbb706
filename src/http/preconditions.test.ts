import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateIfRange, evaluatePreconditions } from './preconditions.js';

const SECOND = Date.UTC(2024, 0, 1, 12, 0, 0);
const LAST_MODIFIED_MS = SECOND + 500; // mid-second, as file mtimes are
const AT = 'Mon, 01 Jan 2024 12:00:00 GMT';
const BEFORE = 'Mon, 01 Jan 2024 11:59:59 GMT';
const AFTER = 'Mon, 01 Jan 2024 12:00:01 GMT';
const FILE = { etag: '"abc"', lastModifiedMs: LAST_MODIFIED_MS, exists: true };
const MISSING = { exists: false };

const PROCEED = { kind: 'proceed' };
const NOT_MODIFIED = { kind: 'not-modified' };
const FAILED = { kind: 'failed' };

test('evaluatePreconditions() proceeds when there are no preconditions', () => {
  assert.deepEqual(evaluatePreconditions('GET', {}, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('PUT', {}, MISSING), PROCEED);
  assert.deepEqual(evaluatePreconditions('GET', { 'if-match': undefined }, FILE), PROCEED);
});

test('evaluatePreconditions() proceeds when If-Match strongly matches a member', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': '"abc"' }, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': '"x", "abc"' }, FILE), PROCEED);
});

test('evaluatePreconditions() fails when If-Match does not match', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': '"x"' }, FILE), FAILED);
  assert.deepEqual(evaluatePreconditions('GET', { 'if-match': '"x"' }, FILE), FAILED);
});

test('evaluatePreconditions() fails If-Match on a weak tag, since the comparison is strong', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': 'W/"abc"' }, FILE), FAILED);
  assert.deepEqual(
    evaluatePreconditions('PUT', { 'if-match': '"abc"' }, { ...FILE, etag: 'W/"abc"' }),
    FAILED,
  );
});

test('evaluatePreconditions() fails If-Match when the resource has no entity-tag', () => {
  assert.deepEqual(
    evaluatePreconditions('PUT', { 'if-match': '"abc"' }, { ...FILE, etag: undefined }),
    FAILED,
  );
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': '"abc"' }, MISSING), FAILED);
});

test('evaluatePreconditions() fails an empty or malformed If-Match, which matches nothing', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': '' }, FILE), FAILED);
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': 'abc' }, FILE), FAILED);
});

test('evaluatePreconditions() passes If-Match: * only when the resource exists', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': '*' }, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-match': '*' }, MISSING), FAILED);
});

test('evaluatePreconditions() fails If-Unmodified-Since when modified after the date', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-unmodified-since': BEFORE }, FILE), FAILED);
  assert.deepEqual(evaluatePreconditions('GET', { 'if-unmodified-since': BEFORE }, FILE), FAILED);
});

test('evaluatePreconditions() passes If-Unmodified-Since at or after the modification second', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-unmodified-since': AT }, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-unmodified-since': AFTER }, FILE), PROCEED);
});

test('evaluatePreconditions() ignores an invalid If-Unmodified-Since or an unknown mtime', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-unmodified-since': 'yesterday' }, FILE), PROCEED);
  assert.deepEqual(
    evaluatePreconditions('PUT', { 'if-unmodified-since': `${BEFORE}, ${BEFORE}` }, FILE),
    PROCEED,
  );
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-unmodified-since': BEFORE }, MISSING), PROCEED);
});

test('evaluatePreconditions() skips If-Unmodified-Since when If-Match is present', () => {
  const headers = { 'if-match': '"abc"', 'if-unmodified-since': BEFORE };
  assert.deepEqual(evaluatePreconditions('PUT', headers, FILE), PROCEED);
});

test('evaluatePreconditions() answers 304 to a GET or HEAD whose If-None-Match matches', () => {
  assert.deepEqual(evaluatePreconditions('GET', { 'if-none-match': '"abc"' }, FILE), NOT_MODIFIED);
  assert.deepEqual(evaluatePreconditions('HEAD', { 'if-none-match': '"x", "abc"' }, FILE), NOT_MODIFIED);
});

test('evaluatePreconditions() compares If-None-Match weakly', () => {
  assert.deepEqual(evaluatePreconditions('GET', { 'if-none-match': 'W/"abc"' }, FILE), NOT_MODIFIED);
  assert.deepEqual(
    evaluatePreconditions('GET', { 'if-none-match': '"abc"' }, { ...FILE, etag: 'W/"abc"' }),
    NOT_MODIFIED,
  );
});

test('evaluatePreconditions() fails other methods whose If-None-Match matches', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-none-match': '"abc"' }, FILE), FAILED);
  assert.deepEqual(evaluatePreconditions('DELETE', { 'if-none-match': 'W/"abc"' }, FILE), FAILED);
});

test('evaluatePreconditions() treats methods case-sensitively', () => {
  assert.deepEqual(evaluatePreconditions('get', { 'if-none-match': '"abc"' }, FILE), FAILED);
});

test('evaluatePreconditions() proceeds when If-None-Match matches nothing', () => {
  assert.deepEqual(evaluatePreconditions('GET', { 'if-none-match': '"x", "y"' }, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('GET', { 'if-none-match': '' }, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-none-match': '"abc"' }, MISSING), PROCEED);
});

test('evaluatePreconditions() fails If-None-Match: * when the resource exists', () => {
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-none-match': '*' }, FILE), FAILED);
  assert.deepEqual(evaluatePreconditions('GET', { 'if-none-match': '*' }, FILE), NOT_MODIFIED);
  assert.deepEqual(evaluatePreconditions('PUT', { 'if-none-match': '*' }, MISSING), PROCEED);
});

test('evaluatePreconditions() answers 304 when unmodified since If-Modified-Since', () => {
  assert.deepEqual(evaluatePreconditions('GET', { 'if-modified-since': AT }, FILE), NOT_MODIFIED);
  assert.deepEqual(evaluatePreconditions('HEAD', { 'if-modified-since': AFTER }, FILE), NOT_MODIFIED);
});

test('evaluatePreconditions() proceeds when modified after If-Modified-Since', () => {
  assert.deepEqual(evaluatePreconditions('GET', { 'if-modified-since': BEFORE }, FILE), PROCEED);
});

test('evaluatePreconditions() ignores If-Modified-Since that is invalid, on other methods, or without an mtime', () => {
  assert.deepEqual(evaluatePreconditions('GET', { 'if-modified-since': 'not a date' }, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('GET', { 'if-modified-since': `${AT}, ${AT}` }, FILE), PROCEED);
  assert.deepEqual(evaluatePreconditions('POST', { 'if-modified-since': AFTER }, FILE), PROCEED);
  assert.deepEqual(
    evaluatePreconditions('GET', { 'if-modified-since': AFTER }, { ...FILE, lastModifiedMs: undefined }),
    PROCEED,
  );
});

test('evaluatePreconditions() ignores If-Modified-Since when If-None-Match is present', () => {
  const headers = { 'if-none-match': '"other"', 'if-modified-since': AFTER };
  assert.deepEqual(evaluatePreconditions('GET', headers, FILE), PROCEED);
});

test('evaluatePreconditions() evaluates If-Match before If-None-Match', () => {
  const headers = { 'if-match': '"x"', 'if-none-match': '"abc"' };
  assert.deepEqual(evaluatePreconditions('GET', headers, FILE), FAILED);
  const passing = { 'if-match': '"abc"', 'if-none-match': '"abc"' };
  assert.deepEqual(evaluatePreconditions('GET', passing, FILE), NOT_MODIFIED);
});

test('evaluatePreconditions() evaluates If-Unmodified-Since before If-Modified-Since', () => {
  const headers = { 'if-unmodified-since': BEFORE, 'if-modified-since': AFTER };
  assert.deepEqual(evaluatePreconditions('GET', headers, FILE), FAILED);
});

const LATER = SECOND + 5000;

test('evaluateIfRange() holds when there is no If-Range', () => {
  assert.equal(evaluateIfRange(undefined, FILE, LATER), true);
});

test('evaluateIfRange() holds for a strongly matching entity-tag', () => {
  assert.equal(evaluateIfRange('"abc"', FILE, LATER), true);
  assert.equal(evaluateIfRange(' "abc" ', FILE, LATER), true);
});

test('evaluateIfRange() fails a different, weak, or listed entity-tag', () => {
  assert.equal(evaluateIfRange('"x"', FILE, LATER), false);
  assert.equal(evaluateIfRange('W/"abc"', FILE, LATER), false);
  assert.equal(evaluateIfRange('"abc"', { ...FILE, etag: 'W/"abc"' }, LATER), false);
  assert.equal(evaluateIfRange('"abc", "x"', FILE, LATER), false);
  assert.equal(evaluateIfRange('"abc"', { lastModifiedMs: LAST_MODIFIED_MS }, LATER), false);
});

test('evaluateIfRange() holds for the exact Last-Modified second once that second is over', () => {
  assert.equal(evaluateIfRange(AT, FILE, LATER), true);
  assert.equal(evaluateIfRange(AT, FILE, SECOND + 1000), true);
});

test('evaluateIfRange() fails a date while Last-Modified is still weak (less than a second old)', () => {
  assert.equal(evaluateIfRange(AT, FILE, SECOND + 999), false);
  assert.equal(evaluateIfRange(AT, FILE, LAST_MODIFIED_MS), false);
});

test('evaluateIfRange() fails a date that is not exactly Last-Modified', () => {
  assert.equal(evaluateIfRange(BEFORE, FILE, LATER), false);
  assert.equal(evaluateIfRange(AFTER, FILE, LATER), false);
  assert.equal(evaluateIfRange(AT, { etag: '"abc"' }, LATER), false);
});

test('evaluateIfRange() fails an empty or malformed value', () => {
  assert.equal(evaluateIfRange('', FILE, LATER), false);
  assert.equal(evaluateIfRange('abc', FILE, LATER), false);
  assert.equal(evaluateIfRange('*', FILE, LATER), false);
});
