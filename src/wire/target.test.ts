/**
 * Request-target forms (RFC 9112 §3.2) and the request's authority, through RequestParser
 * (every input whole, byte by byte and split at every offset), plus the pure helpers of target.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorityOf, isAuthority } from './target.js';
import { fails, parseRequest, requestHead } from './test-splits.js';

function request(method: string, target: string, host = 'host.example'): string {
  return `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
}

test('RequestParser reads origin-form and takes the authority from Host', () => {
  const head = requestHead(request('GET', '/p/a/t/h?query=1', 'host.example:8080'));
  assert.equal(head.form, 'origin');
  assert.equal(head.target, '/p/a/t/h?query=1');
  assert.equal(head.authority, 'host.example:8080');
});

test('RequestParser reads absolute-form and takes the authority from the URI, not Host', () => {
  const cases: [string, string][] = [
    ['http://uri.example/p?q', 'uri.example'],
    ['http://uri.example:8080/p', 'uri.example:8080'],
    ['https://uri.example', 'uri.example'],
    ['HTTP://URI.example?x=1', 'URI.example'],
    ['http://hypnotoad.org:1234?hail=all', 'hypnotoad.org:1234'],
    ['http://[::1]:81/', '[::1]:81'],
  ];
  for (const [target, authority] of cases) {
    const head = requestHead(request('GET', target));
    assert.equal(head.form, 'absolute', target);
    assert.equal(head.authority, authority, target);
  }
});

test('RequestParser still requires Host with an absolute-form target in HTTP/1.1', () => {
  assert.deepEqual(parseRequest('GET http://uri.example/ HTTP/1.1\r\n\r\n'), fails(400, 'bad-host'));
  assert.equal(requestHead('GET http://uri.example/ HTTP/1.0\r\n\r\n').authority, 'uri.example');
});

test('RequestParser rejects userinfo in the request target', () => {
  for (const target of [
    'http://user@uri.example/',
    'http://u:p@uri.example:81/x',
    'http://a%12:b!&*$@h.org:1234/toto',
  ]) {
    assert.deepEqual(parseRequest(request('GET', target)), fails(400, 'bad-target'), target);
  }
  assert.deepEqual(parseRequest(request('CONNECT', 'user@uri.example:443')), fails(400, 'bad-target'));
});

test('RequestParser rejects an absolute-form target with an invalid or empty host', () => {
  for (const target of ['http:///path', 'http://:80/', 'http://', 'http://h.example:port/', 'http://a,b/']) {
    assert.deepEqual(parseRequest(request('GET', target)), fails(400, 'bad-target'), JSON.stringify(target));
  }
});

test('RequestParser reads authority-form for CONNECT only, with a port, and uses it as the authority', () => {
  const head = requestHead(request('CONNECT', 'tunnel.example:443'));
  assert.equal(head.form, 'authority');
  assert.equal(head.authority, 'tunnel.example:443');
  assert.equal(requestHead(request('CONNECT', '[::1]:8443')).authority, '[::1]:8443');
  assert.equal(
    requestHead('CONNECT home_0.netscape.com:443 HTTP/1.0\r\n\r\n').authority,
    'home_0.netscape.com:443',
  );
  for (const target of [
    'tunnel.example',
    'tunnel.example:',
    ':443',
    '/',
    'http://tunnel.example:443/',
    '*',
  ]) {
    assert.deepEqual(parseRequest(request('CONNECT', target)), fails(400, 'bad-target'), target);
  }
  assert.deepEqual(parseRequest(request('GET', 'tunnel.example:443')), fails(400, 'bad-target'));
});

test('RequestParser reads asterisk-form for OPTIONS only and takes the authority from Host', () => {
  const head = requestHead(request('OPTIONS', '*'));
  assert.equal(head.form, 'asterisk');
  assert.equal(head.authority, 'host.example');
  for (const method of ['GET', 'M-SEARCH', 'PRI', 'options']) {
    assert.deepEqual(parseRequest(request(method, '*')), fails(400, 'bad-target'), method);
  }
  assert.deepEqual(parseRequest(request('OPTIONS', '*/x')), fails(400, 'bad-target'));
});

test('RequestParser rejects a target in none of the four forms', () => {
  for (const target of ['index.html', '?q', 'mailto:a@b.example', 'http:/x', '1http://a/']) {
    assert.deepEqual(parseRequest(request('GET', target)), fails(400, 'bad-target'), target);
  }
});

test('authorityOf() returns what lies between "//" and the next "/", "?" or the end', () => {
  assert.equal(authorityOf('http://a.example/x'), 'a.example');
  assert.equal(authorityOf('http://a.example:1?x'), 'a.example:1');
  assert.equal(authorityOf('http://a.example'), 'a.example');
  assert.equal(authorityOf('http:///x'), '');
});

test('isAuthority() requires a port only when asked to', () => {
  assert.equal(isAuthority('a.example', false), true);
  assert.equal(isAuthority('a.example', true), false);
  assert.equal(isAuthority('a.example:443', true), true);
  assert.equal(isAuthority('a.example:', true), false);
  assert.equal(isAuthority('[::1]', true), false);
  assert.equal(isAuthority('[::1]:1', true), true);
});
