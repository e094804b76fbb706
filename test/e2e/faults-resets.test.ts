/**
 * Clients that reset the connection (TCP RST) in the middle of a request body or of a response:
 * the handler learns it (its body read fails, its response sees 'close'), nothing crashes, no
 * connection is left behind, and the server goes on answering (issue #8 §3).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server } from '../../src/conn/server.js';
import type { Handler } from '../../src/handler/types.js';
import { closeServer, startServer } from './raw-client.js';

/** Resolves once the server holds no connection (or throws after a while). */
async function drained(server: Server): Promise<void> {
  for (let i = 0; i < 100 && server.connectionCount > 0; i++) await sleep(20);
  assert.equal(server.connectionCount, 0, 'no connection is left behind');
}

test('a client that resets halfway through its request body: the read fails, the server goes on', async () => {
  const outcomes: string[] = [];
  const handler: Handler = async (req, res) => {
    if (req.method === 'GET') {
      res.end('alive');
      return;
    }
    try {
      await req.buffer();
      outcomes.push('read whole');
    } catch {
      outcomes.push('read failed');
    }
    res.end();
  };
  const { server, port, url } = await startServer(handler);
  try {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n');
    socket.write(Buffer.alloc(50_000, 0x61));
    await sleep(100);
    socket.resetAndDestroy();
    for (let i = 0; i < 50 && outcomes.length === 0; i++) await sleep(20);
    assert.deepEqual(outcomes, ['read failed']);
    await drained(server);
    assert.equal(await (await fetch(url)).text(), 'alive');
  } finally {
    await closeServer(server);
  }
});

test('a client that resets in the middle of a long response: the handler sees close and stops', async () => {
  let closed = false;
  let written = 0;
  const handler: Handler = async (req, res) => {
    if (req.url === '/alive') {
      res.end('alive');
      return;
    }
    res.on('close', () => {
      closed = true;
    });
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    // Up to 256 MiB, far more than the socket buffers hold: the reset comes while this runs.
    while (!closed && written < 256 * 1024 * 1024) {
      written += chunk.length;
      if (!res.write(chunk)) await res.drain();
    }
    if (!closed) res.end();
  };
  const { server, port, url } = await startServer(handler);
  try {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    let received = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        received += d.length;
        if (received > 1024 * 1024) {
          socket.resetAndDestroy();
          resolve();
        }
      });
    });
    for (let i = 0; i < 100 && !closed; i++) await sleep(20);
    assert.equal(closed, true, "the response saw 'close'");
    const after = written;
    await sleep(100);
    assert.equal(written, after, 'the handler stopped writing');
    await drained(server);
    assert.equal(await (await fetch(`${url}/alive`)).text(), 'alive');
  } finally {
    await closeServer(server);
  }
});
