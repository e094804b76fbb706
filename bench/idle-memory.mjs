// Idle-connection memory: start one server, let bench/idle-connections.mjs (a separate process on
// the client core) open N keep-alive connections that each made one request, and compare the
// server's memory before and after. Both samples follow a full GC (servers run with --expose-gc).
import { fileURLToPath } from 'node:url';
import { ask, pinned, spawnChild, stopChild, withFdLimit } from './child-processes.mjs';

const CLIENT = fileURLToPath(new URL('idle-connections.mjs', import.meta.url));
/** Descriptors beyond one per connection: stdio, IPC, listener, epoll, libuv internals. */
const FD_HEADROOM = 256;
const WARM_UP_TIMEOUT_MS = 30_000;
const OPEN_TIMEOUT_MS = 120_000;
const COUNT_TIMEOUT_MS = 5000;

/**
 * Measures one target. Resolves with `{ connections, failed, firstError, stillOpen, openMs,
 * before, after, rssBytesPerConnection, heapBytesPerConnection }` (memory in bytes). `stillOpen`
 * below `connections` means the server closed idle connections before the second sample (node:http
 * does after keepAliveTimeout, 5 s), which makes the figure too low. Rejects when the target cannot
 * report memory or opening fails outright.
 */
export async function measureIdleMemory({ target, connections, settleMs, cpus }) {
  const fdLimit = connections + FD_HEADROOM;
  const server = await target.start({ cpu: cpus.server, fdLimit });
  try {
    if (!server.memory) throw new Error(`${target.name} cannot report its memory`);
    const argv = [process.execPath, CLIENT, String(server.port), String(connections)];
    const client = spawnChild(withFdLimit(fdLimit, pinned(cpus.client, argv)), { ipc: true });
    try {
      const warm = await ask(client, { kind: 'warm-up' }, 'warmed-up', WARM_UP_TIMEOUT_MS);
      if (warm.failed > 0) throw new Error(`${target.name}: warm-up requests failed: ${warm.firstError}`);
      const before = await server.memory();
      const opened = await ask(client, { kind: 'open' }, 'opened', OPEN_TIMEOUT_MS);
      if (opened.opened === 0) throw new Error(`${target.name}: no connection opened: ${opened.firstError}`);
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      const after = await server.memory();
      const { open } = await ask(client, { kind: 'count' }, 'count', COUNT_TIMEOUT_MS);
      const result = {
        connections: opened.opened,
        failed: opened.failed,
        firstError: opened.firstError,
        stillOpen: open,
        openMs: opened.ms,
        before,
        after,
        rssBytesPerConnection: Math.round((after.rss - before.rss) / opened.opened),
        heapBytesPerConnection: Math.round((after.heapUsed - before.heapUsed) / opened.opened),
      };
      // Reset the connections (no TIME_WAIT) before the client exits; see idle-connections.mjs.
      await ask(client, { kind: 'close' }, 'closed', COUNT_TIMEOUT_MS).catch(() => {});
      return result;
    } finally {
      await stopChild(client);
    }
  } finally {
    await server.stop();
  }
}
