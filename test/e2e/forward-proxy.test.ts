/**
 * The forward proxy end to end: a Berth server running createForwardProxy() with the real
 * upstream pool, node:http and node:https origins on 127.0.0.1, and curl as the client (it sends
 * absolute-form to an HTTP proxy, CONNECT for https:).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer, type Server } from '../../src/index.js';
import { createForwardProxy } from '../../src/proxy/forward.js';
import { UpstreamPool } from '../../src/proxy/upstream-pool.js';
import { UpstreamError } from '../../src/proxy/upstream-types.js';
import { viaPseudonym } from '../../src/proxy/via.js';
import { ensureLocalCertificate } from '../../src/tls/local-ca.js';
import { closeServer, curl, exchange, field, type Running, startServer } from './raw-client.js';

/** The pool's response timeout: /slow answers after three times this. */
const RESPONSE_TIMEOUT_MS = 400;

type Seen = { method: string; url: string; rawHeaders: string[]; body: string };

let dir: string;
let origin: http.Server;
let originPort = 0;
let secure: https.Server;
let securePort = 0;
let caCertPath: string;
let pool: UpstreamPool;
let proxy: Running;
let pseudonym: string;
/** The last request each origin saw. */
let seen: Seen | undefined;
const logged: string[] = [];
const reported: unknown[] = [];

function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)),
  );
}

function closeNode(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}

/** The origin: records each request; /slow answers late, /cut dies halfway through its body. */
function originHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks).toString(),
    };
    if (req.url === '/slow') {
      setTimeout(() => res.end('too late'), RESPONSE_TIMEOUT_MS * 3);
      return;
    }
    if (req.url === '/cut') {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('only part of it');
      setTimeout(() => res.destroy(), 50);
      return;
    }
    if (req.url === '/trailers') {
      res.writeHead(200, { Trailer: 'X-Sum' });
      res.write('abc');
      res.addTrailers({ 'X-Sum': '42' });
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('X-Origin', 'node');
    res.end(
      req.method === 'POST'
        ? `got ${chunks.length > 0 ? Buffer.concat(chunks).length : 0} bytes`
        : 'origin body',
    );
  });
}

/** The last request the origin saw (asserting there was one). */
function lastSeen(): Seen {
  assert.ok(seen !== undefined, 'the origin saw a request');
  return seen;
}

/** Field names the origin saw, lower case. */
function seenNames(): string[] {
  return lastSeen()
    .rawHeaders.filter((_, i) => i % 2 === 0)
    .map((n) => n.toLowerCase());
}

function seenField(name: string): string | undefined {
  const raw = lastSeen().rawHeaders;
  const i = raw.findIndex((n, k) => k % 2 === 0 && n.toLowerCase() === name);
  return i < 0 ? undefined : raw[i + 1];
}

async function startProxy(options: Partial<Parameters<typeof createForwardProxy>[0]> = {}): Promise<Running> {
  return startServer(
    createForwardProxy({
      pool,
      pseudonym,
      connectPorts: [443, securePort],
      log: (line) => logged.push(line),
      ...options,
    }),
    { onError: (err) => reported.push(err) },
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-forward-proxy-'));
  origin = http.createServer(originHandler);
  originPort = await listen(origin);
  const cert = await ensureLocalCertificate({ dataDir: dir });
  caCertPath = cert.caCertPath;
  secure = https.createServer({ cert: cert.cert, key: cert.key }, (_req, res) => res.end('secure hello'));
  securePort = await listen(secure);
  pool = new UpstreamPool({ responseTimeoutMs: RESPONSE_TIMEOUT_MS, connectTimeoutMs: 2_000 });
  pseudonym = viaPseudonym('127.0.0.1', 0);
  proxy = await startProxy();
});

after(async () => {
  if (proxy !== undefined) await closeServer(proxy.server);
  pool?.close();
  if (origin !== undefined) await closeNode(origin);
  if (secure !== undefined) await closeNode(secure);
  await rm(dir, { recursive: true, force: true });
  assert.deepEqual(reported, [], 'the proxy reported no handler errors');
});

