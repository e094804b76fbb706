import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHttpDate } from '../http/date.js';
import { requestDirectives, responseDirectives } from './directives.js';
import { fieldsToStore, updatedFields } from './fields.js';
import { primaryKey, targetUri, varyMatches, varyNames, varySelection } from './key.js';
import {
  correctedInitialAge,
  directivesOf,
  entryTimes,
  freshnessLifetime,
  reuseOf,
  type StoringRequest,
  storeVerdict,
} from './policy.js';
import type { StoredFields } from './store.js';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const date = (offsetS: number): string => formatHttpDate(new Date(NOW + offsetS * 1000));
const GET: StoringRequest = {
  method: 'GET',
  hasAuthorization: false,
  directives: requestDirectives(undefined, undefined),
};
const NO_REQUEST_DIRECTIVES = requestDirectives(undefined, undefined);

function lifetime(status: number, fields: StoredFields): number {
  return freshnessLifetime(status, fields, directivesOf(fields));
}

function verdict(status: number, fields: StoredFields, request: StoringRequest = GET): string {
  const v = storeVerdict(request, status, fields, directivesOf(fields));
  return v.kind === 'store' ? 'store' : v.reason;
}

test('freshnessLifetime() prefers s-maxage, then max-age, then Expires minus Date', () => {
  const d = ['date', date(0)] as const;
  assert.equal(lifetime(200, [d, ['cache-control', 'max-age=10, s-maxage=20']]), 20);
  assert.equal(lifetime(200, [d, ['cache-control', 'max-age=10'], ['expires', date(100)]]), 10);
  assert.equal(lifetime(200, [d, ['expires', date(100)]]), 100);
});

test('freshnessLifetime() treats an invalid Expires, such as 0, as already expired', () => {
  assert.equal(
    lifetime(200, [
      ['date', date(0)],
      ['expires', '0'],
    ]),
    0,
  );
  assert.equal(
    lifetime(200, [
      ['date', date(0)],
      ['last-modified', date(-1000)],
      ['expires', 'soon'],
    ]),
    0,
  );
});

test('freshnessLifetime() treats an invalid max-age as stale, and caps a huge one at 2^31', () => {
  assert.equal(lifetime(200, [['cache-control', 'max-age=-1']]), 0);
  assert.equal(lifetime(200, [['cache-control', 'max-age=1.5']]), 0);
  assert.equal(lifetime(200, [['cache-control', 'max-age=99999999999999']]), 2_147_483_648);
  assert.equal(lifetime(200, [['cache-control', 'max-age="30"']]), 30);
});

test('freshnessLifetime() is 10% of the Last-Modified age for heuristically cacheable statuses only', () => {
  const fields: StoredFields = [
    ['date', date(0)],
    ['last-modified', date(-10_000)],
  ];
  assert.equal(lifetime(200, fields), 1000);
  assert.equal(lifetime(404, fields), 1000);
  assert.equal(lifetime(302, fields), 0);
  assert.equal(lifetime(302, [...fields, ['cache-control', 'public']]), 1000);
  assert.equal(
    lifetime(200, [
      ['date', date(0)],
      ['last-modified', date(-10_000_000)],
    ]),
    24 * 3600,
  );
});

test('correctedInitialAge() takes the larger of the apparent age and Age plus the response delay', () => {
  const fields: StoredFields = [
    ['date', date(-30)],
    ['age', '10'],
  ];
  assert.equal(correctedInitialAge(fields, NOW - 2000, NOW), 30);
  assert.equal(
    correctedInitialAge(
      [
        ['date', date(0)],
        ['age', '100'],
      ],
      NOW - 2000,
      NOW,
    ),
    102,
  );
  assert.equal(
    correctedInitialAge(
      [
        ['date', date(0)],
        ['age', 'abc'],
      ],
      NOW,
      NOW,
    ),
    0,
  );
});

test('storeVerdict() refuses no-store, private, Vary: * and Authorization without public', () => {
  assert.equal(verdict(200, [['cache-control', 'max-age=60, no-store']]), 'no-store');
  assert.equal(verdict(200, [['cache-control', 'max-age=60, private']]), 'private');
  assert.equal(
    verdict(200, [
      ['cache-control', 'max-age=60'],
      ['vary', 'Accept, *'],
    ]),
    'vary *',
  );
  const authorized: StoringRequest = { ...GET, hasAuthorization: true };
  assert.equal(verdict(200, [['cache-control', 'max-age=60']], authorized), 'authorization');
  assert.equal(verdict(200, [['cache-control', 'max-age=60, public']], authorized), 'store');
  assert.equal(verdict(200, [['cache-control', 's-maxage=60']], authorized), 'store');
  assert.equal(
    verdict(
      200,
      [
        ['cache-control', 'must-revalidate'],
        ['etag', '"a"'],
      ],
      authorized,
    ),
    'store',
  );
});

