/** errorPages() on a real Berth server: returned and thrown errors, HEAD, and what it leaves alone. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  exchange,
  field,
  fieldValues,
  get,
  type ParsedResponse,
  withServer,
} from '../../test/e2e/raw-client.js';
import { HttpError } from '../handler/http-error.js';
import type { Handler } from '../handler/types.js';
import { errorPages } from './error-pages.js';

const NOT_FOUND = '<!doctype html><title>Not here</title><p>Nothing at this address.</p>\n';
const SERVER_ERROR = '<!doctype html><title>Oops</title><p>Something broke on our side.</p>\n';

let dir = '';
let pages: Record<number, string> = {};
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-error-pages-'));
  pages = { 404: join(dir, '404.html'), 500: join(dir, '500.html'), 405: join(dir, '405.html') };
  await writeFile(pages[404]!, NOT_FOUND);
  await writeFile(pages[500]!, SERVER_ERROR);
  await writeFile(pages[405]!, '<p>not allowed</p>');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function ask(next: Handler, method = 'GET', onError?: (err: unknown) => void): Promise<ParsedResponse> {
  let res: ParsedResponse | undefined;
  const handler = (await errorPages(pages))(next);
  await withServer(handler, onError === undefined ? undefined : { onError }, async ({ port }) => {
    const request = `${method} / HTTP/1.1\r\nHost: t\r\n\r\n`;
    res = (await exchange({ port }, request, { responses: 1, methods: [method] })).finals[0];
  });
  return res!;
}

describe('errorPages()', () => {
  it("errorPages() replaces the body of a listed status with its page, keeping the status and next's other fields", async () => {
    const next: Handler = (_req, res) => {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('ETag', '"body-of-next"');
      res.setHeader('Set-Cookie', ['seen=1']);
      res.write('{"error":');
      res.end('"missing"}');
    };
    const res = await ask(next);
    assert.equal(res.status, 404);
    assert.equal(field(res, 'content-type'), 'text/html; charset=utf-8');
    assert.equal(field(res, 'content-length'), String(NOT_FOUND.length));
    assert.equal(field(res, 'etag'), undefined);
    assert.deepEqual(fieldValues(res, 'set-cookie'), ['seen=1']);
    assert.equal(res.body.toString(), NOT_FOUND);
  });

  it('errorPages() renders the page for an HttpError next throws, with its fields', async () => {
    const res = await ask(() => {
      throw new HttpError(405, 'no', { headers: { Allow: 'GET, HEAD' } });
    });
    assert.equal(res.status, 405);
    assert.equal(field(res, 'allow'), 'GET, HEAD');
    assert.equal(res.body.toString(), '<p>not allowed</p>');
  });

  it('errorPages() renders the 500 page for a crash, and the engine still reports the error', async () => {
    const reported: unknown[] = [];
    const res = await ask(
      (_req, res) => {
        res.setHeader('X-Partial', '1');
        throw new Error('database down');
      },
      'GET',
      (err) => reported.push(err),
    );
    assert.equal(res.status, 500);
    assert.equal(field(res, 'x-partial'), undefined);
    assert.equal(res.body.toString(), SERVER_ERROR);
    assert.equal(reported.length, 1);
    assert.equal((reported[0] as Error).message, 'database down');
  });

  it('errorPages() gives HEAD the fields of the page, Content-Length included, without the body', async () => {
    const returned = await ask((_req, res) => {
      res.statusCode = 404;
      res.end();
    }, 'HEAD');
    assert.equal(field(returned, 'content-length'), String(NOT_FOUND.length));
    assert.equal(field(returned, 'content-type'), 'text/html; charset=utf-8');
    assert.equal(returned.body.length, 0);
    const thrown = await ask(() => {
      throw new HttpError(404, 'not found');
    }, 'HEAD');
    assert.equal(thrown.status, 404);
    assert.equal(field(thrown, 'content-length'), String(NOT_FOUND.length));
  });

  it('errorPages() leaves statuses without a page, and successes, as next made them', async () => {
    const teapot = await ask((_req, res) => {
      res.statusCode = 418;
      res.end('short and stout');
    });
    assert.equal(teapot.body.toString(), 'short and stout');
    const thrown = await ask(() => {
      throw new HttpError(403, 'forbidden');
    });
    assert.equal(thrown.status, 403);
    assert.match(thrown.body.toString(), /^403 Forbidden: forbidden/);
    const fine = await ask((_req, res) => res.end('fine'));
    assert.equal(fine.body.toString(), 'fine');
  });

  it('errorPages() reads the files once, when built', async () => {
    const file = join(dir, 'once.html');
    await writeFile(file, 'first');
    const middleware = await errorPages({ 404: file });
    await writeFile(file, 'second');
    const next: Handler = () => {
      throw new HttpError(404, 'gone');
    };
    await withServer(middleware(next), undefined, async ({ port }) => {
      const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
      assert.equal(res.body.toString(), 'first');
    });
  });

  it('errorPages() refuses statuses that are not errors and files it cannot read', async () => {
    await assert.rejects(errorPages({ 200: pages[404]! }), /not an error status/);
    await assert.rejects(errorPages({ 404: join(dir, 'missing.html') }), /cannot read the page for 404/);
  });
});
