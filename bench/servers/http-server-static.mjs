// http-server (its createServer API) for the bench: serves the folder given as the first argument
// (or BENCH_STATIC_ROOT) with its defaults (Cache-Control max-age=3600, ETag, no gzip) and no
// logging. Prints its port on stdout.
import httpServer from 'http-server';
import { answerHarness } from './answer-harness.mjs';
import { staticRootArg } from './static-root.mjs';

const server = httpServer.createServer({ root: staticRootArg() });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.server.address().port}\n`);
  answerHarness();
});
