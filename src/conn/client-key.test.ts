import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientKey } from './client-key.js';

test('clientKey() counts an IPv4 address as itself', () => {
  assert.equal(clientKey('127.0.0.1'), '127.0.0.1');
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
});

test('clientKey() counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
  assert.equal(clientKey('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(clientKey('::FFFF:203.0.113.7'), '203.0.113.7');
});

test('clientKey() groups IPv6 addresses by their /64 prefix', () => {
  const a = clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
  assert.equal(a, '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::1'), a);
  assert.equal(clientKey('2001:0DB8:0001:0002:0:0:0:ffff'), a);
  assert.notEqual(clientKey('2001:db8:1:3::1'), a);
});

test('clientKey() expands a :: that covers part of the prefix', () => {
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('2001:db8::5:6:7:8'), '2001:db8:0:0::/64');
  assert.equal(clientKey('2001:db8::3:4:5:6:7'), '2001:db8:0:3::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('::'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  assert.equal(clientKey('1:2:3:4:5:6:192.0.2.1'), '1:2:3:4::/64');
  assert.equal(clientKey('1:2::3:4:5:6'), '1:2:0:0::/64');
});

test('clientKey() has no key for a socket without a peer address (unix sockets)', () => {
  assert.equal(clientKey(undefined), undefined);
  assert.equal(clientKey(''), undefined);
});
