/**
 * compress() on a real Berth server, read through raw sockets (so nothing is decoded for us) and
 * decompressed here with node:zlib; Node's fetch once, as a real client that streams.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import {
  exchange,
  field,
  get,
  type ParsedResponse,
  RawClient,
  withServer,
} from '../../test/e2e/raw-client.js';
import type { Handler } from '../handler/types.js';
import { compress } from './compress.js';

const TEXT = 'the quick brown fox jumps over the lazy dog\n'.repeat(400); // 17,600 bytes
const MIN_BYTES = 1024;

/** next: a text body, written in two pieces, with the fields given. */
function textHandler(fields: Record<string, string> = {}, body = TEXT, status = 200): Handler {
  return async (_req, res) => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    for (const [name, value] of Object.entries(fields)) res.setHeader(name, value);
    const half = Math.floor(body.length / 2);
    res.write(body.slice(0, half));
    await sleep(1);
    res.end(body.slice(half));
  };
}

async function fetchRaw(next: Handler, request: string, methods?: string[]): Promise<ParsedResponse> {
  let res: ParsedResponse | undefined;
  await withServer(compress({ kind: 'compress', minBytes: MIN_BYTES })(next), undefined, async ({ port }) => {
    res = (await exchange({ port }, request, methods ? { responses: 1, methods } : { responses: 1 }))
      .finals[0];
  });
  return res!;
}

function decode(res: ParsedResponse): string {
  const coding = field(res, 'content-encoding');
  if (coding === 'gzip') return zlib.gunzipSync(res.body).toString();
  if (coding === 'br') return zlib.brotliDecompressSync(res.body).toString();
  assert.equal(coding, undefined);
  return res.body.toString();
}

