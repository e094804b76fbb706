/**
 * The upstream client against real upstreams on 127.0.0.1: node:http and node:https servers, a
 * Berth server, a unix-socket server, and raw net servers for the malformed and cut responses.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from '../index.js';
import { ensureLocalCertificate } from '../tls/local-ca.js';
import {
  closedPort,
  eventually,
  httpsUpstream,
  httpUpstream,
  onRequestHeads,
  rawUpstream,
  readAll,
  streamOf,
  type TestUpstream,
} from './test-upstreams.js';
import { UpstreamPool } from './upstream-pool.js';
import {
  type FieldList,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamUpgrade,
} from './upstream-types.js';

const T = { timeout: 10_000 };
const MiB = 1024 * 1024;

function get(target = '/', extra: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return { method: 'GET', target, headers: [['Host', 'test']], ...extra };
}

function field(fields: FieldList, name: string): string | undefined {
  return fields.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** Runs `fn` with an upstream and a pool, closing both afterwards. */
async function using(
  upstream: Promise<TestUpstream>,
  fn: (up: TestUpstream, pool: UpstreamPool) => Promise<void>,
  options: ConstructorParameters<typeof UpstreamPool>[0] = {},
): Promise<void> {
  const up = await upstream;
  const pool = new UpstreamPool(options);
  try {
    await fn(up, pool);
  } finally {
    pool.close();
    await up.close();
  }
}

