// Servers under test. A target is `{ name, describe(options?), unavailable(), start(options) }`;
// `start` resolves with a running instance `{ name, port, memory?, stop }` or rejects with the
// server's stderr. `options` are `{ cpu, fdLimit, upstream? }`; `upstream` (`{ url, host, port }`)
// is there for a scenario with an upstream (the proxy scenario), which the harness starts first.
// Scenarios build their targets from the two factories below, so a new scenario (static files,
// TLS, proxy, cache) only needs its own server script (plus arguments) or nginx `location` body
// (plus `tls` or `http`).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ask,
  pinned,
  readFirstLine,
  removeDirLater,
  spawnChild,
  stopChild,
  withFdLimit,
} from './child-processes.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const START_TIMEOUT_MS = 10_000;
const MEMORY_TIMEOUT_MS = 10_000;
const HOST = '127.0.0.1';

/**
 * A node server script (path relative to bench/, or absolute) that prints its port as its first
 * stdout line and calls answerHarness(). Runs with --expose-gc so memory samples follow a full GC.
 * `args` (an array, or a function of the start options returning one or a promise of one, called
 * at each start) follow the script path.
 */
export function nodeScriptTarget(name, script, { args = [], pin = true } = {}) {
  const path = resolve(BENCH_DIR, script);
  return {
    name,
    describe: () => script,
    unavailable: () => undefined,
    async start(options) {
      const { cpu, fdLimit } = options;
      const extra = typeof args === 'function' ? await args(options) : args;
      // pin: false for a server that spreads over every core itself (workers).
      const command = [process.execPath, '--expose-gc', path, ...extra];
      const argv = withFdLimit(fdLimit, pin ? pinned(cpu, command) : command);
      const handle = spawnChild(argv, { ipc: true });
      try {
        const line = await readFirstLine(handle, START_TIMEOUT_MS, `${name} (${script})`);
        const port = Number(line);
        if (!Number.isInteger(port) || port <= 0) throw new Error(`${name}: expected a port, got "${line}"`);
        return {
          name,
          port,
          memory: () => ask(handle, { kind: 'memory' }, 'memory', MEMORY_TIMEOUT_MS),
          stop: () => stopChild(handle),
        };
      } catch (error) {
        await stopChild(handle);
        throw error;
      }
    },
  };
}

/**
 * nginx with one worker from bench/nginx.conf; `location` is the body of `location / { … }`, or a
 * function of the start options returning it, called at each start (for paths made at run time,
 * e.g. a `root`). `http` (optional), likewise a string or function, goes in the `http { … }` block
 * (e.g. an `upstream` block naming the scenario's upstream port).
 * `tls` (optional), a function resolving with `{ cert, key }` (PEM), makes the server HTTPS with
 * HTTP/2 beside HTTP/1.1 through ALPN: the PEM goes into the temp dir, TLSv1.2 and v1.3 only.
 * Unavailable (skipped, with a note) when no nginx binary is found, or for `tls` when it lacks
 * the ssl or http_v2 module; BENCH_NGINX names one.
 */
