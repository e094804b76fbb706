import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedClient, LOOPBACK_ONLY, parseCidr } from './access.js';

test('parseCidr() reads IPv4 and IPv6 blocks and clears the host bits', () => {
  const v4 = parseCidr('10.1.2.3/8');
  assert.equal(v4.kind, 'ipv4');
  assert.equal(v4.prefix, 8);
  assert.deepEqual([...v4.bytes], [10, 0, 0, 0]);
  const v6 = parseCidr('2001:db8::1/32');
  assert.equal(v6.kind, 'ipv6');
  assert.equal(v6.prefix, 32);
  assert.deepEqual([...v6.bytes.subarray(0, 6)], [0x20, 0x01, 0x0d, 0xb8, 0, 0]);
});

test('parseCidr() takes a bare address as a single host', () => {
  assert.equal(parseCidr('192.168.0.7').prefix, 32);
  assert.equal(parseCidr('::1').prefix, 128);
});

test('parseCidr() reads an IPv4-mapped block as IPv4', () => {
  const cidr = parseCidr('::ffff:10.0.0.0/104');
  assert.equal(cidr.kind, 'ipv4');
  assert.equal(cidr.prefix, 8);
  assert.deepEqual([...cidr.bytes], [10, 0, 0, 0]);
});

test('parseCidr() rejects bad addresses and prefixes', () => {
  for (const bad of [
    '',
    'localhost',
    '10.0.0/8',
    '10.0.0.256',
    '10.0.0.0/33',
    '10.0.0.0/',
    '10.0.0.0/x',
    '::1/129',
    '::1/-1',
    '1:2:3',
  ]) {
    assert.throws(() => parseCidr(bad), RangeError, bad);
  }
});

test('allowedClient() checks IPv4 addresses against blocks at any prefix', () => {
  const allow = [parseCidr('10.0.0.0/8'), parseCidr('192.168.1.128/25')];
  assert.equal(allowedClient('10.200.3.4', allow), true);
  assert.equal(allowedClient('11.0.0.1', allow), false);
  assert.equal(allowedClient('192.168.1.200', allow), true);
  assert.equal(allowedClient('192.168.1.127', allow), false);
});

test('allowedClient() checks IPv6 addresses, with a zone or an embedded IPv4 tail', () => {
  const allow = [parseCidr('fe80::/10'), parseCidr('2001:db8:0:0:1::/80')];
  assert.equal(allowedClient('fe80::1%eth0', allow), true);
  assert.equal(allowedClient('febf:ffff::1', allow), true);
  assert.equal(allowedClient('fec0::1', allow), false);
  assert.equal(allowedClient('2001:db8::1:0:1.2.3.4', allow), true);
  assert.equal(allowedClient('2001:db8::2:0:0:1', allow), false);
});

test('allowedClient() treats an IPv4-mapped client as IPv4', () => {
  assert.equal(allowedClient('::ffff:127.0.0.1', LOOPBACK_ONLY), true);
  assert.equal(allowedClient('::ffff:7f00:2', LOOPBACK_ONLY), true);
  assert.equal(allowedClient('::ffff:10.0.0.1', LOOPBACK_ONLY), false);
});

test('allowedClient() with the default list lets loopback in and nothing else', () => {
  assert.equal(allowedClient('127.0.0.1', LOOPBACK_ONLY), true);
  assert.equal(allowedClient('127.255.0.9', LOOPBACK_ONLY), true);
  assert.equal(allowedClient('::1', LOOPBACK_ONLY), true);
  assert.equal(allowedClient('::2', LOOPBACK_ONLY), false);
  assert.equal(allowedClient('192.168.0.1', LOOPBACK_ONLY), false);
  assert.equal(allowedClient('::', LOOPBACK_ONLY), false);
});

test('allowedClient() refuses what is not an address, and everything with an empty list', () => {
  assert.equal(allowedClient('', LOOPBACK_ONLY), false);
  assert.equal(allowedClient('localhost', LOOPBACK_ONLY), false);
  assert.equal(allowedClient('127.0.0.1', []), false);
});

test('a /0 block allows every address of its family', () => {
  assert.equal(allowedClient('8.8.8.8', [parseCidr('0.0.0.0/0')]), true);
  assert.equal(allowedClient('2001::1', [parseCidr('0.0.0.0/0')]), false);
  assert.equal(allowedClient('2001::1', [parseCidr('::/0')]), true);
});
