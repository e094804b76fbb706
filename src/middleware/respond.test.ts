/** respond() on a real Berth server: the fixed answer, its defaults, HEAD, and config checks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exchange, field, type ParsedResponse, withServer } from '../../test/e2e/raw-client.js';
import { type RespondConfig, respond } from './respond.js';

function config(partial: Partial<Omit<RespondConfig, 'kind'>>): RespondConfig {
  return { kind: 'respond', status: 200, body: '', headers: {}, ...partial };
}

async function ask(cfg: RespondConfig, method = 'GET'): Promise<ParsedResponse> {
  let res: ParsedResponse | undefined;
  await withServer(respond(cfg), undefined, async ({ port }) => {
    const request = `${method} / HTTP/1.1\r\nHost: t\r\n\r\n`;
    res = (await exchange({ port }, request, { responses: 1, methods: [method] })).finals[0];
  });
  return res!;
}

describe('respond()', () => {
  it('respond() sends the status and body, as UTF-8 text by default, with its Content-Length', async () => {
    const res = await ask(config({ status: 503, body: 'down for maintenance — back soon\n' }));
    assert.equal(res.status, 503);
    assert.equal(field(res, 'content-type'), 'text/plain; charset=utf-8');
    assert.equal(
      field(res, 'content-length'),
      String(Buffer.byteLength('down for maintenance — back soon\n')),
    );
    assert.equal(res.body.toString('utf8'), 'down for maintenance — back soon\n');
  });

  it('respond() keeps a configured Content-Type and sends the configured fields', async () => {
    const res = await ask(
      config({
        body: '{"ok":true}',
        headers: { 'content-type': 'application/json', 'Cache-Control': 'no-store' },
      }),
    );
    assert.equal(field(res, 'content-type'), 'application/json');
    assert.equal(field(res, 'cache-control'), 'no-store');
    assert.equal(res.body.toString(), '{"ok":true}');
  });

  it('respond() without a body sends no Content-Type and a zero length', async () => {
    const res = await ask(config({ status: 404 }));
    assert.equal(field(res, 'content-type'), undefined);
    assert.equal(field(res, 'content-length'), '0');
  });

  it('respond() gives HEAD the fields and Content-Length of GET, without the body', async () => {
    const res = await ask(config({ body: 'hello' }), 'HEAD');
    assert.equal(field(res, 'content-length'), '5');
    assert.equal(field(res, 'content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.body.length, 0);
  });

  it('respond() sends a 204 with no body and no Content-Length', async () => {
    const res = await ask(config({ status: 204, headers: { 'X-A': '1' } }));
    assert.equal(res.status, 204);
    assert.equal(field(res, 'content-length'), undefined);
    assert.equal(field(res, 'x-a'), '1');
  });

  it('respond() refuses interim statuses, bodies on 204 and 304, and bad or engine-owned fields', () => {
    assert.throws(() => respond(config({ status: 101 })), /final status/);
    assert.throws(() => respond(config({ status: 204, body: 'x' })), /has no body/);
    assert.throws(() => respond(config({ status: 304, body: 'x' })), /has no body/);
    assert.throws(() => respond(config({ headers: { 'X-A': 'a\r\nb' } })), /control character/);
    assert.throws(() => respond(config({ headers: { 'Content-Length': '3' } })), /written by the server/);
  });
});