function viaProxy(args: readonly string[], proxyUrl = proxy.url): ReturnType<typeof curl> {
  return curl(['-sS', '-x', proxyUrl, ...args]);
}

test('curl through the proxy gets the origin body; the origin sees origin-form, Via, and no proxy fields', async () => {
  seen = undefined;
  // -U on a proxy without auth: curl sends Proxy-Authorization anyway, which must not travel on.
  const result = await viaProxy([
    '-U',
    'someone:secret',
    '-D',
    '-',
    `http://127.0.0.1:${originPort}/path?x=1`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(result.stdout, /\r\n\r\norigin body$/);
  assert.match(result.stdout, /\r\nX-Origin: node\r\n/i);
  assert.match(result.stdout, new RegExp(`\\r\\nVia: 1\\.1 ${pseudonym}\\r\\n`, 'i'));
  assert.equal(lastSeen().url, '/path?x=1');
  assert.equal(seenField('host'), `127.0.0.1:${originPort}`);
  assert.equal(seenField('via'), `1.1 ${pseudonym}`);
  assert.ok(!seenNames().includes('proxy-connection'));
  assert.ok(!seenNames().includes('proxy-authorization'));
});

test('a POST body goes through to the origin and its answer comes back', async () => {
  const result = await viaProxy([
    '--data-binary',
    'x'.repeat(100_000),
    `http://127.0.0.1:${originPort}/upload`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'got 100000 bytes');
  assert.equal(lastSeen().method, 'POST');
  assert.equal(lastSeen().body.length, 100_000);
});

test('a chunked origin response comes back with its trailers', async () => {
  const result = await exchange(
    { port: proxy.port },
    `GET http://127.0.0.1:${originPort}/trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n`,
    { responses: 1 },
  );
  const res = result.finals[0]!;
  assert.equal(res.body.toString(), 'abc');
  assert.deepEqual(res.trailers, [['X-Sum', '42']]);
});

test('curl https:// through CONNECT reaches the TLS origin', async () => {
  const result = await viaProxy(['--cacert', caCertPath, `https://localhost:${securePort}/`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'secure hello');
});

test('CONNECT to a port not allowed is refused with 403', async () => {
  const result = await viaProxy([
    '--cacert',
    caCertPath,
    '-w',
    '%{http_connect}',
    `https://localhost:${originPort}/`,
  ]);
  assert.notEqual(result.code, 0);
  assert.equal(result.stdout, '403');
});

test('with auth: no credentials get 407, `-U user:pass` gets through (HTTP and CONNECT)', async () => {
  const guarded = await startProxy({ auth: { user: 'user', pass: 'pass' } });
  try {
    const without = await viaProxy(
      ['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${originPort}/`],
      guarded.url,
    );
    assert.equal(without.stdout, '407');
    const wrong = await viaProxy(
      ['-U', 'user:nope', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${originPort}/`],
      guarded.url,
    );
    assert.equal(wrong.stdout, '407');
    const right = await viaProxy(['-U', 'user:pass', `http://127.0.0.1:${originPort}/`], guarded.url);
    assert.equal(right.code, 0, right.stderr);
    assert.equal(right.stdout, 'origin body');
    const tunnelWithout = await viaProxy(
      ['--cacert', caCertPath, '-w', '%{http_connect}', `https://localhost:${securePort}/`],
      guarded.url,
    );
    assert.equal(tunnelWithout.stdout, '407');
    const tunnel = await viaProxy(
      ['-U', 'user:pass', '--cacert', caCertPath, `https://localhost:${securePort}/`],
      guarded.url,
    );
    assert.equal(tunnel.code, 0, tunnel.stderr);
    assert.equal(tunnel.stdout, 'secure hello');
  } finally {
    await closeServer(guarded.server);
  }
});

test('a client outside the allow list is refused with 403 (proxy on ::1, only 127.0.0.0/8 allowed)', async () => {
  const server: Server = createServer(
    createForwardProxy({ pool, pseudonym, allow: ['127.0.0.0/8'], log: (line) => logged.push(line) }),
    { onError: (err) => reported.push(err) },
  );
  await server.listen({ port: 0, host: '::1' });
  try {
    const address = server.address();
    assert.ok('port' in address);
    logged.length = 0;
    const result = await viaProxy(
      ['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${originPort}/`],
      `http://[::1]:${address.port}`,
    );
    assert.equal(result.stdout, '403');
    assert.match(logged.join('\n'), /refused ::1: not in the allowed client list/);
  } finally {
    await closeServer(server);
  }
});

test('a request that comes round to the proxy again is refused as a loop with 508', async () => {
  // The proxy asked to fetch from itself: the inner request carries its own Via.
  const result = await viaProxy(['-o', '/dev/null', '-w', '%{http_code}', `${proxy.url}/anything`]);
  assert.equal(result.stdout, '508');
  const direct = await viaProxy([
    '-H',
    `Via: 1.1 ${pseudonym}`,
    '-w',
    '\n%{http_code}',
    `http://127.0.0.1:${originPort}/`,
  ]);
  assert.match(direct.stdout, /loop.*\n508$/s);
});

test('OPTIONS with Max-Forwards: 0 is answered by the proxy itself', async () => {
  seen = undefined;
  const result = await viaProxy([
    '-X',
    'OPTIONS',
    '-H',
    'Max-Forwards: 0',
    '-D',
    '-',
    `http://127.0.0.1:${originPort}/`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(result.stdout, /\r\nAllow: [^\r]*OPTIONS/i);
  assert.equal(seen, undefined, 'the origin was not asked');
  await viaProxy(['-X', 'OPTIONS', '-H', 'Max-Forwards: 5', `http://127.0.0.1:${originPort}/`]);
  assert.equal(seenField('max-forwards'), '4');
});

test('an upstream that refuses the connection gets 502', async () => {
  const closed = http.createServer();
  const port = await listen(closed);
  await closeNode(closed);
  const result = await viaProxy(['-w', '\n%{http_code}', `http://127.0.0.1:${port}/`]);
  assert.match(result.stdout, /could not connect to 127\.0\.0\.1:\d+.*\n502$/s);
});

test('an upstream slower than the response timeout gets 504', async () => {
  const started = Date.now();
  const result = await viaProxy(['-w', '\n%{http_code}', `http://127.0.0.1:${originPort}/slow`]);
  assert.match(result.stdout, /\n504$/);
  assert.ok(Date.now() - started < RESPONSE_TIMEOUT_MS * 3, 'answered before the origin did');
});

test('an origin body cut halfway cuts the client connection: curl sees a transfer error', async () => {
  const result = await viaProxy([`http://127.0.0.1:${originPort}/cut`]);
  assert.equal(result.code, 18, `curl exits 18 (partial file): ${result.stderr}`);
  // The engine reports the cut (a handler error after the head): expected here, not a failure.
  const cut = reported.splice(0);
  assert.ok(
    cut.every((err) => err instanceof UpstreamError && err.kind === 'reset'),
    `only the cut is reported: ${String(cut)}`,
  );
  const raw = await exchange(
    { port: proxy.port },
    `GET http://127.0.0.1:${originPort}/cut HTTP/1.1\r\nHost: x\r\n\r\n`,
  );
  assert.equal(raw.closed, true);
  assert.equal(raw.finals.length, 0);
  assert.equal(field(parseHead(raw.text), 'content-length'), '100');
  assert.ok(reported.splice(0).every((err) => err instanceof UpstreamError));
});

/** The fields of a response head that arrived without its whole body. */
function parseHead(text: string): { fields: [string, string][] } & Parameters<typeof field>[0] {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const fields = head
    .split('\r\n')
    .slice(1)
    .map((line): [string, string] => [
      line.slice(0, line.indexOf(':')),
      line.slice(line.indexOf(':') + 1).trim(),
    ]);
  return {
    version: '1.1',
    status: 0,
    reason: '',
    fields,
    framing: 'none',
    body: Buffer.alloc(0),
    chunkExtensions: [],
    trailers: [],
    head,
  };
}
