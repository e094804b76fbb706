/**
 * The reverse proxy against a scripted upstream pool: each test says what each upstream does
 * (answer, fail with an UpstreamError, stall), so retries, failure statuses and the fields sent
 * can be checked exactly. A real Berth server carries the client side; test/e2e/ has the same
 * proxy against real upstreams and the real pool.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { createServer } from '../conn/server.js';
import { UpstreamGroup } from './balancer.js';
import {
  createReverseProxy,
  REPLAY_LIMIT_BYTES,
  type ReverseProxyOptions,
  type ReverseUpstream,
} from './reverse.js';
import {
  type FieldList,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
  type UpstreamUpgrade,
} from './upstream-types.js';

type Call = { upstream: string; request: UpstreamRequest; body: string | undefined };
type Behaviour = (request: UpstreamRequest, call: Call) => Promise<UpstreamResponse | UpstreamUpgrade>;

const A = 'http://127.0.0.1:1001';
const B = 'http://127.0.0.1:1002';
const C = 'http://127.0.0.1:1003';

function nameOf(target: UpstreamTarget): string {
  return target.kind === 'unix' ? `unix:${target.path}` : `http://${target.host}:${target.port}`;
}

/** A pool whose upstreams behave as scripted; every call is recorded, with the body it read. */
class ScriptedPool implements ReverseUpstream {
  readonly calls: Call[] = [];
  constructor(private readonly behaviours: Record<string, Behaviour>) {}

  request(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamResponse> {
    return this.run(target, request) as Promise<UpstreamResponse>;
  }

  upgrade(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamUpgrade | UpstreamResponse> {
    return this.run(target, request);
  }

  private run(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamResponse | UpstreamUpgrade> {
    const name = nameOf(target);
    const call: Call = { upstream: name, request, body: undefined };
    this.calls.push(call);
    const behaviour = this.behaviours[name] ?? ok('default');
    return behaviour(request, call);
  }
}

/** Reads the request body (as a pool sending it would), then answers. */
async function readBody(request: UpstreamRequest, call: Call): Promise<void> {
  if (request.body === undefined) return;
  const parts: Buffer[] = [];
  for await (const chunk of request.body) parts.push(chunk);
  call.body = Buffer.concat(parts).toString();
}

function response(
  status: number,
  headers: FieldList,
  chunks: readonly string[],
  options: { trailers?: FieldList; failAfter?: boolean; reason?: string } = {},
): UpstreamResponse {
  let aborted = false;
  return {
    status,
    reason: options.reason ?? '',
    headers,
    body: (async function* () {
      for (const chunk of chunks) {
        if (aborted) return;
        yield Buffer.from(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (options.failAfter === true) throw new UpstreamError('reset', 'upstream reset mid-body', true);
    })(),
    trailers: () => options.trailers ?? [],
    abort: () => {
      aborted = true;
    },
  };
}

function ok(text: string, headers: FieldList = []): Behaviour {
  return async (request, call) => {
    await readBody(request, call);
    return response(200, [['Content-Length', String(Buffer.byteLength(text))], ...headers], [text]);
  };
}

function fail(kind: UpstreamError['kind'], requestSent: boolean, readFirst = false): Behaviour {
  return async (request, call) => {
    if (readFirst) await readBody(request, call);
    throw new UpstreamError(kind, `${kind} failure`, requestSent);
  };
}

/** Never answers until aborted. */
const stall: Behaviour = (request) =>
  new Promise((_, reject) => {
    request.signal?.addEventListener('abort', () => reject(new UpstreamError('reset', 'aborted', true)));
  });

type Running = {
  url: string;
  port: number;
  lines: string[];
  group: UpstreamGroup;
  close: () => Promise<void>;
};

async function proxyWith(
  pool: ScriptedPool,
  urls: readonly string[],
  options: Partial<ReverseProxyOptions> = {},
): Promise<Running> {
  const group = new UpstreamGroup(urls);
  const lines: string[] = [];
  const handler = createReverseProxy({
    group,
    pool,
    pseudonym: 'berth-test',
    log: (line) => lines.push(line),
    ...options,
  });
  const server = createServer(handler, { onError: () => {} });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.address();
  assert.ok('port' in address);
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    lines,
    group,
    close: () => server.close(),
  };
}

/** Sends raw bytes, collects everything until the server closes or `until` matches. */
function raw(
  port: number,
  bytes: string,
  until: (text: string) => boolean,
  timeoutMs = 3000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out; received ${JSON.stringify(text)}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (until(text)) done();
    });
    socket.on('error', () => {});
    socket.on('close', done);
    socket.write(bytes);
  });
}

