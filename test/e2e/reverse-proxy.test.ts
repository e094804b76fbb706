/**
 * The reverse proxy end to end: a Berth server running createReverseProxy() with the real
 * upstream pool in front of real upstreams on 127.0.0.1 — node:http servers, a Berth server, one
 * on a unix socket, raw net servers for Upgrade — and Node's fetch, node:http, raw sockets and
 * the `ws` package as clients.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import { type BalancePolicy, UpstreamGroup } from '../../src/proxy/balancer.js';
import { startHealthChecks } from '../../src/proxy/health.js';
import { createReverseProxy, type ReverseProxyOptions } from '../../src/proxy/reverse.js';
import { UpstreamPool } from '../../src/proxy/upstream-pool.js';
import { closeServer, RawClient, startServer } from './raw-client.js';

const PSEUDONYM = 'berth-e2e';

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };

type Origin = {
  readonly name: string;
  readonly url: string;
  readonly seen: Seen[];
  /** Connections accepted so far. */
  readonly connections: () => number;
  readonly server: http.Server;
  close(): Promise<void>;
};

/**
 * A node:http upstream answering its own name (X-Upstream and the body), recording each request.
 * `handle` may answer instead (return true when it did).
 */
async function origin(
  name: string,
  options: {
    path?: string;
    handle?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => boolean;
  } = {},
): Promise<Origin> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (options.handle?.(req, res, body) === true) return;
      res.setHeader('X-Upstream', name);
      res.end(name);
    });
  });
  server.keepAliveTimeout = 10_000;
  let connections = 0;
  server.on('connection', () => connections++);
  const path = options.path;
  await new Promise<void>((resolve) =>
    path === undefined ? server.listen(0, '127.0.0.1', resolve) : server.listen(path, resolve),
  );
  const url =
    path === undefined ? `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` : `unix:${path}`;
  let closed: Promise<void> | undefined;
  return {
    name,
    url,
    seen,
    connections: () => connections,
    server,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

type Proxy = {
  readonly url: string;
  readonly port: number;
  readonly group: UpstreamGroup;
  readonly pool: UpstreamPool;
  readonly lines: string[];
  readonly reported: unknown[];
  close(): Promise<void>;
};

async function startProxy(
  urls: readonly string[],
  options: { policy?: BalancePolicy } & Partial<Omit<ReverseProxyOptions, 'group' | 'pool'>> = {},
): Promise<Proxy> {
  const { policy, ...rest } = options;
  const group = new UpstreamGroup(urls, policy === undefined ? {} : { policy });
  const pool = new UpstreamPool({ responseTimeoutMs: 5_000, connectTimeoutMs: 2_000 });
  const lines: string[] = [];
  const reported: unknown[] = [];
  const running = await startServer(
    createReverseProxy({ group, pool, pseudonym: PSEUDONYM, log: (line) => lines.push(line), ...rest }),
    { onError: (err) => reported.push(err) },
  );
  return {
    url: running.url,
    port: running.port,
    group,
    pool,
    lines,
    reported,
    close: async () => {
      await closeServer(running.server);
      pool.close();
      // Every failure here is an expected one, answered and logged by the proxy, not a handler fault.
      assert.deepEqual(reported, [], 'the engine saw no handler errors');
    },
  };
}

/** GET through node:http from a chosen local address (127.0.0.0/8 is all loopback on Linux). */
function getFrom(port: number, localAddress: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** A request through node:http, which (unlike fetch) lets a test set Host. */
function send(
  port: number,
  options: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function counts(bodies: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bodies) out[b] = (out[b] ?? 0) + 1;
  return out;
}

async function text(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

test('round-robin spreads requests evenly over three upstreams', async () => {
  const origins = await Promise.all(['a', 'b', 'c'].map((n) => origin(n)));
  const proxy = await startProxy(origins.map((o) => o.url));
  try {
    const bodies: string[] = [];
    for (let i = 0; i < 30; i++) bodies.push((await text(`${proxy.url}/rr/${i}`)).body);
    assert.deepEqual(counts(bodies), { a: 10, b: 10, c: 10 });
    assert.deepEqual(
      origins.map((o) => o.seen.map((s) => s.url)),
      [0, 1, 2].map((k) => Array.from({ length: 10 }, (_, i) => `/rr/${3 * i + k}`)),
    );
    assert.deepEqual(
      origins.map((o) => o.connections()),
      [1, 1, 1],
      'one kept-alive upstream connection each',
    );
  } finally {
    await proxy.close();
    await Promise.all(origins.map((o) => o.close()));
  }
});

test('least-conn sends new requests to the idle upstream while the other is busy', async () => {
  const releases: (() => void)[] = [];
  const hold = (_req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (_req.url !== '/hold') return false;
    releases.push(() => res.end('held'));
    return true;
  };
  const origins = await Promise.all(['a', 'b'].map((n) => origin(n, { handle: hold })));
  const proxy = await startProxy(
    origins.map((o) => o.url),
    { policy: 'least-conn' },
  );
  try {
    const held = text(`${proxy.url}/hold`);
    while (releases.length === 0) await sleep(5);
    const busy = origins.find((o) => o.seen.length === 1)!;
    const idle = origins.find((o) => o !== busy)!;
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await text(`${proxy.url}/quick`)).body);
    assert.deepEqual(counts(bodies), { [idle.name]: 6 });
    releases[0]!();
    assert.equal((await held).body, 'held');
    // Both idle again: they take turns.
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push((await text(`${proxy.url}/quick`)).body);
    assert.deepEqual(counts(after), { a: 2, b: 2 });
  } finally {
    await proxy.close();
    await Promise.all(origins.map((o) => o.close()));
  }
});

test('ip-hash keeps each client on one upstream', async () => {
  const origins = await Promise.all(['a', 'b', 'c'].map((n) => origin(n)));
  const proxy = await startProxy(
    origins.map((o) => o.url),
    { policy: 'ip-hash' },
  );
  try {
    const chosen = new Set<string>();
    for (let host = 1; host <= 12; host++) {
      const address = `127.0.0.${host}`;
      const bodies: string[] = [];
      for (let i = 0; i < 5; i++) bodies.push((await getFrom(proxy.port, address)).body);
      assert.equal(
        new Set(bodies).size,
        1,
        `${address} always reaches the same upstream: ${bodies.join(',')}`,
      );
      chosen.add(bodies[0]!);
    }
    assert.ok(chosen.size >= 2, 'twelve clients are spread over more than one upstream');
  } finally {
    await proxy.close();
    await Promise.all(origins.map((o) => o.close()));
  }
});

test('an upstream killed during a run of 200 GETs costs no failed request', async () => {
  const origins = await Promise.all(['a', 'b', 'c'].map((n) => origin(n)));
  const proxy = await startProxy(origins.map((o) => o.url));
  try {
    const statuses: number[] = [];
    const bodies: string[] = [];
    let done = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        const res = await text(`${proxy.url}/run/${w}/${i}`);
        statuses.push(res.status);
        bodies.push(res.body);
        done++;
        if (done === 60) await origins[1]!.close();
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    assert.equal(statuses.length, 200);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      `every request answered 200; log:\n${proxy.lines.join('\n')}`,
    );
    assert.ok(
      bodies.slice(-100).every((b) => b !== 'b'),
      'the killed upstream is not used any more',
    );
    assert.equal(proxy.group.status()[1]?.ejected, true);
    assert.ok(
      proxy.lines.length > 0 && proxy.lines.every((l) => l.includes(origins[1]!.url)),
      proxy.lines.join('\n'),
    );
  } finally {
    await proxy.close();
    await Promise.all(origins.map((o) => o.close()));
  }
});

