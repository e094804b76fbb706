import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { exchange, RawClient, withServer } from './raw-client.js';

/** A TCP echo server on 127.0.0.1 for the tunnel to reach. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('a 2xx to CONNECT hands the socket over, with bytes sent early, and carries no framing', async () => {
  const echo = await echoServer();
  try {
    await withServer(
      async (req, res) => {
        assert.equal(req.method, 'CONNECT');
        res.statusCode = 200;
        const { socket, head } = await res.takeOver();
        const upstream = net.connect(echo.port, '127.0.0.1');
        upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      },
      undefined,
      async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          // Tunnel bytes right behind the request, in the same write.
          await client.write(
            `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\nearly;`,
          );
          await client.until(() => client.text.includes('early;'), 3000, 'the early bytes echoed');
          await client.write('later');
          await client.until(() => client.text.includes('later'), 3000, 'bytes echoed through the tunnel');
          const head = client.text.slice(0, client.text.indexOf('\r\n\r\n'));
          assert.match(head, /^HTTP\/1\.1 200 /);
          assert.doesNotMatch(head, /content-length|transfer-encoding|connection:/i);
        } finally {
          client.destroy();
        }
      },
    );
  } finally {
    await echo.close();
  }
});

test('a 101 to an Upgrade request hands the socket over with Connection: Upgrade kept', async () => {
  await withServer(
    async (req, res) => {
      assert.equal(req.headers.upgrade, 'echo');
      res.writeHead(101, { Connection: 'Upgrade', Upgrade: 'echo' });
      const { socket, head } = await res.takeOver();
      socket.write(head);
      socket.pipe(socket);
    },
    undefined,
    async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        await client.write('GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nping');
        await client.until(() => client.text.includes('ping'), 3000, 'the echoed bytes');
        assert.match(client.text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
        assert.match(client.text, /\r\nConnection: Upgrade\r\n/i);
        assert.match(client.text, /\r\nUpgrade: echo\r\n/i);
      } finally {
        client.destroy();
      }
    },
  );
});

test('a refused CONNECT is answered and the connection closes; a refused Upgrade goes on as HTTP', async () => {
  await withServer(
    (req, res) => {
      res.statusCode = req.method === 'CONNECT' ? 403 : 200;
      res.end(req.method);
    },
    undefined,
    async ({ port }) => {
      const refused = await exchange(
        { port },
        'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n',
      );
      assert.equal(refused.finals[0]?.status, 403);
      assert.equal(refused.closed, true);
      const upgrade =
        'GET /a HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: nope\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n';
      const goesOn = await exchange({ port }, upgrade, { responses: 2 });
      assert.deepEqual(
        goesOn.finals.map((r) => r.status),
        [200, 200],
      );
    },
  );
});

test('takeOver() is refused for an ordinary request', async () => {
  let refusal: unknown;
  await withServer(
    async (_req, res) => {
      try {
        await res.takeOver();
      } catch (err) {
        refusal = err;
      }
      res.end('still HTTP');
    },
    undefined,
    async ({ url }) => {
      const response = await fetch(url);
      assert.equal(await response.text(), 'still HTTP');
    },
  );
  assert.ok(refusal instanceof Error);
});
