/**
 * A client that stops reading a response (slow read, slowhttptest -X). When nothing has left for
 * bodyTimeoutMs the engine gives up on it, and must do so with RST: a plain close would leave the
 * kernel an orphaned socket still trickling up to a send buffer's worth of queued bytes (4 MiB
 * on loopback) to a peer that reads a byte now and then, established on its side all along.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, RawClient, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;
/** More than the server's send buffer and the client's receive buffer hold together. */
const HUGE = Buffer.alloc(16 * 1024 * 1024, 0x68);

/** The kernel's state of the IPv4 TCP socket bound to localPort on 127.0.0.1 (from /proc/net/tcp). */
async function tcpState(localPort: number): Promise<'established' | 'other' | 'gone'> {
  const local = `0100007F:${localPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = await readFile('/proc/net/tcp', 'latin1');
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return cols[3] === '01' ? 'established' : 'other';
  }
  return 'gone';
}

describe('slow readers', () => {
  it('reset a connection whose response has not moved for bodyTimeoutMs', { timeout: TEST_TIMEOUT_MS }, () =>
    withServer(
      (_req, res) => res.end(HUGE),
      { bodyTimeoutMs: 300, lingerMs: 300 },
      async ({ server, port }) => {
        const client = await RawClient.connect({ port });
        try {
          client.socket.pause();
          await client.write(get('/huge'));
          // Bounded wait for the server to give up on the stalled write.
          for (let i = 0; i < 300 && server.connectionCount > 0; i++) await sleep(10);
          assert.equal(server.connectionCount, 0, 'the server cut the connection');
          // RST: the kernel has dropped the client's socket. A plain close would leave it
          // established, the server's kernel still sending it the queued megabytes.
          assert.notEqual(await tcpState(client.socket.localPort!), 'established');
          client.socket.resume();
          await client.waitForClose(3_000);
          // Only what was already in the client's receive buffer, not the server's send buffer too.
          assert.ok(client.received.length < 1024 * 1024, `received ${client.received.length} bytes`);
        } finally {
          client.destroy();
        }
      },
    ),
  );
});
