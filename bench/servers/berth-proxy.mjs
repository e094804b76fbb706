// Berth's reverse proxy for the bench: every request goes to the one upstream given as the first
// argument (or BENCH_PROXY_UPSTREAM), e.g. http://127.0.0.1:8080, through a keep-alive
// UpstreamPool with its defaults. Prints its port on stdout.
import { createServer } from '../../dist/index.js';
import { UpstreamGroup } from '../../dist/proxy/balancer.js';
import { createReverseProxy } from '../../dist/proxy/reverse.js';
import { UpstreamPool } from '../../dist/proxy/upstream-pool.js';
import { answerHarness } from './answer-harness.mjs';

const upstream = process.argv[2] || process.env.BENCH_PROXY_UPSTREAM;
if (!upstream) {
  process.stderr.write('usage: node berth-proxy.mjs <upstream URL> (or set BENCH_PROXY_UPSTREAM)\n');
  process.exit(2);
}
const handler = createReverseProxy({
  group: new UpstreamGroup([upstream]),
  pool: new UpstreamPool(),
  pseudonym: 'bench',
});
const server = createServer(handler);
await server.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${server.address().port}\n`);
answerHarness();
