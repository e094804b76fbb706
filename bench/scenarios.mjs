// The bench scenarios, run in this order. To add one (static files, TLS, proxy, cache …), append
// an entry: `kind` picks the runner in run.mjs ('wrk' load or 'idle' memory), `group` is what
// `--only` matches besides `name`, `targets` come from the factories in targets.mjs, and
// `baseline` names the target the ratio column divides by. Optional: `note` (printed under the
// table), `latencyValid: false` (hide wrk's percentiles), `budgets` (idle: most bytes/connection),
// `bodyBytes` (wrk: adds a MiB/s column, body bytes × req/s), `goals` (wrk: least ratio per target).
// `expect` is what the one checked response must be: `status`, and `body` (a string, or a function
// returning a Buffer) and/or `length` (the Content-Length header and the bytes received).
// Load over TLS: `tls: { ca }` (a function resolving with the CA the check trusts) makes the URLs
// https; `client: 'h2load'` (with `clients`, `streams`) loads over h2 instead of wrk, and the check
// then speaks h2 too.
// A proxy scenario names its `upstream`: candidate targets, the first available one used. The
// harness starts it first (pinned to the client core with wrk), checks it against `expect`, and
// passes its address to every target's start as `upstream` (see targets.mjs).
import { resolve } from 'node:path';
import { STATIC_FILES, staticFileBytes, staticRoot } from './static-files.mjs';
import { nginxTarget, nodeScriptTarget } from './targets.mjs';
import { benchCertificate } from './tls-cert.mjs';

const HELLO_BODY = 'Hello, World!';

/** BENCH_BERTH_SCRIPT (relative to the cwd) swaps in another server, e.g. to test the harness. */
const berthHello = nodeScriptTarget(
  'berth',
  process.env.BENCH_BERTH_SCRIPT ? resolve(process.env.BENCH_BERTH_SCRIPT) : 'servers/berth-hello.mjs',
);
const nodeHello = nodeScriptTarget('node:http', 'servers/node-hello.mjs');
const nginxHello = nginxTarget('nginx', `return 200 "${HELLO_BODY}";`);
/** No HTTP at all: one canned response per read. The ceiling a Node server on net.Socket can reach. */
const rawHello = nodeScriptTarget('raw net.Socket', 'servers/raw-hello.mjs');

/** Static servers get the temp folder (made on first start) as their first argument. */
const rootArg = { args: () => [staticRoot()] };
/** BENCH_BERTH_STATIC_SCRIPT: as BENCH_BERTH_SCRIPT, for the static scenarios. */
const berthStatic = nodeScriptTarget(
  'berth',
  process.env.BENCH_BERTH_STATIC_SCRIPT
    ? resolve(process.env.BENCH_BERTH_STATIC_SCRIPT)
    : 'servers/berth-static.mjs',
  rootArg,
);
const nginxStaticLocation = () => `root ${staticRoot()};
      default_type application/octet-stream;
      sendfile on;
      tcp_nopush on;
      open_file_cache max=100;`;
const nginxStatic = nginxTarget('nginx', nginxStaticLocation);
const sirvStatic = nodeScriptTarget('sirv', 'servers/sirv-static.mjs', rootArg);
const httpServerStatic = nodeScriptTarget('http-server', 'servers/http-server-static.mjs', rootArg);

/** One static scenario: GET /<file> over keep-alive; `goal` is the least Berth/nginx ratio. */
function staticScenario({ name, file, connections, goal, note }) {
  const size = STATIC_FILES[file];
  return {
    name,
    group: 'static',
    kind: 'wrk',
    description: `GET /${file} (${size.toLocaleString('en-US')} random bytes), keep-alive, ${connections} connections`,
    targets: [berthStatic, nginxStatic, sirvStatic, httpServerStatic],
    baseline: 'nginx',
    note,
    path: `/${file}`,
    expect: { status: 200, length: size, body: () => staticFileBytes(file) },
    bodyBytes: size,
    goals: { berth: goal },
    threads: 1,
    connections,
  };
}