export function nginxTarget(name, location, { tls, http = '' } = {}) {
  const text = (value, options) => (typeof value === 'function' ? value(options) : value);
  const oneLine = (config) => config.replace(/\s+/g, ' ').trim();
  return {
    name,
    describe: (options = {}) => {
      const httpBlock = oneLine(text(http, options));
      const where = tls ? ` ${nginxVersion()?.join('.')} ${listenFlags().trim()}` : '';
      return `nginx${where}: ${httpBlock ? `${httpBlock} ` : ''}${oneLine(text(location, options))}`;
    },
    unavailable: () => {
      if (!findNginx()) return 'nginx not found (apt-get install nginx-light)';
      if (tls && !nginxHasTls())
        return 'nginx lacks http_ssl_module or http_v2_module (apt-get install nginx-full)';
      return undefined;
    },
    async start(options) {
      const { cpu } = options;
      const dir = mkdtempSync(join(tmpdir(), 'berth-bench-nginx-'));
      // Started as root, nginx's workers run as nobody: they must reach the cache and temp paths.
      chmodSync(dir, 0o755);
      const removeDir = removeDirLater(dir);
      const port = await freePort();
      const template = readFileSync(join(BENCH_DIR, 'nginx.conf'), 'utf8');
      const values = {
        dir,
        port: String(port),
        location: text(location, options),
        http: text(http, options),
        listen: '',
        server: '',
      };
      if (tls) {
        const { cert, key } = await tls();
        writeFileSync(join(dir, 'cert.pem'), cert, { mode: 0o600 });
        writeFileSync(join(dir, 'key.pem'), key, { mode: 0o600 });
        values.listen = listenFlags();
        values.server = [
          `ssl_certificate ${dir}/cert.pem;`,
          `ssl_certificate_key ${dir}/key.pem;`,
          'ssl_protocols TLSv1.2 TLSv1.3;',
          ...(http2Directive() ? ['http2 on;'] : []),
        ].join('\n    ');
      }
      // Twice: a target's own blocks may name {{dir}} too (a cache's proxy_cache_path).
      const fill = (t) => t.replace(/\{\{(\w+)\}\}/g, (_, key) => values[key]);
      const config = fill(fill(template));
      writeFileSync(join(dir, 'nginx.conf'), config);
      const argv = pinned(cpu, [
        findNginx(),
        '-p',
        dir,
        '-c',
        join(dir, 'nginx.conf'),
        '-e',
        join(dir, 'error.log'),
      ]);
      const handle = spawnChild(argv);
      const stop = async () => {
        await stopChild(handle);
        removeDir();
      };
      try {
        await waitForPort(port, handle, START_TIMEOUT_MS);
        return { name, port, memory: undefined, stop };
      } catch (error) {
        const log = readLog(join(dir, 'error.log'));
        await stop();
        throw new Error(`${name}: ${error.message}${log ? `\n--- error.log ---\n${log}` : ''}`);
      }
    },
  };
}

/**
 * nginx 1.25.1 moved HTTP/2 from `listen … http2` (now deprecated) to the `http2 on;` directive;
 * older ones (Debian 12 has 1.22) only know the listen flag.
 */
function http2Directive() {
  const [major, minor, patch] = nginxVersion() ?? [0, 0, 0];
  return major > 1 || (major === 1 && (minor > 25 || (minor === 25 && patch >= 1)));
}

function listenFlags() {
  return http2Directive() ? ' ssl' : ' ssl http2';
}

/** `nginx -V` output (version and configure arguments, on stderr), read once. */
let nginxBuild;
function nginxBuildInfo() {
  const path = findNginx();
  if (!path) return '';
  nginxBuild ??= spawnSync(path, ['-V'], { encoding: 'utf8' }).stderr ?? '';
  return nginxBuild;
}

/** [major, minor, patch], or undefined when `nginx -V` names none. */
function nginxVersion() {
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(nginxBuildInfo());
  return match ? match.slice(1).map(Number) : undefined;
}

function nginxHasTls() {
  const info = nginxBuildInfo();
  return info.includes('--with-http_ssl_module') && info.includes('--with-http_v2_module');
}

let nginxPath;
function findNginx() {
  if (nginxPath === undefined) {
    const candidates = [process.env.BENCH_NGINX, 'nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx'];
    nginxPath = candidates.find((c) => c && spawnSync(c, ['-v'], { stdio: 'ignore' }).status === 0) ?? null;
  }
  return nginxPath;
}

/** A port the kernel just handed out and released; nginx takes no port 0 and reports nothing. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, handle, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  handle.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`exited before listening\n${handle.stderrTail()}`);
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not listening on ${port} after ${timeoutMs} ms`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: HOST });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function readLog(path) {
  try {
    return readFileSync(path, 'utf8').trim().slice(-2000);
  } catch {
    return '';
  }
}
