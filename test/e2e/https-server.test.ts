/**
 * HTTPS, HTTP/2 and h2c through the library API (`createServer(handler, { tls })`), with
 * certificates from the local CA, checked by real clients that trust only that CA: curl (no -k),
 * Node's fetch in a child process (NODE_EXTRA_CA_CERTS), tls.connect, http2.connect and h2load.
 *
 * Refusals (old TLS versions, CBC-only cipher lists) are each checked against a permissive
 * node:tls control server first, so a client that cannot even offer what is refused fails the
 * test instead of passing it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import type { Handler, Server, ServerOptions } from '../../src/index.js';
import { ensureLocalCertificate, type LocalCertificate } from '../../src/tls/local-ca.js';
import {
  closeServer,
  curl,
  exchange,
  field,
  get,
  parseResponses,
  RawClient,
  startServer,
  withServer,
} from './raw-client.js';

const TEST_TIMEOUT_MS = 15_000;
const CLIENT_TIMEOUT_MS = 5_000;
const HELLO = 'hello over berth\n';
/** Larger than HTTP/2's initial flow-control window (65,535 bytes), so WINDOW_UPDATEs are needed. */
const BIG = Buffer.alloc(300_000, 0);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7 + (i >> 8)) & 0xff;
const BIG_SHA256 = createHash('sha256').update(BIG).digest('hex');
const SLOW_MS = 300;
const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
/** A child `node -e` program: fetch argv[1], print status and body; exit 3 with the cause on failure. */
const FETCH_SCRIPT = `fetch(process.argv[1]).then(async (r) => process.stdout.write(r.status + '\\n' + (await r.text())),
  (e) => { process.stderr.write(String(e.cause?.code ?? e)); process.exitCode = 3; });`;

type Run = { readonly stdout: string; readonly stderr: string; readonly code: number };

/** Runs a program, resolving (never rejecting) with its output and exit code. */
function run(
  file: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? CLIENT_TIMEOUT_MS, env: options.env ?? process.env },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

type Handshake = { readonly socket: tls.TLSSocket } | { readonly error: NodeJS.ErrnoException };

/** Connects with Node's TLS client; resolves with the open socket or the handshake error. */
function handshake(options: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', ...options }, () => resolve({ socket }));
    socket.setTimeout(CLIENT_TIMEOUT_MS, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', (error) => resolve({ error }));
  });
}

/** A handshake that must succeed; the caller destroys the socket. */
async function secureSocket(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  const result = await handshake(options);
  if ('error' in result) throw result.error;
  return result.socket;
}

/**
 * Closes a client TLS socket the polite way (end, then wait for close). A destroy() right after
 * the handshake can drop the client's Finished: the server then holds a half-made connection,
 * which is the subject of its own test below, not something every test should trip over.
 */
async function finish(socket: tls.TLSSocket): Promise<void> {
  if (socket.destroyed) return;
  const closed = once(socket, 'close');
  socket.end();
  await Promise.race([closed, sleep(CLIENT_TIMEOUT_MS).then(() => socket.destroy())]);
}

/** A handshake that must fail; resolves with the error's code. */
async function refusedCode(options: tls.ConnectionOptions): Promise<string | undefined> {
  const result = await handshake(options);
  if ('socket' in result) {
    const what = `${result.socket.getProtocol()} ${result.socket.getCipher().name}`;
    await finish(result.socket);
    assert.fail(`the handshake succeeded (${what}) but should have been refused`);
  }
  return result.error.code;
}

/** A permissive node:tls server (TLS 1.0 up, OpenSSL's default ciphers) for control checks. */
async function permissiveServer(cert: LocalCertificate): Promise<{ server: tls.Server; port: number }> {
  const server = tls.createServer(
    {
      cert: cert.cert,
      key: cert.key,
      minVersion: 'TLSv1',
      // Security level 0: OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) at its default level 1.
      ciphers: 'DEFAULT:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0',
    },
    (socket) => socket.end(),
  );
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

type H2Answer = { readonly headers: http2.IncomingHttpHeaders; readonly body: Buffer };

/** One GET over an existing HTTP/2 session. */
function h2Get(session: http2.ClientHttp2Session, path: string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      headers = h;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ headers, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.setTimeout(CLIENT_TIMEOUT_MS, () => stream.close(http2.constants.NGHTTP2_CANCEL));
  });
}

