import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHttpDate, httpDate, parseHttpDate } from './date.js';

const RFC_EXAMPLE_MS = Date.UTC(1994, 10, 6, 8, 49, 37);

test('formatHttpDate() writes the IMF-fixdate of RFC 9110 §5.6.7', () => {
  assert.equal(formatHttpDate(new Date(RFC_EXAMPLE_MS)), 'Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(formatHttpDate(new Date(RFC_EXAMPLE_MS + 999)), 'Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(formatHttpDate(new Date(0)), 'Thu, 01 Jan 1970 00:00:00 GMT');
  assert.equal(formatHttpDate(new Date(Date.UTC(2024, 1, 29, 23, 5, 9))), 'Thu, 29 Feb 2024 23:05:09 GMT');
});

test('formatHttpDate() agrees with Date#toUTCString over many instants', () => {
  for (let ms = -2e12; ms < 4e12; ms += 7_777_777_777) {
    const d = new Date(ms);
    assert.equal(formatHttpDate(d), d.toUTCString());
  }
});

test('formatHttpDate() throws RangeError for an invalid Date or a year beyond 4 digits', () => {
  assert.throws(() => formatHttpDate(new Date(Number.NaN)), RangeError);
  assert.throws(() => formatHttpDate(new Date(Date.UTC(10000, 0, 1))), RangeError);
  assert.throws(() => formatHttpDate(new Date(Date.UTC(-1, 0, 1))), RangeError);
});

test('httpDate() formats now and is recomputed only when the second changes', (t) => {
  let now = RFC_EXAMPLE_MS + 100;
  t.mock.method(Date, 'now', () => now);
  const first = httpDate();
  assert.equal(first, 'Sun, 06 Nov 1994 08:49:37 GMT');
  now += 850;
  assert.equal(httpDate(), first);
  assert.equal(httpDate(), first);
  now += 100;
  assert.equal(httpDate(), 'Sun, 06 Nov 1994 08:49:38 GMT');
});

test('parseHttpDate() reads all three formats of the RFC 9110 §5.6.7 example', () => {
  assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), RFC_EXAMPLE_MS);
  assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), RFC_EXAMPLE_MS);
  assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), RFC_EXAMPLE_MS);
  assert.equal(parseHttpDate('Sun Nov 06 08:49:37 1994'), RFC_EXAMPLE_MS);
});

test('parseHttpDate() round-trips formatHttpDate() to the second', () => {
  for (let ms = -2e12; ms < 4e12; ms += 3_333_333_333) {
    assert.equal(parseHttpDate(formatHttpDate(new Date(ms))), Math.floor(ms / 1000) * 1000);
  }
});

test('parseHttpDate() reads every long day name of rfc850-date', () => {
  for (const name of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']) {
    assert.equal(parseHttpDate(`${name}, 06-Nov-94 08:49:37 GMT`), RFC_EXAMPLE_MS, name);
  }
});

test('parseHttpDate() puts a two-digit year no more than 50 years in the future', () => {
  const thisYear = new Date().getUTCFullYear();
  const yy = (y: number) => String(y % 100).padStart(2, '0');
  const at = (y: number) => parseHttpDate(`Monday, 01-Jan-${yy(y)} 00:00:00 GMT`);
  const jan1 = (y: number) => Date.UTC(y, 0, 1);
  assert.equal(at(thisYear), jan1(thisYear));
  assert.equal(at(thisYear + 50), jan1(thisYear + 50));
  assert.equal(at(thisYear + 51), jan1(thisYear - 49));
});

test('parseHttpDate() accepts leap days and a leap second', () => {
  assert.equal(parseHttpDate('Tue, 29 Feb 2000 12:00:00 GMT'), Date.UTC(2000, 1, 29, 12));
  assert.equal(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT'), Date.UTC(2017, 0, 1));
});

test('parseHttpDate() rejects impossible dates and times', () => {
  for (const s of [
    'Wed, 29 Feb 1900 00:00:00 GMT',
    'Sun, 31 Apr 1994 00:00:00 GMT',
    'Sun, 00 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    'Sun, 06 Nov 1994 08:49:61 GMT',
    'Sun Nov  0 08:49:37 1994',
  ]) {
    assert.equal(parseHttpDate(s), undefined, s);
  }
});

test('parseHttpDate() rejects near misses: case, zones, spacing, names and digits', () => {
  for (const s of [
    '',
    'Sun, 06 Nov 1994 08:49:37 gmt',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 nov 1994 08:49:37 GMT',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun,  6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT ',
    ' Sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08.49.37 GMT',
    'Sun, 06 Nov 94 08:49:37 GMT',
    'Sun, 06-Nov-1994 08:49:37 GMT',
    'Xyz, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nox 1994 08:49:37 GMT',
    'Sun, +6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 8:49:37  GMT',
    'Sun, 06-Nov-94 08:49:37 GMT',
    'Sunday, 06 Nov 1994 08:49:37 GMT',
    'Sundae, 06-Nov-94 08:49:37 GMT',
    'Sunday, 06-Nov-94 08:49:37 UTC',
    'Sunday, 06-Nov-94 08:49:37GMT ',
    'Sun Nov 6  08:49:37 1994',
    'Sun Nov  6 08:49:37 94  ',
    'Sun, Nov  6 08:49:37 1994',
    '784111777',
  ]) {
    assert.equal(parseHttpDate(s), undefined, JSON.stringify(s));
  }
});