/** Static files over HTTPS (h2 and http/1.1 by ALPN on one port), with one certificate for both. */
const berthTls = nodeScriptTarget('berth', 'servers/berth-tls.mjs', {
  args: async () => [staticRoot(), (await benchCertificate()).dataDir],
});
const nginxTls = nginxTarget('nginx', nginxStaticLocation, { tls: benchCertificate });
/** node:http2 alone answering every stream with the file from memory: the floor under Berth's h2. */
const nodeHttp2Tls = nodeScriptTarget('node:http2', 'servers/node-http2-tls.mjs', {
  args: async () => [staticRoot(), (await benchCertificate()).dataDir],
});

/** GET /1k.bin over TLS from Berth and nginx; `goals.berth` is the least Berth/nginx req/s ratio. */
function tlsScenario({ name, description, ...load }) {
  const file = '1k.bin';
  const size = STATIC_FILES[file];
  return {
    name,
    group: 'tls',
    kind: 'wrk',
    description: `GET /${file} (${size.toLocaleString('en-US')} random bytes) over TLS, ${description}`,
    targets: [berthTls, nginxTls],
    baseline: 'nginx',
    path: `/${file}`,
    tls: { ca: async () => (await benchCertificate()).caCert },
    expect: { status: 200, length: size, body: () => staticFileBytes(file) },
    goals: { berth: 0.5 },
    ...load,
  };
}

/**
 * The proxy scenario's upstream: nginx `return 200` (one worker) when there is an nginx, as it
 * answers more requests per core than the Berth hello server and shares its core with wrk; else
 * the Berth hello server.
 */
const proxyUpstream = [nginxTarget('nginx hello', `return 200 "${HELLO_BODY}";`), berthHello];
const berthProxy = nodeScriptTarget('berth', 'servers/berth-proxy.mjs', {
  args: ({ upstream }) => [upstream.url],
});
/**
 * nginx as a reverse proxy with upstream keep-alive (HTTP/1.1, Connection cleared, up to 64 idle
 * connections kept: as many as wrk keeps busy, like Berth's pool, so neither reconnects under
 * load; with 32, nginx made thousands of new upstream connections a second here). The upstream's
 * keepalive_requests (default 1000) is raised too, so it does not reconnect every 1000 requests.
 */
const nginxProxy = nginxTarget(
  'nginx',
  `proxy_pass http://upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";`,
  {
    http: ({ upstream } = {}) => `upstream upstream {
    server ${upstream?.host ?? '127.0.0.1'}:${upstream?.port ?? 'PORT'};
    keepalive 64;
    keepalive_requests 10000000;
  }`,
  },
);

/**
 * The cache scenarios' upstream: nginx serving the static files with `expires 1h`
 * (Cache-Control: max-age=3600), so every request after the first is a hit.
 */
const cacheUpstream = [
  nginxTarget(
    'nginx static, expires 1h',
    () => `root ${staticRoot()};
      default_type application/octet-stream;
      expires 1h;`,
  ),
];
const berthCache = nodeScriptTarget('berth', 'servers/berth-cache-proxy.mjs', {
  args: ({ upstream }) => [upstream.url],
});
/** nginx proxy_cache (one worker, cache files under the run's temp dir, kept in the page cache). */
const nginxCache = nginxTarget(
  'nginx',
  `proxy_pass http://upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;`,
  {
    http: ({
      upstream,
    } = {}) => `proxy_cache_path {{dir}}/cache levels=1:2 keys_zone=bench:10m max_size=256m inactive=1h use_temp_path=off;
  upstream upstream {
    server ${upstream?.host ?? '127.0.0.1'}:${upstream?.port ?? 'PORT'};
    keepalive 64;
  }`,
  },
);

/** Cache hits for one of the static files through Berth's cache and nginx proxy_cache. */
function cacheScenario({ name, file }) {
  const size = STATIC_FILES[file];
  return {
    name,
    group: 'cache',
    kind: 'wrk',
    description: `cache hits for GET /${file} (${size.toLocaleString('en-US')} bytes, max-age=3600 upstream), keep-alive, 64 connections`,
    upstream: cacheUpstream,
    targets: [berthCache, nginxCache],
    baseline: 'nginx',
    path: `/${file}`,
    expect: { status: 200, length: size, body: () => staticFileBytes(file) },
    bodyBytes: size,
    goals: { berth: 0.6 },
    threads: 1,
    connections: 64,
  };
}

