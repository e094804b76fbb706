/**
 * HTTP/2 streams held open by a client: a request body trickled in or stalled is cut as over
 * HTTP/1.1 (408, then RST_STREAM(NO_ERROR)), a stalled body after the response is reset, a handler
 * that takes its time to read is not the client's fault, and the session advertises a limit on
 * concurrent streams and head size. Cleartext h2 (prior knowledge) with node:http2's client.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Handler, type ServerOptions } from '../../src/index.js';

const TEST_TIMEOUT_MS = 10_000;
/** 300 ms windows that must each bring 300 body bytes (1,000 B/s). */
const OPTIONS: ServerOptions = { bodyTimeoutMs: 300, minBodyBytesPerSecond: 1000, h2c: true };

const echo: Handler = async (req, res) => {
  const body = await req.text();
  res.end(`got ${body.length} bytes`);
};

type Answer = { status: number | undefined; body: string; rstCode: number | undefined; closedMs: number };

/** Runs `fn` with an h2 session to a Berth server for `handler`; collects handler errors. */
async function withSession(
  handler: Handler,
  options: ServerOptions,
  fn: (session: http2.ClientHttp2Session, errors: unknown[]) => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  const server = createServer(handler, { ...options, onError: (err) => errors.push(err) });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const session = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  session.on('error', () => {});
  try {
    await fn(session, errors);
  } finally {
    session.destroy();
    await server.close();
  }
}

/** Opens a POST stream and resolves with what came back once the stream closes. */
function post(
  session: http2.ClientHttp2Session,
  send: (stream: http2.ClientHttp2Stream) => Promise<void>,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<Answer> {
  const started = Date.now();
  const stream = session.request({ ':method': 'POST', ':path': '/up', ...headers });
  let status: number | undefined;
  let body = '';
  stream.on('response', (h) => {
    status = Number(h[':status']);
  });
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    body += text;
  });
  stream.on('error', () => {});
  const closed = new Promise<Answer>((resolve) => {
    stream.on('close', () =>
      resolve({ status, body, rstCode: stream.rstCode, closedMs: Date.now() - started }),
    );
  });
  void send(stream).catch(() => {});
  return closed;
}

/** Writes `piece` every delayMs until `count` pieces are out or the stream closes. */
async function trickle(stream: http2.ClientHttp2Stream, piece: string, count: number, delayMs: number) {
  for (let i = 0; i < count && !stream.closed && !stream.destroyed; i++) {
    stream.write(piece);
    await sleep(delayMs);
  }
}

