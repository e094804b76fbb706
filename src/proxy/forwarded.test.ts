import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IncomingHeaders } from '../handler/types.js';
import { parseCidr } from './access.js';
import { clientAddress, FORWARDING_FIELDS, forwardingFields } from './forwarded.js';

const PSEUDONYM = 'berth-edge';

function fields(
  remoteAddress: string,
  headers: IncomingHeaders,
  options: { trust?: readonly string[]; secure?: boolean; httpVersion?: string } = {},
): Record<string, string> {
  const list = forwardingFields(
    { remoteAddress, headers, httpVersion: options.httpVersion ?? '1.1' },
    {
      trustProxy: (options.trust ?? []).map(parseCidr),
      secure: options.secure ?? false,
      pseudonym: PSEUDONYM,
    },
  );
  const names = list.map(([name]) => name.toLowerCase());
  assert.equal(new Set(names).size, names.length, 'each field once');
  for (const name of names) assert.ok(FORWARDING_FIELDS.has(name), `${name} is in FORWARDING_FIELDS`);
  return Object.fromEntries(list.map(([name, value]) => [name.toLowerCase(), value]));
}

test('forwardingFields() describes a direct client: for, proto, host and Via', () => {
  assert.deepEqual(fields('192.0.2.60', { host: 'example.com' }), {
    'x-forwarded-for': '192.0.2.60',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'example.com',
    forwarded: 'for=192.0.2.60;host=example.com;proto=http',
    via: '1.1 berth-edge',
  });
});

test('forwardingFields() says https when the client came over TLS', () => {
  const f = fields('192.0.2.60', { host: 'example.com' }, { secure: true });
  assert.equal(f['x-forwarded-proto'], 'https');
  assert.equal(f.forwarded, 'for=192.0.2.60;host=example.com;proto=https');
});

test('forwardingFields() brackets and quotes an IPv6 client in Forwarded (RFC 7239 §6) but not in X-Forwarded-For', () => {
  const f = fields('2001:db8:cafe::17', { host: 'example.com' });
  assert.equal(f['x-forwarded-for'], '2001:db8:cafe::17');
  assert.equal(f.forwarded, 'for="[2001:db8:cafe::17]";host=example.com;proto=http');
});

test('forwardingFields() reports an IPv4-mapped client as IPv4 and drops an IPv6 zone', () => {
  assert.equal(fields('::ffff:192.0.2.9', {})['x-forwarded-for'], '192.0.2.9');
  assert.equal(fields('fe80::1%eth0', {}).forwarded, 'for="[fe80::1]";proto=http');
});

test('forwardingFields() quotes a host with a port in Forwarded', () => {
  assert.equal(
    fields('192.0.2.60', { host: 'example.com:8080' }).forwarded,
    'for=192.0.2.60;host="example.com:8080";proto=http',
  );
  assert.equal(
    fields('192.0.2.60', { host: '[::1]:8080' }).forwarded,
    'for=192.0.2.60;host="[::1]:8080";proto=http',
  );
});

test('forwardingFields() leaves out the host when the request has none, and says unknown without an address', () => {
  const f = fields('', {}, { httpVersion: '1.0' });
  assert.equal(f['x-forwarded-host'], undefined);
  assert.equal(f['x-forwarded-for'], 'unknown');
  assert.equal(f.forwarded, 'for=unknown;proto=http');
  assert.equal(f.via, '1.0 berth-edge');
});

test('forwardingFields() replaces spoofed fields from an untrusted client', () => {
  const spoofed: IncomingHeaders = {
    host: 'example.com',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.example',
    forwarded: 'for=6.6.6.6;proto=https',
  };
  assert.deepEqual(fields('192.0.2.60', spoofed, { trust: ['10.0.0.0/8'] }), {
    'x-forwarded-for': '192.0.2.60',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'example.com',
    forwarded: 'for=192.0.2.60;host=example.com;proto=http',
    via: '1.1 berth-edge',
  });
});

test('forwardingFields() extends the fields of a trusted proxy', () => {
  const fromProxy: IncomingHeaders = {
    host: 'internal:8080',
    'x-forwarded-for': '203.0.113.7, 198.51.100.2',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'www.example',
    forwarded: 'for=203.0.113.7;proto=https, for=198.51.100.2',
  };
  assert.deepEqual(fields('10.1.2.3', fromProxy, { trust: ['10.0.0.0/8'] }), {
    'x-forwarded-for': '203.0.113.7, 198.51.100.2, 10.1.2.3',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'www.example',
    forwarded: 'for=203.0.113.7;proto=https, for=198.51.100.2, for=10.1.2.3;host="internal:8080";proto=http',
    via: '1.1 berth-edge',
  });
});

test('forwardingFields() trusts a dual-stack IPv4-mapped proxy address by its IPv4 CIDR', () => {
  const f = fields('::ffff:10.0.0.5', { 'x-forwarded-for': '203.0.113.7' }, { trust: ['10.0.0.0/8'] });
  assert.equal(f['x-forwarded-for'], '203.0.113.7, 10.0.0.5');
});

test('forwardingFields() fills in proto and host when a trusted proxy sent only X-Forwarded-For', () => {
  const f = fields(
    '127.0.0.1',
    { host: 'a.example', 'x-forwarded-for': '203.0.113.7' },
    { trust: ['127.0.0.1'] },
  );
  assert.equal(f['x-forwarded-proto'], 'http');
  assert.equal(f['x-forwarded-host'], 'a.example');
  assert.equal(f.forwarded, 'for=127.0.0.1;host=a.example;proto=http');
});

test('forwardingFields() appends to Via whoever sent it, naming HTTP/2 as "2"', () => {
  assert.equal(fields('192.0.2.60', { via: '1.1 cdn' }).via, '1.1 cdn, 1.1 berth-edge');
  assert.equal(fields('192.0.2.60', {}, { httpVersion: '2.0' }).via, '2 berth-edge');
});

test('forwardingFields() escapes quotes and backslashes in a quoted host', () => {
  assert.equal(
    fields('192.0.2.60', { host: 'a"b\\c:1' }).forwarded,
    'for=192.0.2.60;host="a\\"b\\\\c:1";proto=http',
  );
});

test('clientAddress() normalises what sockets report', () => {
  assert.equal(clientAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(clientAddress('::1'), '::1');
  assert.equal(clientAddress('fe80::1%lo0'), 'fe80::1');
  assert.equal(clientAddress(''), undefined);
  assert.equal(clientAddress(undefined), undefined);
});