async function rejectsWith(promise: Promise<unknown>, kind: UpstreamError['kind'], requestSent: boolean) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UpstreamError, `expected an UpstreamError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.equal(err.requestSent, requestSent);
    return true;
  });
}

/** Echoes method, framing fields and body as JSON. */
const echo: http.RequestListener = async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  res.setHeader('Content-Type', 'application/json');
  res.end(
    JSON.stringify({
      method: req.method,
      url: req.url,
      te: req.headers['transfer-encoding'],
      cl: req.headers['content-length'],
      body: Buffer.concat(chunks).toString(),
      trailers: req.trailers,
    }),
  );
};

async function json(res: UpstreamResponse): Promise<Record<string, unknown>> {
  return JSON.parse((await readAll(res.body)).toString()) as Record<string, unknown>;
}

describe('UpstreamPool exchanges', () => {
  it('GETs a response with its status, fields and body', T, () =>
    using(httpUpstream(echo), async (up, pool) => {
      const res = await pool.request(up.target, get('/a?b=1'));
      assert.equal(res.status, 200);
      assert.equal(field(res.headers, 'content-type'), 'application/json');
      assert.deepEqual(await json(res), { method: 'GET', url: '/a?b=1', body: '', trailers: {} });
    }),
  );

  it('streams an unknown-length body chunked, with trailers, dropping the caller framing fields', T, () =>
    using(httpUpstream(echo), async (up, pool) => {
      const headers: FieldList = [
        ['Host', 't'],
        ['Content-Length', '999'],
        ['Transfer-Encoding', 'gzip'],
      ];
      const res = await pool.request(up.target, {
        method: 'POST',
        target: '/up',
        headers: [...headers, ['Trailer', 'X-Sum']],
        body: streamOf('hello ', '', 'chunked ', 'world'),
        trailers: () => [['X-Sum', '42']],
      });
      const seen = await json(res);
      assert.deepEqual(seen, {
        method: 'POST',
        url: '/up',
        te: 'chunked',
        body: 'hello chunked world',
        trailers: { 'x-sum': '42' },
      });
    }),
  );

  it('sends a known-length body with Content-Length', T, () =>
    using(httpUpstream(echo), async (up, pool) => {
      const body = streamOf('abc', 'defg');
      const res = await pool.request(up.target, {
        method: 'PUT',
        target: '/',
        headers: [],
        body,
        bodyLength: 7,
      });
      assert.deepEqual(await json(res), { method: 'PUT', url: '/', cl: '7', body: 'abcdefg', trailers: {} });
      // RFC 9110 §8.6: a POST without a body still says its length.
      const empty = await pool.request(up.target, { method: 'POST', target: '/', headers: [] });
      assert.equal((await json(empty)).cl, '0');
    }),
  );

  it('reads no body for HEAD, 204 and 304, and reuses the socket after each', T, () =>
    using(
      httpUpstream((req, res) => {
        const status = Number(req.url!.slice(1));
        res.writeHead(status, { 'Content-Length': '100', ETag: '"x"' });
        res.end(req.method === 'HEAD' || status !== 200 ? undefined : 'x'.repeat(100));
      }),
      async (up, pool) => {
        for (const [method, path] of [
          ['HEAD', '/200'],
          ['GET', '/204'],
          ['GET', '/304'],
        ] as const) {
          const res = await pool.request(up.target, { ...get(path), method });
          assert.equal(res.status, Number(path.slice(1)));
          assert.equal((await readAll(res.body)).length, 0);
        }
        assert.equal(up.connections(), 1);
        assert.deepEqual(pool.stats(up.target), { open: 1, idle: 1, active: 0 });
      },
    ),
  );

  it('decodes a chunked response and reports its trailers', T, () =>
    using(
      httpUpstream((_req, res) => {
        res.writeHead(200, { Trailer: 'X-Digest' });
        res.write('one ');
        res.write('two');
        res.addTrailers({ 'X-Digest': 'abc' });
        res.end();
      }),
      async (up, pool) => {
        const res = await pool.request(up.target, get());
        assert.equal((await readAll(res.body)).toString(), 'one two');
        assert.deepEqual(res.trailers(), [['X-Digest', 'abc']]);
      },
    ),
  );

  it('reads a close-delimited body to the end of the connection, then drops the socket', T, () =>
    using(
      rawUpstream((socket) =>
        onRequestHeads(socket, () => {
          socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ');
          setTimeout(() => socket.end('part two'), 20);
        }),
      ),
      async (up, pool) => {
        const res = await pool.request(up.target, get());
        assert.equal((await readAll(res.body)).toString(), 'part one, part two');
        await eventually(() => pool.stats(up.target).open === 0);
      },
    ),
  );

  it('talks to a Berth server', T, async () => {
    const server = createServer(async (req, res) => {
      res.setHeader('X-Method', req.method);
      res.end(`got ${(await req.text()).length} bytes`);
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const pool = new UpstreamPool();
    try {
      const target = {
        kind: 'tcp',
        host: '127.0.0.1',
        port: (server.address() as { port: number }).port,
        tls: false,
      } as const;
      for (let i = 0; i < 3; i++) {
        const res = await pool.request(target, {
          method: 'POST',
          target: '/',
          headers: [['Host', 'b']],
          body: streamOf('ab', 'cd'),
        });
        assert.equal(field(res.headers, 'x-method'), 'POST');
        assert.equal((await readAll(res.body)).toString(), 'got 4 bytes');
      }
      assert.deepEqual(pool.stats(target), { open: 1, idle: 1, active: 0 });
    } finally {
      pool.close();
      await server.close();
    }
  });

  it('talks to a unix-socket upstream', T, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-pool-'));
    try {
      await using(httpUpstream(echo, { path: join(dir, 'up.sock') }), async (up, pool) => {
        assert.equal(up.target.kind, 'unix');
        const res = await pool.request(up.target, get('/unix'));
        assert.equal((await json(res)).url, '/unix');
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports 100 and 103 interim responses, then returns the final one', T, () =>
    using(
      rawUpstream((socket) =>
        onRequestHeads(socket, () => {
          socket.write(
            'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n',
          );
          setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 10);
        }),
      ),
      async (up, pool) => {
        const seen: [number, FieldList][] = [];
        const res = await pool.request(up.target, get('/', { onInformational: (s, h) => seen.push([s, h]) }));
        assert.deepEqual(seen, [
          [100, []],
          [103, [['Link', '</s.css>; rel=preload']]],
        ]);
        assert.equal((await readAll(res.body)).toString(), 'ok');
      },
    ),
  );

  it('refuses a head that could be split before connecting', T, () =>
    using(httpUpstream(echo), async (up, pool) => {
      await assert.rejects(
        pool.request(up.target, get('/', { headers: [['X-A', 'b\r\nX-Evil: 1']] })),
        TypeError,
      );
      await assert.rejects(pool.request(up.target, get('/a b')), TypeError);
      assert.equal(up.connections(), 0);
    }),
  );
});

describe('UpstreamPool pooling', () => {
  it('reuses one connection for ten sequential requests', T, () =>
    using(httpUpstream(echo), async (up, pool) => {
      for (let i = 0; i < 10; i++) await json(await pool.request(up.target, get(`/${i}`)));
      assert.equal(up.connections(), 1);
    }),
  );

  it('does not reuse a socket after a response with Connection: close', T, () =>
    using(
      httpUpstream((_req, res) => {
        res.setHeader('Connection', 'close');
        res.end('bye');
      }),
      async (up, pool) => {
        for (let i = 0; i < 2; i++) {
          assert.equal((await readAll((await pool.request(up.target, get())).body)).toString(), 'bye');
          assert.equal(pool.stats(up.target).idle, 0);
        }
        assert.equal(up.connections(), 2);
      },
    ),
  );

  it('queues requests beyond maxSockets', T, () =>
    using(
      httpUpstream((_req, res) => setTimeout(() => res.end('done'), 20)),
      async (up, pool) => {
        let maxActive = 0;
        const all = Array.from({ length: 10 }, async () => {
          const res = await pool.request(up.target, get());
          maxActive = Math.max(maxActive, pool.stats(up.target).active);
          return (await readAll(res.body)).toString();
        });
        assert.deepEqual(await Promise.all(all), Array(10).fill('done'));
        assert.ok(up.connections() <= 2, `${up.connections()} connections`);
        assert.ok(maxActive <= 2);
      },
      { maxSockets: 2 },
    ),
  );

  it('closes idle sockets after the idle timeout', T, () =>
    using(
      httpUpstream(echo),
      async (up, pool) => {
        await json(await pool.request(up.target, get()));
        assert.deepEqual(pool.stats(up.target), { open: 1, idle: 1, active: 0 });
        await eventually(() => pool.stats(up.target).open === 0 && up.openSockets() === 0);
      },
      { idleTimeoutMs: 100 },
    ),
  );

  it('drops an idle socket the upstream closed, and the next request opens a new one', T, () =>
    using(
      rawUpstream((socket) =>
        onRequestHeads(socket, (s) => {
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          setTimeout(() => s.end(), 20);
        }),
      ),
      async (up, pool) => {
        await readAll((await pool.request(up.target, get())).body);
        assert.equal(pool.stats(up.target).idle, 1);
        await eventually(() => pool.stats(up.target).open === 0);
        assert.equal((await readAll((await pool.request(up.target, get())).body)).toString(), 'ok');
        assert.equal(up.connections(), 2);
      },
    ),
  );

  it('retries a GET once on a fresh socket when a reused one is closed under it', T, () =>
    using(
      rawUpstream((socket) =>
        onRequestHeads(socket, (s, index) => {
          // The second request on a connection meets a close, as if the idle timeout crossed it.
          if (index === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          else s.destroy();
        }),
      ),
      async (up, pool) => {
        for (let i = 0; i < 3; i++)
          assert.equal((await readAll((await pool.request(up.target, get())).body)).toString(), 'ok');
        assert.equal(up.connections(), 3);
        // A POST with a body is not replayed: the caller learns the request was sent.
        const post = pool.request(up.target, {
          method: 'POST',
          target: '/',
          headers: [],
          body: streamOf('x'),
        });
        await rejectsWith(post, 'reset', true);
      },
    ),
  );

  it('reports connection refused as connect, with nothing sent', T, async () => {
    const pool = new UpstreamPool();
    const target = { kind: 'tcp', host: '127.0.0.1', port: await closedPort(), tls: false } as const;
    await rejectsWith(pool.request(target, get()), 'connect', false);
    assert.deepEqual(pool.stats(target), { open: 0, idle: 0, active: 0 });
    pool.close();
  });
});

describe('UpstreamPool failures', () => {
  it('throws from the body iterator when the body is cut, never ending it short', T, () =>
    using(
      rawUpstream((socket) =>
        onRequestHeads(socket, (s) =>
          s.end(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(50)}`),
        ),
      ),
      async (up, pool) => {
        const res = await pool.request(up.target, get());
        await rejectsWith(readAll(res.body), 'reset', true);
      },
    ),
  );

  it('throws from the body iterator when a chunked body stops before its last chunk', T, () =>
    using(
      rawUpstream((socket) =>
        onRequestHeads(socket, (s) =>
          s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'),
        ),
      ),
      async (up, pool) => {
        const res = await pool.request(up.target, get());
        await rejectsWith(readAll(res.body), 'reset', true);
      },
    ),
  );

  it('refuses Content-Length with Transfer-Encoding as a protocol error and drops the socket', T, () =>
    using(
      rawUpstream((socket) =>
        onRequestHeads(socket, (s) =>
          s.write(
            'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
          ),
        ),
      ),
      async (up, pool) => {
        await rejectsWith(pool.request(up.target, get()), 'protocol', true);
        await eventually(() => up.openSockets() === 0);
      },
    ),
  );

  it('times out waiting for the head, and aborts on the signal', T, () =>
    using(
      rawUpstream((socket) => socket.resume()),
      async (up, pool) => {
        await rejectsWith(pool.request(up.target, get()), 'timeout', true);
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 20);
        await assert.rejects(pool.request(up.target, get('/', { signal: controller.signal })), {
          name: 'AbortError',
        });
        await eventually(() => up.openSockets() === 0 && pool.stats(up.target).open === 0);
      },
      { responseTimeoutMs: 100 },
    ),
  );

  it('abort() on a response drops its socket', T, () =>
    using(
      httpUpstream((_req, res) => res.write('first')),
      async (up, pool) => {
        const res = await pool.request(up.target, get());
        const it = res.body[Symbol.asyncIterator]();
        assert.equal((await it.next()).value?.toString(), 'first');
        res.abort();
        await assert.rejects(it.next(), { name: 'AbortError' });
        await eventually(() => up.openSockets() === 0 && pool.stats(up.target).open === 0);
      },
    ),
  );
});

