// Runs h2load (nghttp2-client) once for a duration and reads its report, as wrk.mjs does for wrk.
// h2load prints no percentiles, so each run also writes its per-request log (--log-file) to a temp
// file, read for p50/p99 and removed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinned, removeDirLater, spawnChild, stopChild } from './child-processes.mjs';

/** Extra time past `-D` before an h2load run counts as hung and is killed. */
const H2LOAD_GRACE_S = 15;
/** h2load's own per-request inactivity timeout; slower responses count as timeouts. */
const H2LOAD_TIMEOUT_S = 5;

/** Undefined when h2load runs, else why not. */
export function h2loadUnavailable() {
  const { status, error } = spawnSync('h2load', ['--version'], { stdio: 'ignore' });
  return error || status !== 0 ? 'h2load not found (apt-get install nghttp2-client)' : undefined;
}

/**
 * Runs `h2load -c<clients> -m<streams> -D<seconds> [--h1] url` pinned to `cpu` and resolves with
 * parseH2loadOutput()'s result plus p50Ms/p99Ms from the request log. `h1: true` speaks HTTP/1.1
 * (one request in flight per connection) instead of h2. Rejects when h2load fails or no request
 * succeeded (e.g. every connection refused).
 */
export async function runH2load({ url, clients, streams, seconds, h1 = false, cpu }) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-h2load-'));
  const removeDir = removeDirLater(dir);
  const log = join(dir, 'requests.tsv');
  const argv = [
    'h2load',
    `--clients=${clients}`,
    `--max-concurrent-streams=${streams}`,
    `--duration=${Math.max(1, Math.round(seconds * 1000))}ms`,
    `--connection-inactivity-timeout=${H2LOAD_TIMEOUT_S}`,
    `--log-file=${log}`,
    ...(h1 ? ['--h1'] : []),
    url,
  ];
  try {
    const handle = spawnChild(pinned(cpu, argv));
    let stdout = '';
    handle.child.stdout.setEncoding('utf8');
    handle.child.stdout.on('data', (text) => {
      stdout += text;
    });
    const timer = setTimeout(() => stopChild(handle), (seconds + H2LOAD_GRACE_S) * 1000);
    const { code, signal, error } = await handle.exited;
    clearTimeout(timer);
    if (error || code !== 0) {
      const how = error ? error.message : `exited (code ${code}, signal ${signal})`;
      throw new Error(`h2load ${how}\n${tail(stdout)}${handle.stderrTail()}`);
    }
    const result = parseH2loadOutput(stdout);
    if (result.succeeded === 0) throw new Error(`h2load: no request succeeded\n${tail(stdout)}`);
    return { ...result, ...logPercentiles(log) };
  } finally {
    removeDir();
  }
}

/**
 * Reads h2load's text report: `{ requestsPerSec, requests, succeeded, errors, tls }`, where
 * `errors` counts failed (non-2xx/3xx included), errored and timed-out requests, and `tls` is what
 * the last client negotiated (`{ protocol, cipher, alpn }`, or undefined for cleartext). Throws when
 * there is no "finished in" line (not an h2load report).
 */
export function parseH2loadOutput(text) {
  const finished = /^finished in [\d.]+m?s, ([\d.]+) req\/s/m.exec(text);
  if (!finished) throw new Error(`no "finished in" line in h2load output:\n${tail(text)}`);
  const counts =
    /^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(
      text,
    );
  const line = (label) => new RegExp(`^${label}: (.+)$`, 'm').exec(text)?.[1].trim();
  const protocol = line('TLS Protocol');
  return {
    requestsPerSec: Number(finished[1]),
    requests: counts ? Number(counts[2]) : null,
    succeeded: counts ? Number(counts[3]) : null,
    errors: {
      failed: counts ? Number(counts[4]) : 0,
      errored: counts ? Number(counts[5]) : 0,
      timeout: counts ? Number(counts[6]) : 0,
    },
    tls: protocol ? { protocol, cipher: line('Cipher'), alpn: line('Application protocol') } : undefined,
  };
}

/** p50/p99 in ms from h2load's log (start µs, status, µs to the end of the response); null if none. */
function logPercentiles(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { p50Ms: null, p99Ms: null };
  }
  const micros = [];
  for (const row of text.split('\n')) {
    const tab = row.lastIndexOf('\t');
    if (tab !== -1) micros.push(Number(row.slice(tab + 1)));
  }
  micros.sort((a, b) => a - b);
  const at = (q) =>
    micros.length === 0 ? null : micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] / 1000;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

function tail(text) {
  return text.length > 2000 ? `…${text.slice(-2000)}` : text;
}
