import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseEncoding, chooseLanguage, parseQualityList } from './negotiate.js';

const SERVER = ['br', 'zstd', 'gzip', 'identity'] as const;

test('parseQualityList() reads values with and without weights, in header order', () => {
  assert.deepEqual(parseQualityList('gzip;q=1.0, identity; q=0.5, *;q=0'), [
    { value: 'gzip', q: 1 },
    { value: 'identity', q: 0.5 },
    { value: '*', q: 0 },
  ]);
  assert.deepEqual(parseQualityList('br'), [{ value: 'br', q: 1 }]);
});

test('parseQualityList() lower-cases values and accepts Q in upper case', () => {
  assert.deepEqual(parseQualityList('GZip;Q=0.3, fr-CA'), [
    { value: 'gzip', q: 0.3 },
    { value: 'fr-ca', q: 1 },
  ]);
});

test('parseQualityList() accepts qvalues with up to three decimals', () => {
  const qs = parseQualityList('a;q=0, b;q=0., c;q=0.5, d;q=0.25, e;q=0.125, f;q=1, g;q=1., h;q=1.000').map(
    (item) => item.q,
  );
  assert.deepEqual(qs, [0, 0, 0.5, 0.25, 0.125, 1, 1, 1]);
});

test('parseQualityList() drops members with an invalid q', () => {
  const bad = ['q=0.1234', 'q=1.001', 'q=2', 'q=.5', 'q=-0', 'q=', 'q="0.5"', 'q=1.0000', 'q=0x'];
  for (const q of bad) assert.deepEqual(parseQualityList(`gzip;${q}`), [], q);
  assert.deepEqual(parseQualityList('gzip;q=2, br'), [{ value: 'br', q: 1 }]);
});

test('parseQualityList() tolerates OWS, empty elements and other parameters', () => {
  assert.deepEqual(parseQualityList(' , gzip ;\tq=0.5 ,, text/html;level=1;q=0.2 ,'), [
    { value: 'gzip', q: 0.5 },
    { value: 'text/html', q: 0.2 },
  ]);
});

test('parseQualityList() keeps the first q and drops members that are not tokens', () => {
  assert.deepEqual(parseQualityList('gzip;q=0.5;q=0.9'), [{ value: 'gzip', q: 0.5 }]);
  assert.deepEqual(parseQualityList('g zip, ;q=1, "br", deflate'), [{ value: 'deflate', q: 1 }]);
  assert.deepEqual(parseQualityList(''), []);
});

test('chooseEncoding() picks the highest q', () => {
  assert.equal(chooseEncoding('gzip;q=0.9, br;q=0.5', SERVER), 'gzip');
  assert.equal(chooseEncoding('zstd, gzip;q=0.5', SERVER), 'zstd');
});

test('chooseEncoding() breaks ties by the order of available', () => {
  assert.equal(chooseEncoding('gzip, deflate, br, zstd', SERVER), 'br');
  assert.equal(chooseEncoding('gzip, br', ['gzip', 'br', 'identity']), 'gzip');
});

test('chooseEncoding() never picks a coding with q=0', () => {
  assert.equal(chooseEncoding('br;q=0, gzip', SERVER), 'gzip');
  assert.equal(chooseEncoding('gzip;q=0', ['gzip']), undefined);
});

test('chooseEncoding() lets * stand for every coding not listed', () => {
  assert.equal(chooseEncoding('*', SERVER), 'br');
  assert.equal(chooseEncoding('br;q=0, *', SERVER), 'zstd');
  assert.equal(chooseEncoding('gzip, *;q=0', SERVER), 'gzip');
  assert.equal(chooseEncoding('gzip;q=0.5, *;q=0.8', SERVER), 'br');
});

test('chooseEncoding() treats identity as acceptable but ranked below listed codings', () => {
  assert.equal(chooseEncoding('gzip;q=0.1', SERVER), 'gzip');
  assert.equal(chooseEncoding('compress', SERVER), 'identity');
  assert.equal(chooseEncoding('br;q=0', SERVER), 'identity');
});

