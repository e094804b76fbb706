/**
 * The Fetch adapter on a real Berth server on 127.0.0.1, with Node's fetch as the client.
 * The app below is written the way a Hono-style `app.fetch` is: Request in, Response out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toHandler } from '../../src/adapters/fetch.js';
import { createServer } from '../../src/index.js';

const encoder = new TextEncoder();
const BIG_CHUNK_BYTES = 64 * 1024;
const BIG_CHUNKS = 128; // 8 MiB: far beyond any socket buffer, so backpressure must engage

let lastAbort: Promise<unknown> | undefined;

async function app(request: Request): Promise<Response> {
  const url = new URL(request.url);
  switch (`${request.method} ${url.pathname}`) {
    case 'GET /text':
    case 'HEAD /text':
      return new Response('hello from fetch', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
    case 'GET /url':
      return new Response(request.url);
    case 'POST /echo':
      // Streams the request body straight back as the response body.
      return new Response(request.body, {
        headers: { 'content-type': request.headers.get('content-type') ?? 'application/octet-stream' },
      });
    case 'POST /json': {
      const data = (await request.json()) as { n: number };
      return Response.json({ doubled: data.n * 2, method: request.method }, { status: 201 });
    }
    case 'GET /cookies': {
      const headers = new Headers({ 'content-type': 'text/plain' });
      headers.append('set-cookie', 'a=1; Path=/; HttpOnly');
      headers.append('set-cookie', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT');
      return new Response('two cookies', { headers });
    }
    case 'GET /stream': {
      let i = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (i === 5) controller.close();
          else controller.enqueue(encoder.encode(`chunk ${i++}\n`));
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/plain' } });
    }
    case 'GET /big': {
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === BIG_CHUNKS) return controller.close();
          controller.enqueue(new Uint8Array(BIG_CHUNK_BYTES).fill(97 + (sent % 26)));
          sent++;
        },
      });
      return new Response(stream);
    }
    case 'GET /empty':
      return new Response(null, { status: 204, headers: { 'x-empty': 'yes' } });
    case 'GET /throw':
      throw new Error('the app failed');
    case 'GET /hang': {
      const signal = request.signal;
      lastAbort = new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
      // A body that never ends, with a heartbeat like an event stream's: only the client leaving
      // stops it. (The engine notices a client that closed its side when a write fails, as
      // node:net reports EPIPE/ECONNRESET, so a silent stream would not notice.)
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('started\n'));
        },
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          controller.enqueue(encoder.encode('tick\n'));
        },
      });
      return new Response(stream);
    }
    default:
      return new Response('not found', { status: 404 });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref()),
  ]);
}

describe('fetch adapter end to end', () => {
  const server = createServer(toHandler(app));
  let base = '';

  before(async () => {
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.address();
    assert.ok('port' in address);
    base = `http://127.0.0.1:${address.port}`;
  });

  after(() => server.close());

  it('answers GET with text', async () => {
    const res = await fetch(`${base}/text`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'hello from fetch');
  });

  it('gives the app the absolute URL built from Host and the target', async () => {
    const res = await fetch(`${base}/url?x=1&y=two`);
    assert.equal(await res.text(), `${base}/url?x=1&y=two`);
  });

  it('answers HEAD without a body', async () => {
    const res = await fetch(`${base}/text`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  it('echoes a streamed POST body', async () => {
    const parts = ['first part, ', 'second part, ', 'third part'];
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const part = parts.shift();
        if (part === undefined) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 5));
        controller.enqueue(encoder.encode(part));
      },
    });
    const res = await fetch(`${base}/echo`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': 'text/plain' },
    } as RequestInit);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'first part, second part, third part');
  });

  it('echoes a large POST body byte for byte', async () => {
    const payload = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
    const res = await fetch(`${base}/echo`, { method: 'POST', body: payload });
    const echoed = new Uint8Array(await res.arrayBuffer());
    assert.equal(echoed.length, payload.length);
    assert.ok(Buffer.from(echoed).equals(Buffer.from(payload)));
  });

  it('reads and answers JSON', async () => {
    const res = await fetch(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: 21 }),
    });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { doubled: 42, method: 'POST' });
  });

  it('sends each Set-Cookie as its own field', async () => {
    const res = await fetch(`${base}/cookies`);
    assert.deepEqual(res.headers.getSetCookie(), [
      'a=1; Path=/; HttpOnly',
      'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT',
    ]);
    assert.equal(await res.text(), 'two cookies');
  });

  it('streams a ReadableStream response', async () => {
    const res = await fetch(`${base}/stream`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  });

  it('streams a response larger than the socket buffers, with backpressure', async () => {
    const res = await fetch(`${base}/big`);
    const reader = res.body!.getReader();
    let total = 0;
    let first = true;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (first) {
        // A slow reader: the server must wait for drain rather than buffer everything.
        await new Promise((resolve) => setTimeout(resolve, 100));
        first = false;
      }
      total += value.length;
    }
    assert.equal(total, BIG_CHUNK_BYTES * BIG_CHUNKS);
  });

  it('answers 204 with no body', async () => {
    const res = await fetch(`${base}/empty`);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('x-empty'), 'yes');
    assert.equal(res.headers.get('content-length'), null);
    assert.equal(await res.text(), '');
  });

  it('answers 500 when the app throws, and keeps serving', async () => {
    const res = await fetch(`${base}/throw`);
    assert.equal(res.status, 500);
    await res.arrayBuffer();
    const next = await fetch(`${base}/text`);
    assert.equal(await next.text(), 'hello from fetch');
  });

  it('aborts the request signal when the client goes away', async () => {
    const client = new AbortController();
    const res = await fetch(`${base}/hang`, { signal: client.signal });
    const reader = res.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /^started\n/);
    assert.ok(lastAbort);
    client.abort();
    const reason = await withTimeout(lastAbort, 5000, 'the server never saw the client leave');
    assert.equal((reason as Error).name, 'AbortError');
  });
});
