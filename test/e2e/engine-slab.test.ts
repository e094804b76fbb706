import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exchange, get, withServer } from './raw-client.js';

// Regression: a small body copied into the shared slab after its head was miscounted when the
// slab filled up mid-response and the region moved, so the response was cut as "shorter than its
// Content-Length". Many pipelined responses of varied sizes between 1 and 2 KiB cross many slab
// boundaries at many offsets.
test('small bodies stay whole across slab boundaries, as Buffers and as strings', async () => {
  const sizeOf = (i: number): number => 1100 + ((i * 37) % 900);
  await withServer(
    (req, res) => {
      const [kind, n] = req.url.slice(1).split('/');
      const size = sizeOf(Number(n));
      res.end(kind === 'text' ? 'é'.repeat(size / 2) : Buffer.alloc(size, 0x61));
    },
    undefined,
    async ({ port }) => {
      for (const kind of ['bytes', 'text']) {
        const count = 300;
        let requests = '';
        for (let i = 0; i < count; i++) requests += get(`/${kind}/${i}`);
        const result = await exchange({ port }, requests, { responses: count, timeoutMs: 10_000 });
        assert.equal(result.finals.length, count);
        result.finals.forEach((response, i) => {
          assert.equal(response.status, 200);
          const size = sizeOf(i);
          const expected = kind === 'text' ? Buffer.from('é'.repeat(size / 2)) : Buffer.alloc(size, 0x61);
          assert.deepEqual(response.body, expected);
        });
        assert.equal(result.closed, false);
      }
    },
  );
});