describe('HTTP/2 streams a client holds open', () => {
  it(
    'cut a body trickled below minBodyBytesPerSecond with 408 and RST_STREAM(NO_ERROR)',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withSession(echo, OPTIONS, async (session, errors) => {
        // 50 B/s: never silent for 300 ms, far below the 300 bytes each window asks for.
        const answer = await post(session, (s) => trickle(s, 'x', 200, 20));
        assert.equal(answer.status, 408);
        assert.match(answer.body, /^408 Request Timeout: request body not received in time/);
        assert.equal(answer.rstCode, http2.constants.NGHTTP2_NO_ERROR);
        assert.ok(answer.closedMs < 3_000, `closed after ${answer.closedMs} ms`);
        assert.deepEqual(errors, [], '408 is not a server error');
      }),
  );

  it(
    'cut a body that stops with 408, and leave the session serving other streams',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withSession(echo, OPTIONS, async (session) => {
        const stalled = post(session, async (s) => {
          s.write('only this');
        });
        const quick = post(session, async (s) => {
          s.end('a whole body');
        });
        assert.deepEqual(
          { status: (await quick).status, body: (await quick).body },
          { status: 200, body: 'got 12 bytes' },
        );
        const answer = await stalled;
        assert.equal(answer.status, 408);
        assert.equal(session.closed || session.destroyed, false, 'the session lives on');
        const again = await post(session, async (s) => {
          s.end('more');
        });
        assert.equal(again.body, 'got 4 bytes');
      }),
  );

  it(
    'let a body that comes faster than the rate finish, though slower overall than bodyTimeoutMs',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withSession(echo, OPTIONS, async (session) => {
        // 100 bytes every 50 ms (2,000 B/s) for 1 s.
        const answer = await post(session, async (s) => {
          await trickle(s, 'y'.repeat(100), 20, 50);
          s.end();
        });
        assert.equal(answer.status, 200);
        assert.equal(answer.body, 'got 2000 bytes');
      }),
  );

  it('do not time out a body while the handler is not reading it', { timeout: TEST_TIMEOUT_MS }, () => {
    const late: Handler = async (req, res) => {
      await sleep(900); // three body timeouts
      res.end(`got ${(await req.text()).length} bytes late`);
    };
    return withSession(late, OPTIONS, async (session) => {
      const answer = await post(session, async (s) => {
        s.end('z'.repeat(5000));
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'got 5000 bytes late');
    });
  });

  it('reset a stream whose unread body stalls after a complete response', {
    timeout: TEST_TIMEOUT_MS,
  }, () => {
    const early: Handler = (_req, res) => res.end('answered without reading');
    return withSession(early, OPTIONS, async (session) => {
      const answer = await post(session, async (s) => {
        s.write('part of a body that never ends');
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'answered without reading');
      assert.equal(answer.rstCode, http2.constants.NGHTTP2_NO_ERROR);
      assert.ok(answer.closedMs < 3_000, `closed after ${answer.closedMs} ms`);
    });
  });

  it('advertise SETTINGS_MAX_CONCURRENT_STREAMS (128 by default) and the head size limit', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    for (const [options, streams] of [
      [{ h2c: true }, 128],
      [{ h2c: true, maxConcurrentStreams: 3 }, 3],
    ] as const) {
      await withSession(echo, options, async (session) => {
        const settings = await new Promise<http2.Settings>((resolve) => {
          session.once('remoteSettings', resolve);
        });
        assert.equal(settings.maxConcurrentStreams, streams);
        assert.equal(settings.maxHeaderListSize, 64 * 1024);
      });
    }
  });

  it('answer a :path longer than maxRequestLineBytes with 414', { timeout: TEST_TIMEOUT_MS }, () =>
    withSession(echo, { h2c: true, limits: { maxRequestLineBytes: 100 } }, async (session) => {
      const long = await post(
        session,
        async (s) => {
          s.end();
        },
        { ':path': `/${'a'.repeat(120)}` },
      );
      assert.equal(long.status, 414);
      const fine = await post(
        session,
        async (s) => {
          s.end();
        },
        { ':path': `/${'a'.repeat(90)}` },
      );
      assert.equal(fine.status, 200);
    }),
  );

  it('answer more fields than maxHeaderFields with 431, counting cookie crumbs as one field', {
    timeout: TEST_TIMEOUT_MS,
  }, () => {
    let calls = 0;
    const counting: Handler = (req, res) => {
      calls++;
      res.end(String(req.headers.cookie));
    };
    return withSession(counting, { h2c: true, limits: { maxHeaderFields: 10 } }, async (session) => {
      const many: http2.OutgoingHttpHeaders = {};
      for (let i = 0; i < 12; i++) many[`x-field-${i}`] = 'v';
      const refused = await post(
        session,
        async (s) => {
          s.end();
        },
        many,
      );
      assert.equal(refused.status, 431);
      assert.equal(calls, 0);
      // 40 cookies as 40 fields (RFC 9113 §8.2.3) and two others: three fields by HTTP/1.1's count.
      const crumbs = Array.from({ length: 40 }, (_, i) => `c${i}=${i}`);
      const cookies = await post(
        session,
        async (s) => {
          s.end();
        },
        { 'x-one': '1', cookie: crumbs },
      );
      assert.equal(cookies.status, 200);
      assert.equal(cookies.body, crumbs.join('; '));
      assert.equal(calls, 1);
    });
  });

  it('reset a stream past the hard cap on fields, without calling the handler', {
    timeout: TEST_TIMEOUT_MS,
  }, () => {
    let calls = 0;
    const counting: Handler = (_req, res) => {
      calls++;
      res.end('ok');
    };
    return withSession(counting, { h2c: true, limits: { maxHeaderFields: 10 } }, async (session) => {
      // maxHeaderFields + 4 pseudo-headers + 180 cookie crumbs is the cap node:http2 enforces.
      const many: http2.OutgoingHttpHeaders = {};
      for (let i = 0; i < 200; i++) many[`x-field-${i}`] = 'v';
      const refused = await post(
        session,
        async (s) => {
          s.end();
        },
        many,
      );
      assert.equal(refused.status, undefined);
      assert.notEqual(refused.rstCode, http2.constants.NGHTTP2_NO_ERROR);
      assert.equal(calls, 0);
    });
  });
});
