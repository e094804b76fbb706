// A minimal raw-socket hello (no HTTP parsing): the floor for the idle-memory scenario.
import net from 'node:net';
import { answerHarness } from './answer-harness.mjs';

const resp = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!',
);
const server = net.createServer({ noDelay: true }, (s) => {
  s.on('data', () => s.write(resp));
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
  answerHarness();
});
