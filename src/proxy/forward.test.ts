/**
 * The forward proxy handler on a real Berth server, with a scripted upstream pool in place of
 * upstream-pool.ts: what goes upstream (target, fields, body) and what comes back to the client.
 * test/e2e/forward-proxy.test.ts runs the same handler against the real pool and real origins.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import {
  closeServer,
  exchange,
  field,
  RawClient,
  type Running,
  startServer,
} from '../../test/e2e/raw-client.js';
import { createForwardProxy, type ForwardProxyOptions, type ForwardUpstream } from './forward.js';
import {
  type FieldList,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
} from './upstream-types.js';

const PSEUDONYM = 'berth-test-3128';

type Call = {
  target: UpstreamTarget;
  request: UpstreamRequest;
  body: Buffer;
  trailers: FieldList | undefined;
};

type Script = {
  status?: number;
  reason?: string;
  headers?: FieldList;
  /** Body pieces; an Error throws from the body iterator at that point. */
  chunks?: (string | Error)[];
  trailers?: FieldList;
  informational?: [number, FieldList][];
  /** Rejects request() with this instead of answering. */
  fail?: Error;
  /** Waits between chunks, so a client can leave in the middle. */
  chunkDelayMs?: number;
};

/** A pool that reads the request body like a real one and answers from `script`. */
class FakePool implements ForwardUpstream {
  calls: Call[] = [];
  aborted = 0;
  script: Script = {};

  async request(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamResponse> {
    const parts: Buffer[] = [];
    if (request.body !== undefined) for await (const chunk of request.body) parts.push(chunk);
    this.calls.push({ target, request, body: Buffer.concat(parts), trailers: request.trailers?.() });
    const script = this.script;
    if (script.fail !== undefined) throw script.fail;
    for (const [status, fields] of script.informational ?? []) request.onInformational?.(status, fields);
    let aborted = false;
    async function* body(): AsyncGenerator<Buffer> {
      for (const piece of script.chunks ?? []) {
        if (script.chunkDelayMs !== undefined) await new Promise((r) => setTimeout(r, script.chunkDelayMs));
        if (aborted) throw new Error('aborted');
        if (piece instanceof Error) throw piece;
        yield Buffer.from(piece);
      }
    }
    return {
      status: script.status ?? 200,
      reason: script.reason ?? 'OK',
      headers: script.headers ?? [],
      body: body(),
      trailers: () => script.trailers ?? [],
      abort: () => {
        aborted = true;
        this.aborted++;
      },
    };
  }

  get last(): Call {
    const call = this.calls.at(-1);
    assert.ok(call !== undefined, 'the pool was called');
    return call;
  }
}

const pool = new FakePool();
const logged: string[] = [];
const reported: unknown[] = [];
let open: Running;
let echo: net.Server;
let echoPort = 0;

async function proxy(options: Partial<ForwardProxyOptions>): Promise<Running> {
  return startServer(
    createForwardProxy({ pool, pseudonym: PSEUDONYM, log: (line) => logged.push(line), ...options }),
    { onError: (err) => reported.push(err) },
  );
}

before(async () => {
  echo = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
  open = await proxy({ connectPorts: [443, echoPort] });
});

after(async () => {
  await closeServer(open.server);
  await new Promise((resolve) => echo.close(resolve));
});

function reset(script: Script = {}): void {
  pool.calls = [];
  pool.aborted = 0;
  pool.script = script;
  logged.length = 0;
  reported.length = 0;
}

function names(fields: FieldList): string[] {
  return fields.map(([name]) => name.toLowerCase());
}

test('an absolute-form request goes upstream in origin-form with Host from the URI and hop-by-hop fields gone', async () => {
  reset({
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '5'],
      ['Connection', 'keep-alive, X-Hop'],
      ['X-Hop', '1'],
      ['Keep-Alive', 'timeout=4'],
      ['Server', 'origin'],
    ],
    chunks: ['hello'],
  });
  const result = await exchange(
    { port: open.port },
    'GET http://Example.TEST:8080/a/b?c=d HTTP/1.1\r\nHost: wrong.test\r\nProxy-Connection: keep-alive\r\n' +
      'Proxy-Authorization: Basic eDp5\r\nConnection: X-Private\r\nX-Private: secret\r\nTE: trailers\r\n' +
      'Via: 1.0 earlier\r\nAccept: text/plain\r\n\r\n',
    { responses: 1 },
  );
  const call = pool.last;
  assert.deepEqual(call.target, { kind: 'tcp', host: 'Example.TEST', port: 8080, tls: false });
  assert.equal(call.request.method, 'GET');
  assert.equal(call.request.target, '/a/b?c=d');
  assert.equal(call.request.body, undefined);
  assert.deepEqual(call.request.headers, [
    ['Host', 'Example.TEST:8080'],
    ['Accept', 'text/plain'],
    ['Via', `1.0 earlier, 1.1 ${PSEUDONYM}`],
  ]);
  const res = result.finals[0]!;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'hello');
  assert.equal(res.framing, 'length');
  assert.equal(field(res, 'content-length'), '5');
  assert.equal(field(res, 'server'), 'origin');
  assert.equal(field(res, 'via'), `1.1 ${PSEUDONYM}`);
  assert.equal(field(res, 'x-hop'), undefined);
  assert.equal(field(res, 'keep-alive'), undefined);
  assert.deepEqual(reported, []);
});