test('storeVerdict() stores only GET, final statuses other than 206 and 304, and reusable responses', () => {
  assert.equal(verdict(200, [['cache-control', 'max-age=60']], { ...GET, method: 'POST' }), 'method');
  assert.equal(verdict(206, [['cache-control', 'max-age=60']]), 'status');
  assert.equal(verdict(302, [['location', '/x']]), 'not cacheable');
  assert.equal(verdict(200, []), 'no freshness or validator');
  assert.equal(verdict(200, [['etag', '"a"']]), 'store');
  const noStoreRequest = { ...GET, directives: requestDirectives('no-store', undefined) };
  assert.equal(verdict(200, [['cache-control', 'max-age=60']], noStoreRequest), 'request no-store');
});

test('storeVerdict() lets must-understand override no-store for a status it understands', () => {
  assert.equal(verdict(200, [['cache-control', 'max-age=60, no-store, must-understand']]), 'store');
  assert.equal(verdict(299, [['cache-control', 'max-age=60, no-store, must-understand']]), 'must-understand');
});

test('directivesOf() obeys CDN-Cache-Control, then Surrogate-Control, only for a gateway cache', () => {
  const fields: StoredFields = [
    ['cache-control', 'no-store'],
    ['cdn-cache-control', 'max-age=30'],
  ];
  assert.equal(directivesOf(fields, 'berth').noStore, false);
  assert.equal(directivesOf(fields, 'berth').maxAge, 30);
  assert.equal(directivesOf(fields).noStore, true, 'a forward proxy cache ignores it');
  const invalid: StoredFields = [
    ['cache-control', 'no-store'],
    ['cdn-cache-control', 'max-age="30"'],
  ];
  assert.equal(directivesOf(invalid, 'berth').noStore, true, 'an invalid CDN-Cache-Control is ignored');
  const surrogate: StoredFields = [
    ['cache-control', 'no-store'],
    ['surrogate-control', 'max-age=5, max-age=60;berth, no-store;other'],
  ];
  assert.equal(directivesOf(surrogate, 'berth').maxAge, 60);
  assert.equal(directivesOf(surrogate, 'berth').noStore, false);
  assert.equal(directivesOf([['surrogate-control', 'max-age=10+30']], 'berth').staleIfError, 30);
});

test('requestDirectives() reads Pragma: no-cache only without Cache-Control, and max-stale without a value as any', () => {
  assert.equal(requestDirectives(undefined, 'no-cache').noCache, true);
  assert.equal(requestDirectives('max-age=5', 'no-cache').noCache, false);
  assert.equal(requestDirectives('max-stale', undefined).maxStale, 2_147_483_648);
  assert.equal(requestDirectives('max-stale=abc', undefined).maxStale, undefined);
});

test('responseDirectives() reads qualified no-cache and private as field lists', () => {
  const d = responseDirectives('no-cache="Set-Cookie, X-A", private="x-b"');
  assert.deepEqual(d.noCache, ['set-cookie', 'x-a']);
  assert.deepEqual(d.private, ['x-b']);
});

test('reuseOf() serves fresh responses and asks to validate stale or no-cache ones', () => {
  const entry = (cc: string) => ({
    status: 200,
    headers: [
      ['date', date(0)],
      ['cache-control', cc],
    ] as StoredFields,
    requestTime: NOW,
    responseTime: NOW,
  });
  assert.deepEqual(reuseOf(entry('max-age=60'), NO_REQUEST_DIRECTIVES, NOW + 10_000), {
    kind: 'fresh',
    age: 10,
    ttl: 50,
    stale: false,
  });
  assert.equal(reuseOf(entry('max-age=60'), NO_REQUEST_DIRECTIVES, NOW + 70_000).kind, 'validate');
  assert.equal(reuseOf(entry('max-age=60, no-cache'), NO_REQUEST_DIRECTIVES, NOW).kind, 'validate');
  assert.equal(reuseOf(entry('max-age=60'), requestDirectives('no-cache', undefined), NOW).kind, 'validate');
  assert.equal(
    reuseOf(entry('max-age=60'), requestDirectives('max-age=5', undefined), NOW + 10_000).kind,
    'validate',
  );
  assert.equal(
    reuseOf(entry('max-age=60'), requestDirectives('min-fresh=55', undefined), NOW + 10_000).kind,
    'validate',
  );
});

