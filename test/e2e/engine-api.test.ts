/**
 * The public API on a real server: what a handler sees on `req`, what `res` methods put on the
 * wire, streaming with res.send(), listening on IPv6 loopback and unix sockets, server.address(),
 * graceful server.close(), and the one-line ListenError.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer, type Handler, ListenError } from '../../src/index.js';
import {
  closeServer,
  curl,
  exchange,
  field,
  fieldValues,
  get,
  RawClient,
  startServer,
  withServer,
} from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;
const INDEX_URL = pathToFileURL(
  join(fileURLToPath(import.meta.url), '..', '..', '..', 'src', 'index.ts'),
).href;

/**
 * A program that serves one keep-alive request, awaits server.close() with nothing else keeping
 * the process alive, then prints "closed": the way a CLI shuts down on SIGTERM.
 */
const CLOSE_THEN_CONTINUE = `
import net from 'node:net';
const { createServer } = await import(process.env.BERTH_INDEX);
const server = createServer((req, res) => res.end('hi'));
await server.listen({ port: 0, host: '127.0.0.1' });
const socket = net.connect(server.address().port, '127.0.0.1');
await new Promise((resolve) => socket.once('connect', resolve));
socket.write('GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n');
await new Promise((resolve) => socket.once('data', resolve));
await server.close();
console.log('closed');
`;

/** Whether this machine can bind the IPv6 loopback address. */
function canBindIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port: 0, host: '::1' }, () => probe.close(() => resolve(true)));
  });
}

describe('the request a handler sees', () => {
  it(
    'has method, url, version, lower-case headers, raw headers, remote address and cookies',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(
        (req, res) => {
          res.setHeader('Content-Type', 'application/json');
          res.end(
            JSON.stringify({
              method: req.method,
              url: req.url,
              httpVersion: req.httpVersion,
              headers: req.headers,
              rawHeaders: req.rawHeaders,
              remoteAddress: req.remoteAddress,
              remotePortIsNumber: Number.isInteger(req.remotePort) && req.remotePort > 0,
              cookies: req.cookies,
            }),
          );
        },
        undefined,
        async ({ port }) => {
          const request =
            'PATCH /items/7?sort=asc&q=a%20b HTTP/1.1\r\nHost: example.test\r\nX-Multi: one\r\n' +
            'x-multi: two\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nCookie: sid=abc123; theme=dark\r\n\r\n';
          const result = await exchange({ port }, request, { responses: 1 });
          const seen = JSON.parse(result.finals[0]!.body.toString());
          assert.equal(seen.method, 'PATCH');
          assert.equal(seen.url, '/items/7?sort=asc&q=a%20b');
          assert.equal(seen.httpVersion, '1.1');
          assert.equal(seen.headers.host, 'example.test');
          assert.equal(seen.headers['x-multi'], 'one, two');
          assert.deepEqual(seen.headers['set-cookie'], ['a=1', 'b=2']);
          assert.equal(seen.headers.Host, undefined, 'names are lower-case');
          assert.deepEqual(seen.rawHeaders, [
            'Host',
            'example.test',
            'X-Multi',
            'one',
            'x-multi',
            'two',
            'Set-Cookie',
            'a=1',
            'Set-Cookie',
            'b=2',
            'Cookie',
            'sid=abc123; theme=dark',
          ]);
          assert.equal(seen.remoteAddress, '127.0.0.1');
          assert.equal(seen.remotePortIsNumber, true);
          assert.deepEqual(seen.cookies, { sid: 'abc123', theme: 'dark' });
        },
      ),
  );
});

