/**
 * rateLimit(): the token buckets against a hand-driven clock, the client key of IPv4 and IPv6
 * peers, and the middleware on a real Berth server reached from several loopback addresses.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { exchange, field, get, parseResponses, withServer } from '../../test/e2e/raw-client.js';
import type { Handler } from '../handler/types.js';
import { clientKey, type RateLimitConfig, rateLimit, TokenBuckets } from './rate-limit.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const ok: Handler = (_req, res) => res.end('ok');
const CONFIG: RateLimitConfig = { kind: 'rate-limit', perSecond: 1, burst: 2 };

describe('TokenBuckets', () => {
  it('TokenBuckets lets a burst through, then one request per refill', () => {
    const time = clock();
    const buckets = new TokenBuckets(2, 3, { now: time.now });
    assert.deepEqual([buckets.take('a'), buckets.take('a'), buckets.take('a')], [0, 0, 0]);
    assert.equal(buckets.take('a'), 1);
    time.advance(499);
    assert.equal(buckets.take('a'), 1);
    time.advance(1);
    assert.equal(buckets.take('a'), 0);
    assert.equal(buckets.take('b'), 0, 'another key has its own bucket');
  });

  it('TokenBuckets says how many whole seconds until one token is back', () => {
    const time = clock();
    const buckets = new TokenBuckets(0.1, 1, { now: time.now });
    assert.equal(buckets.take('a'), 0);
    assert.equal(buckets.take('a'), 10);
    time.advance(4_500);
    assert.equal(buckets.take('a'), 6);
  });

  it('TokenBuckets never holds more than the burst, however long a client was idle', () => {
    const time = clock();
    const buckets = new TokenBuckets(1, 2, { now: time.now });
    buckets.take('a');
    time.advance(3_600_000);
    assert.deepEqual([buckets.take('a'), buckets.take('a'), buckets.take('a')], [0, 0, 1]);
  });

  it('TokenBuckets forgets buckets that have been idle long enough to be full again', () => {
    const time = clock();
    const buckets = new TokenBuckets(1, 2, { now: time.now });
    for (const key of ['a', 'b', 'c', 'd']) buckets.take(key);
    assert.equal(buckets.size, 4);
    time.advance(2_000);
    buckets.take('e');
    assert.equal(buckets.size, 3, 'two idle buckets swept per request');
    buckets.take('f');
    assert.equal(buckets.size, 2);
    time.advance(1_000);
    buckets.take('e');
    assert.equal(buckets.size, 2, 'e and f are not full again yet');
  });

  it('TokenBuckets evicts the least recently used bucket beyond maxClients', () => {
    const time = clock();
    const buckets = new TokenBuckets(1, 1, { now: time.now, maxClients: 2 });
    buckets.take('a');
    buckets.take('b');
    assert.equal(buckets.take('a'), 1, 'a is empty, and now the most recent');
    buckets.take('c'); // evicts b
    assert.equal(buckets.size, 2);
    assert.equal(buckets.take('a'), 1, 'a was kept');
    assert.equal(buckets.take('b'), 0, 'b starts over');
  });

  it('TokenBuckets refuses a rate or burst it cannot work with', () => {
    assert.throws(() => new TokenBuckets(0, 1), /perSecond/);
    assert.throws(() => new TokenBuckets(1, 0.5), /burst/);
    assert.throws(() => new TokenBuckets(Number.NaN, 1), /perSecond/);
  });
});

describe('clientKey()', () => {
  it('clientKey() keeps IPv4 addresses and unwraps IPv4-mapped ones', () => {
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  });

  it('clientKey() counts an IPv6 address by its /64', () => {
    assert.equal(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:DB8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  });
});

describe('rateLimit()', () => {
  it('rateLimit() answers 429 with Retry-After and a short text, and keeps the connection', async () => {
    const time = clock();
    await withServer(rateLimit(CONFIG, { now: time.now })(ok), undefined, async ({ port }) => {
      const result = await exchange({ port }, get('/').repeat(4), { responses: 4 });
      assert.deepEqual(
        result.finals.map((r) => r.status),
        [200, 200, 429, 429],
      );
      const refused = result.finals[2]!;
      assert.equal(field(refused, 'retry-after'), '1');
      assert.match(field(refused, 'content-type') ?? '', /^text\/plain/);
      assert.match(refused.body.toString(), /^429 Too Many Requests/);
      assert.equal(field(refused, 'connection'), undefined);
      assert.equal(result.closed, false);
      time.advance(1_000);
      const later = await exchange({ port }, get('/'), { responses: 1 });
      assert.equal(later.finals[0]!.status, 200);
    });
  });

  it('rateLimit() keeps one bucket per client address', async () => {
    const time = clock();
    const handler = rateLimit(
      { kind: 'rate-limit', perSecond: 1, burst: 1 },
      { now: time.now, maxClients: 2 },
    )(ok);
    await withServer(handler, undefined, async ({ port }) => {
      const statusFrom = (localAddress: string) => statusOf(port, localAddress);
      assert.equal(await statusFrom('127.0.0.2'), 200);
      assert.equal(await statusFrom('127.0.0.2'), 429);
      assert.equal(await statusFrom('127.0.0.3'), 200, 'another address has its own bucket');
      assert.equal(await statusFrom('127.0.0.4'), 200);
      // Two buckets at most: 127.0.0.2's was the least recently used, so it starts over.
      assert.equal(await statusFrom('127.0.0.2'), 200);
    });
  });
});

/** The status of one GET sent from `localAddress` (any 127/8 address reaches loopback on Linux). */
function statusOf(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const final = parseResponses(Buffer.concat(chunks)).finals[0];
      if (final === undefined) return;
      socket.destroy();
      resolve(final.status);
    });
    socket.once('error', reject);
    socket.setTimeout(3_000, () => socket.destroy(new Error('no response')));
    socket.write(get('/'));
  });
}
