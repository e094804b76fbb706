// sirv (with node:http, as its readme shows) for the bench: serves the folder given as the first
// argument (or BENCH_STATIC_ROOT) with sirv's defaults. Prints its port on stdout.
import http from 'node:http';
import sirv from 'sirv';
import { answerHarness } from './answer-harness.mjs';
import { staticRootArg } from './static-root.mjs';

const assets = sirv(staticRootArg());
const server = http.createServer((req, res) =>
  assets(req, res, () => {
    res.statusCode = 404;
    res.end();
  }),
);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
  answerHarness();
});
