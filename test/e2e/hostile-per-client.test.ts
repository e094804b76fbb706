/**
 * maxConnectionsPerClient over real sockets. Linux routes all of 127.0.0.0/8 to loopback, so
 * connections bound to 127.0.0.2, 127.0.0.3, … act as different clients. A connection over the
 * limit must be closed at accept — no byte read or written, no handler called, no TLS handshake —
 * and counted in server.connectionsRefusedPerClient; the client's other connections and every
 * other client go on as before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { resolveConfig } from '../../src/conn/config.js';
import type { Handler, Server } from '../../src/index.js';
import { ensureLocalCertificate } from '../../src/tls/local-ca.js';
import { closeServer, get, parseResponses, startServer, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 15_000;
const WAIT_MS = 3_000;

/** A client socket bound to a chosen source address, recording what it receives and its close. */
type Peer = {
  readonly socket: net.Socket;
  received: () => Buffer;
  closed: () => boolean;
  /** Resolves once check() holds after some socket event; rejects after WAIT_MS. */
  until: (check: () => boolean, what: string) => Promise<void>;
};

async function connectFrom(localAddress: string, port: number, host = '127.0.0.1'): Promise<Peer> {
  const socket = net.connect({ port, host, localAddress });
  const chunks: Buffer[] = [];
  let closed = false;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    notify();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    notify();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const until = (check: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (check()) return resolve();
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}`));
      }, WAIT_MS);
      waiters.add(waiter);
    });
  return { socket, received: () => Buffer.concat(chunks), closed: () => closed, until };
}

/** Sends GET path and resolves with the body of the one response (keep-alive). */
async function request(peer: Peer, path: string): Promise<string> {
  const before = parseResponses(peer.received()).finals.length;
  peer.socket.write(get(path));
  await peer.until(
    () => peer.closed() || parseResponses(peer.received()).finals.length > before,
    `a response to ${path}`,
  );
  const res = parseResponses(peer.received()).finals[before];
  assert.ok(res !== undefined, `no response to ${path}; connection closed`);
  return res.body.toString();
}

/** Waits (bounded) until the server has seen closes and check() holds. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail(`never happened: ${what}`);
}

function counting(): { handler: Handler; calls: () => number } {
  let calls = 0;
  return {
    handler: (req, res) => {
      calls++;
      res.end(`ok ${req.url}`);
    },
    calls: () => calls,
  };
}

describe('maxConnectionsPerClient', () => {
  it('defaults to 256, takes Infinity for none, and refuses zero', () => {
    assert.equal(resolveConfig().maxConnectionsPerClient, 256);
    assert.equal(
      resolveConfig({ maxConnectionsPerClient: Number.POSITIVE_INFINITY }).maxConnectionsPerClient,
      Number.POSITIVE_INFINITY,
    );
    assert.throws(() => resolveConfig({ maxConnectionsPerClient: 0 }), RangeError);
  });

  it('closes a connection over the limit at accept, before reading it, and counts it', {
    timeout: TEST_TIMEOUT_MS,
  }, () => {
    const { handler, calls } = counting();
    return withServer(handler, { maxConnectionsPerClient: 3 }, async ({ server, port }) => {
      const held = [
        await connectFrom('127.0.0.2', port),
        await connectFrom('127.0.0.2', port),
        await connectFrom('127.0.0.2', port),
      ];
      try {
        for (const [i, peer] of held.entries()) assert.equal(await request(peer, `/${i}`), `ok /${i}`);
        assert.equal(server.connectionsRefusedPerClient, 0);

        const extra = await connectFrom('127.0.0.2', port);
        extra.socket.write(get('/extra'));
        await extra.until(extra.closed, 'the extra connection to close');
        assert.equal(extra.received().length, 0, 'not one byte went to the refused connection');
        assert.equal(calls(), 3, 'no handler ran for it');
        assert.equal(server.connectionsRefusedPerClient, 1);
        assert.equal(server.connectionCount, 3);

        // The client's own connections keep working, and other clients are not affected.
        assert.equal(await request(held[0]!, '/again'), 'ok /again');
        const other = await connectFrom('127.0.0.3', port);
        assert.equal(await request(other, '/other'), 'ok /other');
        assert.equal(server.clientCount, 2);
        other.socket.destroy();

        // A closed connection gives its place back.
        held[2]!.socket.destroy();
        await eventually(() => server.connectionCount === 2, 'the server saw both closes');
        const again = await connectFrom('127.0.0.2', port);
        held[2] = again;
        assert.equal(await request(again, '/back'), 'ok /back');
        assert.equal(server.connectionsRefusedPerClient, 1);
      } finally {
        for (const peer of held) peer.socket.destroy();
      }
      // Counts go back to zero and their entries are deleted: the map does not grow.
      await eventually(() => server.clientCount === 0, 'every client entry deleted');
    });
  });

  it(
    'counts the connections the server itself closes, by timeout, as given back',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(
        counting().handler,
        { maxConnectionsPerClient: 1, headTimeoutMs: 200, lingerMs: 200 },
        async ({ server, port }) => {
          const first = await connectFrom('127.0.0.2', port);
          first.socket.write('GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ');
          await first.until(first.closed, 'the stalled head to be cut');
          assert.match(first.received().toString('latin1'), /^HTTP\/1\.1 408 /);
          await eventually(() => server.clientCount === 0, 'the cut connection released');
          const second = await connectFrom('127.0.0.2', port);
          try {
            assert.equal(await request(second, '/next'), 'ok /next');
            assert.equal(server.connectionsRefusedPerClient, 0);
          } finally {
            second.socket.destroy();
          }
        },
      ),
  );

  it(
    'counts HTTP/2 (h2c) sessions against the same limit until they close',
    { timeout: TEST_TIMEOUT_MS },
    () =>
      withServer(counting().handler, { maxConnectionsPerClient: 2, h2c: true }, async ({ server, port }) => {
        const session = http2.connect(`http://127.0.0.1:${port}`, {
          createConnection: () => net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }),
        });
        session.on('error', () => {});
        const h1 = await connectFrom('127.0.0.2', port);
        try {
          const stream = session.request({ ':path': '/h2' });
          let body = '';
          stream.setEncoding('utf8');
          stream.on('data', (chunk: string) => (body += chunk));
          await new Promise((resolve) => stream.on('end', resolve));
          assert.equal(body, 'ok /h2');
          assert.equal(await request(h1, '/h1'), 'ok /h1');
          const extra = await connectFrom('127.0.0.2', port);
          await extra.until(extra.closed, 'the third connection to close');
          assert.equal(server.connectionsRefusedPerClient, 1);

          session.destroy();
          await eventually(() => server.connectionCount === 1, 'the session gone');
          const again = await connectFrom('127.0.0.2', port);
          assert.equal(await request(again, '/again'), 'ok /again');
          again.socket.destroy();
        } finally {
          session.destroy();
          h1.socket.destroy();
        }
      }),
  );

  it('on a dual-stack listener counts IPv4-mapped peers as IPv4 and ::1 apart', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    let running: Awaited<ReturnType<typeof startServer>> | undefined;
    const { handler } = counting();
    try {
      const { createServer } = await import('../../src/index.js');
      const server = createServer(handler, { maxConnectionsPerClient: 1 });
      await server.listen({ port: 0, host: '::' });
      const address = server.address();
      running = { server, port: 'port' in address ? address.port : 0, url: '' };
    } catch {
      t.skip('no IPv6 on this machine');
      return;
    }
    const { server, port } = running;
    const peers: Peer[] = [];
    try {
      peers.push(await connectFrom('127.0.0.2', port));
      assert.equal(await request(peers[0]!, '/v4'), 'ok /v4');
      const refused = await connectFrom('127.0.0.2', port);
      await refused.until(refused.closed, 'the second IPv4 connection to close');
      assert.equal(server.connectionsRefusedPerClient, 1);
      peers.push(await connectFrom('::1', port, '::1'));
      assert.equal(await request(peers[1]!, '/v6'), 'ok /v6');
      assert.equal(server.clientCount, 2);
    } finally {
      for (const peer of peers) peer.socket.destroy();
      await closeServer(server);
    }
  });

  it('closes a TLS connection over the limit before its handshake', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-hostile-tls-'));
    const reported: unknown[] = [];
    let server: Server | undefined;
    try {
      const cert = await ensureLocalCertificate({ dataDir: dir });
      const running = await startServer(counting().handler, {
        tls: { certificates: [{ cert: cert.cert, key: cert.key }], http2: false },
        maxConnectionsPerClient: 1,
        onError: (err) => reported.push(err),
      });
      server = running.server;
      const port = running.port;
      const secure = (): Promise<tls.TLSSocket> =>
        new Promise((resolve, reject) => {
          const socket = tls.connect({
            socket: net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }),
            servername: 'localhost',
            ca: cert.caCert,
          });
          socket.once('secureConnect', () => resolve(socket));
          socket.once('error', reject);
          socket.once('close', () => reject(new Error('closed before the handshake')));
        });
      const first = await secure();
      try {
        first.write(get('/tls'));
        const text = await new Promise<string>((resolve) => {
          let got = '';
          first.on('data', (chunk: Buffer) => {
            got += chunk.toString('latin1');
            if (got.endsWith('ok /tls')) resolve(got);
          });
        });
        assert.match(text, /^HTTP\/1\.1 200 /);

        await assert.rejects(secure(), 'the second TLS connection never completes its handshake');
        // The same, seen from raw TCP: a ClientHello-sized write gets no byte back (no ServerHello).
        const raw = await connectFrom('127.0.0.2', port);
        raw.socket.write(Buffer.alloc(300, 0x16));
        await raw.until(raw.closed, 'the raw connection to close');
        assert.equal(raw.received().length, 0);
        assert.equal(server.connectionsRefusedPerClient, 2);
        assert.equal(server.connectionCount, 1);
      } finally {
        first.destroy();
      }
      await eventually(() => server?.clientCount === 0, 'the TLS client released');
      assert.deepEqual(reported, [], 'nothing was reported as an engine error');
    } finally {
      if (server !== undefined) await closeServer(server);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