/** Opens an HTTP/2 session over TLS (trusting `ca`) and waits for it to connect. */
async function h2Connect(port: number, ca: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca });
  session.on('error', () => {});
  const timer = setTimeout(() => session.destroy(new Error('h2 connect timed out')), CLIENT_TIMEOUT_MS);
  try {
    await once(session, 'connect');
  } finally {
    clearTimeout(timer);
  }
  return session;
}

/**
 * Writes `request` on a TLS connection that offers `alpn` and collects the HTTP/1.1 responses
 * until `count` are complete (or the server closes).
 */
async function h1OverTls(
  port: number,
  alpn: readonly string[] | undefined,
  request: string,
  count: number,
): Promise<{ socket: tls.TLSSocket; text: string; finals: ReturnType<typeof parseResponses>['finals'] }> {
  const socket = await secureSocket({
    port,
    servername: 'localhost',
    ca: certA.caCert,
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('close', () => {
    closed = true;
  });
  socket.write(request);
  const deadline = Date.now() + CLIENT_TIMEOUT_MS;
  for (;;) {
    const parsed = parseResponses(Buffer.concat(chunks), { closed });
    if (parsed.finals.length >= count || closed) {
      socket.destroy();
      return { socket, text: Buffer.concat(chunks).toString('latin1'), finals: parsed.finals };
    }
    if (Date.now() > deadline) {
      socket.destroy();
      throw new Error(
        `no ${count} response(s) in time; got ${JSON.stringify(Buffer.concat(chunks).toString())}`,
      );
    }
    await sleep(10);
  }
}

/** One HTTP/2 frame (RFC 9113 §4.1): 24-bit length, type, flags, 31-bit stream id, payload. */
function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** Whether `bytes` (server frames) hold a HEADERS or DATA frame ending `stream` (END_STREAM). */
function streamEnded(bytes: Buffer, stream: number): boolean {
  let pos = 0;
  while (pos + 9 <= bytes.length) {
    const length = bytes.readUIntBE(pos, 3);
    const type = bytes[pos + 3]!;
    const flags = bytes[pos + 4]!;
    const id = bytes.readUInt32BE(pos + 5) & 0x7fffffff;
    if (id === stream && (type === 0x0 || type === 0x1) && (flags & 0x1) !== 0) return true;
    pos += 9 + length;
  }
  return false;
}

/** Splits curl output written with `-w '\n%{http_version}'` into body and version. */
function bodyAndVersion(stdout: string): { body: string; version: string } {
  const cut = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, cut), version: stdout.slice(cut + 1) };
}

/** Resolves after the handler has started the slow request; reset per test. */
let slowStarted: () => void = () => {};

const handler: Handler = async (req, res) => {
  const path = req.url.split('?')[0];
  res.setHeader('Content-Type', 'text/plain');
  switch (path) {
    case '/hello':
      res.end(HELLO);
      return;
    case '/big':
      res.setHeader('Content-Type', 'application/octet-stream');
      res.end(BIG);
      return;
    case '/version':
      res.end(req.httpVersion);
      return;
    case '/slow':
      slowStarted();
      await sleep(SLOW_MS);
      res.end('slow done');
      return;
    default:
      res.statusCode = 404;
      res.end('not found');
  }
};

let dir = '';
/** The first certificate: localhost, 127.0.0.1, ::1. */
let certA: LocalCertificate;
/** A second CA and leaf, for other.test (and, again, localhost: the first one wins there). */
let certB: LocalCertificate;
let tlsOptions: ServerOptions;
/** The shared HTTPS server (both certificates) for the tests that do not close it. */
let shared: Server;
let port = 0;
/** Errors the shared server reported (handler errors, engine faults): there must be none. */
const reported: unknown[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-https-server-'));
  certA = await ensureLocalCertificate({ dataDir: join(dir, 'a') });
  certB = await ensureLocalCertificate({ dataDir: join(dir, 'b'), hosts: ['other.test'] });
  tlsOptions = {
    tls: {
      certificates: [
        { cert: certA.cert, key: certA.key },
        { cert: certB.cert, key: certB.key },
      ],
    },
    onError: (err) => reported.push(err),
  };
  const running = await startServer(handler, tlsOptions);
  shared = running.server;
  port = running.port;
});

