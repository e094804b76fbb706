// Berth over HTTPS for the bench: the static handler (createStaticHandler's defaults) on the folder
// given as the first argument (or BENCH_STATIC_ROOT), with the local certificate kept in the data
// folder given as the second argument (made there on first use; the harness makes it first, so
// nginx serves the same one). ALPN offers h2 and http/1.1 on the one port. Prints its port on stdout.
import { createServer } from '../../dist/index.js';
import { createStaticHandler } from '../../dist/static/serve.js';
import { ensureLocalCertificate } from '../../dist/tls/local-ca.js';
import { answerHarness } from './answer-harness.mjs';
import { staticRootArg } from './static-root.mjs';

const dataDir = process.argv[3] || process.env.BENCH_TLS_DATA_DIR;
if (!dataDir) {
  process.stderr.write('usage: node berth-tls.mjs <root> <dataDir> (or set BENCH_TLS_DATA_DIR)\n');
  process.exit(2);
}
const { cert, key } = await ensureLocalCertificate({ dataDir });
const server = createServer(await createStaticHandler({ root: staticRootArg() }), {
  tls: { certificates: [{ cert, key }] },
});
await server.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${server.address().port}\n`);
answerHarness();