describe('UpstreamPool upgrades and tunnels', () => {
  /** Writes `text` to the relayed socket and reads the same number of bytes back. */
  async function roundTrip(socket: Duplex, head: Buffer, text: string): Promise<string> {
    let got = head.toString();
    socket.write(text);
    socket.resume();
    while (got.length < text.length) got += ((await once(socket, 'data')) as [Buffer])[0].toString();
    return got;
  }

  const echoSocket = (socket: Duplex, head: Buffer) => {
    socket.write(head);
    socket.pipe(socket);
  };

  it('returns the socket of a 101 for relaying both ways', T, () =>
    using(
      httpUpstream(echo, {
        setup: (server) =>
          server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
            assert.equal(req.headers.connection, 'Upgrade');
            socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
            echoSocket(socket, head);
          }),
      }),
      async (up, pool) => {
        const result = await pool.upgrade(up.target, {
          method: 'GET',
          target: '/ws',
          headers: [
            ['Host', 'h'],
            ['Upgrade', 'echo'],
          ],
        });
        assert.equal(result.status, 101);
        const upgrade = result as UpstreamUpgrade;
        assert.equal(field(upgrade.headers, 'upgrade'), 'echo');
        assert.equal(await roundTrip(upgrade.socket, upgrade.head, 'ping pong'), 'ping pong');
        assert.deepEqual(pool.stats(up.target), { open: 0, idle: 0, active: 0 });
        upgrade.socket.destroy();
      },
    ),
  );

  it('returns the socket of a 200 to CONNECT, and an ordinary response to a refused one', T, () =>
    using(
      httpUpstream(echo, {
        setup: (server) =>
          server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
            if (req.url === 'denied:443')
              return void socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno');
            socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            echoSocket(socket, head);
          }),
      }),
      async (up, pool) => {
        const tunnel = (await pool.upgrade(up.target, {
          method: 'CONNECT',
          target: 'x:443',
          headers: [['Host', 'x:443']],
        })) as UpstreamUpgrade;
        assert.equal(tunnel.status, 200);
        assert.equal(await roundTrip(tunnel.socket, tunnel.head, 'tunnelled bytes'), 'tunnelled bytes');
        tunnel.socket.destroy();
        const denied = await pool.upgrade(up.target, {
          method: 'CONNECT',
          target: 'denied:443',
          headers: [],
        });
        assert.ok(!('socket' in denied));
        assert.equal(denied.status, 403);
        assert.equal((await readAll(denied.body)).toString(), 'no');
      },
    ),
  );
});

