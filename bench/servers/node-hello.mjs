// node:http hello-world for the bench, the baseline: same handler as berth-hello.mjs, node's
// defaults left as they are. Prints its port on stdout.
import http from 'node:http';
import { answerHarness } from './answer-harness.mjs';

const server = http.createServer((_req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end('Hello, World!');
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
  answerHarness();
});
