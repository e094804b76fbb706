/**
 * Request and response bodies end to end: Content-Length and chunked uploads (extensions,
 * trailers), the whole-body readers and their limits, `Expect: 100-continue` (RFC 9110 §10.1.1),
 * response trailers, and backpressure on a large response to a slow reader.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Handler } from '../../src/index.js';
import { curl, exchange, field, RawClient, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;

/**
 * The garbage collector, so RSS measures what is kept rather than what is not collected yet: freed
 * 64 KiB chunks otherwise pile up as garbage for tens of MiB before V8 collects them.
 */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** A POST with a Content-Length body, the body encoded as UTF-8. */
function post(path: string, body: string, extra = ''): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body, 'utf8')]);
}

describe('request bodies', () => {
  const echo: Handler = async (req, res) => {
    const text = await req.text();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ text, trailers: req.trailers }));
  };

  it('are read whole with req.text() when framed by Content-Length', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, undefined, async ({ port }) => {
      const result = await exchange({ port }, post('/', 'héllo wörld'), { responses: 1 });
      assert.deepEqual(JSON.parse(result.finals[0]!.body.toString()), { text: 'héllo wörld', trailers: {} });
    }),
  );

  it(
    'are decoded from chunks with extensions, and their trailers reach req.trailers',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(echo, undefined, async ({ port }) => {
        const request =
          'POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n' +
          '4;name=value\r\nWiki\r\n5;a;b="quoted"\r\npedia\r\n0\r\nX-Checksum: abc123\r\nX-Note: one\r\n\r\n';
        const result = await exchange({ port }, request, { responses: 1 });
        assert.deepEqual(JSON.parse(result.finals[0]!.body.toString()), {
          text: 'Wikipedia',
          trailers: { 'x-checksum': 'abc123', 'x-note': 'one' },
        });
      }),
  );

  it('arrive whole when sent in pieces with pauses between them', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, undefined, async ({ port }) => {
      const request =
        'POST /p HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n';
      const pieces = [request.slice(0, 20), request.slice(20, 58), request.slice(58, 66), request.slice(66)];
      const result = await exchange({ port }, pieces, { responses: 1, delayMs: 20 });
      assert.equal(JSON.parse(result.finals[0]!.body.toString()).text, 'abcdef');
    }),
  );

  it('can be read chunk by chunk with for await', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      async (req, res) => {
        const sizes: number[] = [];
        const parts: Buffer[] = [];
        for await (const chunk of req) {
          sizes.push(chunk.length);
          parts.push(chunk);
        }
        res.end(JSON.stringify({ reads: sizes.length, body: Buffer.concat(parts).toString() }));
      },
      undefined,
      async ({ port }) => {
        const head = 'POST /s HTTP/1.1\r\nHost: t\r\nContent-Length: 15\r\n\r\n';
        const result = await exchange({ port }, [head, 'first', 'secnd', 'third'], {
          responses: 1,
          delayMs: 40,
        });
        const out = JSON.parse(result.finals[0]!.body.toString());
        assert.equal(out.body, 'firstsecndthird');
        assert.ok(out.reads >= 2, `the body was read in ${out.reads} piece(s)`);
      },
    ),
  );

  it('are parsed by req.json(), req.arrayBuffer() and req.buffer()', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      async (req, res) => {
        if (req.url === '/json') {
          const data = (await req.json()) as { n: number };
          res.end(JSON.stringify({ doubled: data.n * 2 }));
        } else if (req.url === '/array-buffer') {
          const bytes = new Uint8Array(await req.arrayBuffer());
          res.end(`${bytes.byteLength} ${bytes[0]} ${bytes[255]}`);
        } else {
          const buf = await req.buffer();
          res.end(buf.subarray().reverse());
        }
      },
      undefined,
      async ({ url }) => {
        const json = await fetch(`${url}/json`, { method: 'POST', body: JSON.stringify({ n: 21 }) });
        assert.deepEqual(await json.json(), { doubled: 42 });
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        const ab = await fetch(`${url}/array-buffer`, { method: 'POST', body: all });
        assert.equal(await ab.text(), '256 0 255');
        const buf = await fetch(`${url}/buffer`, { method: 'POST', body: 'abc' });
        assert.equal(await buf.text(), 'cba');
      },
    ),
  );

  it('larger than limits.maxBufferedBodyBytes make req.text() answer 413', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(echo, { limits: { maxBufferedBodyBytes: 1000 } }, async ({ port, url }) => {
      const result = await exchange({ port }, post('/', 'x'.repeat(5000)), { responses: 1 });
      assert.equal(result.finals[0]!.status, 413);
      const small = await fetch(url, { method: 'POST', body: 'y'.repeat(1000) });
      assert.equal(small.status, 200);
      assert.equal(((await small.json()) as { text: string }).text.length, 1000);
    }),
  );

  it('that are not valid JSON make req.json() answer 400', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      async (req, res) => {
        res.end(JSON.stringify(await req.json()));
      },
      undefined,
      async ({ url }) => {
        const res = await fetch(url, {
          method: 'POST',
          body: '{"unterminated": ',
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(res.status, 400);
        assert.match(await res.text(), /JSON/);
      },
    ),
  );
});