after(async () => {
  if (shared !== undefined) await closeServer(shared);
  await rm(dir, { recursive: true, force: true });
  assert.deepEqual(reported, [], 'the shared server reported no errors');
});

/** curl against the shared server as https://localhost:PORT, trusting only the first CA. */
function curlHttps(path: string, extra: readonly string[]): ReturnType<typeof curl> {
  return curl([
    '-sS',
    '--noproxy',
    '*',
    '--cacert',
    certA.caCertPath,
    '--resolve',
    `localhost:${port}:127.0.0.1`,
    '-w',
    '\n%{http_version}',
    ...extra,
    `https://localhost:${port}${path}`,
  ]);
}

describe('HTTPS with HTTP/2 through ALPN', { timeout: TEST_TIMEOUT_MS * 4 }, () => {
  it('gives curl --http2 and --http1.1 the same bodies on one port, as HTTP/2 and HTTP/1.1', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    for (const [flag, version] of [
      ['--http2', '2'],
      ['--http1.1', '1.1'],
    ] as const) {
      const hello = await curlHttps('/hello', [flag]);
      assert.equal(hello.stderr, '', flag);
      assert.equal(hello.code, 0, flag);
      assert.deepEqual(bodyAndVersion(hello.stdout), { body: HELLO, version }, flag);

      const big = await curl([
        '-sS',
        '--noproxy',
        '*',
        '--cacert',
        certA.caCertPath,
        '--resolve',
        `localhost:${port}:127.0.0.1`,
        flag,
        `https://localhost:${port}/big`,
      ]);
      assert.equal(big.code, 0, `${flag}: ${big.stderr}`);
      const sha = createHash('sha256').update(Buffer.from(big.stdout, 'latin1')).digest('hex');
      assert.equal(sha, BIG_SHA256, `${flag}: the 300 KB body arrives whole`);
    }
  });

  it('is refused by curl without the CA (no -k anywhere: exit 60)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const out = await curl(['-sS', '--noproxy', '*', `https://127.0.0.1:${port}/hello`]);
    assert.equal(out.code, 60, out.stderr);
  });

  it("works with Node's fetch trusting the CA through NODE_EXTRA_CA_CERTS", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const url = `https://127.0.0.1:${port}/hello`;
    const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
    const trusted = await run(process.execPath, ['-e', FETCH_SCRIPT, url], {
      env: { ...env, NODE_EXTRA_CA_CERTS: certA.caCertPath },
    });
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.equal(trusted.stdout, `200\n${HELLO}`);
    // The control, on a server of its own (the aborted handshake it leaves behind is the subject
    // of a test below): without the CA the same fetch fails, so the variable is what made it work.
    const other = await startServer(handler, tlsOptions);
    try {
      const untrusted = await run(
        process.execPath,
        ['-e', FETCH_SCRIPT, `https://127.0.0.1:${other.port}/hello`],
        {
          env,
        },
      );
      assert.equal(untrusted.code, 3, untrusted.stderr);
      assert.match(untrusted.stderr, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    } finally {
      void other.server.close();
    }
  });

  it("shows req.httpVersion '2.0' over h2 and '1.1' over HTTP/1.1", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const session = await h2Connect(port, certA.caCert);
    try {
      const answer = await h2Get(session, '/version');
      assert.equal(answer.headers[':status'], 200);
      assert.equal(answer.body.toString(), '2.0');
    } finally {
      session.destroy();
    }
    const h1 = await h1OverTls(port, ['http/1.1'], get('/version'), 1);
    assert.equal(h1.finals[0]?.status, 200);
    assert.equal(h1.finals[0]?.body.toString(), '1.1');
  });

  it('sends a client that offers only http/1.1 to the HTTP/1.1 engine, and h2 to HTTP/2', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const h1 = await h1OverTls(port, ['http/1.1'], get('/hello') + get('/hello', 'Connection: close\r\n'), 2);
    assert.equal(h1.socket.alpnProtocol, 'http/1.1');
    assert.equal(h1.finals.length, 2, h1.text);
    for (const res of h1.finals) {
      assert.equal(res.version, '1.1');
      assert.equal(res.status, 200);
      assert.equal(res.reason, 'OK');
      assert.equal(field(res, 'server'), 'berth');
      assert.equal(res.framing, 'length');
      assert.equal(res.body.toString(), HELLO);
    }
    assert.match(h1.text, /^HTTP\/1\.1 200 OK\r\n/);

    // No ALPN at all is HTTP/1.1 too.
    const none = await h1OverTls(port, undefined, get('/hello', 'Connection: close\r\n'), 1);
    assert.equal(none.socket.alpnProtocol, false);
    assert.equal(field(none.finals[0]!, 'server'), 'berth');

    const session = await h2Connect(port, certA.caCert);
    try {
      assert.equal(session.alpnProtocol, 'h2');
      const answer = await h2Get(session, '/hello');
      assert.equal(answer.headers[':status'], 200);
      assert.equal(answer.headers.server, 'berth');
      assert.equal(answer.body.toString(), HELLO);
    } finally {
      session.destroy();
    }
  });

  it('closes an HTTP/2 connection whose client half-closes (FIN) once its request is answered', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { server, port: p } = await startServer(handler, tlsOptions);
    const socket = await secureSocket({
      port: p,
      servername: 'localhost',
      ca: certA.caCert,
      ALPNProtocols: ['h2'],
    });
    try {
      assert.equal(socket.alpnProtocol, 'h2');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = once(socket, 'close');
      // HPACK (RFC 7541): :method GET, :scheme https (static table), :path and :authority as literals.
      const block = Buffer.concat([
        Buffer.from([0x82, 0x87, 0x04, 6]),
        Buffer.from('/hello'),
        Buffer.from([0x01, 9]),
        Buffer.from('localhost'),
      ]);
      socket.write(
        Buffer.concat([
          Buffer.from(H2_PREFACE, 'latin1'),
          frame(0x4, 0, 0, Buffer.alloc(0)), // SETTINGS
          frame(0x1, 0x5, 1, block), // HEADERS, END_STREAM | END_HEADERS, stream 1
        ]),
      );
      const deadline = Date.now() + CLIENT_TIMEOUT_MS;
      while (!streamEnded(Buffer.concat(received), 1)) {
        if (Date.now() > deadline) assert.fail('no complete response on stream 1');
        await sleep(10);
      }
      socket.end();
      const outcome = await Promise.race([
        closed.then(() => 'closed' as const),
        sleep(2_000).then(() => 'open' as const),
      ]);
      assert.equal(outcome, 'closed', 'the server closes its side within 2 s of the client FIN');
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });

  it('chooses the certificate by SNI, and serves the first one for an unknown name', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const fingerprintA = new X509Certificate(certA.cert).fingerprint256;
    const fingerprintB = new X509Certificate(certB.cert).fingerprint256;
    assert.notEqual(fingerprintA, fingerprintB);

    const local = await secureSocket({ port, servername: 'localhost', ca: certA.caCert });
    const localPeer = local.getPeerCertificate();
    await finish(local);
    assert.equal(localPeer.fingerprint256, fingerprintA);
    assert.match(localPeer.subjectaltname ?? '', /\bDNS:localhost\b/);
    assert.doesNotMatch(localPeer.subjectaltname ?? '', /other\.test/);

    const other = await secureSocket({ port, servername: 'other.test', ca: certB.caCert });
    const otherPeer = other.getPeerCertificate();
    await finish(other);
    assert.equal(otherPeer.fingerprint256, fingerprintB);
    assert.match(otherPeer.subjectaltname ?? '', /\bDNS:other\.test\b/);
    assert.equal(otherPeer.subject.CN, 'other.test');

    const unknown = await secureSocket({ port, servername: 'unknown.test', rejectUnauthorized: false });
    const unknownPeer = unknown.getPeerCertificate();
    await finish(unknown);
    assert.equal(unknownPeer.fingerprint256, fingerprintA);
    assert.doesNotMatch(unknownPeer.subjectaltname ?? '', /other\.test/);
  });

  it('refuses TLS 1.0 and 1.1 and accepts TLS 1.2 and 1.3', { timeout: TEST_TIMEOUT_MS }, async () => {
    const old: tls.ConnectionOptions = {
      servername: 'localhost',
      ca: certA.caCert,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    };
    const control = await permissiveServer(certA);
    try {
      const socket = await secureSocket({ ...old, port: control.port });
      assert.equal(
        socket.getProtocol(),
        'TLSv1.1',
        'the client can speak TLS 1.1 to a server that allows it',
      );
      await finish(socket);
    } finally {
      control.server.close();
    }
    assert.equal(await refusedCode({ ...old, port }), 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    assert.equal(
      await refusedCode({ ...old, port, minVersion: 'TLSv1', maxVersion: 'TLSv1' }),
      'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    );

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const socket = await secureSocket({
        port,
        servername: 'localhost',
        ca: certA.caCert,
        minVersion: version,
        maxVersion: version,
      });
      assert.equal(socket.getProtocol(), version);
      assert.equal(socket.authorized, true);
      await finish(socket);
    }
  });

  it('refuses a TLS 1.2 client that offers only CBC ciphers, and picks AEAD otherwise', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // The leaf is ECDSA: ECDHE-ECDSA suites are the ones it could use; the RSA one is the brief's.
    const cbcOnly: tls.ConnectionOptions = {
      servername: 'localhost',
      ca: certA.caCert,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256',
    };
    const control = await permissiveServer(certA);
    try {
      const socket = await secureSocket({ ...cbcOnly, port: control.port });
      assert.match(socket.getCipher().name, /^ECDHE-ECDSA-AES(128|256)-SHA/, 'the control accepts CBC');
      await finish(socket);
    } finally {
      control.server.close();
    }
    // OpenSSL 3.0 (Node 20) says SSLV3_ALERT_…, later versions (Node 24) SSL/TLS_ALERT_….
    assert.match(
      String(await refusedCode({ ...cbcOnly, port })),
      /^ERR_SSL_SSL(V3|\/TLS)_ALERT_HANDSHAKE_FAILURE$/,
    );

    // A client that also offers CBC (listed first) gets the server's AEAD choice.
    const mixed = await secureSocket({
      ...cbcOnly,
      port,
      ciphers: `${cbcOnly.ciphers}:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256`,
    });
    assert.equal(mixed.getProtocol(), 'TLSv1.2');
    assert.equal(mixed.getCipher().name, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    await finish(mixed);
  });

  it('serves 2000 h2load requests (4 connections, 10 streams each) without a failure', {
    timeout: 40_000,
  }, async () => {
    assert.ok(existsSync('/usr/bin/h2load'), 'h2load is missing: apt-get install nghttp2-client');
    const out = await run(
      '/usr/bin/h2load',
      ['-n', '2000', '-c', '4', '-m', '10', `https://127.0.0.1:${port}/hello`],
      { timeoutMs: 30_000 },
    );
    assert.equal(out.code, 0, out.stderr + out.stdout);
    assert.match(out.stdout, /Application protocol: h2/);
    const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(
      out.stdout,
    );
    assert.ok(requests, out.stdout);
    assert.equal(`${requests[4]} succeeded, ${requests[5]} failed`, '2000 succeeded, 0 failed');
    assert.match(out.stdout, /status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx/);
  });

  it('serves HTTPS on ::1 with the IPv6 SAN', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { createServer } = await import('../../src/index.js');
    const server = createServer(handler, tlsOptions);
    await server.listen({ port: 0, host: '::1' });
    try {
      const address = server.address();
      assert.ok('port' in address);
      const out = await curl([
        '-sS',
        '--noproxy',
        '*',
        '--cacert',
        certA.caCertPath,
        '-w',
        '\n%{http_version}',
        '--http2',
        `https://[::1]:${address.port}/hello`,
      ]);
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(bodyAndVersion(out.stdout), { body: HELLO, version: '2' });
    } finally {
      await closeServer(server);
    }
  });
});

