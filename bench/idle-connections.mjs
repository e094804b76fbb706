// Idle-connection client, a child of bench/run.mjs (IPC-driven, pinned to the client core): opens
// many keep-alive connections to one server, sends one GET on each, reads the whole response, and
// then leaves them idle so the server's memory per idle connection can be sampled.
//   node bench/idle-connections.mjs <port> <connections>
// Messages: {kind:'warm-up'} -> {kind:'warmed-up'}; {kind:'open'} -> {kind:'opened', opened,
// failed, firstError, ms}; {kind:'count'} -> {kind:'count', open}; {kind:'close'} -> {kind:'closed'}.
// Exits when the harness goes. Connections end with RST, not FIN: a FIN close would leave each
// client port in TIME_WAIT for a minute, and tens of thousands of those slow the next run's connects.
import { connect } from 'node:net';

const HOST = '127.0.0.1';
/** Connections opened (and closed again) before the baseline sample, to warm the server's code. */
const WARM_UP_CONNECTIONS = 200;
/** Connects in flight at once; well under the listen backlog (511 in node). */
const IN_FLIGHT = 256;
/**
 * Connections per client source address. The first block connects without binding (the kernel
 * picks any free 4-tuple, fast even with many TIME_WAIT sockets around); beyond it, connections
 * bind to 127.0.0.2, .3, … (bind() needs a port free on that address, slow when many are taken).
 */
const CONNECTIONS_PER_ADDRESS = 20_000;
const RESPONSE_TIMEOUT_MS = 10_000;
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, 'latin1');

const port = Number(process.argv[2]);
const connections = Number(process.argv[3]);
const open = new Set();

if (!process.send || !Number.isInteger(port) || !Number.isInteger(connections)) {
  process.stderr.write('usage: run by bench/run.mjs (IPC): idle-connections.mjs <port> <connections>\n');
  process.exit(2);
}

process.on('disconnect', () => process.exit(0));
process.on('message', async (message) => {
  switch (message?.kind) {
    case 'warm-up': {
      const warm = await openMany(WARM_UP_CONNECTIONS);
      await Promise.all(warm.sockets.map(resetSocket));
      process.send({ kind: 'warmed-up', failed: warm.failed, firstError: warm.firstError });
      break;
    }
    case 'open': {
      const started = performance.now();
      const result = await openMany(connections);
      const ms = Math.round(performance.now() - started);
      process.send({
        kind: 'opened',
        opened: result.sockets.length,
        failed: result.failed,
        firstError: result.firstError,
        ms,
      });
      break;
    }
    case 'count':
      process.send({ kind: 'count', open: open.size });
      break;
    case 'close':
      await Promise.all([...open].map(resetSocket));
      process.send({ kind: 'closed' });
      break;
  }
});

/** Opens `count` connections, IN_FLIGHT at a time; failures are counted, not thrown. */
async function openMany(count) {
  const sockets = [];
  let failed = 0;
  let firstError;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const block = Math.floor(index / CONNECTIONS_PER_ADDRESS);
      const localAddress = block === 0 ? undefined : `127.0.0.${1 + block}`;
      try {
        sockets.push(await openOne(localAddress));
      } catch (error) {
        failed++;
        firstError ??= error.message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker));
  return { sockets, failed, firstError };
}

/** Connects (from `localAddress` when given), sends REQUEST, resolves with the socket once the 200 is read. */
function openOne(localAddress) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: HOST, localAddress });
    let text = '';
    const fail = (message) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail('no complete response in time'), RESPONSE_TIMEOUT_MS);
    const onData = (chunk) => {
      text += chunk.toString('latin1');
      const state = responseState(text);
      if (state === 'incomplete') return;
      if (state !== 'complete') return fail(state);
      clearTimeout(timer);
      socket.off('data', onData);
      socket.on('data', () => {});
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', (error) => fail(error.message));
    socket.once('close', () => fail('closed before the response was complete'));
    socket.once('connect', () => socket.write(REQUEST));
  });
}

/** 'complete', 'incomplete', or why the response cannot leave a reusable keep-alive connection. */
function responseState(text) {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) return 'incomplete';
  const head = text.slice(0, headEnd);
  if (!head.startsWith('HTTP/1.1 200 ')) return `unexpected status line: ${head.split('\r\n')[0]}`;
  if (/\r\nconnection:[^\r]*close/i.test(head)) return 'server sent Connection: close';
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return text.length >= headEnd + 4 + Number(length[1]) ? 'complete' : 'incomplete';
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    return text.endsWith('\r\n0\r\n\r\n') ? 'complete' : 'incomplete';
  }
  return 'response has no Content-Length or chunked framing';
}

function resetSocket(socket) {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', resolve);
    socket.resetAndDestroy();
  });
}
