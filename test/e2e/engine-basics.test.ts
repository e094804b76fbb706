/**
 * Connection persistence, framing of responses without a body, interim responses, the Date and
 * Server fields, and unknown-length bodies — seen as bytes over a raw socket, and through fetch
 * and curl on a real Berth server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Handler } from '../../src/index.js';
import {
  curl,
  exchange,
  field,
  get,
  IMF_FIXDATE,
  parseResponses,
  RawClient,
  withServer,
} from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;

const hello: Handler = (_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('hello');
};

describe('connection persistence', () => {
  it('keeps an HTTP/1.1 connection open by default', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(hello, undefined, async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        await client.write(get('/one'));
        const [first] = await client.responses(1);
        assert.equal(first!.status, 200);
        assert.equal(field(first!, 'connection'), undefined);
        await client.write(get('/two'));
        const both = await client.responses(2);
        assert.equal(both[1]!.body.toString(), 'hello');
        assert.equal(client.closed, false);
      } finally {
        client.destroy();
      }
    }),
  );

  it('closes an HTTP/1.0 connection after the response by default', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(hello, undefined, async ({ port }) => {
      const result = await exchange({ port }, 'GET / HTTP/1.0\r\n\r\n');
      assert.equal(result.closed, true);
      assert.equal(result.finals.length, 1);
      assert.equal(result.finals[0]!.body.toString(), 'hello');
      assert.notEqual(field(result.finals[0]!, 'connection')?.toLowerCase(), 'keep-alive');
    }),
  );

  it(
    'keeps an HTTP/1.0 connection open when asked, and says Connection: keep-alive',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(hello, undefined, async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          await client.write('GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
          const [first] = await client.responses(1);
          assert.equal(field(first!, 'connection'), 'keep-alive');
          assert.equal(field(first!, 'content-length'), '5');
          await client.write('GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
          const both = await client.responses(2);
          assert.equal(both[1]!.status, 200);
          assert.equal(client.closed, false);
        } finally {
          client.destroy();
        }
      }),
  );

  it(
    'answers Connection: close from the client with Connection: close and closes',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(hello, undefined, async ({ port }) => {
        const result = await exchange({ port }, get('/', 'Connection: close\r\n'));
        assert.equal(result.closed, true);
        assert.equal(result.finals.length, 1);
        assert.equal(field(result.finals[0]!, 'connection'), 'close');
        assert.equal(result.rest.length, 0);
      }),
  );

  it('closes after the response when the handler sets Connection: close', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => {
        res.setHeader('Connection', 'close');
        res.end('bye');
      },
      undefined,
      async ({ port }) => {
        // A second request pipelined behind the first is not answered: the connection ends first.
        const result = await exchange({ port }, get('/first') + get('/second'));
        assert.equal(result.closed, true);
        assert.equal(result.finals.length, 1);
        assert.equal(field(result.finals[0]!, 'connection'), 'close');
        assert.equal(result.finals[0]!.body.toString(), 'bye');
      },
    ),
  );
});

describe('standard response fields', () => {
  it(
    'sends Date as an IMF-fixdate and Server: berth without a version on every response',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(
        (req, res) => {
          if (req.url === '/missing') res.statusCode = 404;
          res.end();
        },
        undefined,
        async ({ port }) => {
          const result = await exchange({ port }, get('/') + get('/missing') + get('/x', '', '1.0'));
          assert.equal(result.finals.length, 3);
          for (const res of result.finals) {
            assert.match(field(res, 'date') ?? '', IMF_FIXDATE);
            assert.equal(field(res, 'server'), 'berth');
          }
        },
      ),
  );

  it('sends no Server field when serverHeader is false', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(hello, { serverHeader: false }, async ({ port }) => {
      const result = await exchange({ port }, get('/', 'Connection: close\r\n'));
      assert.equal(field(result.finals[0]!, 'server'), undefined);
      assert.match(field(result.finals[0]!, 'date') ?? '', IMF_FIXDATE);
    }),
  );
});

describe('responses without a body', () => {
  it('answers HEAD with the Content-Length a GET would have and no body', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.end('twelve bytes');
      },
      undefined,
      async ({ port }) => {
        // HEAD first: if it carried a body, the GET response after it would not parse.
        const result = await exchange({ port }, `HEAD / HTTP/1.1\r\nHost: t\r\n\r\n${get('/')}`, {
          responses: 2,
          methods: ['HEAD', 'GET'],
        });
        const [head, getRes] = result.finals;
        assert.equal(head!.status, 200);
        assert.equal(field(head!, 'content-length'), '12');
        assert.equal(head!.body.length, 0);
        assert.equal(getRes!.body.toString(), 'twelve bytes');
        assert.equal(result.rest.length, 0);
      },
    ),
  );

  it('sends 103 Early Hints before the final response, without a body', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => {
        res.writeInformational(103, { link: '</style.css>; rel=preload; as=style' });
        res.end('page');
      },
      undefined,
      async ({ port }) => {
        const result = await exchange({ port }, get('/'), { responses: 1 });
        assert.equal(result.responses.length, 2);
        const [hints, final] = result.responses;
        assert.equal(hints!.status, 103);
        assert.equal(field(hints!, 'link'), '</style.css>; rel=preload; as=style');
        assert.equal(field(hints!, 'content-length'), undefined);
        assert.equal(field(hints!, 'transfer-encoding'), undefined);
        assert.ok(result.text.startsWith(`${hints!.head}HTTP/1.1 200 OK\r\n`));
        assert.equal(final!.body.toString(), 'page');
      },
    ),
  );

  it('sends no body with 204 and 304 even when the handler writes one', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (req, res) => {
        res.statusCode = req.url === '/204' ? 204 : 304;
        res.end('must not be sent');
      },
      undefined,
      async ({ port }) => {
        const result = await exchange({ port }, get('/204') + get('/304') + get('/204'), { responses: 3 });
        assert.deepEqual(
          result.finals.map((r) => r.status),
          [204, 304, 204],
        );
        for (const res of result.finals) {
          assert.equal(res.body.length, 0);
          assert.equal(field(res, 'transfer-encoding'), undefined);
        }
        assert.equal(field(result.finals[0]!, 'content-length'), undefined);
        assert.equal(result.rest.length, 0);
        assert.doesNotMatch(result.text, /must not be sent/);
      },
    ),
  );
});

describe('bodies of unknown length', () => {
  const streaming: Handler = async (_req, res) => {
    res.write('part one, ');
    await new Promise((resolve) => setTimeout(resolve, 10));
    res.end('part two');
  };

  it('are sent chunked to an HTTP/1.1 client', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(streaming, undefined, async ({ port }) => {
      const result = await exchange({ port }, get('/'), { responses: 1 });
      const res = result.finals[0]!;
      assert.equal(field(res, 'transfer-encoding'), 'chunked');
      assert.equal(field(res, 'content-length'), undefined);
      assert.equal(res.framing, 'chunked');
      assert.equal(res.body.toString(), 'part one, part two');
      assert.equal(result.closed, false);
    }),
  );

  it('are delimited by closing the connection for an HTTP/1.0 client', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(streaming, undefined, async ({ port }) => {
      // Even a 1.0 client that asked for keep-alive: without a length the close ends the body.
      const result = await exchange({ port }, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      assert.equal(result.closed, true);
      const res = result.finals[0]!;
      assert.equal(field(res, 'transfer-encoding'), undefined);
      assert.equal(field(res, 'content-length'), undefined);
      assert.equal(res.framing, 'close');
      assert.equal(res.body.toString(), 'part one, part two');
    }),
  );
});

describe('Node fetch as the client', () => {
  it('gets responses to sequential requests', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (req, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.end(`you asked for ${req.url}`);
      },
      undefined,
      async ({ url }) => {
        const first = await fetch(`${url}/a?x=1`);
        assert.equal(first.status, 200);
        assert.equal(await first.text(), 'you asked for /a?x=1');
        assert.match(first.headers.get('date') ?? '', IMF_FIXDATE);
        const second = await fetch(`${url}/b`);
        assert.equal(await second.text(), 'you asked for /b');
        assert.equal(second.headers.get('server'), 'berth');
      },
    ),
  );
});

describe('curl as the client', () => {
  const echo: Handler = async (req, res) => {
    const body = await req.text();
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('X-Method', req.method);
    res.setHeader('X-Version', req.httpVersion);
    res.setHeader('X-Transfer-Encoding', req.headers['transfer-encoding'] ?? 'none');
    res.end(body === '' ? 'hello from berth' : `echo: ${body}`);
  };

  it('gets a response with curl -sS -i', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, undefined, async ({ url }) => {
      const out = await curl(['-sS', '-i', `${url}/`]);
      assert.equal(out.code, 0, out.stderr);
      const res = parseResponses(Buffer.from(out.stdout, 'latin1')).finals[0]!;
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello from berth');
      assert.equal(field(res, 'server'), 'berth');
    }),
  );

  it('speaks HTTP/1.0 with curl --http1.0', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, undefined, async ({ url }) => {
      const out = await curl(['-sS', '-i', '--http1.0', `${url}/`]);
      assert.equal(out.code, 0, out.stderr);
      const res = parseResponses(Buffer.from(out.stdout, 'latin1'), { closed: true }).finals[0]!;
      assert.equal(field(res, 'x-version'), '1.0');
      assert.equal(res.body.toString(), 'hello from berth');
    }),
  );

  it('posts a form body with curl -d and gets it echoed', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, undefined, async ({ url }) => {
      const out = await curl(['-sS', '-d', 'name=berth&kind=server', `${url}/echo`]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, 'echo: name=berth&kind=server');
    }),
  );

  it('uploads a file chunked with curl -T and Transfer-Encoding: chunked', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
    try {
      const file = join(dir, 'upload.txt');
      const content = 'line of upload text\n'.repeat(500);
      await writeFile(file, content);
      await withServer(echo, undefined, async ({ url }) => {
        const out = await curl([
          '-sS',
          '-i',
          '-H',
          'Transfer-Encoding: chunked',
          '-T',
          file,
          `${url}/upload`,
        ]);
        assert.equal(out.code, 0, out.stderr);
        const res = parseResponses(Buffer.from(out.stdout, 'latin1')).finals.at(-1)!;
        assert.equal(field(res, 'x-method'), 'PUT');
        assert.equal(field(res, 'x-transfer-encoding'), 'chunked');
        assert.equal(res.body.toString(), `echo: ${content}`);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
