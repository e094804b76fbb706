// Berth's static file server for the bench: serves the folder given as the first argument (or
// BENCH_STATIC_ROOT) with createStaticHandler's defaults. Prints its port on stdout.
import { createServer } from '../../dist/index.js';
import { createStaticHandler } from '../../dist/static/serve.js';
import { answerHarness } from './answer-harness.mjs';
import { staticRootArg } from './static-root.mjs';

const server = createServer(await createStaticHandler({ root: staticRootArg() }));
await server.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${server.address().port}\n`);
answerHarness();