describe('Expect: 100-continue', () => {
  it('sends 100 Continue only when the handler starts reading the body', { timeout: TEST_TIMEOUT_MS }, () => {
    let readingStarted = 0;
    return withServer(
      async (req, res) => {
        await sleep(150);
        readingStarted = Date.now();
        const body = await req.text();
        res.end(`got ${body}`);
      },
      undefined,
      async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          await client.write(
            'POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
          );
          await sleep(80);
          assert.equal(client.received.length, 0, 'nothing is sent before the handler reads');
          await client.until(() => client.text.startsWith(CONTINUE), 2000, '100 Continue');
          assert.ok(readingStarted > 0, '100 Continue came after the handler started reading');
          await client.write('hello');
          const [res] = await client.responses(1);
          assert.equal(res!.body.toString(), 'got hello');
          assert.equal(client.parse().responses[0]!.status, 100);
          assert.equal(client.text.split(CONTINUE).length, 2, 'exactly one 100 Continue');
        } finally {
          client.destroy();
        }
      },
    );
  });

  it(
    'sends no 100 Continue and closes when the handler answers without reading',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    () =>
      withServer(
        (_req, res) => {
          res.statusCode = 403;
          res.end('not you');
        },
        undefined,
        async ({ port }) => {
          const result = await exchange(
            { port },
            'POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n',
          );
          assert.equal(result.closed, true);
          assert.equal(result.responses.length, 1);
          assert.equal(result.finals[0]!.status, 403);
          assert.equal(field(result.finals[0]!, 'connection'), 'close');
          assert.doesNotMatch(result.text, /100 Continue/);
        },
      ),
  );

  it('answers any other expectation with 417 without calling the handler', {
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
        const result = await exchange({ port }, post('/', 'abc', 'Expect: teapot\r\n'), { responses: 1 });
        assert.equal(result.finals[0]!.status, 417);
        assert.equal(calls, 0);
      },
    );
  });

  it('lets curl post a large body without waiting for its expect timeout', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // curl sends Expect: 100-continue for POST bodies above its threshold (1 KiB in old releases,
    // 1 MiB since 7.51) and waits 1 s for the 100 before sending the body anyway.
    const BODY_BYTES = 2 * 1024 * 1024;
    const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
    let expect: string | undefined;
    try {
      const file = join(dir, 'body.bin');
      await writeFile(file, Buffer.alloc(BODY_BYTES, 'q'));
      await withServer(
        async (req, res) => {
          expect = req.headers.expect as string | undefined;
          const body = await req.buffer();
          res.end(`${body.length}`);
        },
        { limits: { maxBufferedBodyBytes: 4 * BODY_BYTES } },
        async ({ url }) => {
          const started = performance.now();
          const out = await curl(['-sS', '--data-binary', `@${file}`, `${url}/upload`]);
          const elapsed = performance.now() - started;
          assert.equal(out.code, 0, out.stderr);
          assert.equal(out.stdout, String(BODY_BYTES));
          assert.equal(expect, '100-continue', 'curl sent Expect: 100-continue');
          assert.ok(elapsed < 1000, `curl took ${Math.round(elapsed)} ms`);
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('response bodies', () => {
  it('carry trailers added with res.addTrailers() after a chunked body', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => {
        res.setHeader('Trailer', 'X-Checksum, X-Count');
        res.write('some ');
        res.write('data');
        res.addTrailers({ 'X-Checksum': 'c0ffee', 'X-Count': '2' });
        res.end();
      },
      undefined,
      async ({ port }) => {
        const result = await exchange({ port }, 'GET / HTTP/1.1\r\nHost: t\r\nTE: trailers\r\n\r\n', {
          responses: 1,
        });
        const res = result.finals[0]!;
        assert.equal(res.framing, 'chunked');
        assert.equal(res.body.toString(), 'some data');
        assert.deepEqual(res.trailers, [
          ['X-Checksum', 'c0ffee'],
          ['X-Count', '2'],
        ]);
      },
    ),
  );

  it('of 32 MiB reach a slow reader complete, with backpressure and bounded memory', {
    timeout: 30_000,
  }, async () => {
    const CHUNK_BYTES = 64 * 1024;
    const CHUNKS = 512;
    const TOTAL_BYTES = CHUNK_BYTES * CHUNKS;
    let written = 0;
    let refused = 0;
    let maxAhead = 0;
    let received = 0;
    let reads = 0;
    const gc = exposeGc();
    gc();
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    await withServer(
      async (_req, res) => {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', TOTAL_BYTES);
        for (let i = 0; i < CHUNKS; i++) {
          // A fresh buffer per chunk, as a file or generator would produce: holding them all is 32 MiB.
          const chunk = Buffer.allocUnsafe(CHUNK_BYTES).fill(i % 251);
          written += CHUNK_BYTES;
          if (!res.write(chunk)) {
            refused++;
            await res.drain();
          }
        }
        res.end();
      },
      undefined,
      async ({ port }) => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        let head = '';
        let bodyStart = false;
        let bad = -1;
        try {
          await new Promise<void>((resolve, reject) => {
            socket.on('error', reject);
            socket.on('connect', () =>
              socket.write('GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'),
            );
            socket.on('end', () => resolve());
            socket.on('data', (chunk: Buffer) => {
              let data = chunk;
              if (!bodyStart) {
                head += chunk.toString('latin1');
                const end = head.indexOf('\r\n\r\n');
                if (end === -1) return;
                bodyStart = true;
                data = chunk.subarray(chunk.length - (head.length - end - 4));
                head = head.slice(0, end);
              }
              // Body byte k must be (k / CHUNK_BYTES) % 251: checked in place, nothing is kept.
              for (let j = 0; j < data.length; j++) {
                if (bad === -1 && data[j] !== Math.floor((received + j) / CHUNK_BYTES) % 251)
                  bad = received + j;
              }
              received += data.length;
              maxAhead = Math.max(maxAhead, written - received);
              if (++reads % 32 === 0) gc();
              peakRss = Math.max(peakRss, process.memoryUsage().rss);
              // Read slowly: a pause after every read.
              socket.pause();
              setTimeout(() => socket.resume(), 1);
            });
          });
        } finally {
          socket.destroy();
        }
        assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
        assert.equal(received, TOTAL_BYTES, 'the whole body arrived');
        assert.equal(bad, -1, `body byte ${bad} is wrong`);
        assert.ok(refused > 0, 'res.write() returned false at some point');
        // Socket buffers on loopback hold a few MiB; the rest must wait in the handler, not in memory.
        assert.ok(maxAhead < 12 * 1024 * 1024, `the server ran ${maxAhead} bytes ahead of the reader`);
        const growth = peakRss - baselineRss;
        assert.ok(growth < 16 * 1024 * 1024, `RSS grew by ${growth} bytes`);
      },
    );
  });
});