test('the default port is 80, an empty path becomes "/", and OPTIONS without a path becomes "*"', async () => {
  reset();
  await exchange({ port: open.port }, 'GET http://example.test HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.deepEqual(pool.last.target, { kind: 'tcp', host: 'example.test', port: 80, tls: false });
  assert.equal(pool.last.request.target, '/');
  assert.deepEqual(pool.last.request.headers[0], ['Host', 'example.test']);
  await exchange({ port: open.port }, 'GET http://example.test?q HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.equal(pool.last.request.target, '/?q');
  await exchange({ port: open.port }, 'OPTIONS http://example.test:81 HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.equal(pool.last.request.target, '*');
  await exchange({ port: open.port }, 'GET http://[::1]:81/x HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 });
  assert.deepEqual(pool.last.target, { kind: 'tcp', host: '::1', port: 81, tls: false });
  assert.deepEqual(pool.last.request.headers[0], ['Host', '[::1]:81']);
});

test('status, reason, repeated fields and a chunked body with trailers come back as sent', async () => {
  reset({
    status: 299,
    reason: 'Custom Reason',
    headers: [
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Transfer-Encoding', 'chunked'],
      ['Trailer', 'X-Sum'],
      ['Via', '1.1 origin-side'],
    ],
    chunks: ['one,', 'two'],
    trailers: [['X-Sum', 'abc']],
  });
  const result = await exchange({ port: open.port }, 'GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  const res = result.finals[0]!;
  assert.equal(res.status, 299);
  assert.equal(res.reason, 'Custom Reason');
  assert.deepEqual(
    res.fields.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v),
    ['a=1', 'b=2'],
  );
  assert.equal(res.framing, 'chunked');
  assert.equal(res.body.toString(), 'one,two');
  assert.deepEqual(res.trailers, [['X-Sum', 'abc']]);
  assert.equal(field(res, 'via'), `1.1 origin-side, 1.1 ${PSEUDONYM}`);
});

test('a HEAD response keeps the upstream Content-Length without a body', async () => {
  reset({ headers: [['Content-Length', '1234']] });
  const result = await exchange(
    { port: open.port },
    'HEAD http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n',
    {
      responses: 1,
      methods: ['HEAD'],
    },
  );
  assert.equal(field(result.finals[0]!, 'content-length'), '1234');
  assert.equal(pool.last.request.method, 'HEAD');
});

test('a request body is streamed upstream with its length, or chunked with its trailers', async () => {
  reset();
  await exchange(
    { port: open.port },
    'POST http://example.test/up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello',
    { responses: 1 },
  );
  assert.equal(pool.last.request.bodyLength, 5);
  assert.equal(pool.last.body.toString(), 'hello');
  assert.ok(!names(pool.last.request.headers).includes('expect'));
  await exchange(
    { port: open.port },
    'PUT http://example.test/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Check\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Check: 1\r\n\r\n',
    { responses: 1 },
  );
  assert.equal(pool.last.request.bodyLength, undefined);
  assert.equal(pool.last.body.toString(), 'abcde');
  assert.deepEqual(pool.last.trailers, [['x-check', '1']]);
  assert.ok(!names(pool.last.request.headers).includes('trailer'));
});

test('103 Early Hints is passed on; the upstream 100 Continue is not (the engine sends its own)', async () => {
  reset({
    informational: [
      [100, []],
      [103, [['Link', '</a.css>; rel=preload']]],
    ],
    chunks: ['ok'],
  });
  const result = await exchange({ port: open.port }, 'GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.deepEqual(
    result.responses.map((r) => r.status),
    [103, 200],
  );
  assert.equal(field(result.responses[0]!, 'link'), '</a.css>; rel=preload');
});

test('an HTTP/1.0 client gets no interim responses', async () => {
  reset({ informational: [[103, [['Link', '</a.css>; rel=preload']]]], chunks: ['ok'] });
  const result = await exchange({ port: open.port }, 'GET http://example.test/ HTTP/1.0\r\n\r\n');
  assert.deepEqual(
    result.responses.map((r) => r.status),
    [200],
  );
  assert.equal(pool.last.request.headers.at(-1)?.[1], `1.0 ${PSEUDONYM}`);
});

test('an origin-form request is refused with 400: this is a proxy', async () => {
  reset();
  const result = await exchange({ port: open.port }, 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.equal(result.finals[0]!.status, 400);
  assert.match(result.finals[0]!.body.toString(), /proxy/);
  assert.equal(pool.calls.length, 0);
});

test('https: and other schemes in absolute-form are refused with 400, https: pointing at CONNECT', async () => {
  reset();
  const https = await exchange({ port: open.port }, 'GET https://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.equal(https.finals[0]!.status, 400);
  assert.match(https.finals[0]!.body.toString(), /CONNECT/);
  const ftp = await exchange({ port: open.port }, 'GET ftp://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.equal(ftp.finals[0]!.status, 400);
  assert.equal(pool.calls.length, 0);
});

test('a request already carrying our pseudonym in Via is refused as a loop with 508', async () => {
  reset();
  const result = await exchange(
    { port: open.port },
    `GET http://example.test/ HTTP/1.1\r\nHost: x\r\nVia: 1.1 other, 1.1 ${PSEUDONYM}\r\n\r\n`,
    { responses: 1 },
  );
  assert.equal(result.finals[0]!.status, 508);
  assert.match(result.finals[0]!.body.toString(), /loop/);
  assert.equal(pool.calls.length, 0);
  assert.equal(logged.length, 1);
});

test('Max-Forwards: 0 on OPTIONS is answered by the proxy with Allow', async () => {
  reset();
  const result = await exchange(
    { port: open.port },
    'OPTIONS http://example.test/ HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\n\r\n',
    { responses: 1 },
  );
  const res = result.finals[0]!;
  assert.equal(res.status, 200);
  assert.match(field(res, 'allow') ?? '', /GET/);
  assert.equal(pool.calls.length, 0);
});

test('Max-Forwards: 0 on TRACE echoes the request head as message/http, without credentials', async () => {
  reset();
  const head =
    'TRACE http://example.test/t HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nX-A: 1\r\nCookie: c=1\r\n\r\n';
  const result = await exchange({ port: open.port }, head, { responses: 1 });
  const res = result.finals[0]!;
  assert.equal(res.status, 200);
  assert.equal(field(res, 'content-type'), 'message/http');
  assert.equal(
    res.body.toString(),
    'TRACE http://example.test/t HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nX-A: 1\r\n\r\n',
  );
  assert.equal(pool.calls.length, 0);
});

test('Max-Forwards above 0 on OPTIONS and TRACE is decremented; on other methods it passes untouched', async () => {
  reset();
  await exchange(
    { port: open.port },
    'OPTIONS http://example.test/ HTTP/1.1\r\nHost: x\r\nMax-Forwards: 3\r\n\r\n',
    { responses: 1 },
  );
  assert.deepEqual(
    pool.last.request.headers.find(([n]) => n === 'Max-Forwards'),
    ['Max-Forwards', '2'],
  );
  await exchange(
    { port: open.port },
    'TRACE http://example.test/ HTTP/1.1\r\nHost: x\r\nMax-Forwards: 1\r\n\r\n',
    { responses: 1 },
  );
  assert.deepEqual(
    pool.last.request.headers.find(([n]) => n === 'Max-Forwards'),
    ['Max-Forwards', '0'],
  );
  await exchange(
    { port: open.port },
    'GET http://example.test/ HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\n\r\n',
    { responses: 1 },
  );
  assert.deepEqual(
    pool.last.request.headers.find(([n]) => n === 'Max-Forwards'),
    ['Max-Forwards', '0'],
  );
});

test('upstream failures before the response become 502 (connect, reset, protocol) or 504 (timeout)', async () => {
  const cases: [UpstreamError, number][] = [
    [new UpstreamError('connect', 'connect ECONNREFUSED 127.0.0.1:9', false), 502],
    [new UpstreamError('reset', 'socket hang up', true), 502],
    [new UpstreamError('protocol', 'bad status line', true), 502],
    [new UpstreamError('timeout', 'no response head within 50 ms', true), 504],
  ];
  for (const [error, status] of cases) {
    reset({ fail: error });
    const result = await exchange(
      { port: open.port },
      'GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n',
      { responses: 1 },
    );
    assert.equal(result.finals[0]!.status, status, error.kind);
    assert.match(result.finals[0]!.body.toString(), /example\.test/);
    assert.equal(logged.length, 1);
  }
  assert.deepEqual(reported, [], 'upstream failures are answered, not reported as handler errors');
});

test('a body failing before its first byte is still answered with 502 or 504', async () => {
  reset({
    headers: [['Content-Length', '10']],
    chunks: [new UpstreamError('timeout', 'body stalled', true)],
  });
  const result = await exchange({ port: open.port }, 'GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n', {
    responses: 1,
  });
  assert.equal(result.finals[0]!.status, 504);
  assert.equal(field(result.finals[0]!, 'content-length'), String(result.finals[0]!.body.length));
  assert.equal(pool.aborted, 1);
});

test('a body cut in the middle cuts the client connection: never a short body that looks complete', async () => {
  reset({
    headers: [['Transfer-Encoding', 'chunked']],
    chunks: ['part one', new UpstreamError('reset', 'socket hang up', true)],
  });
  const chunked = await exchange({ port: open.port }, 'GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(chunked.closed, true);
  assert.equal(chunked.finals.length, 0, 'no complete response');
  assert.match(chunked.text, /part one/);
  assert.doesNotMatch(chunked.text, /\r\n0\r\n\r\n$/);

  reset({
    headers: [['Content-Length', '20']],
    chunks: ['part one', new UpstreamError('reset', 'socket hang up', true)],
  });
  const length = await exchange({ port: open.port }, 'GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(length.closed, true);
  assert.equal(length.finals.length, 0, 'no complete response');
  assert.equal(pool.aborted, 1);
});

test('a client that leaves during the body aborts the upstream response', async () => {
  reset({
    headers: [['Transfer-Encoding', 'chunked']],
    chunks: ['a', 'b', 'c', 'd', 'e'],
    chunkDelayMs: 100,
  });
  const client = await RawClient.connect({ port: open.port });
  await client.write('GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.until(() => client.text.includes('\r\n\r\n'), 2_000, 'the response head');
  client.destroy();
  const deadline = Date.now() + 2_000;
  while (pool.aborted === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(pool.aborted, 1);
  assert.equal(pool.last.request.signal?.aborted, true);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(reported, [], 'a client leaving is not a handler error');
});

test('clients outside the allow list get 403 and a log line', async () => {
  reset();
  const closed = await proxy({ allow: ['10.0.0.0/8', '::ffff:192.168.0.0/112'] });
  try {
    const result = await exchange(
      { port: closed.port },
      'GET http://example.test/ HTTP/1.1\r\nHost: x\r\n\r\n',
      { responses: 1 },
    );
    assert.equal(result.finals[0]!.status, 403);
    assert.equal(pool.calls.length, 0);
    assert.match(logged[0] ?? '', /127\.0\.0\.1.*not in the allowed/);
    const connect = await exchange(
      { port: closed.port },
      'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n',
      { responses: 1 },
    );
    assert.equal(connect.finals[0]!.status, 403);
  } finally {
    await closeServer(closed.server);
  }
});

test('with auth, a missing or wrong Proxy-Authorization gets 407 with a challenge; the right one passes', async () => {
  reset({ chunks: ['ok'] });
  const guarded = await proxy({ auth: { user: 'user', pass: 'pa:ss' } });
  const request = (extra: string) =>
    exchange({ port: guarded.port }, `GET http://example.test/ HTTP/1.1\r\nHost: x\r\n${extra}\r\n`, {
      responses: 1,
    });
  try {
    const missing = (await request('')).finals[0]!;
    assert.equal(missing.status, 407);
    assert.equal(field(missing, 'proxy-authenticate'), 'Basic realm="berth"');
    assert.equal(logged.length, 0, 'a missing Proxy-Authorization is the normal first step, not logged');
    const wrong = (
      await request(`Proxy-Authorization: Basic ${Buffer.from('user:nope').toString('base64')}\r\n`)
    ).finals[0]!;
    assert.equal(wrong.status, 407);
    assert.equal(logged.length, 1);
    const other = (await request(`Authorization: Basic ${Buffer.from('user:pa:ss').toString('base64')}\r\n`))
      .finals[0]!;
    assert.equal(other.status, 407, 'Authorization is for the origin, not the proxy');
    assert.equal(pool.calls.length, 0);
    const right = (
      await request(`Proxy-Authorization: Basic ${Buffer.from('user:pa:ss').toString('base64')}\r\n`)
    ).finals[0]!;
    assert.equal(right.status, 200);
    assert.ok(!names(pool.last.request.headers).includes('proxy-authorization'));
  } finally {
    await closeServer(guarded.server);
  }
});

test('CONNECT to a port not allowed is refused with 403', async () => {
  reset();
  const result = await exchange(
    { port: open.port },
    'CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n',
    { responses: 1 },
  );
  assert.equal(result.finals[0]!.status, 403);
  assert.match(result.finals[0]!.body.toString(), /443/);
});

test('CONNECT opens a tunnel that carries bytes both ways, early bytes included', async () => {
  reset();
  const client = await RawClient.connect({ port: open.port });
  try {
    await client.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\nearly;`);
    await client.until(() => client.text.includes('early;'), 3_000, 'the early bytes echoed');
    assert.match(client.text, /^HTTP\/1\.1 200 /);
    await client.write('later');
    await client.until(() => client.text.endsWith('later'), 3_000, 'the later bytes echoed');
    client.end();
    await client.waitForClose();
  } finally {
    client.destroy();
  }
  const deadline = Date.now() + 2_000;
  while (!logged.some((l) => l.includes('tunnel')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.match(logged.find((l) => l.includes('tunnel')) ?? '', /11 bytes up, 11 down/);
});

test('CONNECT to a port nobody listens on gets 502', async () => {
  reset();
  const free = net.createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const port = (free.address() as net.AddressInfo).port;
  await new Promise((resolve) => free.close(resolve));
  const closedPort = await proxy({ connectPorts: [port] });
  try {
    const result = await exchange(
      { port: closedPort.port },
      `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
      { responses: 1 },
    );
    assert.equal(result.finals[0]!.status, 502);
    assert.match(result.finals[0]!.body.toString(), /ECONNREFUSED/);
  } finally {
    await closeServer(closedPort.server);
  }
});

test('createForwardProxy() rejects bad options at once', () => {
  assert.throws(() => createForwardProxy({ pool, pseudonym: 'has space' }), TypeError);
  assert.throws(() => createForwardProxy({ pool, pseudonym: PSEUDONYM, allow: ['10.0.0.0/40'] }), RangeError);
  assert.throws(() => createForwardProxy({ pool, pseudonym: PSEUDONYM, connectPorts: [0] }), RangeError);
  assert.throws(() => createForwardProxy({ pool, pseudonym: PSEUDONYM, auth: { user: '', pass: 'x' } }));
  assert.throws(() => createForwardProxy({ pool, pseudonym: PSEUDONYM, tunnelIdleTimeoutMs: 0 }), RangeError);
});
