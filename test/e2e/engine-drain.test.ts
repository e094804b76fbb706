import assert from 'node:assert/strict';
import net from 'node:net';
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

// Regression: the socket takes a flush at once and 'drain' fires inside it; a handler that ends
// its chunked response right there, on a Connection: close request, had the socket ended by that
// same flush before the last chunk was written (found through the cache, which resumes on 'drain').
test('a chunked response ended in a drain listener keeps its last chunk on a closing connection', async () => {
  await withServer(
    async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      res.write('part');
      res.once('drain', () => res.end());
    },
    undefined,
    async ({ port }) => {
      const raw = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(raw, /\r\n\r\n4\r\npart\r\n0\r\n\r\n$/);
    },
  );
});

/** Sends `request` and resolves with everything the server sends until it closes. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(3_000, () => {
      socket.destroy();
      reject(new Error(`no close within 3 s; got ${JSON.stringify(text)}`));
    });
  });
}