export const scenarios = [
  {
    name: 'hello',
    group: 'hello',
    kind: 'wrk',
    description: 'keep-alive, 64 connections',
    targets: [berthHello, nodeHello, nginxHello, rawHello],
    note: 'raw net.Socket: no parsing, one canned response per read — the floor of any server on node:net',
    baseline: 'node:http',
    path: '/',
    expect: { status: 200, body: HELLO_BODY },
    threads: 1,
    connections: 64,
  },
  {
    name: 'hello-pipelined',
    group: 'hello',
    kind: 'wrk',
    description: 'keep-alive, 64 connections, 16 requests pipelined per write',
    // wrk 4.1 "corrects" latency for coordinated omission assuming one response per latency sample;
    // pipelining breaks that (wg/wrk#236: percentiles skewed or 0), so the table hides them.
    latencyValid: false,
    note: 'p50/p99 not shown: wrk 4.1 mis-corrects pipelined latency (wg/wrk#236); raw values in latest.json',
    targets: [berthHello, nodeHello, nginxHello],
    baseline: 'node:http',
    path: '/',
    expect: { status: 200, body: HELLO_BODY },
    threads: 1,
    connections: 64,
    script: 'pipeline.lua',
    scriptArgs: [16],
  },
  {
    name: 'idle',
    group: 'idle',
    kind: 'idle',
    description: '10,000 idle keep-alive connections, one request each',
    targets: [berthHello, nodeHello],
    baseline: 'node:http',
    connections: 10_000,
    /** Most RSS bytes per idle connection each target may use (the goal for Berth). */
    budgets: { berth: 5000 },
  },
  staticScenario({ name: 'static-1k', file: '1k.bin', connections: 64, goal: 0.6 }),
  staticScenario({ name: 'static-100k', file: '100k.bin', connections: 64, goal: 0.5 }),
  staticScenario({
    name: 'static-10m',
    file: '10m.bin',
    connections: 8,
    goal: 0.5,
    note: 'MiB/s counts body bytes only (req/s × 10 MiB); 8 connections, so at most 80 MiB in flight',
  }),
  tlsScenario({
    name: 'tls-h2',
    description: 'HTTP/2 (ALPN h2): h2load, 16 connections × 10 streams',
    note: "p50/p99 from h2load's per-request log (time to the end of each stream's response); node:http2: the file from memory through node:http2's core API and nothing else, the most any server on node:http2 can do",
    targets: [berthTls, nginxTls, nodeHttp2Tls],
    client: 'h2load',
    clients: 16,
    streams: 10,
  }),
  tlsScenario({
    name: 'tls-h1',
    description: 'HTTP/1.1 (no ALPN): wrk, keep-alive, 64 connections',
    threads: 1,
    connections: 64,
  }),
  {
    name: 'proxy',
    group: 'proxy',
    kind: 'wrk',
    description: 'reverse proxy to a hello upstream (upstream keep-alive), keep-alive, 64 connections',
    note: 'nginx keeps up to 64 idle upstream connections, as many as the 64 busy ones, as Berth does',
    upstream: proxyUpstream,
    targets: [berthProxy, nginxProxy],
    baseline: 'nginx',
    path: '/',
    expect: { status: 200, body: HELLO_BODY },
    goals: { berth: 0.5 },
    threads: 1,
    connections: 64,
  },
  {
    name: 'workers',
    group: 'workers',
    kind: 'wrk',
    description:
      'hello from a berth.yaml respond route, 1 vs 2 worker processes (unpinned), keep-alive, 64 connections',
    note: 'workers share the 2 cores with wrk here; on a machine with more cores than load generators, throughput grows with workers',
    targets: [
      nodeScriptTarget('berth, 1 worker', 'servers/berth-workers.mjs', { args: ['1'], pin: false }),
      nodeScriptTarget('berth, 2 workers', 'servers/berth-workers.mjs', { args: ['2'], pin: false }),
    ],
    baseline: 'berth, 1 worker',
    path: '/',
    expect: { status: 200, body: HELLO_BODY },
    threads: 1,
    connections: 64,
  },
  cacheScenario({ name: 'cache-1k', file: '1k.bin' }),
  cacheScenario({ name: 'cache-100k', file: '100k.bin' }),
];
