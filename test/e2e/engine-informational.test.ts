import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exchange, get, withServer } from './raw-client.js';

test('writeInformational() refuses a field value that would split the head, as setHeader() does', async () => {
  let refusal: unknown;
  await withServer(
    (_req, res) => {
      try {
        res.writeInformational(103, { Link: '</a.css>; rel=preload\r\nSet-Cookie: stolen=1' });
      } catch (err) {
        refusal = err;
      }
      res.end('ok');
    },
    undefined,
    async ({ port }) => {
      const result = await exchange({ port }, get('/'), { responses: 1 });
      assert.equal(result.finals[0]?.status, 200);
      assert.doesNotMatch(result.text, /stolen/);
    },
  );
  assert.ok(refusal instanceof TypeError);
});
