/**
 * A request body trickled in (R-U-Dead-Yet, slowhttptest -B): bodyTimeoutMs alone is the longest
 * silence, so a client sending a byte more often than that would hold its connection for as long
 * as its Content-Length lets it. minBodyBytesPerSecond cuts such a body with 408 as if it had
 * stopped; a body that is slow overall but faster than the rate completes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler, ServerOptions } from '../../src/index.js';
import { field, RawClient, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;
/** 300 ms windows that must each bring 300 body bytes (1,000 B/s). */
const OPTIONS: ServerOptions = { bodyTimeoutMs: 300, lingerMs: 300, minBodyBytesPerSecond: 1000 };

const echo: Handler = async (req, res) => {
  const body = await req.text();
  res.end(`got ${body.length} bytes`);
};

/** Writes `piece` every delayMs until `count` pieces are out or the connection closes. */
async function trickle(client: RawClient, piece: string, count: number, delayMs: number): Promise<void> {
  for (let i = 0; i < count && !client.closed; i++) {
    await client.write(piece);
    await sleep(delayMs);
  }
}

describe('slow request bodies', () => {
  it(
    'cut a body trickled below minBodyBytesPerSecond with 408, though it never falls silent',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(echo, OPTIONS, async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          await client.write('POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n');
          // One byte every 20 ms (50 B/s): no silence comes near 300 ms, and all 200 bytes would
          // take 4 s; 15 bytes a window are far below the 300 asked for.
          const writing = trickle(client, 'x', 200, 20);
          await client.waitForClose(3_000);
          await writing;
          const res = client.parse().finals[0];
          assert.equal(res?.status, 408);
          assert.equal(field(res!, 'connection'), 'close');
        } finally {
          client.destroy();
        }
      }),
  );

  it(
    'let a body slower overall than bodyTimeoutMs finish when it comes faster than the rate',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(echo, OPTIONS, async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          await client.write('POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n');
          // 500 bytes every 50 ms: 10 pieces take longer than one 300 ms window, at ~10× the rate.
          await trickle(client, 'y'.repeat(500), 10, 50);
          const [res] = await client.responses(1);
          assert.equal(res!.status, 200);
          assert.equal(res!.body.toString(), 'got 5000 bytes');
        } finally {
          client.destroy();
        }
      }),
  );

  it('with minBodyBytesPerSecond 0, cut a body only when it falls silent', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, { ...OPTIONS, minBodyBytesPerSecond: 0 }, async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        await client.write('POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 30\r\n\r\n');
        await trickle(client, 'z', 30, 20);
        const [res] = await client.responses(1);
        assert.equal(res!.body.toString(), 'got 30 bytes');
      } finally {
        client.destroy();
      }
    }),
  );

  it('do not hold a handler that is slow to read against the client: no 408 while reading is paused', {
    timeout: TEST_TIMEOUT_MS,
  }, () => {
    // The whole body is sent at once; the handler waits three body timeouts before reading it,
    // as a proxy streaming to a slow upstream would. Reading pauses past 64 KiB buffered.
    const late: Handler = async (req, res) => {
      await sleep(900);
      res.end(`got ${(await req.buffer()).length} bytes late`);
    };
    return withServer(late, { ...OPTIONS, limits: { maxBufferedBodyBytes: 1 << 20 } }, async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        const size = 300 * 1024;
        await client.write(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${size}\r\n\r\n`);
        void client.write('b'.repeat(size)).catch(() => {});
        const [res] = await client.responses(1);
        assert.equal(res!.status, 200);
        assert.equal(res!.body.toString(), `got ${size} bytes late`);
      } finally {
        client.destroy();
      }
    });
  });

  it('refuse a negative minBodyBytesPerSecond', async () => {
    const { resolveConfig } = await import('../../src/conn/config.js');
    assert.throws(() => resolveConfig({ minBodyBytesPerSecond: -1 }), RangeError);
    assert.equal(resolveConfig({ bodyTimeoutMs: 30_000 }).minBodyBytesPerTimeout, 7200);
  });
});
