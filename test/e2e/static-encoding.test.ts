/**
 * Content codings of the static file server: precompressed `.br` / `.gz` siblings chosen by
 * Accept-Encoding q-values, gzip and brotli on the fly for compressible types of 1 KiB or more
 * (decompressed here with node:zlib and compared to the original), images left alone, Vary on
 * every response, and identity when compression is off. Raw sockets, so nothing is decoded for us;
 * curl --compressed once, as a real client.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { curl, field, type ParsedResponse } from './raw-client.js';
import { makeTempDir, rawRequest, removeTree, withStatic, writeTree } from './static-fixture.js';

const TEST_TIMEOUT_MS = 10_000;

/** Compressible text of about n bytes. */
function text(n: number, word: string): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${word} line ${i}: the quick brown fox jumps over the lazy dog\n`;
  return s.slice(0, n);
}

const APP_JS = text(8_000, 'const app');
const PAGE_CSS = text(6_000, '.page');
const BIG_JSON = JSON.stringify({ items: text(400_000, 'item').split('\n') });
const TINY_CSS = 'body { color: red }\n';
/** A "PNG": random bytes that happen to be named .png. */
const IMAGE = randomBytes(8_000);
/** The precompressed siblings: made at other levels than the server would use, so they are recognisable. */
const APP_JS_GZ = zlib.gzipSync(APP_JS, { level: 1 });
const APP_JS_BR = zlib.brotliCompressSync(APP_JS, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });

let root = '';

before(async () => {
  root = await makeTempDir('encoding');
  await writeTree(root, {
    'app.js': APP_JS,
    'app.js.gz': APP_JS_GZ,
    'app.js.br': APP_JS_BR,
    'page.css': PAGE_CSS,
    'big.json': BIG_JSON,
    'tiny.css': TINY_CSS,
    'image.png': IMAGE,
  });
});

after(async () => {
  await removeTree(root);
});

function decode(res: ParsedResponse): Buffer {
  switch (field(res, 'content-encoding')) {
    case undefined:
      return res.body;
    case 'gzip':
      return zlib.gunzipSync(res.body);
    case 'br':
      return zlib.brotliDecompressSync(res.body);
    default:
      throw new Error(`unexpected Content-Encoding ${field(res, 'content-encoding')}`);
  }
}

function assertVaryEncoding(res: ParsedResponse, what: string): void {
  const vary = (field(res, 'vary') ?? '').toLowerCase().split(/\s*,\s*/);
  assert.ok(vary.includes('accept-encoding'), `${what}: Vary ${field(res, 'vary')}`);
}

describe('precompressed siblings', { timeout: TEST_TIMEOUT_MS }, () => {
  it('chooses the sibling by q-value: gzip;q=1, br;q=0.5 gives the .gz file', async () => {
    await withStatic({ root }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/app.js', { 'Accept-Encoding': 'gzip;q=1, br;q=0.5' });
      assert.equal(res.status, 200);
      assert.equal(field(res, 'content-encoding'), 'gzip');
      assert.deepEqual(res.body, APP_JS_GZ, 'the bytes of app.js.gz');
      assert.equal(field(res, 'content-type'), 'text/javascript; charset=utf-8');
      assert.equal(field(res, 'content-length'), String(APP_JS_GZ.length));
      assertVaryEncoding(res, 'gzip sibling');
      assert.equal(decode(res).toString(), APP_JS);
    });
  });

  it('sends the .br file when brotli is preferred or tied, and identity when both are refused', async () => {
    await withStatic({ root }, async ({ port }) => {
      for (const accept of ['br', 'gzip, br', 'br;q=0.9, gzip;q=0.8', 'gzip;q=0.5, br;q=1']) {
        const res = await rawRequest(port, 'GET', '/app.js', { 'Accept-Encoding': accept });
        assert.equal(field(res, 'content-encoding'), 'br', accept);
        assert.deepEqual(res.body, APP_JS_BR, accept);
      }
      for (const accept of ['br;q=0, gzip;q=0', 'identity', '']) {
        const res = await rawRequest(port, 'GET', '/app.js', { 'Accept-Encoding': accept });
        assert.equal(field(res, 'content-encoding'), undefined, accept);
        assert.equal(res.body.toString(), APP_JS, accept);
        assertVaryEncoding(res, accept);
      }
    });
  });

  it('gives each encoded form its own ETag, and revalidates each one', async () => {
    await withStatic({ root }, async ({ port }) => {
      const gz = await rawRequest(port, 'GET', '/app.js', { 'Accept-Encoding': 'gzip' });
      const br = await rawRequest(port, 'GET', '/app.js', { 'Accept-Encoding': 'br' });
      const plain = await rawRequest(port, 'GET', '/app.js');
      const tags = new Set([field(gz, 'etag'), field(br, 'etag'), field(plain, 'etag')]);
      assert.equal(tags.size, 3, [...tags].join(' '));
      const again = await rawRequest(port, 'GET', '/app.js', {
        'Accept-Encoding': 'gzip',
        'If-None-Match': field(gz, 'etag')!,
      });
      assert.equal(again.status, 304);
      assert.equal(field(again, 'etag'), field(gz, 'etag'));
    });
  });
});

describe('compression on the fly', { timeout: TEST_TIMEOUT_MS }, () => {
  it('gzips and brotli-compresses text of 1 KiB or more, and the bytes decompress to the file', async () => {
    await withStatic({ root }, async ({ port }) => {
      for (const [path, original] of [
        ['/page.css', PAGE_CSS],
        ['/big.json', BIG_JSON],
      ] as const) {
        for (const coding of ['gzip', 'br']) {
          const res = await rawRequest(port, 'GET', path, { 'Accept-Encoding': coding });
          assert.equal(res.status, 200, `${path} ${coding}`);
          assert.equal(field(res, 'content-encoding'), coding, `${path} ${coding}`);
          assert.ok(res.body.length < original.length / 2, `${path} ${coding}: ${res.body.length} bytes`);
          assert.equal(decode(res).toString(), original, `${path} ${coding}`);
          assertVaryEncoding(res, `${path} ${coding}`);
          assert.notEqual(field(res, 'accept-ranges'), 'bytes', 'no ranges of an on-the-fly encoding');
        }
      }
    });
  });

  it('leaves small files, images and range requests uncompressed, still with Vary', async () => {
    await withStatic({ root }, async ({ port }) => {
      const tiny = await rawRequest(port, 'GET', '/tiny.css', { 'Accept-Encoding': 'gzip, br' });
      assert.equal(field(tiny, 'content-encoding'), undefined);
      assert.equal(tiny.body.toString(), TINY_CSS);
      assertVaryEncoding(tiny, 'tiny');

      const image = await rawRequest(port, 'GET', '/image.png', { 'Accept-Encoding': 'gzip, br' });
      assert.equal(field(image, 'content-type'), 'image/png');
      assert.equal(field(image, 'content-encoding'), undefined);
      assert.deepEqual(image.body, IMAGE);
      assertVaryEncoding(image, 'image');

      const range = await rawRequest(port, 'GET', '/page.css', {
        'Accept-Encoding': 'gzip',
        Range: 'bytes=0-99',
      });
      assert.equal(range.status, 206);
      assert.equal(field(range, 'content-encoding'), undefined, 'ranges refer to the stored bytes');
      assert.equal(range.body.toString(), PAGE_CSS.slice(0, 100));
    });
  });

  it('sends the same headers for HEAD as for GET with an encoding', async () => {
    await withStatic({ root }, async ({ port }) => {
      const get = await rawRequest(port, 'GET', '/page.css', { 'Accept-Encoding': 'gzip' });
      const head = await rawRequest(port, 'HEAD', '/page.css', { 'Accept-Encoding': 'gzip' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      for (const name of ['content-encoding', 'content-type', 'etag', 'vary', 'content-length']) {
        assert.equal(field(head, name), field(get, name), name);
      }
    });
  });

  it('is decoded by curl --compressed to the original bytes', async () => {
    await withStatic({ root }, async ({ url }) => {
      const result = await curl(['-sS', '--compressed', '-D', '-', `${url}/big.json`]);
      assert.equal(result.code, 0, result.stderr);
      const split = result.stdout.indexOf('\r\n\r\n');
      const head = result.stdout.slice(0, split);
      assert.match(head, /\r\ncontent-encoding: (gzip|br)\r\n/i);
      assert.equal(Buffer.from(result.stdout.slice(split + 4), 'latin1').toString('utf8'), BIG_JSON);
    });
  });
});

describe('compression off', { timeout: TEST_TIMEOUT_MS }, () => {
  it('sends identity whatever Accept-Encoding says, siblings included', async () => {
    await withStatic({ root, compress: false }, async ({ port }) => {
      for (const path of ['/app.js', '/page.css', '/big.json']) {
        const res = await rawRequest(port, 'GET', path, { 'Accept-Encoding': 'gzip, br' });
        assert.equal(res.status, 200, path);
        assert.equal(field(res, 'content-encoding'), undefined, path);
      }
      const app = await rawRequest(port, 'GET', '/app.js', { 'Accept-Encoding': 'br' });
      assert.equal(app.body.toString(), APP_JS);
      assert.equal(field(app, 'accept-ranges'), 'bytes');
    });
  });
});
