/**
 * Timeouts and connection limits over raw sockets, with small values so each test takes well under
 * a second: a stalled head (408, RFC 9110 §15.5.9), an idle keep-alive connection, a stalled body,
 * maxRequestsPerConnection and maxConnections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler, ServerOptions } from '../../src/index.js';
import { exchange, field, get, RawClient, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;
const SHORT: ServerOptions = { headTimeoutMs: 300, idleTimeoutMs: 300, bodyTimeoutMs: 300, lingerMs: 300 };

const echo: Handler = async (req, res) => {
  const body = await req.text();
  res.end(`got ${body.length} bytes`);
};

describe('timeouts', () => {
  it(
    'answer a head that stops arriving with 408 and Connection: close, then close',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(echo, SHORT, async ({ port }) => {
        const started = performance.now();
        const result = await exchange({ port }, 'GET /slow HTTP/1.1\r\nHost: t\r\nX-Partial: ');
        const elapsed = performance.now() - started;
        assert.equal(result.closed, true);
        assert.equal(result.finals.length, 1);
        assert.equal(result.finals[0]!.status, 408);
        assert.equal(field(result.finals[0]!, 'connection'), 'close');
        assert.ok(elapsed >= 250 && elapsed < 1500, `closed after ${Math.round(elapsed)} ms`);
      }),
  );

  it('count the whole head, not the time since the last byte (slowloris)', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, SHORT, async ({ port }) => {
      // One byte every 50 ms keeps the socket busy, but the head is never done within 300 ms.
      const trickle = [...'GET / HTTP/1.1\r\nHost: t\r\nX-A: aaaaaaaaaaaaaaaaaaaaaaaa'];
      const client = await RawClient.connect({ port });
      try {
        void client.writePieces(trickle, 50);
        await client.waitForClose(1500);
        const res = client.parse().finals[0];
        assert.equal(res?.status, 408);
      } finally {
        client.destroy();
      }
    }),
  );

  it('close an idle keep-alive connection silently after idleTimeoutMs', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, SHORT, async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        await client.write(get('/'));
        await client.responses(1);
        const afterResponse = client.received.length;
        const idleSince = performance.now();
        await client.waitForClose(1500);
        const idle = performance.now() - idleSince;
        assert.equal(client.received.length, afterResponse, 'nothing was sent before closing');
        assert.ok(idle >= 250, `closed after ${Math.round(idle)} ms idle`);
      } finally {
        client.destroy();
      }
    }),
  );

  it('keep a connection that is used within idleTimeoutMs', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, SHORT, async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        for (let i = 1; i <= 4; i++) {
          await client.write(get(`/${i}`));
          await client.responses(i);
          await sleep(150);
        }
        assert.equal(client.closed, false);
      } finally {
        client.destroy();
      }
    }),
  );

  it('answer a body that stops arriving with 408 and close', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, SHORT, async ({ port }) => {
      const result = await exchange(
        { port },
        'POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly a little',
      );
      assert.equal(result.closed, true);
      assert.equal(result.finals.length, 1);
      assert.equal(result.finals[0]!.status, 408);
      assert.equal(field(result.finals[0]!, 'connection'), 'close');
    }),
  );
});

describe('connection limits', () => {
  it(
    'close the connection after maxRequestsPerConnection, saying so in the last response',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(
        (req, res) => res.end(req.url),
        { maxRequestsPerConnection: 3 },
        async ({ port }) => {
          const result = await exchange({ port }, get('/1') + get('/2') + get('/3') + get('/4'));
          assert.equal(result.closed, true);
          assert.deepEqual(
            result.finals.map((r) => r.body.toString()),
            ['/1', '/2', '/3'],
          );
          assert.equal(field(result.finals[0]!, 'connection'), undefined);
          assert.equal(field(result.finals[1]!, 'connection'), undefined);
          assert.equal(field(result.finals[2]!, 'connection'), 'close');
        },
      ),
  );

  it(
    'refuse connections beyond maxConnections while the first ones keep working',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(
        (req, res) => res.end(`ok ${req.url}`),
        { maxConnections: 2 },
        async ({ port }) => {
          const first = await RawClient.connect({ port });
          const second = await RawClient.connect({ port });
          let third: RawClient | undefined;
          try {
            await first.write(get('/first'));
            await second.write(get('/second'));
            await first.responses(1);
            await second.responses(1);
            third = await RawClient.connect({ port });
            await third.write(get('/third'));
            await third.waitForClose(2000);
            assert.equal(third.received.length, 0, 'the extra connection got no response');
            await first.write(get('/again'));
            const [, again] = await first.responses(2);
            assert.equal(again!.body.toString(), 'ok /again');
            await second.write(get('/again'));
            assert.equal((await second.responses(2))[1]!.status, 200);
          } finally {
            first.destroy();
            second.destroy();
            third?.destroy();
          }
        },
      ),
  );

  it('accept a new connection once one below maxConnections has closed', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (req, res) => res.end(`ok ${req.url}`),
      { maxConnections: 1 },
      async ({ port }) => {
        const done = await exchange({ port }, get('/one', 'Connection: close\r\n'));
        assert.equal(done.finals[0]!.status, 200);
        await sleep(50);
        const next = await exchange({ port }, get('/two', 'Connection: close\r\n'));
        assert.equal(next.finals[0]?.body.toString(), 'ok /two');
      },
    ),
  );
});