describe('UpstreamPool TLS', () => {
  it('verifies the upstream against options.ca, and refuses an unknown CA with tls', T, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-pool-tls-'));
    try {
      const cert = await ensureLocalCertificate({ dataDir });
      await using(httpsUpstream(cert.cert, cert.key, echo), async (up) => {
        const trusting = new UpstreamPool({ ca: cert.caCert });
        const named =
          up.target.kind === 'tcp' ? { ...up.target, host: 'localhost', servername: 'localhost' } : up.target;
        for (const target of [up.target, named]) {
          assert.equal((await json(await trusting.request(target, get('/tls')))).url, '/tls');
        }
        trusting.close();
        const strict = new UpstreamPool();
        await rejectsWith(strict.request(up.target, get()), 'tls', false);
        strict.close();
        const insecure = new UpstreamPool({ insecure: true });
        assert.equal((await insecure.request(up.target, get())).status, 200);
        insecure.close();
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('UpstreamPool large bodies', () => {
  const SIZE = 16 * MiB;
  const CHUNK = 64 * 1024;

  it('streams 16 MiB down with backpressure reaching the upstream', { timeout: 30_000 }, async () => {
    let sent = 0;
    await using(
      httpUpstream(async (_req, res) => {
        const chunk = Buffer.alloc(CHUNK, 7);
        while (sent < SIZE) {
          sent += CHUNK;
          if (!res.write(chunk)) await once(res, 'drain');
        }
        res.end();
      }),
      async (up, pool) => {
        const res = await pool.request(up.target, get());
        const it = res.body[Symbol.asyncIterator]();
        let received = (await it.next()).value!.length;
        await sleep(300);
        // Without backpressure the whole body would be in memory by now.
        assert.ok(sent < SIZE / 2, `upstream got ${sent} bytes ahead of a reader that stopped`);
        for (let step = await it.next(); !step.done; step = await it.next()) received += step.value.length;
        assert.equal(received, SIZE);
      },
    );
  });

  it('streams 16 MiB up, pulled only as fast as the upstream reads', { timeout: 30_000 }, async () => {
    let produced = 0;
    async function* body(): AsyncGenerator<Buffer> {
      const chunk = Buffer.alloc(CHUNK, 3);
      while (produced < SIZE) {
        produced += CHUNK;
        yield chunk;
      }
    }
    await using(
      httpUpstream(async (req, res) => {
        req.pause();
        await sleep(300);
        res.setHeader('X-Produced-While-Paused', String(produced));
        let total = 0;
        for await (const chunk of req) total += (chunk as Buffer).length;
        res.end(String(total));
      }),
      async (up, pool) => {
        const res = await pool.request(up.target, { method: 'POST', target: '/', headers: [], body: body() });
        assert.equal((await readAll(res.body)).toString(), String(SIZE));
        const whilePaused = Number(field(res.headers, 'x-produced-while-paused'));
        assert.ok(whilePaused < SIZE / 2, `${whilePaused} bytes pulled while the upstream was not reading`);
      },
    );
  });
});