describe('server.close() with HTTP/2 sessions open', () => {
  it('sends GOAWAY, lets the in-flight request finish with 200, then resolves', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { server, port: closingPort } = await startServer(handler, tlsOptions);
    let session: http2.ClientHttp2Session | undefined;
    try {
      session = await h2Connect(closingPort, certA.caCert);
      let goaway: number | undefined;
      session.on('goaway', (code: number) => {
        goaway = code;
      });
      const started = new Promise<void>((resolve) => {
        slowStarted = resolve;
      });
      const order: string[] = [];
      const answer = h2Get(session, '/slow').then((a) => {
        order.push('response');
        return a;
      });
      await started;
      const t0 = Date.now();
      const closed = server.close().then(() => order.push('closed'));
      const { headers, body } = await answer;
      assert.equal(headers[':status'], 200);
      assert.equal(body.toString(), 'slow done');
      assert.equal(goaway, http2.constants.NGHTTP2_NO_ERROR, 'the session got GOAWAY (NO_ERROR)');
      await Promise.race([
        closed,
        sleep(3_000).then(() => assert.fail('close() did not resolve within 3 s of the last response')),
      ]);
      assert.deepEqual(order, ['response', 'closed']);
      assert.ok(Date.now() - t0 < 3_000);
      // Nothing listens any more.
      await assert.rejects(RawClient.connect({ port: closingPort }, 1_000));
    } finally {
      slowStarted = () => {};
      session?.destroy();
      await closeServer(server);
    }
  });

  it('cuts a session whose handler never answers once closeTimeoutMs has passed, and resolves', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const CLOSE_TIMEOUT_MS = 300;
    const never: Handler = () => new Promise<void>(() => {});
    const { server, port: hangingPort } = await startServer(never, {
      ...tlsOptions,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
    });
    let session: http2.ClientHttp2Session | undefined;
    try {
      session = await h2Connect(hangingPort, certA.caCert);
      const stream = session.request({ ':path': '/never' });
      stream.on('error', () => {});
      const streamClosed = once(stream, 'close');
      await sleep(100);
      const t0 = Date.now();
      await Promise.race([
        server.close(),
        sleep(3_000).then(() => assert.fail('close() did not resolve within 3 s')),
      ]);
      assert.ok(Date.now() - t0 >= CLOSE_TIMEOUT_MS - 50, 'the session was given closeTimeoutMs');
      await streamClosed;
      assert.equal(server.connectionCount, 0);
    } finally {
      session?.destroy();
      await closeServer(server);
    }
  });
});

