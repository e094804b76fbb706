import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { relay } from './tunnel.js';

/** Two connected TCP sockets on 127.0.0.1 (both half-open capable): [client end, server end]. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(client, 'connect');
  const [serverSide] = await accepted;
  server.close();
  return [client, serverSide];
}

/** Everything a socket reads until its peer ends it (the socket's own writable side is left open). */
function readAll(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.once('error', reject);
  });
}

/**
 * A relay between two pairs: `left` talks to relay side a, `right` to relay side b, so
 * bytes go left → a → b → right and back.
 */
async function setup(aHead = Buffer.alloc(0), bHead = Buffer.alloc(0), idleTimeoutMs = 5_000) {
  const [left, a] = await socketPair();
  const [b, right] = await socketPair();
  const done = relay(a, aHead, b, bHead, { idleTimeoutMs });
  return { left, right, a, b, done };
}

test('relay() carries bytes both ways and counts them, heads first', async () => {
  const { left, right, done } = await setup(Buffer.from('early;'), Buffer.from('hello;'));
  left.write('ping');
  right.write('pong');
  left.end();
  right.end();
  const [fromLeft, fromRight] = await Promise.all([readAll(right), readAll(left)]);
  assert.equal(fromLeft, 'early;ping');
  assert.equal(fromRight, 'hello;pong');
  assert.deepEqual(await done, { up: 10, down: 10 });
});

test('relay() passes a half-close on and keeps the other direction going', async () => {
  const { left, right, done } = await setup();
  // The client is done sending (as a TLS client may be) but still reading.
  left.end('request');
  assert.equal(await readAll(right), 'request');
  // The far side answers after seeing the end, and only then ends.
  right.write('late ');
  await new Promise((resolve) => setTimeout(resolve, 50));
  right.end('answer');
  assert.equal(await readAll(left), 'late answer');
  assert.deepEqual(await done, { up: 7, down: 11 });
});

test('relay() keeps up with backpressure over a large transfer', async () => {
  const { left, right, done } = await setup();
  const size = 32 * 1024 * 1024;
  const block = Buffer.alloc(64 * 1024, 0x61);
  const received = new Promise<number>((resolve) => {
    let n = 0;
    right.on('data', (chunk: Buffer) => {
      n += chunk.length;
    });
    right.once('end', () => resolve(n));
  });
  for (let sent = 0; sent < size; sent += block.length) {
    if (!left.write(block)) await once(left, 'drain');
  }
  left.end();
  assert.equal(await received, size);
  right.end();
  await readAll(left);
  assert.deepEqual(await done, { up: size, down: 0 });
});

test('relay() stops reading while the other side does not take bytes', async () => {
  const { left, right, a, b, done } = await setup();
  right.pause();
  const total = 16 * 1024 * 1024;
  // Queued at once on the client: if the relay did not pause, it would all end up in memory.
  left.write(Buffer.alloc(total));
  // Wait until the relay has stopped taking bytes: bytesRead stable over a few looks.
  let last = -1;
  let stable = 0;
  for (let i = 0; i < 100 && stable < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    stable = a.bytesRead === last ? stable + 1 : 0;
    last = a.bytesRead;
  }
  assert.equal(stable, 4, 'the relay stopped reading');
  assert.ok(a.isPaused(), 'a is paused');
  assert.ok(a.bytesRead < total / 2, `read ${a.bytesRead} of ${total} bytes`);
  assert.ok(b.writableLength <= 1024 * 1024, `${b.writableLength} bytes queued on b`);
  right.resume();
  left.end();
  right.end();
  await done;
  left.destroy();
  right.destroy();
});

test('relay() destroys both sides when one is reset', async () => {
  const { left, right, a, b, done } = await setup();
  left.write('x');
  await once(right, 'data');
  const rightEnded = once(right, 'end');
  left.resetAndDestroy();
  const result = await done;
  assert.equal(result.up, 1);
  assert.ok(a.destroyed && b.destroyed);
  await rightEnded;
  right.destroy();
});

test('relay() destroys both sides when one errors', async () => {
  const { left, right, a, b, done } = await setup();
  const ended = Promise.all([once(left, 'end'), once(right, 'end')]);
  left.resume();
  right.resume();
  b.destroy(new Error('boom'));
  await done;
  assert.ok(a.destroyed && b.destroyed);
  await ended;
  left.destroy();
  right.destroy();
});

test('relay() destroys both sides after the idle timeout, but not while bytes move', async () => {
  const { left, right, a, b, done } = await setup(undefined, undefined, 300);
  const ended = Promise.all([once(left, 'end'), once(right, 'end')]);
  const started = Date.now();
  // Activity every 100 ms for 600 ms keeps the tunnel open past its 300 ms timeout.
  for (let i = 0; i < 6; i++) {
    left.write('.');
    await once(right, 'data');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(!a.destroyed && !b.destroyed, 'still open while active');
  await done;
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 800 && elapsed < 2_000, `closed after ${elapsed} ms`);
  await ended;
  left.destroy();
  right.destroy();
});

test('relay() resolves when a side was already destroyed', async () => {
  const [left, a] = await socketPair();
  const [b, right] = await socketPair();
  a.destroy();
  await once(a, 'close');
  const result = await relay(a, Buffer.alloc(0), b, Buffer.alloc(0), { idleTimeoutMs: 1_000 });
  assert.deepEqual(result, { up: 0, down: 0 });
  assert.ok(b.destroyed);
  left.destroy();
  right.destroy();
});
