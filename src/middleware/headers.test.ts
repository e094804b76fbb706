/** headers() on a real Berth server: set, add and remove against what next does, and config checks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
import { type HeadersConfig, headers } from './headers.js';

function config(partial: Partial<Omit<HeadersConfig, 'kind'>>): HeadersConfig {
  return { kind: 'headers', set: {}, add: {}, remove: [], ...partial };
}

async function run(cfg: HeadersConfig, next: Handler, request = get('/')): Promise<ParsedResponse> {
  let res: ParsedResponse | undefined;
  await withServer(headers(cfg)(next), undefined, async ({ port }) => {
    res = (await exchange({ port }, request, { responses: 1 })).finals[0];
  });
  return res!;
}

const nextWithFields: Handler = (_req, res) => {
  res.setHeader('X-Powered-By', 'next');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Link', '</a>; rel=preload');
  res.end('body');
};

describe('headers()', () => {
  it("headers() set replaces next's value, add appends a line, remove deletes next's field", async () => {
    const res = await run(
      config({
        set: { 'cache-control': 'max-age=60', 'X-Frame-Options': 'DENY' },
        add: { Link: '</b>; rel=preload' },
        remove: ['x-powered-by'],
      }),
      nextWithFields,
    );
    assert.equal(field(res, 'cache-control'), 'max-age=60');
    assert.deepEqual(fieldValues(res, 'cache-control'), ['max-age=60']);
    assert.equal(field(res, 'x-frame-options'), 'DENY');
    assert.deepEqual(fieldValues(res, 'link'), ['</a>; rel=preload', '</b>; rel=preload']);
    assert.equal(field(res, 'x-powered-by'), undefined);
    assert.equal(res.body.toString(), 'body');
  });

  it('headers() applies to fields next passes to writeHead(), and to fields set after a first write', async () => {
    const next: Handler = (_req, res) => {
      res.writeHead(200, { 'X-Powered-By': 'next', 'Content-Type': 'text/plain' });
      res.end('x');
    };
    const res = await run(config({ set: { 'Content-Type': 'text/html' }, remove: ['X-POWERED-BY'] }), next);
    assert.equal(field(res, 'content-type'), 'text/html');
    assert.equal(field(res, 'x-powered-by'), undefined);
  });

  it('headers() remove and add of one name leave exactly the added value', async () => {
    const res = await run(
      config({ remove: ['Cache-Control'], add: { 'Cache-Control': 'private' } }),
      nextWithFields,
    );
    assert.deepEqual(fieldValues(res, 'cache-control'), ['private']);
  });

  it('headers() puts its fields on an HttpError that next throws', async () => {
    const next: Handler = () => {
      throw new HttpError(405, 'no', { headers: { Allow: 'GET', 'X-Powered-By': 'next' } });
    };
    const res = await run(
      config({ set: { 'X-Frame-Options': 'DENY' }, add: { Allow: 'HEAD' }, remove: ['x-powered-by'] }),
      next,
    );
    assert.equal(res.status, 405);
    assert.equal(field(res, 'x-frame-options'), 'DENY');
    assert.equal(field(res, 'allow'), 'GET, HEAD');
    assert.equal(field(res, 'x-powered-by'), undefined);
  });

  it('headers() keeps the Content-Length framing of end(body)', async () => {
    const res = await run(config({ set: { 'X-A': '1' } }), nextWithFields);
    assert.equal(res.framing, 'length');
    assert.equal(field(res, 'content-length'), '4');
  });

  it('headers() with nothing configured returns next itself', () => {
    assert.equal(headers(config({}))(nextWithFields), nextWithFields);
  });

  it('headers() refuses values with CR or LF, bad names and the fields the engine writes', () => {
    assert.throws(() => headers(config({ set: { 'X-A': 'a\r\nSet-Cookie: x=1' } })), /control character/);
    assert.throws(() => headers(config({ add: { 'X-A': 'a\nb' } })), /control character/);
    assert.throws(() => headers(config({ set: { 'Bad Name': 'a' } })), /not a valid field name/);
    assert.throws(() => headers(config({ set: { 'Content-Length': '5' } })), /written by the server/);
    assert.throws(() => headers(config({ remove: ['Transfer-Encoding'] })), /written by the server/);
    assert.throws(() => headers(config({ remove: ['Server'] })), /cannot be removed/);
  });
});
