// node:http2 on its own for the TLS bench: the reference for what any server built on node:http2
// can reach. The same certificate as berth-tls.mjs (same data folder, second argument); every
// stream gets /1k.bin from memory with the fields Berth's file server sends, through the core API
// (stream.respond() + stream.end()), no routing, no file-system check. Prints its port on stdout.
import { readFileSync, statSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { ensureLocalCertificate } from '../../dist/tls/local-ca.js';
import { answerHarness } from './answer-harness.mjs';
import { staticRootArg } from './static-root.mjs';

const dataDir = process.argv[3] || process.env.BENCH_TLS_DATA_DIR;
if (!dataDir) {
  process.stderr.write('usage: node node-http2-tls.mjs <root> <dataDir> (or set BENCH_TLS_DATA_DIR)\n');
  process.exit(2);
}
const { cert, key } = await ensureLocalCertificate({ dataDir });
const path = join(staticRootArg(), '1k.bin');
const body = readFileSync(path);
const { mtime } = statSync(path);
const fields = {
  ':status': 200,
  etag: `"${body.length.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`,
  'last-modified': mtime.toUTCString(),
  'cache-control': 'no-cache',
  'content-type': 'application/octet-stream',
  'accept-ranges': 'bytes',
  'content-length': body.length,
  server: 'node',
};
const server = http2.createSecureServer({ cert, key, ALPNProtocols: ['h2'] });
server.on('stream', (stream) => {
  stream.respond(fields);
  stream.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
  answerHarness();
});