test('chooseEncoding() excludes identity by identity;q=0 or by *;q=0 without an identity entry', () => {
  assert.equal(chooseEncoding('identity;q=0', ['identity']), undefined);
  assert.equal(chooseEncoding('*;q=0', ['identity']), undefined);
  assert.equal(chooseEncoding('*;q=0, identity', ['gzip', 'identity']), 'identity');
  assert.equal(chooseEncoding('compress, identity;q=0', SERVER), undefined);
});

test('chooseEncoding() honours an explicit identity weight', () => {
  assert.equal(chooseEncoding('identity, gzip;q=0.5', SERVER), 'identity');
});

test('chooseEncoding() sends identity for an empty header', () => {
  assert.equal(chooseEncoding('', SERVER), 'identity');
  assert.equal(chooseEncoding('', ['gzip']), undefined);
});

test('chooseEncoding() sends identity when there is no header, else the first available', () => {
  assert.equal(chooseEncoding(undefined, SERVER), 'identity');
  assert.equal(chooseEncoding(undefined, ['gzip', 'br']), 'gzip');
  assert.equal(chooseEncoding(undefined, []), undefined);
});

test('chooseEncoding() reads x-gzip as gzip and is case-insensitive', () => {
  assert.equal(chooseEncoding('x-gzip', SERVER), 'gzip');
  assert.equal(chooseEncoding('GZIP', SERVER), 'gzip');
  assert.equal(chooseEncoding('br', ['BR', 'identity']), 'BR');
});

test('chooseLanguage() matches a range to the tag and to tags it prefixes', () => {
  assert.equal(chooseLanguage('fr', ['en', 'fr']), 'fr');
  assert.equal(chooseLanguage('fr', ['en', 'fr-ca']), 'fr-ca');
  assert.equal(chooseLanguage('fr', ['fr-ca', 'fr']), 'fr-ca');
  assert.equal(chooseLanguage('fr', ['fry', 'en']), undefined);
});

test('chooseLanguage() matches a regional range exactly, else falls back to its prefix', () => {
  assert.equal(chooseLanguage('fr-CA', ['fr', 'fr-ca']), 'fr-ca');
  assert.equal(chooseLanguage('fr-CA', ['en', 'fr']), 'fr');
  assert.equal(chooseLanguage('fr-CA', ['fr-fr', 'en']), undefined);
  assert.equal(chooseLanguage('zh-Hant-CN-x-private', ['zh-hant-cn']), 'zh-hant-cn');
});

test('chooseLanguage() tries ranges from the highest q down', () => {
  assert.equal(chooseLanguage('en;q=0.5, de;q=0.9', ['en', 'de']), 'de');
  assert.equal(chooseLanguage('da, en-gb;q=0.8, en;q=0.7', ['en', 'en-gb']), 'en-gb');
  assert.equal(chooseLanguage('de, en', ['en', 'de']), 'de');
  assert.equal(chooseLanguage('fr-CA, en;q=0.5', ['en', 'fr']), 'fr');
});

test('chooseLanguage() lets * match the first available tag', () => {
  assert.equal(chooseLanguage('*', ['de', 'en']), 'de');
  assert.equal(chooseLanguage('ja, *;q=0.1', ['de', 'en']), 'de');
});

test('chooseLanguage() never picks a tag excluded by q=0', () => {
  assert.equal(chooseLanguage('*, de;q=0', ['de', 'de-at', 'en']), 'en');
  assert.equal(chooseLanguage('fr, fr-ca;q=0', ['fr-ca', 'fr']), 'fr');
  assert.equal(chooseLanguage('fr-ca, fr;q=0', ['fr', 'fr-ca']), 'fr-ca');
  assert.equal(chooseLanguage('fr-ca, fr;q=0', ['fr']), undefined);
  assert.equal(chooseLanguage('en;q=0', ['en']), undefined);
});

test('chooseLanguage() is case-insensitive and returns the available entry as given', () => {
  assert.equal(chooseLanguage('PT-br', ['en', 'pt-BR']), 'pt-BR');
});

test('chooseLanguage() returns undefined without a header, a usable range or a match', () => {
  assert.equal(chooseLanguage(undefined, ['en']), undefined);
  assert.equal(chooseLanguage('', ['en']), undefined);
  assert.equal(chooseLanguage('en;q=2', ['en']), undefined);
  assert.equal(chooseLanguage('ja', ['en', 'de']), undefined);
  assert.equal(chooseLanguage('en', []), undefined);
});