describe('the response a handler builds', () => {
  it('puts what setHeader, removeHeader and writeHead leave on the wire', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => {
        res.setHeader('X-Replaced', 'first');
        res.setHeader('x-replaced', 'second');
        res.setHeader('X-Removed', 'gone');
        res.setHeader('X-List', ['a', 'b']);
        res.setHeader('X-Number', 42);
        const report = {
          get: res.getHeader('X-REPLACED'),
          has: res.hasHeader('x-removed'),
          number: res.getHeader('x-number'),
        };
        res.removeHeader('X-Removed');
        res.setHeader('X-Report', JSON.stringify({ ...report, hasAfter: res.hasHeader('X-Removed') }));
        res.writeHead(201, { 'Content-Type': 'text/plain', 'X-From-Write-Head': 'yes' });
        res.write('crea');
        res.end('ted');
      },
      undefined,
      async ({ port }) => {
        const result = await exchange({ port }, get('/'), { responses: 1 });
        const res = result.finals[0]!;
        assert.equal(res.status, 201);
        assert.equal(res.reason, 'Created');
        assert.equal(res.body.toString(), 'created');
        assert.deepEqual(fieldValues(res, 'x-replaced'), ['second']);
        assert.equal(field(res, 'x-removed'), undefined);
        assert.deepEqual(fieldValues(res, 'x-list'), ['a', 'b']);
        assert.equal(field(res, 'x-number'), '42');
        assert.equal(field(res, 'x-from-write-head'), 'yes');
        assert.equal(field(res, 'content-type'), 'text/plain');
        assert.deepEqual(JSON.parse(field(res, 'x-report')!), {
          get: 'second',
          has: true,
          number: 42,
          hasAfter: false,
        });
      },
    ),
  );

  it('sends one Set-Cookie line per res.setCookie() call', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => {
        res.setCookie('session', 'abc', { httpOnly: true, path: '/', sameSite: 'lax' });
        res.setCookie('theme', 'dark', { maxAge: 3600 });
        res.end('cookies');
      },
      undefined,
      async ({ port, url }) => {
        const result = await exchange({ port }, get('/'), { responses: 1 });
        const lines = fieldValues(result.finals[0]!, 'set-cookie');
        assert.equal(lines.length, 2);
        assert.match(lines[0]!, /^session=abc; /);
        assert.match(lines[0]!, /HttpOnly/);
        assert.match(lines[0]!, /SameSite=Lax/);
        assert.equal(lines[1], 'theme=dark; Max-Age=3600');
        const res = await fetch(url);
        assert.deepEqual(res.headers.getSetCookie(), lines);
      },
    ),
  );

  it('streams a Readable and an async generator with res.send()', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      async (req, res) => {
        if (req.url === '/readable') {
          await res.send(Readable.from([Buffer.from('from '), Buffer.from('a '), Buffer.from('Readable')]));
          return;
        }
        await res.send(
          (async function* () {
            for (const word of ['from ', 'a ', 'generator']) {
              await sleep(5);
              yield word;
            }
          })(),
        );
      },
      undefined,
      async ({ port, url }) => {
        const result = await exchange({ port }, get('/readable') + get('/generator'), { responses: 2 });
        assert.equal(result.finals[0]!.framing, 'chunked');
        assert.equal(result.finals[0]!.body.toString(), 'from a Readable');
        assert.equal(result.finals[1]!.body.toString(), 'from a generator');
        assert.equal(await (await fetch(`${url}/generator`)).text(), 'from a generator');
      },
    ),
  );
});

