/**
 * The smallest Berth server: answers every request with a line of text.
 * Run: `node --import tsx examples/hello.ts` (PORT=… to choose the port, 0 for any free one).
 */
import { createServer } from '../src/index.js';

const server = createServer((_req, res) => {
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('Hello from Berth!\n');
});

await server.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' });
const address = server.address();
if ('port' in address) console.log(`hello listening on http://${address.host}:${address.port}/`);
