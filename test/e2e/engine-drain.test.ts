import assert from 'node:assert/strict';
import { test } from 'node:test';
import { curl, withServer } from './raw-client.js';

// Regression: a write larger than the high-water mark returns false, but when the socket then
// took the whole batch at once no 'drain' event followed, and a handler awaiting res.drain()
// waited forever (found streaming a 10 MiB file in 1 MiB reads).
test('res.drain() resolves after a large write that the socket takes at once', async () => {
  const chunk = Buffer.alloc(1024 * 1024, 0x62);
  await withServer(
    async (_req, res) => {
      // Write from a later tick, as a file stream does, not while the request is being parsed.
      await new Promise((resolve) => setTimeout(resolve, 5));
      res.setHeader('Content-Length', 32 * chunk.length + 1);
      for (let i = 0; i < 32; i++) {
        if (!res.write(chunk)) await res.drain();
      }
      res.end('!');
    },
    undefined,
    async ({ url }) => {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(body.length, 32 * chunk.length + 1);
      assert.equal(body.at(-1), 0x21);
      const viaCurl = await curl([
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{size_download}',
        '--max-time',
        '5',
        url,
      ]);
      assert.equal(viaCurl.stdout, String(32 * chunk.length + 1));
    },
  );
});
