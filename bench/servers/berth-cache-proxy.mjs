// Berth's caching reverse proxy for the bench: the reverse proxy of berth-proxy.mjs to the one
// upstream given as the first argument, wrapped in the RFC 9111 cache over a 256 MiB memory
// store (what `berth proxy --to URL --cache` builds). Prints its port on stdout.

import { createCache } from '../../dist/cache/handler.js';
import { MemoryStore } from '../../dist/cache/memory-store.js';
import { createServer } from '../../dist/index.js';
import { UpstreamGroup } from '../../dist/proxy/balancer.js';
import { createReverseProxy } from '../../dist/proxy/reverse.js';
import { UpstreamPool } from '../../dist/proxy/upstream-pool.js';
import { answerHarness } from './answer-harness.mjs';

const upstream = process.argv[2];
if (!upstream) {
  process.stderr.write('usage: node berth-cache-proxy.mjs <upstream URL>\n');
  process.exit(2);
}
const proxy = createReverseProxy({
  group: new UpstreamGroup([upstream]),
  pool: new UpstreamPool(),
  pseudonym: 'bench',
});
const handler = createCache(proxy, { store: new MemoryStore({ maxBytes: 256 * 1024 * 1024 }) });
const server = createServer(handler);
await server.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${server.address().port}\n`);
answerHarness();