function sent(call: Call | undefined, name: string): string[] {
  assert.ok(call !== undefined, 'a call was made');
  return call.request.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

test('the request goes upstream with its target, its Host, forwarding fields and no hop-by-hop fields', async () => {
  const pool = new ScriptedPool({});
  const proxy = await proxyWith(pool, [A]);
  try {
    const text = await raw(
      proxy.port,
      'GET /a/b?c=d HTTP/1.1\r\nHost: public.example\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\n' +
        'Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nAccept: */*\r\n' +
        'X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n\r\n',
      () => false,
    );
    assert.match(text, /^HTTP\/1\.1 200 /);
    const call = pool.calls[0]!;
    assert.equal(call.request.method, 'GET');
    assert.equal(call.request.target, '/a/b?c=d');
    assert.deepEqual(sent(call, 'host'), ['public.example']);
    assert.deepEqual(sent(call, 'accept'), ['*/*']);
    for (const gone of ['connection', 'x-secret', 'keep-alive', 'te', 'proxy-authorization', 'upgrade']) {
      assert.deepEqual(sent(call, gone), [], `${gone} not forwarded`);
    }
    assert.deepEqual(sent(call, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(sent(call, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(sent(call, 'x-forwarded-host'), ['public.example']);
    assert.deepEqual(sent(call, 'forwarded'), ['for=127.0.0.1;host=public.example;proto=http']);
    assert.deepEqual(sent(call, 'via'), ['1.1 berth-test']);
    assert.equal(call.request.body, undefined);
  } finally {
    await proxy.close();
  }
});

test('trusted proxies keep their forwarding fields; secure says https', async () => {
  const pool = new ScriptedPool({});
  const proxy = await proxyWith(pool, [A], { trustProxy: ['127.0.0.0/8'], secure: true });
  try {
    await fetch(`${proxy.url}/`, {
      headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https' },
    });
    const call = pool.calls[0];
    assert.deepEqual(sent(call, 'x-forwarded-for'), ['203.0.113.9, 127.0.0.1']);
    assert.deepEqual(sent(call, 'x-forwarded-proto'), ['https']);
    assert.match(sent(call, 'forwarded')[0]!, /;proto=https$/);
  } finally {
    await proxy.close();
  }
});

test('an absolute-form target goes on in origin-form with Host from the URI; HTTP/1.0 without Host is sent without one', async () => {
  const pool = new ScriptedPool({});
  const proxy = await proxyWith(pool, [A]);
  try {
    await raw(
      proxy.port,
      'GET http://site.example/x?y HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n',
      () => false,
    );
    assert.equal(pool.calls[0]?.request.target, '/x?y');
    assert.deepEqual(sent(pool.calls[0], 'host'), ['site.example']);
    await raw(proxy.port, 'GET /z HTTP/1.0\r\n\r\n', () => false);
    assert.deepEqual(sent(pool.calls[1], 'host'), [], 'no Host: the pool sends the upstream authority');
    assert.deepEqual(sent(pool.calls[1], 'via'), ['1.0 berth-test']);
  } finally {
    await proxy.close();
  }
});

test('the response comes back with hop-by-hop fields dropped, Via appended, repeated fields and trailers kept', async () => {
  const pool = new ScriptedPool({
    [A]: async () =>
      response(
        201,
        [
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
          ['Connection', 'X-Hop'],
          ['X-Hop', 'secret'],
          ['Keep-Alive', 'timeout=4'],
          ['Via', '1.1 origin'],
          ['Transfer-Encoding', 'chunked'],
          ['Trailer', 'X-Sum'],
        ],
        ['hello ', 'world'],
        { trailers: [['X-Sum', '42']], reason: 'Made' },
      ),
  });
  const proxy = await proxyWith(pool, [A]);
  try {
    const text = await raw(proxy.port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', () => false);
    const [head, body] = text.split('\r\n\r\n', 2) as [string, string];
    assert.match(head, /^HTTP\/1\.1 201 Made\r\n/);
    assert.match(head, /\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n/);
    assert.match(head, /\r\nVia: 1\.1 origin, 1\.1 berth-test\r\n/);
    assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/);
    assert.doesNotMatch(head, /X-Hop|Keep-Alive|Trailer:/i);
    assert.match(body, /hello /);
    assert.match(body, /world/);
    assert.match(text, /\r\n0\r\nX-Sum: 42\r\n\r\n$/);
  } finally {
    await proxy.close();
  }
});

test('Content-Length from the upstream is kept, for HEAD too', async () => {
  const pool = new ScriptedPool({
    [A]: async (request) =>
      response(200, [['Content-Length', '5']], request.method === 'HEAD' ? [] : ['12345']),
  });
  const proxy = await proxyWith(pool, [A]);
  try {
    const get = await raw(proxy.port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', () => false);
    assert.match(get, /\r\nContent-Length: 5\r\n[\s\S]*\r\n\r\n12345$/);
    const head = await raw(
      proxy.port,
      'HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
      () => false,
    );
    assert.match(head, /\r\nContent-Length: 5\r\n[\s\S]*\r\n\r\n$/);
  } finally {
    await proxy.close();
  }
});

test('a request body streams upstream with its Content-Length, or chunked with its trailers', async () => {
  const pool = new ScriptedPool({ [A]: ok('got it') });
  const proxy = await proxyWith(pool, [A]);
  try {
    const res = await fetch(`${proxy.url}/upload`, { method: 'POST', body: 'payload!' });
    assert.equal(await res.text(), 'got it');
    assert.equal(pool.calls[0]?.request.bodyLength, 8);
    assert.equal(pool.calls[0]?.body, 'payload!');
    await raw(
      proxy.port,
      'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nX-Check: 7\r\n\r\n',
      () => false,
    );
    const chunked = pool.calls[1]!;
    assert.equal(chunked.body, 'abc');
    assert.equal(chunked.request.bodyLength, undefined);
    assert.deepEqual(chunked.request.trailers?.(), [['x-check', '7']]);
    assert.deepEqual(sent(chunked, 'transfer-encoding'), []);
  } finally {
    await proxy.close();
  }
});

test('Expect: 100-continue is answered by the engine, not forwarded', async () => {
  const pool = new ScriptedPool({ [A]: ok('fine') });
  const proxy = await proxyWith(pool, [A]);
  try {
    const text = await raw(
      proxy.port,
      'PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhi',
      () => false,
    );
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.deepEqual(sent(pool.calls[0], 'expect'), []);
    assert.equal(pool.calls[0]?.body, 'hi');
  } finally {
    await proxy.close();
  }
});

test('interim responses are forwarded, except 100', async () => {
  const pool = new ScriptedPool({
    [A]: async (request) => {
      request.onInformational?.(100, []);
      request.onInformational?.(103, [['Link', '</s.css>; rel=preload']]);
      return response(200, [['Content-Length', '2']], ['ok']);
    },
  });
  const proxy = await proxyWith(pool, [A]);
  try {
    const text = await raw(proxy.port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', () => false);
    assert.match(text, /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/s\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 /);
    assert.doesNotMatch(text, /100 Continue/);
  } finally {
    await proxy.close();
  }
});

test('a GET that fails to connect is retried on another upstream, which is then preferred', async () => {
  const pool = new ScriptedPool({ [A]: fail('connect', false), [B]: ok('from B') });
  const proxy = await proxyWith(pool, [A, B]);
  try {
    const res = await fetch(`${proxy.url}/r`);
    assert.equal(await res.text(), 'from B');
    assert.deepEqual(
      pool.calls.map((c) => c.upstream),
      [A, B],
    );
    assert.deepEqual(proxy.lines, [
      `reverse proxy: upstream ${A} failed: GET /r: connect: connect failure; retrying on another upstream`,
    ]);
    assert.equal(proxy.group.status()[0]?.ejected, true, 'A is passively ejected');
    await fetch(`${proxy.url}/again`).then((r) => r.text());
    await fetch(`${proxy.url}/again`).then((r) => r.text());
    assert.deepEqual(
      pool.calls.slice(2).map((c) => c.upstream),
      [B, B],
    );
  } finally {
    await proxy.close();
  }
});

test('an idempotent request reset after it was sent is retried; a POST is not (502)', async () => {
  const pool = new ScriptedPool({ [A]: fail('reset', true, true), [B]: ok('from B') });
  const proxy = await proxyWith(pool, [A, B]);
  try {
    assert.equal(await (await fetch(`${proxy.url}/d`, { method: 'DELETE' })).text(), 'from B');
    proxy.group.reportSuccess(proxy.group.upstreams[0]!);
    const res = await fetch(`${proxy.url}/p`, { method: 'POST', body: 'once only' });
    // Round-robin: the DELETE went A then B, so this POST starts at A again.
    assert.equal(res.status, 502);
    assert.match(await res.text(), /^502 Bad Gateway: the upstream failed/);
    assert.deepEqual(
      pool.calls.map((c) => `${c.request.method} ${c.upstream}`),
      [`DELETE ${A}`, `DELETE ${B}`, `POST ${A}`],
    );
    assert.equal(
      proxy.lines.at(-1),
      `reverse proxy: upstream ${A} failed: POST /p: reset: reset failure; answered 502`,
    );
  } finally {
    await proxy.close();
  }
});

test('a POST the upstream never received is retried with its body', async () => {
  const pool = new ScriptedPool({ [A]: fail('connect', false), [B]: ok('stored') });
  const proxy = await proxyWith(pool, [A, B]);
  try {
    const res = await fetch(`${proxy.url}/p`, { method: 'POST', body: 'the body' });
    assert.equal(await res.text(), 'stored');
    assert.equal(pool.calls[1]?.body, 'the body');
  } finally {
    await proxy.close();
  }
});

test('a body the pool already read is replayed in full when the upstream never got it', async () => {
  const pool = new ScriptedPool({ [A]: fail('connect', false, true), [B]: ok('stored') });
  const proxy = await proxyWith(pool, [A, B]);
  try {
    const res = await fetch(`${proxy.url}/p`, { method: 'POST', body: 'streamed' });
    assert.equal(await res.text(), 'stored');
    assert.deepEqual(
      pool.calls.map((c) => c.body),
      ['streamed', 'streamed'],
    );
  } finally {
    await proxy.close();
  }
});

test('an idempotent PUT with a small body is retried after a reset; a body past REPLAY_LIMIT_BYTES is not', async () => {
  const pool = new ScriptedPool({ [A]: fail('reset', true, true), [B]: ok('put') });
  const proxy = await proxyWith(pool, [A, B]);
  try {
    assert.equal(
      await (await fetch(`${proxy.url}/small`, { method: 'PUT', body: 'x'.repeat(1000) })).text(),
      'put',
    );
    assert.equal(pool.calls[1]?.body, 'x'.repeat(1000));
    proxy.group.reportSuccess(proxy.group.upstreams[0]!);
    const big = 'y'.repeat(REPLAY_LIMIT_BYTES + 1);
    const res = await fetch(`${proxy.url}/big`, { method: 'PUT', body: big });
    assert.equal(res.status, 502);
    assert.equal(pool.calls.length, 3, 'the big PUT went to one upstream only');
    assert.equal(pool.calls[2]?.body, big);
  } finally {
    await proxy.close();
  }
});

test('a body past REPLAY_LIMIT_BYTES is not replayed even when the upstream never got it', async () => {
  const pool = new ScriptedPool({ [A]: fail('connect', false, true), [B]: ok('never') });
  const proxy = await proxyWith(pool, [A, B]);
  try {
    const res = await fetch(`${proxy.url}/p`, { method: 'POST', body: 'z'.repeat(REPLAY_LIMIT_BYTES + 1) });
    assert.equal(res.status, 502);
    assert.equal(pool.calls.length, 1);
  } finally {
    await proxy.close();
  }
});

test('an upstream timeout is answered 504; a stalled upstream hits timeoutMs', async () => {
  const pool = new ScriptedPool({ [A]: fail('timeout', true), [B]: stall });
  const proxy = await proxyWith(pool, [A, B], { retries: 0, timeoutMs: 100 });
  try {
    const first = await fetch(`${proxy.url}/slow`);
    assert.equal(first.status, 504);
    assert.match(await first.text(), /did not answer in time/);
    const second = await fetch(`${proxy.url}/stall`);
    assert.equal(second.status, 504);
    await second.text();
    assert.deepEqual(proxy.lines, [
      `reverse proxy: upstream ${A} failed: GET /slow: timeout: timeout failure; answered 504`,
      `reverse proxy: upstream ${B} failed: GET /stall: no response head within 100 ms; answered 504`,
    ]);
  } finally {
    await proxy.close();
  }
});

test('retries stop after `retries` more upstreams, and at the last upstream', async () => {
  const pool = new ScriptedPool({
    [A]: fail('connect', false),
    [B]: fail('connect', false),
    [C]: fail('connect', false),
  });
  const proxy = await proxyWith(pool, [A, B, C], { retries: 1 });
  try {
    assert.equal((await fetch(`${proxy.url}/`)).status, 502);
    assert.equal(pool.calls.length, 2);
  } finally {
    await proxy.close();
  }
  const pool2 = new ScriptedPool({ [A]: fail('connect', false), [B]: fail('connect', false) });
  const proxy2 = await proxyWith(pool2, [A, B], { retries: 5 });
  try {
    assert.equal((await fetch(`${proxy2.url}/`)).status, 502);
    assert.equal(pool2.calls.length, 2);
  } finally {
    await proxy2.close();
  }
});

test('an upstream failing mid-body cuts the client connection', async () => {
  const pool = new ScriptedPool({
    [A]: async () => response(200, [['Content-Length', '100']], ['partial'], { failAfter: true }),
  });
  const proxy = await proxyWith(pool, [A]);
  try {
    const text = await raw(proxy.port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', () => false);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\npartial$/);
    assert.match(
      proxy.lines[0]!,
      /failed mid-body: GET \/: reset: upstream reset mid-body; client connection cut/,
    );
    assert.equal(proxy.group.status()[0]?.ejected, true);
  } finally {
    await proxy.close();
  }
});

test('a request that already passed this proxy is refused (508); CONNECT is 405', async () => {
  const pool = new ScriptedPool({});
  const proxy = await proxyWith(pool, [A]);
  try {
    const loop = await fetch(`${proxy.url}/`, { headers: { Via: '1.1 edge, 1.1 berth-test' } });
    assert.equal(loop.status, 508);
    const connect = await raw(
      proxy.port,
      'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n',
      () => false,
    );
    assert.match(connect, /^HTTP\/1\.1 405 /);
    assert.equal(pool.calls.length, 0);
  } finally {
    await proxy.close();
  }
});

test('an upgrade request keeps Upgrade; a 101 is relayed both ways', async () => {
  const pool = new ScriptedPool({
    [A]: async () => {
      // The upstream end of the upgraded connection: answers each write upper-cased.
      const socket: Duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          socket.push(chunk.toString().toUpperCase());
          callback();
        },
        // The client's end ends ours, as a peer closing in turn would.
        final(callback) {
          socket.push(null);
          callback();
        },
      });
      return {
        status: 101,
        reason: 'Switching Protocols',
        headers: [
          ['Upgrade', 'shout'],
          ['Connection', 'Upgrade'],
          ['Sec-Test', 'yes'],
        ],
        socket,
        head: Buffer.from('HELLO;'),
      } satisfies UpstreamUpgrade;
    },
  });
  const proxy = await proxyWith(pool, [A]);
  try {
    const text = await raw(
      proxy.port,
      'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: shout\r\n\r\nping',
      (t) => t.endsWith('PING'),
    );
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /\r\nUpgrade: shout\r\n/);
    assert.match(text, /\r\nConnection: Upgrade\r\n/);
    assert.match(text, /\r\nSec-Test: yes\r\n/);
    assert.match(text, /\r\nVia: 1\.1 berth-test\r\n/);
    assert.match(text, /\r\n\r\nHELLO;PING$/);
    const call = pool.calls[0];
    assert.deepEqual(sent(call, 'upgrade'), ['shout']);
    assert.deepEqual(sent(call, 'connection'), ['Upgrade']);
  } finally {
    await proxy.close();
  }
});

test('an upgrade request answered without 101 is an ordinary response', async () => {
  const pool = new ScriptedPool({ [A]: ok('no upgrade for you') });
  const proxy = await proxyWith(pool, [A]);
  try {
    const text = await raw(
      proxy.port,
      'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
      () => false,
    );
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*no upgrade for you/);
    assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 2, 'the connection goes on as HTTP');
  } finally {
    await proxy.close();
  }
});

test('createReverseProxy() validates its options once', () => {
  const group = new UpstreamGroup([A]);
  const pool = new ScriptedPool({});
  assert.throws(() => createReverseProxy({ group, pool, pseudonym: 'not a token' }), TypeError);
  assert.throws(() => createReverseProxy({ group, pool, pseudonym: 'p', trustProxy: ['nope'] }), RangeError);
  assert.throws(() => createReverseProxy({ group, pool, pseudonym: 'p', retries: -1 }), RangeError);
  assert.throws(() => createReverseProxy({ group, pool, pseudonym: 'p', timeoutMs: 0 }), RangeError);
});