describe('server.close() with connections that never got to a request', () => {
  const CLOSE_TIMEOUT_MS = 500;
  const BOUND_MS = 2_000;
  /** The first bytes of a TLS record carrying a ClientHello: a handshake begun and never finished. */
  const PARTIAL_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x80, 0x01]);

  /** Leaves a raw TCP connection in some pre-handshake state; returns its cleanup. */
  async function rawClient(port: number, bytes: Buffer | undefined, fin: boolean): Promise<() => void> {
    const client = await RawClient.connect({ port });
    if (bytes !== undefined) await client.write(bytes);
    if (fin) client.end();
    return () => client.socket.resetAndDestroy();
  }

  /** Node's fetch without the CA: it rejects the certificate and hangs up without an alert. */
  async function untrustedFetch(port: number): Promise<() => void> {
    const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
    const out = await run(process.execPath, ['-e', FETCH_SCRIPT, `https://127.0.0.1:${port}/hello`], { env });
    assert.notEqual(out.code, 0, 'fetch without the CA fails');
    return () => {};
  }

  /**
   * curl offering h2 for a name the certificate does not cover: the handshake completes, ALPN
   * picks h2, then curl checks the name and hangs up before its HTTP/2 preface.
   */
  async function curlWrongName(port: number): Promise<() => void> {
    const out = await curl([
      '-sS',
      '--noproxy',
      '*',
      '--http2',
      '--cacert',
      certA.caCertPath,
      '--resolve',
      `wrong.test:${port}:127.0.0.1`,
      `https://wrong.test:${port}/hello`,
    ]);
    assert.equal(out.code, 60, out.stderr);
    return () => {};
  }

  /**
   * Starts a server, lets `leave` put a connection in some state, then times close(). Resolves
   * with a description of the problem, or undefined when close() resolved within the bound.
   */
  async function closeAfter(
    what: string,
    leave: (port: number) => Promise<() => void>,
  ): Promise<string | undefined> {
    const { server, port: p } = await startServer(handler, {
      ...tlsOptions,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
    });
    const cleanup = await leave(p);
    try {
      await sleep(100);
      const outcome = await Promise.race([
        server.close().then(() => 'closed' as const),
        sleep(BOUND_MS).then(() => 'hung' as const),
      ]);
      return outcome === 'closed' ? undefined : `${what}: close() still pending after ${BOUND_MS} ms`;
    } finally {
      // A pending close() holds no handle: the test process still exits once the sockets go.
      cleanup();
    }
  }

  it('resolves within closeTimeoutMs whatever state clients left their connections in', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const problems = await Promise.all([
      closeAfter('a client that connected and sent FIN without a ClientHello', (p) =>
        rawClient(p, undefined, true),
      ),
      closeAfter('a client that sent part of a ClientHello, then FIN', (p) =>
        rawClient(p, PARTIAL_HELLO, true),
      ),
      closeAfter('a client that sent part of a ClientHello and went silent', (p) =>
        rawClient(p, PARTIAL_HELLO, false),
      ),
      closeAfter("Node's fetch, which refused the certificate and hung up", untrustedFetch),
      closeAfter(
        'curl --http2, which refused the name after the handshake (ALPN h2, no preface)',
        curlWrongName,
      ),
    ]);
    assert.deepEqual(
      problems.filter((p) => p !== undefined),
      [],
      `closeTimeoutMs is ${CLOSE_TIMEOUT_MS} ms: whatever is left must be cut by then`,
    );
  });
});

