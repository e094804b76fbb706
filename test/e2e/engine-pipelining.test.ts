/**
 * Pipelining over a raw socket: response order (RFC 9112 §9.3.2), batching of ready responses into
 * one write, draining of unread request bodies, and reading stopping when responses back up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler } from '../../src/index.js';
import { exchange, field, get, RawClient, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;

describe('pipelined requests', () => {
  it('are all answered when sent in one write', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (req, res) => res.end(`path ${req.url}`),
      undefined,
      async ({ port }) => {
        const paths = ['/a', '/b', '/c', '/d', '/e'];
        const result = await exchange({ port }, paths.map((p) => get(p)).join(''), { responses: 5 });
        assert.deepEqual(
          result.finals.map((r) => r.body.toString()),
          paths.map((p) => `path ${p}`),
        );
        assert.equal(result.rest.length, 0);
      },
    ),
  );

  it('get responses in request order even when later handlers finish first', {
    timeout: TEST_TIMEOUT_MS,
  }, () => {
    const finishedOrder: string[] = [];
    return withServer(
      async (req, res) => {
        if (req.url === '/slow') await sleep(50);
        else if (req.url === '/medium') await sleep(20);
        finishedOrder.push(req.url);
        res.end(`answer for ${req.url}`);
      },
      undefined,
      async ({ port }) => {
        const result = await exchange({ port }, get('/slow') + get('/medium') + get('/fast'), {
          responses: 3,
        });
        assert.deepEqual(finishedOrder, ['/fast', '/medium', '/slow']);
        assert.deepEqual(
          result.finals.map((r) => r.body.toString()),
          ['answer for /slow', 'answer for /medium', 'answer for /fast'],
        );
      },
    );
  });

  it(
    'keep request order when a later handler streams a chunked body while an earlier one waits',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(
        async (req, res) => {
          if (req.url === '/slow') {
            await sleep(50);
            res.end('slow');
            return;
          }
          for (let i = 0; i < 5; i++) res.write(`piece ${i};`);
          res.end();
        },
        undefined,
        async ({ port }) => {
          const result = await exchange({ port }, get('/slow') + get('/stream'), { responses: 2 });
          assert.equal(result.finals[0]!.body.toString(), 'slow');
          assert.equal(result.finals[1]!.body.toString(), 'piece 0;piece 1;piece 2;piece 3;piece 4;');
        },
      ),
  );

  it(
    'are all answered when the last one says Connection: close and an earlier one is slow',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(
        async (req, res) => {
          if (req.url === '/slow') await sleep(50);
          res.end(`answer ${req.url}`);
        },
        undefined,
        async ({ port }) => {
          const result = await exchange({ port }, get('/slow') + get('/last', 'Connection: close\r\n'));
          assert.equal(result.closed, true);
          assert.deepEqual(
            result.finals.map((r) => r.body.toString()),
            ['answer /slow', 'answer /last'],
          );
          assert.equal(
            field(result.finals[0]!, 'connection'),
            undefined,
            'only the last response says close',
          );
          assert.equal(field(result.finals[1]!, 'connection'), 'close');
        },
      ),
  );

  it('leave in one write when sixteen small responses are ready together', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.end('hello world');
      },
      undefined,
      async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          await client.write(Array.from({ length: 16 }, () => get('/hello')).join(''));
          const responses = await client.responses(16);
          assert.equal(responses.length, 16);
          // Let any straggling segment arrive before counting.
          await sleep(30);
          // One server write is one TCP send of ~2.5 KB on loopback (MTU 64 KiB), which the client
          // reads in one 'data' event: more than one means the responses were written separately.
          assert.equal(client.dataEvents, 1, `responses arrived in ${client.dataEvents} reads`);
        } finally {
          client.destroy();
        }
      },
    ),
  );
});

describe('unread request bodies', () => {
  const ignoresBody: Handler = (req, res) => res.end(`answered ${req.method} ${req.url}`);

  it('are drained so the next request on the connection is answered', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(ignoresBody, { maxDrainBytes: 64 * 1024 }, async ({ port }) => {
      const body = 'x'.repeat(20_000);
      const client = await RawClient.connect({ port });
      try {
        await client.write(`POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
        const [first] = await client.responses(1);
        assert.equal(field(first!, 'connection'), undefined);
        // The body arrives after the response was sent; it must be skipped, not parsed as a request.
        await client.writePieces([body.slice(0, 10_000), body.slice(10_000) + get('/next')], 20);
        const both = await client.responses(2);
        assert.equal(both[1]!.body.toString(), 'answered GET /next');
        assert.equal(client.closed, false);
      } finally {
        client.destroy();
      }
    }),
  );

  it('are drained when chunked', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(ignoresBody, undefined, async ({ port }) => {
      const request =
        'POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n' +
        get('/after');
      const result = await exchange({ port }, request, { responses: 2 });
      assert.deepEqual(
        result.finals.map((r) => r.body.toString()),
        ['answered POST /c', 'answered GET /after'],
      );
    }),
  );

  it(
    'close the connection after the response when larger than maxDrainBytes',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(ignoresBody, { maxDrainBytes: 1024 }, async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          // Declares 1 MiB, sends only a little: the server must not wait to read it all.
          await client.write(`POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: ${1024 * 1024}\r\n\r\nxxxx`);
          const [res] = await client.responses(1);
          assert.equal(res!.status, 200);
          assert.equal(field(res!, 'connection'), 'close');
          await client.waitForClose();
        } finally {
          client.destroy();
        }
      }),
  );

  it(
    'close the connection once more than maxDrainBytes arrived after the response',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(ignoresBody, { maxDrainBytes: 4096 }, async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          // Chunked: the size is unknown when the response goes out, so the bound applies while draining.
          await client.write('POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
          const [res] = await client.responses(1);
          assert.equal(res!.status, 200);
          const chunk = `1000\r\n${'y'.repeat(0x1000)}\r\n`;
          for (let i = 0; i < 4 && !client.closed; i++) await client.write(chunk);
          await client.waitForClose();
        } finally {
          client.destroy();
        }
      }),
  );
});

describe('backpressure from a client that does not read', () => {
  it('stops the server from reading more pipelined requests', { timeout: TEST_TIMEOUT_MS }, async () => {
    const RESPONSE_BYTES = 1024 * 1024;
    const REQUESTS = 100;
    const MAX_PIPELINED = 4;
    const payload = Buffer.alloc(RESPONSE_BYTES, 'z');
    let calls = 0;
    await withServer(
      async (_req, res) => {
        calls++;
        await sleep(1);
        // A handler that cannot see backpressure: one end() with the whole body.
        res.end(payload);
      },
      { maxPipelined: MAX_PIPELINED },
      async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          client.socket.pause();
          await client.write(Array.from({ length: REQUESTS }, (_, i) => get(`/r${i}`)).join(''));
          await sleep(500);
          // Loopback socket buffers absorb a few MiB, so a few responses are written before the
          // server must stop; it must not go on to answer (and buffer) all 100 MiB.
          assert.ok(calls < REQUESTS / 2, `${calls} of ${REQUESTS} handlers were called`);
        } finally {
          client.destroy();
        }
      },
    );
  });

  it('calls at most maxPipelined handlers while the first response waits for drain', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const MAX_PIPELINED = 4;
    const payload = Buffer.alloc(64 * 1024, 'z');
    let calls = 0;
    await withServer(
      async (req, res) => {
        calls++;
        if (req.url !== '/big') {
          res.end('small');
          return;
        }
        // 16 MiB with backpressure honoured: never finishes while the client does not read.
        for (let i = 0; i < 256 && !res.writableEnded; i++) if (!res.write(payload)) await res.drain();
        res.end();
      },
      { maxPipelined: MAX_PIPELINED },
      async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          client.socket.pause();
          await client.write(get('/big') + Array.from({ length: 50 }, () => get('/small')).join(''));
          await sleep(300);
          assert.ok(calls <= MAX_PIPELINED, `${calls} handlers were called`);
        } finally {
          client.destroy();
        }
      },
    );
  });
});