describe('compress()', () => {
  it('compress() gzips a text response for a client that accepts only gzip', async () => {
    const res = await fetchRaw(textHandler({ ETag: '"v1"' }), get('/', 'Accept-Encoding: gzip\r\n'));
    assert.equal(field(res, 'content-encoding'), 'gzip');
    assert.equal(field(res, 'vary'), 'Accept-Encoding');
    assert.equal(field(res, 'content-length'), undefined);
    assert.equal(field(res, 'etag'), 'W/"v1"');
    assert.ok(res.body.length < TEXT.length / 5);
    assert.equal(decode(res), TEXT);
  });

  it('compress() prefers brotli on a tie and follows q-values otherwise', async () => {
    const tie = await fetchRaw(textHandler(), get('/', 'Accept-Encoding: gzip, deflate, br\r\n'));
    assert.equal(field(tie, 'content-encoding'), 'br');
    assert.equal(decode(tie), TEXT);
    const weighted = await fetchRaw(textHandler(), get('/', 'Accept-Encoding: br;q=0.5, gzip;q=0.9\r\n'));
    assert.equal(field(weighted, 'content-encoding'), 'gzip');
    assert.equal(decode(weighted), TEXT);
  });

  it('compress() sends identity, with Vary, when Accept-Encoding wants no coding or is absent', async () => {
    for (const header of ['Accept-Encoding: identity\r\n', 'Accept-Encoding: gzip;q=0, br;q=0\r\n', '']) {
      const res = await fetchRaw(textHandler(), get('/', header));
      assert.equal(field(res, 'content-encoding'), undefined, header);
      assert.equal(field(res, 'vary'), 'Accept-Encoding', header);
      assert.equal(res.body.toString(), TEXT);
    }
  });

  it('compress() sends a body below minBytes as it is, with its Content-Length', async () => {
    const small = 'x'.repeat(MIN_BYTES - 1);
    const res = await fetchRaw(textHandler({}, small), get('/', 'Accept-Encoding: gzip\r\n'));
    assert.equal(field(res, 'content-encoding'), undefined);
    assert.equal(field(res, 'content-length'), String(small.length));
    assert.equal(field(res, 'vary'), 'Accept-Encoding');
    assert.equal(res.body.toString(), small);
  });

  it('compress() decides at once from a declared Content-Length', async () => {
    const small = 'y'.repeat(100);
    const res = await fetchRaw(
      textHandler({ 'Content-Length': String(small.length) }, small),
      get('/', 'Accept-Encoding: gzip\r\n'),
    );
    assert.equal(field(res, 'content-encoding'), undefined);
    assert.equal(field(res, 'content-length'), '100');
    const big = await fetchRaw(
      textHandler({ 'Content-Length': String(TEXT.length), 'Accept-Ranges': 'bytes' }),
      get('/', 'Accept-Encoding: br\r\n'),
    );
    assert.equal(field(big, 'content-encoding'), 'br');
    assert.equal(field(big, 'content-length'), undefined);
    assert.equal(field(big, 'accept-ranges'), undefined);
    assert.equal(decode(big), TEXT);
  });

  it('compress() leaves types that do not compress alone, and event streams', async () => {
    for (const type of ['image/png', 'application/zip', 'text/event-stream']) {
      const res = await fetchRaw(
        textHandler({ 'Content-Type': type }),
        get('/', 'Accept-Encoding: gzip\r\n'),
      );
      assert.equal(field(res, 'content-encoding'), undefined, type);
      assert.equal(field(res, 'vary'), undefined, type);
      assert.equal(res.body.toString(), TEXT);
    }
  });

  it('compress() leaves a response alone when next chose a coding or said no-transform', async () => {
    const gz = zlib.gzipSync(TEXT);
    const precompressed: Handler = (_req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Encoding', 'gzip');
      res.end(gz);
    };
    const res = await fetchRaw(precompressed, get('/', 'Accept-Encoding: br, gzip\r\n'));
    assert.equal(field(res, 'content-encoding'), 'gzip');
    assert.deepEqual(res.body, gz);
    const kept = await fetchRaw(
      textHandler({ 'Cache-Control': 'public, no-transform' }),
      get('/', 'Accept-Encoding: gzip\r\n'),
    );
    assert.equal(field(kept, 'content-encoding'), undefined);
    assert.equal(kept.body.toString(), TEXT);
  });

  it('compress() leaves a Range request alone entirely', async () => {
    const ranged: Handler = (_req, res) => {
      res.statusCode = 206;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Range', `bytes 0-1999/${TEXT.length}`);
      res.end(TEXT.slice(0, 2000));
    };
    const res = await fetchRaw(ranged, get('/', 'Range: bytes=0-1999\r\nAccept-Encoding: gzip\r\n'));
    assert.equal(res.status, 206);
    assert.equal(field(res, 'content-encoding'), undefined);
    assert.equal(field(res, 'vary'), undefined);
    assert.equal(res.body.length, 2000);
  });

  it('compress() gives HEAD the Vary but no coding, and a 304 the Vary and weak ETag of the 200', async () => {
    const head = await fetchRaw(
      textHandler({ ETag: '"v2"' }),
      `HEAD / HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n`,
      ['HEAD'],
    );
    assert.equal(field(head, 'content-encoding'), undefined);
    assert.equal(field(head, 'vary'), 'Accept-Encoding');
    const notModified: Handler = (_req, res) => {
      res.statusCode = 304;
      res.setHeader('ETag', '"v2"');
      res.end();
    };
    const res = await fetchRaw(notModified, get('/', 'Accept-Encoding: gzip\r\nIf-None-Match: W/"v2"\r\n'));
    assert.equal(res.status, 304);
    assert.equal(field(res, 'vary'), 'Accept-Encoding');
    assert.equal(field(res, 'etag'), 'W/"v2"');
    assert.equal(field(res, 'content-encoding'), undefined);
  });

  it('compress() adds Accept-Encoding to the Vary next set, once', async () => {
    const res = await fetchRaw(
      textHandler({ Vary: 'Origin, accept-encoding' }),
      get('/', 'Accept-Encoding: gzip\r\n'),
    );
    assert.equal(field(res, 'vary'), 'Origin, accept-encoding');
    const added = await fetchRaw(textHandler({ Vary: 'Origin' }), get('/', 'Accept-Encoding: gzip\r\n'));
    assert.equal(field(added, 'vary'), 'Origin, Accept-Encoding');
  });

  it('compress() compresses a 404 body too, and never a 204', async () => {
    const missing = await fetchRaw(textHandler({}, TEXT, 404), get('/', 'Accept-Encoding: gzip\r\n'));
    assert.equal(missing.status, 404);
    assert.equal(decode(missing), TEXT);
    const empty: Handler = (_req, res) => {
      res.statusCode = 204;
      res.setHeader('Content-Type', 'text/plain');
      res.end();
    };
    const none = await fetchRaw(empty, get('/', 'Accept-Encoding: gzip\r\n'));
    assert.equal(none.status, 204);
    assert.equal(field(none, 'content-encoding'), undefined);
  });

  it('compress() streams a large body with backpressure, and it decompresses whole', async () => {
    const line = Buffer.from(`${'0123456789abcdef'.repeat(4)}\n`);
    const CHUNK = Buffer.concat(new Array(1024).fill(line)); // 65 KiB
    const CHUNKS = 400; // 26 MB before compression
    let refusals = 0;
    const next: Handler = async (_req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      for (let i = 0; i < CHUNKS; i++) {
        if (!res.write(CHUNK)) {
          refusals++;
          await res.drain();
        }
      }
      res.end();
    };
    await withServer(
      compress({ kind: 'compress', minBytes: MIN_BYTES })(next),
      undefined,
      async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          client.socket.pause();
          await client.write(get('/', 'Accept-Encoding: gzip\r\n'));
          await sleep(300);
          assert.ok(refusals > 0, 'write() asked next to wait');
          client.socket.resume();
          const res = (await client.responses(1, { timeoutMs: 20_000 }))[0]!;
          const body = zlib.gunzipSync(res.body);
          assert.equal(body.length, CHUNK.length * CHUNKS);
          assert.ok(body.subarray(0, CHUNK.length).equals(CHUNK));
        } finally {
          client.destroy();
        }
      },
    );
  });

  it('compress() flushes what zlib holds when next pauses, so early bytes arrive before the end', {
    timeout: 5_000,
  }, async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const next: Handler = async (_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.write(`[${JSON.stringify(TEXT)}`);
      await released;
      res.end(']');
    };
    await withServer(
      compress({ kind: 'compress', minBytes: MIN_BYTES })(next),
      undefined,
      async ({ url }) => {
        const response = await fetch(url, { headers: { 'Accept-Encoding': 'br' } });
        assert.equal(response.headers.get('content-encoding'), 'br');
        const reader = response.body!.getReader();
        let text = '';
        while (text.length < TEXT.length) {
          const { value, done } = await reader.read();
          assert.equal(done, false, 'the first part arrived before next ended');
          text += Buffer.from(value!).toString();
        }
        release();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString();
        }
        assert.deepEqual(JSON.parse(text), [TEXT]);
      },
    );
  });

  it('compress() refuses a minBytes that is not a whole number of bytes', () => {
    assert.throws(() => compress({ kind: 'compress', minBytes: -1 }), /minBytes/);
    assert.throws(() => compress({ kind: 'compress', minBytes: 1.5 }), /minBytes/);
  });
});
