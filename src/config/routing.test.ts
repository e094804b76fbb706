import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatcher, HostTable, hostName, prefixMatcher, requestPath } from './routing.js';

test('HostTable picks exact names first, then one-label wildcards, then the default site', () => {
  const table = new HostTable([
    { hosts: ['*.example.com'], value: 'wild' },
    { hosts: ['www.example.com', 'example.com'], value: 'www' },
    { hosts: [], value: 'default' },
  ]);
  assert.equal(table.lookup('www.example.com'), 'www');
  assert.equal(table.lookup('Example.COM:8080'), 'www');
  assert.equal(table.lookup('api.example.com'), 'wild');
  assert.equal(table.lookup('a.b.example.com'), 'default', 'a wildcard covers one label only');
  assert.equal(table.lookup('other.test'), 'default');
  assert.equal(table.lookup(undefined), 'default');
});

test('HostTable without a default site answers undefined for unknown hosts', () => {
  const table = new HostTable([{ hosts: ['a.test'], value: 1 }]);
  assert.equal(table.lookup('b.test'), undefined);
  assert.equal(table.lookup('a.test.'), 1, 'a trailing dot names the same host');
});

test('hostName() drops the port and keeps IPv6 literals whole', () => {
  assert.equal(hostName('[::1]:8080'), '[::1]');
  assert.equal(hostName('127.0.0.1:80'), '127.0.0.1');
  assert.equal(hostName(' Host.Test '), 'host.test');
});

test('prefixMatcher() matches whole segments', () => {
  const api = prefixMatcher('/api/');
  assert.equal(api('/api/users'), true);
  assert.equal(api('/apix'), false);
  const health = prefixMatcher('/health');
  assert.equal(health('/health'), true);
  assert.equal(health('/health/live'), true);
  assert.equal(health('/healthz'), false);
  assert.equal(prefixMatcher('/')('/anything'), true);
});

test('globMatcher() treats * within a segment and ** across segments', () => {
  const css = globMatcher('/assets/**/*.css');
  assert.equal(css('/assets/site.css'), true);
  assert.equal(css('/assets/a/b/site.css'), true);
  assert.equal(css('/assets/site.js'), false);
  const one = globMatcher('/img/*.png');
  assert.equal(one('/img/a.png'), true);
  assert.equal(one('/img/a/b.png'), false);
  assert.equal(globMatcher('/a.b')('/aXb'), false, 'a dot is literal');
});

test('requestPath() takes the path of origin-form and absolute-form targets', () => {
  assert.equal(requestPath('/a/b?c=d'), '/a/b');
  assert.equal(requestPath('http://h.test/x?y'), '/x');
  assert.equal(requestPath('http://h.test'), '/');
  assert.equal(requestPath('*'), '*');
});