test('a POST the upstream received is not retried (502); one it never received is', async () => {
  // The first upstream reads the whole POST, then drops the connection without answering.
  const dropper = await origin('dropper', {
    handle: (req, res) => {
      req.socket.destroy();
      void res;
      return true;
    },
  });
  const good = await origin('good');
  const proxy = await startProxy([dropper.url, good.url]);
  try {
    const res = await text(`${proxy.url}/order`, { method: 'POST', body: 'one pizza' });
    assert.equal(res.status, 502);
    assert.equal(dropper.seen[0]?.body, 'one pizza');
    assert.equal(good.seen.length, 0, 'the order went to one upstream only');
    assert.match(
      proxy.lines[0]!,
      new RegExp(`^reverse proxy: upstream ${dropper.url} failed: POST /order: .*; answered 502$`),
    );
  } finally {
    await proxy.close();
    await dropper.close();
  }

  const refused = await origin('refused');
  await refused.close();
  const proxy2 = await startProxy([refused.url, good.url]);
  try {
    const res = await text(`${proxy2.url}/order`, { method: 'POST', body: 'two pizzas' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'good');
    assert.equal(good.seen.at(-1)?.body, 'two pizzas');
    assert.match(proxy2.lines[0]!, /failed: POST \/order: connect: .*; retrying on another upstream$/);
  } finally {
    await proxy2.close();
    await good.close();
  }
});

test('a slow upstream is answered 504 with one log line', async () => {
  const slow = await origin('slow', {
    handle: (_req, res) => {
      setTimeout(() => res.end('too late'), 1_000).unref();
      return true;
    },
  });
  const proxy = await startProxy([slow.url], { timeoutMs: 200 });
  try {
    const started = Date.now();
    const res = await text(`${proxy.url}/report`);
    assert.equal(res.status, 504);
    assert.ok(Date.now() - started < 900, 'answered at the timeout, not when the upstream finished');
    assert.deepEqual(proxy.lines, [
      `reverse proxy: upstream ${slow.url} failed: GET /report: no response head within 200 ms; answered 504`,
    ]);
  } finally {
    await proxy.close();
    await slow.close();
  }
});

test('the upstream sees X-Forwarded-For/Proto/Host, Forwarded and Via; spoofed ones are dropped', async () => {
  const up = await origin('up');
  const proxy = await startProxy([up.url]);
  try {
    const res = await send(proxy.port, {
      path: '/who?x=1',
      headers: {
        Host: 'shop.example',
        'X-Forwarded-For': '6.6.6.6',
        'X-Forwarded-Host': 'evil.example',
        'X-Forwarded-Proto': 'https',
        Forwarded: 'for=6.6.6.6',
      },
    });
    assert.equal(res.status, 200);
    const seen = up.seen[0]!;
    assert.equal(seen.url, '/who?x=1');
    assert.equal(seen.headers.host, 'shop.example', 'the client Host is kept');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'shop.example');
    assert.equal(seen.headers.forwarded, 'for=127.0.0.1;host=shop.example;proto=http');
    assert.equal(seen.headers.via, `1.1 ${PSEUDONYM}`);
    assert.equal(res.headers.via, `1.1 ${PSEUDONYM}`, 'Via on the response too');
    assert.equal(res.headers['x-upstream'], 'up');
  } finally {
    await proxy.close();
    await up.close();
  }
});