describe('h2c (cleartext HTTP/2 with prior knowledge)', () => {
  it('answers curl --http2-prior-knowledge as HTTP/2 and plain HTTP/1.1 on the same port', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withServer(handler, { h2c: true }, async ({ url, port: h2cPort }) => {
      const h2 = await curl([
        '-sS',
        '--noproxy',
        '*',
        '--http2-prior-knowledge',
        '-w',
        '\n%{http_version}',
        `${url}/version`,
      ]);
      assert.equal(h2.code, 0, h2.stderr);
      assert.deepEqual(bodyAndVersion(h2.stdout), { body: '2.0', version: '2' });

      const h1 = await curl([
        '-sS',
        '--noproxy',
        '*',
        '--http1.1',
        '-w',
        '\n%{http_version}',
        `${url}/version`,
      ]);
      assert.equal(h1.code, 0, h1.stderr);
      assert.deepEqual(bodyAndVersion(h1.stdout), { body: '1.1', version: '1.1' });

      const raw = await exchange({ port: h2cPort }, get('/hello') + get('/version'), { responses: 2 });
      assert.deepEqual(
        raw.finals.map((r) => [r.version, r.status, r.body.toString()]),
        [
          ['1.1', 200, HELLO],
          ['1.1', 200, '1.1'],
        ],
      );
    });
  });

  it('closes the connection on the HTTP/2 preface, sending nothing, when h2c is off', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withServer(handler, undefined, async ({ port: plainPort, url }) => {
      const raw = await exchange({ port: plainPort }, H2_PREFACE);
      assert.equal(raw.closed, true);
      assert.equal(raw.bytes.length, 0, raw.text);
      const h2 = await curl(['-sS', '--noproxy', '*', '--http2-prior-knowledge', `${url}/hello`]);
      assert.notEqual(h2.code, 0, 'curl gets no HTTP/2 answer');
    });
  });
});
