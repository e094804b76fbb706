/**
 * The status endpoints against a real Berth server: a small site wrapped by metrics.wrap() and
 * withStatus(), driven with 2xx, 3xx, 4xx and 5xx answers, a slow one, HEAD, a streamed body, a
 * backed-up large body, a protocol switch, cache hits and misses and a client that leaves early;
 * then the numbers in status.json and /.berth/metrics, and who may see them.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler } from '../../src/index.js';
import { allowedClient, LOOPBACK_ONLY, parseCidr } from '../../src/proxy/access.js';
import { withStatus } from '../../src/status/handler.js';
import { Metrics, type MetricsSnapshot } from '../../src/status/metrics.js';
import type { StatusSummary } from '../../src/status/page.js';
import { closeServer, exchange, RawClient, type Running, startServer } from './raw-client.js';

const SLOW_MS = 150;
const BIG_BYTES = 4 * 1024 * 1024;
const BIG_CHUNK = Buffer.alloc(64 * 1024, 0x61);
const STREAM_CHUNKS = ['abc', 'defg', 'hij'];
const ENDPOINTS = [
  '/.berth/status',
  '/.berth/status.json',
  '/.berth/status.js',
  '/.berth/status.css',
  '/.berth/metrics',
];

/** The site: one path per kind of answer; 404 "not found" for the rest. */
const site: Handler = async (req, res) => {
  switch (req.url) {
    case '/ok':
      res.end('hello');
      return;
    case '/redirect':
      res.writeHead(302, 'Found Elsewhere', { Location: '/ok' });
      res.end();
      return;
    case '/fail':
      res.statusCode = 503;
      res.end('down');
      return;
    case '/boom':
      throw new Error('the handler failed');
    case '/slow':
      await sleep(SLOW_MS);
      res.end('slow');
      return;
    case '/hit':
    case '/miss':
      res.setHeader('Cache-Status', req.url === '/hit' ? 'berth; hit; ttl=30' : 'berth; fwd=miss; stored');
      res.setCookie('seen', '1', { path: '/' });
      res.end('cached?');
      return;
    case '/stream':
      res.setHeader('Transfer-Encoding', 'chunked');
      res.addTrailers({ 'X-Done': 'yes' });
      await res.send(Readable.from(STREAM_CHUNKS));
      return;
    case '/big':
      for (let sent = 0; sent < BIG_BYTES; sent += BIG_CHUNK.length) {
        if (!res.write(BIG_CHUNK)) await res.drain();
      }
      res.end();
      return;
    case '/upgrade': {
      res.writeHead(101, { Connection: 'Upgrade', Upgrade: 'echo' });
      const { socket } = await res.takeOver();
      socket.end('switched');
      return;
    }
    case '/hang':
      res.write('partial');
      return;
    default:
      res.statusCode = 404;
      res.end('not found');
  }
};

let running: Running | undefined;
let metrics: Metrics | undefined;

before(async () => {
  let server: Running['server'] | undefined;
  metrics = new Metrics({
    openConnections: () => server?.connectionCount ?? 0,
    upstreams: () => [
      { name: 'app-1', healthy: true, activeRequests: 3 },
      { name: 'app-2', healthy: false },
    ],
  });
  running = await startServer(withStatus(metrics.wrap(site), { metrics, enabled: true }));
  server = running.server;
});

after(async () => {
  metrics?.close();
  if (running !== undefined) await closeServer(running.server);
});

function url(path: string): string {
  return `${running!.url}${path}`;
}

