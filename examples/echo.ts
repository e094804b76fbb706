/**
 * Echoes each request back as text: the request line, the fields as received, a blank line, then
 * the body — streamed, so a large upload flows straight back with backpressure, never buffered whole.
 * Try: `curl -sS --data-binary @somefile http://127.0.0.1:8080/anything?x=1`
 */
import { createServer } from '../src/index.js';

const server = createServer(async (req, res) => {
  res.setHeader('content-type', 'application/octet-stream');
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  res.write(`${head}\r\n`);
  // res.send() pipes the request body back chunk by chunk, waiting for drain when the client is slow.
  await res.send(req);
});

await server.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' });
const address = server.address();
if ('port' in address) console.log(`echo listening on http://${address.host}:${address.port}/`);
