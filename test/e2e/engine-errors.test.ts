/**
 * Errors end to end: handlers that throw, reject or fail mid-body, and malformed requests over the
 * socket. Each malformed request gets its status with `Connection: close` and the connection ends
 * (RFC 9112 §2.2 ¶4), after any responses owed to earlier pipelined requests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Handler, HttpError } from '../../src/index.js';
import { exchange, field, get, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;

describe('handler errors', () => {
  const reported: unknown[] = [];
  const failing: Handler = async (req, res) => {
    switch (req.url) {
      case '/throw':
        throw new Error('secret internal detail');
      case '/reject':
        await sleep(5);
        throw new TypeError('async secret');
      case '/nope':
        throw new HttpError(404, 'nope');
      case '/status-1000':
        res.statusCode = 1000;
        res.end('x');
        return;
      case '/status-99':
        res.statusCode = 99;
        res.write('x');
        res.end();
        return;
      case '/long':
        res.setHeader('Content-Length', '5');
        res.end('seven b');
        return;
      case '/short':
        res.setHeader('Content-Length', '5');
        res.end();
        return;
      case '/partial':
        res.write('first part of the body, ');
        await sleep(10);
        throw new Error('failed halfway');
      default:
        res.end('fine');
    }
  };
  const options = { onError: (err: unknown) => reported.push(err) };

  it(
    'turn a throw into a 500 whose body is not a stack trace, and the server goes on',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(failing, options, async ({ url }) => {
        reported.length = 0;
        const res = await fetch(`${url}/throw`);
        assert.equal(res.status, 500);
        const body = await res.text();
        assert.doesNotMatch(body, /secret|at |\.ts:/);
        assert.match(body, /^500 Internal Server Error/);
        assert.equal(reported.length, 1, 'the error went to onError');
        const next = await fetch(`${url}/ok`);
        assert.equal(await next.text(), 'fine');
      }),
  );

  it('turn a rejection into a 500 and keep the connection usable', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(failing, options, async ({ port }) => {
      const result = await exchange({ port }, get('/reject') + get('/ok'), { responses: 2 });
      assert.equal(result.finals[0]!.status, 500);
      assert.doesNotMatch(result.finals[0]!.body.toString(), /secret|at /);
      assert.equal(result.finals[1]!.body.toString(), 'fine');
    }),
  );

  it('answer HttpError(404, "nope") with 404 and its message', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(failing, options, async ({ url }) => {
      const res = await fetch(`${url}/nope`);
      assert.equal(res.status, 404);
      assert.match(await res.text(), /nope/);
    }),
  );

  it(
    'answer 500, not a broken head, for a status that is not three digits',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(failing, options, async ({ port }) => {
        reported.length = 0;
        const result = await exchange({ port }, get('/status-1000') + get('/status-99') + get('/ok'), {
          responses: 3,
        });
        assert.deepEqual(
          result.finals.map((r) => r.status),
          [500, 500, 200],
        );
        assert.deepEqual(
          reported.map((e) => (e as Error).message),
          ['invalid status code 1000', 'invalid status code 99'],
        );
      }),
  );

  it(
    'answer 500 when end() gets a body other than the Content-Length set, reporting it once',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(failing, options, async ({ port }) => {
        reported.length = 0;
        const result = await exchange({ port }, get('/long') + get('/short') + get('/ok'), { responses: 3 });
        assert.deepEqual(
          result.finals.map((r) => [r.status, r.body.toString()]),
          [
            [500, '500 Internal Server Error\n'],
            [500, '500 Internal Server Error\n'],
            [200, 'fine'],
          ],
        );
        assert.deepEqual(
          reported.map((e) => (e as Error).message),
          [
            'response body of 7 bytes does not match its Content-Length 5',
            'response body of 0 bytes does not match its Content-Length 5',
          ],
        );
      }),
  );

  it(
    'cut the connection when the handler fails after part of the body went out',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(failing, options, async ({ port, url }) => {
        const result = await exchange({ port }, get('/partial') + get('/ok'));
        assert.equal(result.closed, true);
        // The chunked body never gets its last chunk: the client can tell it is incomplete.
        assert.equal(result.finals.length, 0);
        assert.match(result.text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(result.text, /first part of the body, /);
        assert.doesNotMatch(result.text, /\r\n0\r\n\r\n/);
        await assert.rejects(async () => {
          const res = await fetch(`${url}/partial`);
          await res.text();
        });
        const next = await fetch(`${url}/ok`);
        assert.equal(await next.text(), 'fine');
        assert.equal(
          reported.filter((e) => (e as Error).message === 'failed halfway').length,
          2,
          'each failure reported once, not again when the connection is cut',
        );
      }),
  );
});

describe('malformed requests', () => {
  const cases: { name: string; request: string; status: number }[] = [
    {
      name: 'both Content-Length and Transfer-Encoding',
      request:
        'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      status: 400,
    },
    { name: 'an invalid Host', request: 'GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n', status: 400 },
    { name: 'a missing Host in HTTP/1.1', request: 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', status: 400 },
    {
      name: 'an obs-fold line',
      request: 'GET / HTTP/1.1\r\nHost: t\r\nX-Long: a\r\n  b\r\n\r\n',
      status: 400,
    },
    { name: 'bare LF line ends', request: 'GET / HTTP/1.1\nHost: t\n\n', status: 400 },
    {
      name: 'a request-line over 8 KiB',
      request: `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: t\r\n\r\n`,
      status: 414,
    },
    {
      name: 'a head over 64 KiB',
      request: `GET / HTTP/1.1\r\nHost: t\r\n${Array.from({ length: 20 }, (_, i) => `X-F${i}: ${'v'.repeat(4000)}\r\n`).join('')}\r\n`,
      status: 431,
    },
    {
      name: '101 header fields',
      request: `GET / HTTP/1.1\r\nHost: t\r\n${Array.from({ length: 100 }, (_, i) => `X-F${i}: v\r\n`).join('')}\r\n`,
      status: 431,
    },
    { name: 'HTTP/2.0 in the request-line', request: 'GET / HTTP/2.0\r\nHost: t\r\n\r\n', status: 505 },
  ];

  for (const { name, request, status } of cases) {
    it(`answer ${name} with ${status} and Connection: close, then close`, {
      timeout: TEST_TIMEOUT_MS,
    }, () => {
      let calls = 0;
      return withServer(
        (_req, res) => {
          calls++;
          res.end();
        },
        undefined,
        async ({ port }) => {
          const result = await exchange({ port }, request);
          assert.equal(result.closed, true);
          assert.equal(result.finals.length, 1, result.text);
          assert.equal(result.finals[0]!.status, status);
          assert.equal(field(result.finals[0]!, 'connection'), 'close');
          assert.equal(calls, 0, 'the handler was not called');
        },
      );
    });
  }

  it(
    'close on an HTTP/2 connection preface without any HTTP/1.1 response',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(
        (_req, res) => res.end(),
        undefined,
        async ({ port }) => {
          const result = await exchange({ port }, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
          assert.equal(result.closed, true);
          assert.equal(result.bytes.length, 0, `received ${JSON.stringify(result.text)}`);
        },
      ),
  );

  it(
    'are answered only after the responses owed to earlier pipelined requests',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(
        async (req, res) => {
          if (req.url === '/slow') await sleep(50);
          res.end(`answer ${req.url}`);
        },
        undefined,
        async ({ port }) => {
          const result = await exchange(
            { port },
            `${get('/slow')}${get('/fast')}GET / HTTP/1.1\r\nHost: a b\r\n\r\n${get('/never')}`,
          );
          assert.equal(result.closed, true);
          assert.deepEqual(
            result.finals.map((r) => r.status),
            [200, 200, 400],
          );
          assert.equal(result.finals[0]!.body.toString(), 'answer /slow');
          assert.equal(result.finals[1]!.body.toString(), 'answer /fast');
          assert.equal(field(result.finals[2]!, 'connection'), 'close');
          assert.equal(result.rest.length, 0);
        },
      ),
  );

  it(
    'after a good request on the connection still end it with the error status',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(
        (_req, res) => res.end('ok'),
        undefined,
        async ({ port }) => {
          const result = await exchange({ port }, `${get('/')}GET / HTTP/2.0\r\nHost: t\r\n\r\n`);
          assert.equal(result.closed, true);
          assert.deepEqual(
            result.finals.map((r) => r.status),
            [200, 505],
          );
        },
      ),
  );
});
