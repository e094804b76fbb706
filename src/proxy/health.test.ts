import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamGroup } from './balancer.js';
import { type HealthCheckUpstream, startHealthChecks } from './health.js';
import type { FieldList, UpstreamRequest, UpstreamResponse, UpstreamTarget } from './upstream-types.js';

/**
 * A stand-in for the upstream pool on node:http, so these tests exercise the checks alone: one
 * request per call, no keep-alive, the abort signal honoured.
 */
const nodeHttpPool: HealthCheckUpstream & { requests: UpstreamRequest[] } = {
  requests: [],
  request(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamResponse> {
    this.requests.push(request);
    return new Promise((resolve, reject) => {
      const where =
        target.kind === 'unix' ? { socketPath: target.path } : { host: target.host, port: target.port };
      const req = http.request({
        ...where,
        method: request.method,
        path: request.target,
        headers: Object.fromEntries(request.headers),
        agent: false,
        // health.ts passes an AbortController's signal.
        ...(request.signal === undefined ? {} : { signal: request.signal as AbortSignal }),
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const headers: FieldList = [];
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers,
          body: res,
          trailers: () => [],
          abort: () => res.destroy(),
        });
      });
      req.end();
    });
  },
};

/** A node:http upstream answering `status.code` to every request, counting them. */
async function flippingUpstream(): Promise<{
  url: string;
  status: { code: number; delayMs: number };
  hits: string[];
  close: () => Promise<void>;
}> {
  const status = { code: 200, delayMs: 0 };
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${req.headers.host} ${req.headers['user-agent']}`);
    setTimeout(() => {
      res.statusCode = status.code;
      res.end(status.code === 200 ? 'ok' : 'sick');
    }, status.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    status,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('startHealthChecks() marks an upstream down on 500 and up again on 200, logging each change once', async () => {
  const upstream = await flippingUpstream();
  const group = new UpstreamGroup([upstream.url]);
  const lines: string[] = [];
  const stop = startHealthChecks(
    group,
    { path: '/healthz', intervalMs: 20, timeoutMs: 1000, log: (line) => lines.push(line) },
    nodeHttpPool,
  );
  try {
    const down = () => group.status()[0]?.down === true;
    await until(() => upstream.hits.length >= 2, 'two checks');
    assert.equal(down(), false);
    upstream.status.code = 500;
    await until(down, 'the upstream marked down');
    const hitsWhenDown = upstream.hits.length;
    await until(() => upstream.hits.length >= hitsWhenDown + 3, 'more checks while down');
    upstream.status.code = 200;
    await until(() => !down(), 'the upstream marked up again');
    assert.deepEqual(lines, [
      `health check: upstream ${upstream.url} is down: GET /healthz: status 500`,
      `health check: upstream ${upstream.url} is up again`,
    ]);
    assert.match(upstream.hits[0]!, /^GET \/healthz 127\.0\.0\.1:\d+ berth-health-check$/);
  } finally {
    stop();
    await upstream.close();
  }
});

test('startHealthChecks() takes only the failing upstream out of the rotation', async () => {
  const good = await flippingUpstream();
  const bad = await flippingUpstream();
  bad.status.code = 500;
  const group = new UpstreamGroup([good.url, bad.url]);
  const stop = startHealthChecks(
    group,
    { path: '/', intervalMs: 1000, timeoutMs: 1000, log: () => {} },
    nodeHttpPool,
  );
  try {
    await until(() => group.status()[1]?.down === true, 'the bad upstream marked down');
    assert.equal(group.status()[0]?.down, false);
    for (let i = 0; i < 4; i++) assert.equal(group.pick('x')?.name, good.url);
  } finally {
    stop();
    await good.close();
    await bad.close();
  }
});

test('startHealthChecks() honours expectStatus', async () => {
  const upstream = await flippingUpstream();
  upstream.status.code = 204;
  const group = new UpstreamGroup([upstream.url]);
  const stop = startHealthChecks(
    group,
    { path: '/', intervalMs: 20, timeoutMs: 1000, expectStatus: [200], log: () => {} },
    nodeHttpPool,
  );
  try {
    await until(() => group.status()[0]?.down === true, 'a 204 counted as down');
  } finally {
    stop();
    await upstream.close();
  }
});

test('startHealthChecks() marks down an upstream that answers too slowly or refuses connections', async () => {
  const slow = await flippingUpstream();
  slow.status.delayMs = 500;
  const refused = await flippingUpstream();
  await refused.close();
  const group = new UpstreamGroup([slow.url, refused.url]);
  const lines: string[] = [];
  const stop = startHealthChecks(
    group,
    { path: '/', intervalMs: 1000, timeoutMs: 50, log: (line) => lines.push(line) },
    nodeHttpPool,
  );
  try {
    await until(() => group.status().every((s) => s.down), 'both marked down');
    assert.ok(
      lines.some((l) => l.includes(slow.url) && l.includes('no answer within 50 ms')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes(refused.url) && l.includes('ECONNREFUSED')),
      lines.join('\n'),
    );
  } finally {
    stop();
    await slow.close();
  }
});

test('stop() ends the checks', async () => {
  const upstream = await flippingUpstream();
  const group = new UpstreamGroup([upstream.url]);
  const stop = startHealthChecks(
    group,
    { path: '/', intervalMs: 10, timeoutMs: 1000, log: () => {} },
    nodeHttpPool,
  );
  await until(() => upstream.hits.length >= 2, 'two checks');
  stop();
  await sleep(30);
  const after = upstream.hits.length;
  await sleep(60);
  assert.equal(upstream.hits.length, after);
  await upstream.close();
});

test('startHealthChecks() refuses a path that is not origin-form and non-positive times', () => {
  const group = new UpstreamGroup(['http://127.0.0.1:9']);
  assert.throws(
    () => startHealthChecks(group, { path: 'healthz', intervalMs: 10, timeoutMs: 10 }, nodeHttpPool),
    RangeError,
  );
  assert.throws(
    () => startHealthChecks(group, { path: '/', intervalMs: 0, timeoutMs: 10 }, nodeHttpPool),
    RangeError,
  );
  assert.throws(
    () => startHealthChecks(group, { path: '/', intervalMs: 10, timeoutMs: -1 }, nodeHttpPool),
    RangeError,
  );
});