test('reuseOf() allows max-stale and stale-while-revalidate, unless must-revalidate or s-maxage forbid it', () => {
  const entry = (cc: string) => ({
    status: 200,
    headers: [
      ['date', date(0)],
      ['cache-control', cc],
    ] as StoredFields,
    requestTime: NOW,
    responseTime: NOW,
  });
  const maxStale = requestDirectives('max-stale=100', undefined);
  assert.equal(reuseOf(entry('max-age=10'), maxStale, NOW + 50_000).kind, 'fresh');
  assert.equal(reuseOf(entry('max-age=10'), maxStale, NOW + 200_000).kind, 'validate');
  assert.equal(reuseOf(entry('max-age=10, must-revalidate'), maxStale, NOW + 50_000).kind, 'validate');
  assert.equal(reuseOf(entry('s-maxage=10'), maxStale, NOW + 50_000).kind, 'validate');
  const swr = entry('max-age=10, stale-while-revalidate=60');
  assert.equal(reuseOf(swr, NO_REQUEST_DIRECTIVES, NOW + 30_000).kind, 'stale-while-revalidate');
  assert.equal(reuseOf(swr, NO_REQUEST_DIRECTIVES, NOW + 100_000).kind, 'validate');
});

test('entryTimes() keeps a stale response with a validator for revalidation', () => {
  const fields: StoredFields = [
    ['date', date(0)],
    ['cache-control', 'max-age=60'],
    ['etag', '"a"'],
  ];
  const times = entryTimes(200, fields, directivesOf(fields), NOW, NOW);
  assert.equal(times.staleAt, NOW + 60_000);
  assert.ok(times.deleteAt >= NOW + 60_000 + 3600_000);
});

test('fieldsToStore() drops hop-by-hop fields, those Connection names, and qualified no-cache/private fields', () => {
  const fields: StoredFields = [
    ['connection', 'x-hop'],
    ['x-hop', '1'],
    ['keep-alive', 'timeout=5'],
    ['content-length', '5'],
    ['set-cookie', 'a=b'],
    ['x-secret', 's'],
    ['x-kept', 'k'],
    ['cache-control', 'max-age=5, no-cache="set-cookie", private="x-secret"'],
  ];
  const stored = fieldsToStore(fields, directivesOf(fields), NOW);
  assert.deepEqual(
    stored.map(([n]) => n),
    ['x-kept', 'cache-control', 'date'],
  );
});

test('updatedFields() replaces every stored line of each field the 304 carries', () => {
  const stored: StoredFields = [
    ['x-a', '1'],
    ['x-b', '1'],
    ['x-b', '2'],
  ];
  assert.deepEqual(updatedFields(stored, [['x-b', '3']]), [
    ['x-a', '1'],
    ['x-b', '3'],
  ]);
});

test('targetUri() rebuilds origin-form targets and lower-cases scheme and host only', () => {
  assert.equal(targetUri('/A?b', 'Example.COM', false), 'http://example.com/A?b');
  assert.equal(targetUri('/x', 'h', true), 'https://h/x');
  assert.equal(targetUri('HTTP://Example.com/P', undefined, false), 'http://example.com/P');
  assert.equal(targetUri('http://example.com', undefined, false), 'http://example.com/');
  assert.equal(primaryKey('http://h/x'), 'GET http://h/x');
});

test('varySelection() normalises whitespace, and varyMatches() compares each selecting field', () => {
  const names = varyNames([['vary', 'Accept-Encoding, X-A']]);
  assert.deepEqual(names, ['accept-encoding', 'x-a']);
  const selection = varySelection(names, { 'accept-encoding': 'gzip,br' });
  assert.deepEqual(selection, { 'accept-encoding': 'gzip, br', 'x-a': undefined });
  assert.equal(varyMatches(selection, { 'accept-encoding': ' gzip ,  br' }), true);
  assert.equal(varyMatches(selection, { 'accept-encoding': 'gzip' }), false);
  assert.equal(varyMatches(selection, { 'accept-encoding': 'gzip, br', 'x-a': '1' }), false);
});

test('freshnessLifetime() reads an Expires whose day, month or GMT has the wrong case', () => {
  const expires = date(100).toUpperCase();
  assert.equal(
    lifetime(200, [
      ['date', date(0)],
      ['expires', expires],
    ]),
    100,
  );
});

test('fieldsToStore() replaces an invalid Date with the time the response arrived', () => {
  const stored = fieldsToStore([['date', 'foo']], directivesOf([]), NOW);
  assert.deepEqual(stored, [['date', date(0)]]);
});

test('varyMatches() ignores case in Accept-Language but keeps the order of its languages', () => {
  const selection = varySelection(['accept-language'], { 'accept-language': 'en-US, fr' });
  assert.equal(varyMatches(selection, { 'accept-language': 'EN-us, FR' }), true);
  assert.equal(varyMatches(selection, { 'accept-language': 'fr, en-us' }), false);
});
