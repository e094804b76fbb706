// Berth hello-world for the bench: 200, text/plain, "Hello, World!". Prints its port on stdout.
import { createServer } from '../../dist/index.js';
import { answerHarness } from './answer-harness.mjs';

// The idle scenario opens 10,000 connections from one address: lift the per-client limit (256).
const server = createServer(
  (_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('Hello, World!');
  },
  { maxConnectionsPerClient: 20_000 },
);
await server.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${server.address().port}\n`);
answerHarness();
