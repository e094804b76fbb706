// The long run (issue #8 §4): `npm run soak [-- --seconds 600 --requests 1000000 --clients 32]`.
//
// Starts `berth --config` (from dist/) with a static site, an upload route behind Basic auth, a
// reverse proxy and a cached proxy route in front of an origin this script runs, then drives a
// mix until the time or request budget runs out: keep-alive GETs, pipelined GETs, ranges,
// conditional requests, uploads, proxied and cached requests, and clients that abort mid-response.
// It samples the server's RSS and open file descriptors from /proc once a second and checks, at
// the end: RSS grew less than 10% after warm-up (the first fifth of the run), and the descriptor
// count came back to where it started once the clients left. Exit status 0 when both hold.
// Loopback only; stops by itself.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    requests: { type: 'string', default: '1000000' },
    clients: { type: 'string', default: '32' },
  },
});
const SECONDS = Number(values.seconds);
const MAX_REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

const dir = mkdtempSync(join(tmpdir(), 'berth-soak-'));
const site = join(dir, 'site');
mkdirSync(join(site, 'uploads'), { recursive: true });
const files = {
  'small.txt': Buffer.alloc(512, 'a'),
  'mid.bin': Buffer.alloc(64 * 1024, 'b'),
  'big.bin': Buffer.alloc(2 * 1024 * 1024, 'c'),
};
for (const [name, bytes] of Object.entries(files)) writeFileSync(join(site, name), bytes);

// The origin: a few cacheable and uncacheable answers.
const origin = http.createServer((req, res) => {
  const cacheable = req.url.startsWith('/cached/');
  res.setHeader('cache-control', cacheable ? 'max-age=2' : 'no-store');
  res.setHeader('etag', `"${createHash('sha1').update(req.url).digest('hex').slice(0, 8)}"`);
  res.end(`origin ${req.url}\n`.repeat(20));
});
await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
const originUrl = `http://127.0.0.1:${origin.address().port}`;

const config = join(dir, 'berth.yaml');
writeFileSync(
  config,
  `listeners: [{ port: 0 }]
log: off
sites:
  - routes:
      - match: /api/
        proxy: ${originUrl}
      - match: /cached/
        cache: { size: 32 }
        proxy: ${originUrl}
      - match: /uploads/
        middleware: [{ basicAuth: { users: ["soak:soak"], methods: [PUT, DELETE] } }]
        static: { root: ${site}, upload: true }
      - static: ${site}
`,
);

const server = spawn(process.execPath, [MAIN, '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
let line = '';
for await (const chunk of server.stdout) {
  line += chunk;
  if (line.includes('\n')) break;
}
const port = Number(/:(\d+) \(/.exec(line)?.[1]);
if (!port) throw new Error(`no port in "${line}"`);
const pid = server.pid;
const base = `http://127.0.0.1:${port}`;

const rss = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
const fds = () => readdirSync(`/proc/${pid}/fd`).length;
await sleep(500);
const startFds = fds();

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
const auth = `Basic ${Buffer.from('soak:soak').toString('base64')}`;
let done = 0;
let errors = 0;
const errorKinds = new Map();
const deadline = Date.now() + SECONDS * 1000;

/** One request with node:http on the keep-alive agent; resolves with status and body length. */
function request(path, { method = 'GET', headers = {}, body, abortAfterBytes } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers, agent }, (res) => {
      let length = 0;
      res.on('data', (chunk) => {
        length += chunk.length;
        if (abortAfterBytes !== undefined && length >= abortAfterBytes) req.destroy();
      });
      res.on('end', () => resolve({ status: res.statusCode, length }));
      res.on('close', () => resolve({ status: res.statusCode, length, aborted: true }));
    });
    req.on('error', (err) =>
      abortAfterBytes !== undefined ? resolve({ status: 0, aborted: true }) : reject(err),
    );
    req.end(body);
  });
}

/** Eight GETs pipelined on one fresh connection; resolves when all eight responses arrived. */
function pipelined() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const one = 'GET /small.txt HTTP/1.1\r\nHost: soak\r\n\r\n';
    socket.write(one.repeat(7) + one.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      text += d;
    });
    socket.on('end', () => {
      const count = text.split('HTTP/1.1 200 OK').length - 1;
      count === 8 ? resolve() : reject(new Error(`pipelined: ${count} of 8 responses`));
    });
    socket.on('error', reject);
  });
}

const mix = [
  () => request('/small.txt'),
  () => request('/mid.bin'),
  () => request('/mid.bin', { headers: { range: 'bytes=100-2000' } }),
  () => request('/small.txt', { headers: { 'if-none-match': '"nope"' } }),
  () => request('/api/item'),
  () => request(`/cached/page-${Math.floor(Math.random() * 50)}`),
  () =>
    request(`/uploads/u${Math.floor(Math.random() * 20)}.txt`, {
      method: 'PUT',
      headers: { authorization: auth },
      body: Buffer.alloc(4096, 'u'),
    }),
  () => request('/big.bin', { abortAfterBytes: 100_000 }),
  () => pipelined(),
];
const expected = (i, r) =>
  i === 2 ? r.status === 206 : i === 6 ? r.status === 201 || r.status === 204 : r.aborted || r.status === 200;

const samples = [];
const sampler = setInterval(() => samples.push({ t: Date.now(), rss: rss(), fds: fds(), done }), 1000);

async function client() {
  while (Date.now() < deadline && done < MAX_REQUESTS) {
    const i = Math.floor(Math.random() * mix.length);
    try {
      const result = await mix[i]();
      if (result !== undefined && !expected(i, result)) throw new Error(`mix ${i}: status ${result.status}`);
    } catch (err) {
      errors++;
      const kind = err.message.slice(0, 60);
      errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
    }
    done += i === mix.length - 1 ? 8 : 1;
  }
}
const started = Date.now();
await Promise.all(Array.from({ length: CLIENTS }, client));
const elapsed = (Date.now() - started) / 1000;
agent.destroy();
clearInterval(sampler);
// Past the upstream pool's idle timeout (4 s) and the server's keep-alive timeout (5 s).
await sleep(7000);
const endFds = fds();

const warm = samples.filter((s) => s.t - started >= elapsed * 200);
const warmRss = warm.length > 0 ? warm[0].rss : (samples[0]?.rss ?? rss());
const peakAfterWarm = Math.max(...warm.map((s) => s.rss), warmRss);
const finalRss = rss();
const growth = (finalRss - warmRss) / warmRss;
server.kill('SIGTERM');
origin.close();
await new Promise((resolve) => server.once('exit', resolve));
rmSync(dir, { recursive: true, force: true });

const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
console.log(
  `soak: ${done.toLocaleString('en-US')} requests in ${elapsed.toFixed(0)} s (${Math.round(done / elapsed).toLocaleString('en-US')}/s), ${errors} errors`,
);
for (const [kind, n] of errorKinds) console.log(`  ${n} × ${kind}`);
console.log(
  `RSS after warm-up ${mib(warmRss)}, peak ${mib(peakAfterWarm)}, at the end ${mib(finalRss)}: ${(growth * 100).toFixed(1)}% growth (limit 10%)`,
);
console.log(`open descriptors: ${startFds} at the start, ${endFds} after the clients left`);
const ok = growth < 0.1 && endFds <= startFds && errors === 0;
console.log(ok ? 'soak: OK' : 'soak: FAILED');
process.exit(ok ? 0 : 1);