describe('listening', () => {
  const whoami: Handler = (req, res) => res.end(`hello ${req.remoteAddress}`);

  it('reports { port, host } from server.address(), and throws before listen()', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const server = createServer(whoami);
    assert.throws(() => server.address(), /not listening/);
    await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = server.address();
      assert.ok('port' in address);
      assert.deepEqual(Object.keys(address).sort(), ['host', 'port']);
      assert.equal(address.host, '127.0.0.1');
      assert.ok(Number.isInteger(address.port) && address.port > 0);
    } finally {
      await closeServer(server);
    }
  });

  it('serves on the IPv6 loopback ::1', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!(await canBindIpv6Loopback())) {
      t.skip('this machine has no IPv6 loopback');
      return;
    }
    const server = createServer(whoami);
    await server.listen({ port: 0, host: '::1' });
    try {
      const address = server.address();
      assert.ok('port' in address);
      assert.equal(address.host, '::1');
      const res = await fetch(`http://[::1]:${address.port}/`);
      assert.equal(await res.text(), 'hello ::1');
    } finally {
      await closeServer(server);
    }
  });

  it('serves on a unix socket, to a raw client and to curl --unix-socket', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const path = join(tmpdir(), `berth-e2e-${process.pid}-${Date.now()}.sock`);
    const server = createServer((req, res) => res.end(`hello over ${req.url}`));
    try {
      await server.listen({ path });
      assert.deepEqual(server.address(), { path });
      const raw = await exchange({ path }, get('/raw', 'Connection: close\r\n'));
      assert.equal(raw.finals[0]!.body.toString(), 'hello over /raw');
      const out = await curl(['-sS', '--unix-socket', path, 'http://localhost/curl']);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, 'hello over /curl');
    } finally {
      await closeServer(server);
      await rm(path, { force: true });
    }
  });

  it('rejects with a one-line ListenError naming the port and ss -ltnp when the port is in use', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { server, port } = await startServer(whoami);
    const second = createServer(whoami);
    try {
      const err = await second.listen({ port, host: '127.0.0.1' }).then(
        () => assert.fail('listen() on a port in use resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ListenError, `got ${String(err)}`);
      assert.equal(err.code, 'EADDRINUSE');
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, new RegExp(`\\b${port}\\b`));
      assert.match(err.message, /ss -ltnp/);
    } finally {
      await closeServer(second);
      await closeServer(server);
    }
  });
});

describe('server.close()', () => {
  it('finishes an in-flight request, closes idle connections, and resolves promptly', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    let slowStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    const { server, port } = await startServer(async (req, res) => {
      if (req.url === '/slow') {
        slowStarted();
        res.write('slow ');
        await sleep(300);
        res.end('and done');
        return;
      }
      res.end('quick');
    });
    const idle = await RawClient.connect({ port });
    const busy = await RawClient.connect({ port });
    try {
      await idle.write(get('/quick'));
      await idle.responses(1);
      await busy.write(get('/slow'));
      await started;
      const closing = performance.now();
      // closeServer() holds a timer, so this test does not depend on close() keeping the process
      // alive itself (that is the next test's subject).
      const closed = closeServer(server);
      await idle.waitForClose(200);
      const idleClosedAfter = performance.now() - closing;
      await closed;
      const closeTook = performance.now() - closing;
      const [res] = await busy.responses(1);
      assert.equal(res!.body.toString(), 'slow and done');
      await busy.waitForClose(500);
      assert.ok(idleClosedAfter < 200, `the idle connection closed after ${Math.round(idleClosedAfter)} ms`);
      assert.ok(closeTook >= 250 && closeTook < 1000, `close() took ${Math.round(closeTook)} ms`);
      await assert.rejects(RawClient.connect({ port }), { code: 'ECONNREFUSED' });
    } finally {
      idle.destroy();
      busy.destroy();
      await closeServer(server);
    }
  });

  it('answers a request that arrives on a kept-alive connection during close with Connection: close', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { server, port } = await startServer(async (req, res) => {
      if (req.url === '/slow') await sleep(200);
      res.end(`answer ${req.url}`);
    });
    const client = await RawClient.connect({ port });
    try {
      await client.write(get('/slow'));
      await sleep(20);
      const closed = closeServer(server);
      await client.write(get('/late'));
      const responses = await client.responses(1);
      assert.equal(responses[0]!.body.toString(), 'answer /slow');
      assert.equal(field(responses[0]!, 'connection'), 'close');
      await client.waitForClose(1000);
      await closed;
    } finally {
      client.destroy();
      await closeServer(server);
    }
  });

  it('resolves in a program with nothing else to keep it alive, so code after it runs', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', CLOSE_THEN_CONTINUE],
        { env: { ...process.env, BERTH_INDEX: INDEX_URL }, timeout: 8_000 },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    assert.equal(out.stdout, 'closed\n', `exit code ${out.code}; stderr: ${out.stderr}`);
    assert.equal(out.code, 0);
  });
});
