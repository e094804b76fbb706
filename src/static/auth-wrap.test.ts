import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Handler, Request, Response } from '../handler/types.js';
import { plainCredentials } from './auth.js';
import { withBasicAuth } from './auth-wrap.js';

/** Runs `handler` on a request; returns the status and whether the inner handler ran. */
async function run(handler: Handler, method: string, userPass?: string): Promise<number> {
  const headers: Record<string, string> =
    userPass === undefined ? {} : { authorization: `Basic ${Buffer.from(userPass).toString('base64')}` };
  const req = { method, url: '/f', headers } as unknown as Request;
  const res = {
    statusCode: 0,
    setHeader() {
      return this;
    },
    end() {},
  } as unknown as Response;
  await handler(req, res);
  return res.statusCode;
}

const inner: Handler = (_req, res) => {
  res.statusCode = 200;
};
const reader = plainCredentials('r:read');
const writer = plainCredentials('w:write');

describe('withBasicAuth()', () => {
  it('withBasicAuth() returns the handler itself when nothing is required', () => {
    assert.equal(withBasicAuth(inner, { realm: 'x' }), inner);
  });

  it('withBasicAuth() with `all` guards every method', async () => {
    const h = withBasicAuth(inner, { all: reader, realm: 'x' });
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) {
      assert.equal(await run(h, method), 401, method);
      assert.equal(await run(h, method, 'r:read'), 200, method);
      assert.equal(await run(h, method, 'r:wrong'), 401, method);
    }
  });

  it('withBasicAuth() with `writes` guards only the methods that change files', async () => {
    const h = withBasicAuth(inner, { writes: writer, realm: 'x' });
    for (const method of ['GET', 'HEAD', 'OPTIONS']) assert.equal(await run(h, method), 200, method);
    for (const method of ['PUT', 'DELETE', 'POST', 'MKCOL', 'put']) {
      assert.equal(await run(h, method), 401, method);
      assert.equal(await run(h, method, 'w:write'), 200, method);
    }
  });

  it('withBasicAuth() with both asks writes for the upload pair and reads for the other', async () => {
    const h = withBasicAuth(inner, { all: reader, writes: writer, realm: 'x' });
    assert.equal(await run(h, 'GET', 'r:read'), 200);
    assert.equal(await run(h, 'GET'), 401);
    assert.equal(await run(h, 'PUT', 'r:read'), 401);
    assert.equal(await run(h, 'PUT', 'w:write'), 200);
  });
});
