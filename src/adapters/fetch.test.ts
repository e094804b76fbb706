/**
 * Unit tests of the Fetch adapter against in-memory stand-ins for Berth's Request and Response
 * (plain objects, no sockets); test/e2e/fetch-adapter.test.ts runs it on a real server.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { HttpError } from '../handler/http-error.js';
import type { Request as BerthRequest, Response as BerthResponse, HeaderValue } from '../handler/types.js';
import { type FetchHandler, toHandler } from './fetch.js';

type FakeRequestInit = {
  method?: string;
  url?: string;
  rawHeaders?: string[];
  body?: Buffer[];
};

function fakeRequest(init: FakeRequestInit = {}): BerthRequest & { chunksRead: number } {
  const rawHeaders = init.rawHeaders ?? ['Host', 'example.test'];
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${String(prev)}, ${value}`;
  }
  const body = init.body ?? [];
  const req = {
    method: init.method ?? 'GET',
    url: init.url ?? '/',
    httpVersion: '1.1',
    headers,
    rawHeaders,
    trailers: {},
    remoteAddress: '127.0.0.1',
    remotePort: 50000,
    cookies: {},
    chunksRead: 0,
    async *[Symbol.asyncIterator]() {
      for (const chunk of body) {
        req.chunksRead++;
        yield chunk;
      }
    },
    buffer: () => Promise.reject(new Error('not used')),
    text: () => Promise.reject(new Error('not used')),
    json: () => Promise.reject(new Error('not used')),
    arrayBuffer: () => Promise.reject(new Error('not used')),
  };
  return req;
}

/** Records what the adapter does to a response; write() answers false while `congested` is set. */
class FakeResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  congested = false;
  readonly fields = new Map<string, HeaderValue>();
  readonly chunks: (string | Uint8Array)[] = [];
  private drainWaiters: (() => void)[] = [];

  setHeader(name: string, value: HeaderValue): this {
    this.fields.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string): HeaderValue | undefined {
    return this.fields.get(name.toLowerCase());
  }
  write(chunk: string | Uint8Array): boolean {
    assert.equal(this.writableEnded, false, 'write after end');
    this.headersSent = true;
    this.chunks.push(chunk);
    return !this.congested;
  }
  end(chunk?: string | Uint8Array): void {
    if (this.writableEnded) return;
    if (chunk !== undefined) this.chunks.push(chunk);
    this.headersSent = true;
    this.writableEnded = true;
    this.emit('close');
  }
  drain(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
  /** Lets waiting writers go on, as the engine does when the socket drains. */
  relieve(): void {
    this.congested = false;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
  /** The client goes away before the response ended. */
  disconnect(): void {
    this.emit('close');
  }
  body(): string {
    return Buffer.concat(this.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).toString();
  }
}

function asResponse(res: FakeResponse): BerthResponse {
  return res as unknown as BerthResponse;
}

/** Runs the adapter once and returns the Request the app saw. */
async function seenRequest(
  req: BerthRequest,
  options?: { trustProxy?: boolean },
): Promise<{ request: globalThis.Request; body: string | null }> {
  let seen: { request: globalThis.Request; body: string | null } | undefined;
  const handler = toHandler(async (request) => {
    seen = { request, body: request.body === null ? null : await request.text() };
    return new Response('ok');
  }, options);
  await handler(req, asResponse(new FakeResponse()));
  assert.ok(seen);
  return seen;
}

/** Resolves after pending promise callbacks and stream pulls have run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('toHandler() request side', () => {
  it('builds the URL from Host and the request-target, with scheme http', async () => {
    const { request } = await seenRequest(
      fakeRequest({ url: '/a/b?x=1&y=%20', rawHeaders: ['Host', 'example.test:8080'] }),
    );
    assert.equal(request.url, 'http://example.test:8080/a/b?x=1&y=%20');
    assert.equal(request.method, 'GET');
  });

  it('keeps a target starting with // on the Host instead of reading it as another host', async () => {
    const { request } = await seenRequest(fakeRequest({ url: '//evil.test/x' }));
    assert.equal(new URL(request.url).host, 'example.test');
    assert.equal(new URL(request.url).pathname, '//evil.test/x');
  });

  it('uses the host of an absolute-form target and ignores Host (RFC 9112 §3.2.2)', async () => {
    const { request } = await seenRequest(fakeRequest({ url: 'http://other.test/p?q' }));
    assert.equal(request.url, 'http://other.test/p?q');
  });

  it('maps the asterisk-form of OPTIONS to the path /*', async () => {
    const { request } = await seenRequest(fakeRequest({ method: 'OPTIONS', url: '*' }));
    assert.equal(request.url, 'http://example.test/*');
  });

  it('answers 400 for a Host that would change the URL', async () => {
    for (const host of ['evil.test/x', 'user@evil.test', 'a?b', 'a#b', 'a\\b', '']) {
      const handler = toHandler(() => assert.fail('the app must not run'));
      await assert.rejects(
        async () => handler(fakeRequest({ rawHeaders: ['Host', host] }), asResponse(new FakeResponse())),
        (err: unknown) => err instanceof HttpError && err.status === 400,
        host,
      );
    }
  });

  it('answers 501 for the methods Fetch forbids', async () => {
    for (const method of ['CONNECT', 'TRACE', 'track']) {
      const handler = toHandler(() => assert.fail('the app must not run'));
      await assert.rejects(
        async () => handler(fakeRequest({ method, url: '/' }), asResponse(new FakeResponse())),
        (err: unknown) => err instanceof HttpError && err.status === 501,
      );
    }
  });

  it('copies every field from rawHeaders, repeats included', async () => {
    const { request } = await seenRequest(
      fakeRequest({
        rawHeaders: [
          'Host',
          'example.test',
          'Accept',
          'text/html',
          'X-Multi',
          'a',
          'x-multi',
          'b',
          'Cookie',
          'k=v',
        ],
      }),
    );
    assert.equal(request.headers.get('accept'), 'text/html');
    assert.equal(request.headers.get('x-multi'), 'a, b');
    assert.equal(request.headers.get('cookie'), 'k=v');
    assert.equal(request.headers.get('host'), 'example.test');
  });

  it('takes scheme and host from X-Forwarded-* only when trustProxy is set', async () => {
    const init = {
      rawHeaders: [
        'Host',
        'internal:3000',
        'X-Forwarded-Proto',
        'https, http',
        'X-Forwarded-Host',
        'public.test',
      ],
    };
    assert.equal((await seenRequest(fakeRequest(init))).request.url, 'http://internal:3000/');
    assert.equal(
      (await seenRequest(fakeRequest(init), { trustProxy: true })).request.url,
      'https://public.test/',
    );
  });

  it('prefers the first element of Forwarded (RFC 7239) over X-Forwarded-*', async () => {
    const req = fakeRequest({
      rawHeaders: [
        'Host',
        'internal',
        'Forwarded',
        'for=1.2.3.4;proto=https;host="public.test:8443", for=5.6.7.8;proto=http',
        'X-Forwarded-Host',
        'other.test',
      ],
    });
    assert.equal((await seenRequest(req, { trustProxy: true })).request.url, 'https://public.test:8443/');
  });

  it('ignores a forwarded scheme other than http or https', async () => {
    const req = fakeRequest({ rawHeaders: ['Host', 'h.test', 'X-Forwarded-Proto', 'javascript'] });
    assert.equal((await seenRequest(req, { trustProxy: true })).request.url, 'http://h.test/');
  });

  it('gives GET, HEAD and a bodiless POST a null body', async () => {
    assert.equal((await seenRequest(fakeRequest({ method: 'GET', body: [Buffer.from('x')] }))).body, null);
    assert.equal((await seenRequest(fakeRequest({ method: 'POST' }))).body, null);
    const zero = fakeRequest({ method: 'POST', rawHeaders: ['Host', 'h', 'Content-Length', '0'] });
    assert.equal((await seenRequest(zero)).body, null);
  });

  it('streams a POST body with Content-Length or Transfer-Encoding', async () => {
    const chunks = [Buffer.from('hello, '), Buffer.from('world')];
    const byLength = fakeRequest({
      method: 'POST',
      rawHeaders: ['Host', 'h', 'Content-Length', '12'],
      body: chunks,
    });
    assert.equal((await seenRequest(byLength)).body, 'hello, world');
    const chunked = fakeRequest({
      method: 'PUT',
      rawHeaders: ['Host', 'h', 'Transfer-Encoding', 'chunked'],
      body: chunks,
    });
    assert.equal((await seenRequest(chunked)).body, 'hello, world');
  });

  it('reads the request body only as fast as the app pulls it', async () => {
    const req = fakeRequest({
      method: 'POST',
      rawHeaders: ['Host', 'h', 'Transfer-Encoding', 'chunked'],
      body: [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')],
    });
    let readsBeforeFirstPull = -1;
    let readsAfterOnePull = -1;
    const handler = toHandler(async (request) => {
      await settle();
      readsBeforeFirstPull = req.chunksRead;
      const reader = request.body!.getReader();
      await reader.read();
      await settle();
      readsAfterOnePull = req.chunksRead;
      await reader.cancel();
      return new Response(null, { status: 204 });
    });
    await handler(req, asResponse(new FakeResponse()));
    assert.equal(readsBeforeFirstPull, 0);
    assert.equal(readsAfterOnePull, 1);
  });
});

describe('toHandler() response side', () => {
  async function run(app: FetchHandler, req = fakeRequest()): Promise<FakeResponse> {
    const res = new FakeResponse();
    await toHandler(app)(req, asResponse(res));
    return res;
  }

  it('copies status, status text and fields', async () => {
    const res = await run(
      () =>
        new Response('nope', {
          status: 418,
          statusText: 'Teapot',
          headers: { 'X-A': '1', 'content-type': 'text/x' },
        }),
    );
    assert.equal(res.statusCode, 418);
    assert.equal(res.statusMessage, 'Teapot');
    assert.equal(res.getHeader('x-a'), '1');
    assert.equal(res.getHeader('content-type'), 'text/x');
    assert.equal(res.body(), 'nope');
    assert.equal(res.writableEnded, true);
  });

  it('keeps each Set-Cookie a separate field', async () => {
    const headers = new Headers();
    headers.append('Set-Cookie', 'a=1; Path=/');
    headers.append('Set-Cookie', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT');
    const res = await run(() => new Response(null, { headers }));
    assert.deepEqual(res.getHeader('set-cookie'), [
      'a=1; Path=/',
      'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT',
    ]);
  });

  it('drops connection-specific fields the engine owns (RFC 9110 §7.6.1)', async () => {
    const res = await run(
      () =>
        new Response('x', {
          headers: {
            Connection: 'close',
            'Transfer-Encoding': 'chunked',
            'Keep-Alive': 'timeout=5',
            'X-Kept': 'y',
          },
        }),
    );
    assert.equal(res.getHeader('connection'), undefined);
    assert.equal(res.getHeader('transfer-encoding'), undefined);
    assert.equal(res.getHeader('keep-alive'), undefined);
    assert.equal(res.getHeader('x-kept'), 'y');
  });

  it('ends a null-body response without writing', async () => {
    const res = await run(() => new Response(null, { status: 204 }));
    assert.equal(res.statusCode, 204);
    assert.equal(res.chunks.length, 0);
    assert.equal(res.writableEnded, true);
  });

  it('writes no body for HEAD and cancels the one the app made', async () => {
    let cancelled = false;
    const body = new ReadableStream({
      pull: (c) => c.enqueue(new TextEncoder().encode('x')),
      cancel: () => {
        cancelled = true;
      },
    });
    const res = await run(() => new Response(body), fakeRequest({ method: 'HEAD' }));
    assert.equal(res.chunks.length, 0);
    assert.equal(res.writableEnded, true);
    assert.equal(cancelled, true);
  });

  it('waits for drain before reading more of the body when write() returns false', async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          if (pulls > 3) controller.close();
          else controller.enqueue(new TextEncoder().encode(String(pulls)));
        },
      },
      { highWaterMark: 0 },
    );
    const res = new FakeResponse();
    res.congested = true;
    const done = toHandler(() => new Response(body))(fakeRequest(), asResponse(res));
    await settle();
    assert.equal(res.chunks.length, 1, 'one write, then a wait for drain');
    assert.equal(pulls, 1);
    res.relieve();
    await done;
    assert.equal(res.body(), '123');
    assert.equal(res.writableEnded, true);
  });

  it('aborts the request signal when the client leaves before the end', async () => {
    let signal: AbortSignal | undefined;
    const res = new FakeResponse();
    const done = toHandler(
      (request) =>
        new Promise<Response>((_resolve, reject) => {
          signal = request.signal;
          request.signal.addEventListener('abort', () => reject(request.signal.reason));
        }),
    )(fakeRequest(), asResponse(res));
    await settle();
    assert.equal(signal?.aborted, false);
    res.disconnect();
    await done; // the abort the client caused is not an error worth a 500
    assert.equal(signal?.aborted, true);
    assert.equal((signal!.reason as Error).name, 'AbortError');
  });

  it('does not abort the signal on the close that follows a normal end', async () => {
    let signal: AbortSignal | undefined;
    await run((request) => {
      signal = request.signal;
      return new Response('done');
    });
    assert.equal(signal?.aborted, false);
  });

  it('stops a body stuck behind backpressure when the client leaves, and cancels it', async () => {
    let cancelled: unknown;
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(1024)),
      cancel: (reason) => {
        cancelled = reason;
      },
    });
    const res = new FakeResponse();
    res.congested = true;
    const done = toHandler(() => new Response(body))(fakeRequest(), asResponse(res));
    await settle();
    res.disconnect();
    await done;
    assert.equal((cancelled as Error).name, 'AbortError');
    assert.equal(res.writableEnded, false);
  });

  it('propagates an error the app throws', async () => {
    const boom = new Error('boom');
    const throwing = toHandler(() => {
      throw boom;
    });
    await assert.rejects(async () => throwing(fakeRequest(), asResponse(new FakeResponse())), boom);
    await assert.rejects(
      run(() => Promise.reject(boom)),
      boom,
    );
  });

  it('propagates an error of the body stream after the part already written', async () => {
    const boom = new Error('stream broke');
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (++pulls === 2) controller.error(boom);
        else controller.enqueue(new TextEncoder().encode('part'));
      },
    });
    const res = new FakeResponse();
    const handler = toHandler(() => new Response(body));
    await assert.rejects(async () => handler(fakeRequest(), asResponse(res)), boom);
    assert.equal(res.body(), 'part');
    assert.equal(res.writableEnded, false);
  });
});
