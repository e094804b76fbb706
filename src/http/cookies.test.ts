import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCookies, serializeSetCookie } from './cookies.js';

describe('parseCookies()', () => {
  it('parses name=value pairs separated by "; "', () => {
    assert.deepEqual({ ...parseCookies('a=1; b=two; c=') }, { a: '1', b: 'two', c: '' });
  });

  it('returns an empty object for an absent or empty header', () => {
    assert.deepEqual(Object.keys(parseCookies(undefined)), []);
    assert.deepEqual(Object.keys(parseCookies('')), []);
  });

  it('returns an object that inherits no properties', () => {
    const cookies = parseCookies('a=1');
    assert.equal('toString' in cookies, false);
    assert.equal('hasOwnProperty' in cookies, false);
    assert.equal(cookies.constructor, undefined);
  });

  it('keeps a cookie named __proto__ as an own property, without touching any prototype', () => {
    const cookies = parseCookies('__proto__=x; constructor=y');
    assert.equal(Object.hasOwn(cookies, '__proto__'), true);
    assert.equal(Object.getOwnPropertyDescriptor(cookies, '__proto__')?.value, 'x');
    assert.equal(cookies.constructor, 'y');
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('keeps the first occurrence of a repeated name (RFC 6265 §5.4)', () => {
    assert.equal(parseCookies('a=first; a=second').a, 'first');
  });

  it('percent-decodes values and keeps malformed encodings as sent', () => {
    const cookies = parseCookies('a=hello%20world; b=%E0%A4%A; c=caf%C3%A9');
    assert.equal(cookies.a, 'hello world');
    assert.equal(cookies.b, '%E0%A4%A');
    assert.equal(cookies.c, 'café');
  });

  it('trims whitespace around names and values and skips pairs without "="', () => {
    const cookies = parseCookies('  a = 1 ;junk; b=2  ');
    assert.deepEqual({ ...cookies }, { a: '1', b: '2' });
  });

  it('keeps the DQUOTEs of a quoted cookie-value, which are part of the value (RFC 6265 §5.2)', () => {
    assert.equal(parseCookies('a="quoted"').a, '"quoted"');
  });

  it('reads an unknown name as undefined', () => {
    assert.equal(parseCookies('a=1').b, undefined);
  });
});

describe('serializeSetCookie()', () => {
  it('serializes a bare name=value', () => {
    assert.equal(serializeSetCookie('sid', 'abc'), 'sid=abc');
  });

  it('percent-encodes the value so that it round-trips through parseCookies()', () => {
    const value = 'a b;c=d,é';
    const field = serializeSetCookie('x', value);
    assert.equal(field, 'x=a%20b%3Bc%3Dd%2C%C3%A9');
    assert.equal(parseCookies(field).x, value);
  });

  it('writes the RFC 6265 §4.1 attributes', () => {
    const field = serializeSetCookie('sid', 'abc', {
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      path: '/',
      domain: 'example.com',
      maxAge: 3600,
      expires: new Date(Date.UTC(2030, 0, 1)),
    });
    assert.equal(
      field,
      'sid=abc; Max-Age=3600; Domain=example.com; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('throws a TypeError for a name that is not a cookie-name', () => {
    assert.throws(() => serializeSetCookie('a;b', 'x'), TypeError);
    assert.throws(() => serializeSetCookie('a b', 'x'), TypeError);
    assert.throws(() => serializeSetCookie('', 'x'), TypeError);
  });

  it('throws a TypeError for an attribute that could smuggle another attribute', () => {
    assert.throws(() => serializeSetCookie('a', 'x', { path: '/; Domain=evil.example' }), TypeError);
    assert.throws(() => serializeSetCookie('a', 'x', { domain: 'evil.example; Secure' }), TypeError);
    assert.throws(() => serializeSetCookie('a', 'x', { maxAge: 1.5 }), TypeError);
  });

  it('throws a TypeError when a custom encode leaves characters a cookie-value cannot hold', () => {
    assert.throws(() => serializeSetCookie('a', 'x;y', { encode: (s) => s }), TypeError);
  });
});