test('forwarding fields from a trusted proxy are kept and extended', async () => {
  const up = await origin('up');
  const proxy = await startProxy([up.url], { trustProxy: ['127.0.0.0/8'] });
  try {
    await send(proxy.port, {
      headers: {
        Host: 'internal',
        'X-Forwarded-For': '203.0.113.5',
        'X-Forwarded-Host': 'www.example',
        'X-Forwarded-Proto': 'https',
        Forwarded: 'for=203.0.113.5;proto=https',
        Via: '1.1 edge',
      },
    });
    const seen = up.seen[0]!;
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.5, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-host'], 'www.example');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(
      seen.headers.forwarded,
      'for=203.0.113.5;proto=https, for=127.0.0.1;host=internal;proto=http',
    );
    assert.equal(seen.headers.via, `1.1 edge, 1.1 ${PSEUDONYM}`);
  } finally {
    await proxy.close();
    await up.close();
  }
});

test('a Berth upstream: bodies, trailers, Via appended to the upstream Via, a request loop refused', async () => {
  const berth = await startServer(async (req, res) => {
    const body = await req.text();
    res.setHeader('Via', '1.1 inner');
    res.setHeader('Trailer', 'X-Length');
    res.write(`echo:${body}`);
    res.addTrailers({ 'X-Length': String(body.length) });
    res.end();
  });
  const proxy = await startProxy([berth.url]);
  try {
    const client = await RawClient.connect({ port: proxy.port });
    try {
      await client.write(
        'POST /e HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      );
      const [res] = await client.responses(1);
      assert.equal(res!.status, 200);
      assert.equal(res!.body.toString(), 'echo:hello world');
      assert.deepEqual(res!.trailers, [['X-Length', '11']]);
      assert.match(res!.head, new RegExp(`\\r\\nVia: 1\\.1 inner, 1\\.1 ${PSEUDONYM}\\r\\n`));
    } finally {
      client.destroy();
    }
    const loop = await text(`${proxy.url}/`, { headers: { Via: `1.1 ${PSEUDONYM}` } });
    assert.equal(loop.status, 508);
  } finally {
    await proxy.close();
    await closeServer(berth.server);
  }
});

test('a unix-socket upstream works', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reverse-'));
  const up = await origin('unix', { path: join(dir, 'app.sock') });
  const proxy = await startProxy([up.url]);
  try {
    const res = await text(`${proxy.url}/over-unix`, { method: 'PUT', body: 'data' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'unix');
    assert.equal(up.seen[0]?.url, '/over-unix');
    assert.equal(up.seen[0]?.body, 'data');
  } finally {
    await proxy.close();
    await up.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** A raw upstream that answers an Upgrade with 101 and then echoes every byte, bytes sent early included. */
async function upgradeEcho(): Promise<{ url: string; heads: string[]; close(): Promise<void> }> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    const onHead = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onHead);
      heads.push(pending.subarray(0, end).toString('latin1'));
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      socket.write(pending.subarray(end + 4));
      socket.pipe(socket);
    };
    socket.on('data', onHead);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    heads,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('an Upgrade is passed through: 101, then bytes both ways, early bytes included', async () => {
  const up = await upgradeEcho();
  const proxy = await startProxy([up.url]);
  try {
    const client = await RawClient.connect({ port: proxy.port });
    try {
      await client.write(
        'GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly;',
      );
      await client.until(() => client.text.endsWith('early;'), 3000, 'the early bytes echoed');
      await client.write('later');
      await client.until(() => client.text.endsWith('early;later'), 3000, 'bytes echoed through the relay');
      const head = client.text.slice(0, client.text.indexOf('\r\n\r\n'));
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, /\r\nUpgrade: echo\r\n/i);
      assert.match(head, /\r\nConnection: Upgrade\r\n/i);
      assert.match(head, new RegExp(`\\r\\nVia: 1\\.1 ${PSEUDONYM}\\r\\n`));
      const sent = up.heads[0]!;
      assert.match(sent, /^GET \/echo HTTP\/1\.1\r\n/);
      assert.match(sent, /\r\nUpgrade: echo\r\n/i);
      assert.match(sent, /\r\nConnection: Upgrade\r\n/i);
      assert.match(sent, /\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/i);
    } finally {
      client.destroy();
    }
  } finally {
    await proxy.close();
    await up.close();
  }
});

test('a WebSocket echo works through the proxy (ws on both ends)', async () => {
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  const wss = new WebSocketServer({ server });
  let forwardedFor: string | undefined;
  wss.on('connection', (socket, req) => {
    forwardedFor = req.headers['x-forwarded-for'] as string | undefined;
    socket.on('message', (data, binary) => socket.send(binary ? data : `echo:${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const proxy = await startProxy([upUrl]);
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/chat`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    ws.send('hello');
    assert.equal(await reply, 'echo:hello');
    const big = Buffer.alloc(256 * 1024, 7);
    const bigReply = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
    ws.send(big);
    assert.ok((await bigReply).equals(big), 'a 256 KiB binary message comes back intact');
    assert.equal(forwardedFor, '127.0.0.1');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.close(1000);
    assert.equal(await closed, 1000);
  } finally {
    await proxy.close();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('an upgrade refused by the upstream is an ordinary response', async () => {
  const up = await origin('plain');
  const proxy = await startProxy([up.url]);
  try {
    const client = await RawClient.connect({ port: proxy.port });
    try {
      await client.write(
        'GET /no HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n',
      );
      const responses = await client.responses(2);
      assert.deepEqual(
        responses.map((r) => [r.status, r.body.toString()]),
        [
          [200, 'plain'],
          [200, 'plain'],
        ],
      );
    } finally {
      client.destroy();
    }
  } finally {
    await proxy.close();
    await up.close();
  }
});

test('an active health check takes a 500-answering upstream out of the rotation', async () => {
  const sick = { now: false };
  const flaky = await origin('flaky', {
    handle: (req, res) => {
      if (req.url !== '/healthz' || !sick.now) return false;
      res.statusCode = 500;
      res.end('sick');
      return true;
    },
  });
  const steady = await origin('steady');
  const proxy = await startProxy([flaky.url, steady.url]);
  const lines: string[] = [];
  const stop = startHealthChecks(
    proxy.group,
    { path: '/healthz', intervalMs: 30, timeoutMs: 1000, log: (line) => lines.push(line) },
    proxy.pool,
  );
  try {
    const before: string[] = [];
    for (let i = 0; i < 4; i++) before.push((await text(`${proxy.url}/page`)).body);
    assert.deepEqual(counts(before), { flaky: 2, steady: 2 });
    sick.now = true;
    while (proxy.group.status()[0]?.down !== true) await sleep(10);
    const during: string[] = [];
    for (let i = 0; i < 6; i++) during.push((await text(`${proxy.url}/page`)).body);
    assert.deepEqual(counts(during), { steady: 6 });
    sick.now = false;
    while (proxy.group.status()[0]?.down !== false) await sleep(10);
    assert.deepEqual(lines, [
      `health check: upstream ${flaky.url} is down: GET /healthz: status 500`,
      `health check: upstream ${flaky.url} is up again`,
    ]);
  } finally {
    stop();
    await proxy.close();
    await flaky.close();
    await steady.close();
  }
});