async function getText(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url(path), init);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** `name{labels} value` lines of the exposition text, by `name{labels}`. */
function parseExposition(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

describe('status endpoints', { timeout: 20_000 }, () => {
  it('count every kind of answer in status.json and /.berth/metrics', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await getText('/ok')).text, 'hello');
    assert.equal((await fetch(url('/ok'), { method: 'HEAD' })).status, 200);
    assert.equal((await getText('/redirect', { redirect: 'manual' })).status, 302);
    assert.equal((await getText('/nothing-here')).status, 404);
    assert.equal((await getText('/fail')).status, 503);
    assert.equal((await getText('/boom')).status, 500);
    assert.equal((await getText('/slow')).text, 'slow');
    const hit = await fetch(url('/hit'));
    assert.equal(hit.headers.get('set-cookie'), 'seen=1; Path=/', 'setCookie() works through the wrapper');
    await hit.text();
    await getText('/hit');
    await getText('/miss');
    const streamed = await exchange({ port: running!.port }, 'GET /stream HTTP/1.1\r\nHost: t\r\n\r\n', {
      responses: 1,
    });
    assert.equal(streamed.finals[0]!.body.toString(), STREAM_CHUNKS.join(''));
    assert.deepEqual(streamed.finals[0]!.trailers, [['X-Done', 'yes']]);
    assert.equal((await (await fetch(url('/big'))).arrayBuffer()).byteLength, BIG_BYTES);
    const upgraded = await exchange(
      { port: running!.port },
      'GET /upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n',
    );
    assert.match(upgraded.text, /^HTTP\/1\.1 101 [\s\S]*\r\n\r\nswitched$/);
    const leaving = await RawClient.connect({ port: running!.port });
    await leaving.write('GET /hang HTTP/1.1\r\nHost: t\r\n\r\n');
    await leaving.until(() => leaving.text.includes('partial'), 3000, 'the partial body');
    // A reset, not a FIN: after a FIN the client may still be waiting for the answer (half-close).
    leaving.socket.resetAndDestroy();

    const finished = 3 + 1 + 1 + 1 + 1 + 1 + 1 + 3 + 1 + 1 + 1;
    let snapshot: MetricsSnapshot & { summary: StatusSummary };
    for (let attempt = 0; ; attempt++) {
      metrics!.sample();
      const response = await fetch(url('/.berth/status.json'));
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      snapshot = (await response.json()) as typeof snapshot;
      if (snapshot.totals.aborted === 1 || attempt === 100) break;
      await sleep(20);
    }
    const t = snapshot.totals;
    assert.equal(t.requests, finished + 1, 'status requests themselves are not counted');
    assert.deepEqual(t.byClass, { '1xx': 1, '2xx': 3 + 1 + 1 + 3 + 1 + 1, '3xx': 1, '4xx': 1, '5xx': 2 });
    assert.equal(t.aborted, 1);
    const expectedBytes = 3 * 'hello'.length + 'slow'.length + 3 * 'cached?'.length + 10 + BIG_BYTES;
    // Plus the bodies of 302 (none), 404, 503 and the partial one; not the HEAD, not the engine's 500 page.
    assert.equal(t.bytes, expectedBytes + 'not found'.length + 'down'.length + 'partial'.length);
    assert.equal(t.cacheHits, 2);
    assert.equal(t.cacheMisses, 1);
    assert.ok(t.openConnections !== null && t.openConnections >= 1, 'fetch keeps its connection open');
    assert.ok(t.p99 !== null && t.p99 >= SLOW_MS / 1.2, `all-time p99 ${t.p99} reflects the slow request`);
    assert.ok(t.p50 !== null && t.p50 < SLOW_MS, `p50 ${t.p50}`);

    const s = snapshot.samples;
    assert.ok(s.t.length >= 1);
    assert.ok(
      s.p99.some((v) => v !== null && v >= SLOW_MS / 1.2),
      'a sample holds the slow request',
    );
    assert.ok(s.c5xx.some((v) => v > 0) && s.c4xx.some((v) => v > 0) && s.c1xx.some((v) => v > 0));
    assert.ok(s.requests.some((v) => v > 0) && s.bytes.some((v) => v > 0));
    assert.ok(s.cacheHitRatio.some((v) => v !== null && Math.abs(v - 2 / 3) < 1e-3));
    assert.deepEqual(snapshot.upstreams, [
      { name: 'app-1', healthy: true, activeRequests: 3 },
      { name: 'app-2', healthy: false },
    ]);
    assert.equal(snapshot.summary.requests, t.requests);
    assert.equal(snapshot.summary.hitRatio, 2 / 3);

    const scrape = await fetch(url('/.berth/metrics'));
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(scrape.headers.get('cache-control'), 'no-store');
    const text = await scrape.text();
    assert.match(text, /^# TYPE berth_request_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE berth_requests_total counter$/m);
    const v = parseExposition(text);
    assert.equal(v.get('berth_requests_total{class="2xx"}'), t.byClass['2xx']);
    assert.equal(v.get('berth_requests_total{class="5xx"}'), 2);
    assert.equal(v.get('berth_requests_total{class="1xx"}'), 1);
    assert.equal(v.get('berth_requests_aborted_total'), 1);
    assert.equal(v.get('berth_response_bytes_total'), t.bytes);
    assert.equal(v.get('berth_cache_requests_total{result="hit"}'), 2);
    assert.equal(v.get('berth_cache_requests_total{result="miss"}'), 1);
    assert.equal(v.get('berth_upstream_healthy{upstream="app-1"}'), 1);
    assert.equal(v.get('berth_upstream_healthy{upstream="app-2"}'), 0);
    assert.equal(v.get('berth_upstream_active_requests{upstream="app-1"}'), 3);
    assert.ok((v.get('berth_open_connections') ?? 0) >= 1);
    assert.equal(v.get('berth_request_duration_seconds_count'), finished);
    assert.equal(v.get('berth_request_duration_seconds_bucket{le="+Inf"}'), finished);
    assert.ok((v.get('berth_request_duration_seconds_sum') ?? 0) >= SLOW_MS / 1000);
    const buckets = [...v].filter(([k]) => k.startsWith('berth_request_duration_seconds_bucket'));
    assert.ok(buckets.length > 10);
    assert.ok(
      buckets.every(([, n], i) => i === 0 || n >= buckets[i - 1]![1]),
      'buckets are cumulative',
    );
    assert.ok(
      (v.get('berth_request_duration_seconds_bucket{le="0.128"}') ?? finished) < finished,
      'slow one above',
    );
    assert.ok(v.has('berth_process_cpu_user_seconds_total'), 'process metrics carry the berth_ prefix');
    assert.ok(![...v.keys()].some((k) => !k.startsWith('berth_')), 'every name starts with berth_');
  });

  it('serve every endpoint with no-store, the page with its CSP, and HEAD without a body', async () => {
    for (const path of ENDPOINTS) {
      const response = await fetch(url(path));
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('cache-control'), 'no-store', path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
      assert.ok((await response.text()).length > 0, path);
    }
    const page = await fetch(url('/.berth/status?x=1'));
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<dd data-total="requests" data-format="count">\d+<\/dd>/, 'totals without JS');
    assert.match(html, /<td>app-2<\/td><td class="down">down<\/td>/);
    assert.match(
      (await fetch(url('/.berth/status.js'))).headers.get('content-type') ?? '',
      /^text\/javascript/,
    );

    const head = await exchange(
      { port: running!.port },
      'HEAD /.berth/status.json HTTP/1.1\r\nHost: t\r\n\r\n',
      {
        responses: 1,
        methods: ['HEAD'],
      },
    );
    const res = head.finals[0]!;
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    assert.ok(Number(res.fields.find(([n]) => n.toLowerCase() === 'content-length')?.[1]) > 0);
  });

  it('answer 405 to other methods, and leave other /.berth/ paths and absolute-form targets to the site', async () => {
    const post = await getText('/.berth/status.json', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.deepEqual(
      [(await getText('/.berth/other')).status, (await getText('/.berth/other')).text],
      [404, 'not found'],
    );
    const proxied = await exchange(
      { port: running!.port },
      `GET ${running!.url}/.berth/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
      { responses: 1 },
    );
    assert.equal(proxied.finals[0]!.status, 404, 'a forward-proxy request is not ours');
  });
});

describe('who may see the status endpoints', { timeout: 10_000 }, () => {
  it('allowedClient() with the default list takes loopback and refuses others', () => {
    assert.ok(allowedClient('127.0.0.1', LOOPBACK_ONLY));
    assert.ok(allowedClient('::1', LOOPBACK_ONLY));
    assert.ok(allowedClient('::ffff:127.0.0.1', LOOPBACK_ONLY));
    assert.ok(!allowedClient('10.0.0.1', LOOPBACK_ONLY));
    assert.ok(!allowedClient('10.0.0.1', [parseCidr('192.168.0.0/16')]));
    assert.ok(allowedClient('10.0.0.1', [parseCidr('10.0.0.0/8')]));
  });

  it('with allow empty, loopback gets the site’s own 404 for every endpoint, and the request counts as the site’s', async () => {
    const own = new Metrics();
    const refused = await startServer(withStatus(own.wrap(site), { metrics: own, enabled: true, allow: [] }));
    try {
      for (const path of ENDPOINTS) {
        const response = await fetch(`${refused.url}${path}`);
        assert.equal(response.status, 404, path);
        assert.equal(await response.text(), 'not found', path);
        assert.equal(response.headers.get('cache-control'), null, path);
      }
      assert.equal(own.totals().byClass['4xx'], ENDPOINTS.length);
    } finally {
      own.close();
      await closeServer(refused.server);
    }
  });

  it('disabled, withStatus() is the site itself; a bad CIDR fails at start', () => {
    const own = new Metrics();
    own.close();
    assert.equal(withStatus(site, { metrics: own, enabled: false }), site);
    assert.throws(
      () => withStatus(site, { metrics: own, enabled: true, allow: ['10.0.0.0/33'] }),
      RangeError,
    );
  });
});
