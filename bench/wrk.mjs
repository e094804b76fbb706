// Runs wrk once and reads its report. wrk is pinned to the client core; with --latency it prints
// the percentile table the p50/p99 come from.
import { spawnSync } from 'node:child_process';
import { pinned, spawnChild, stopChild } from './child-processes.mjs';

/** Extra time past `-d` before a wrk run counts as hung and is killed. */
const WRK_GRACE_S = 15;
/** wrk's own per-request timeout; slower responses count as timeout errors. */
const WRK_REQUEST_TIMEOUT_S = 5;

/** Undefined when wrk runs, else why not. */
export function wrkUnavailable() {
  const { status, error } = spawnSync('wrk', ['-v'], { stdio: 'ignore' });
  // `wrk -v` prints its version and exits 1; only a spawn error means it is missing.
  return error || status === null ? 'wrk not found (apt-get install wrk)' : undefined;
}

/**
 * Runs `wrk -t<threads> -c<connections> -d<seconds>s --latency [-s script] url [-- args]` and
 * resolves with parseWrkOutput()'s result. Rejects when wrk fails or prints no Requests/sec.
 */
export async function runWrk({ url, threads, connections, seconds, script, scriptArgs = [], cpu }) {
  const argv = [
    'wrk',
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    '--timeout',
    `${WRK_REQUEST_TIMEOUT_S}s`,
    ...(script ? ['-s', script] : []),
    url,
    ...(scriptArgs.length > 0 ? ['--', ...scriptArgs.map(String)] : []),
  ];
  const handle = spawnChild(pinned(cpu, argv));
  let stdout = '';
  handle.child.stdout.setEncoding('utf8');
  handle.child.stdout.on('data', (text) => {
    stdout += text;
  });
  const timer = setTimeout(() => stopChild(handle), (seconds + WRK_GRACE_S) * 1000);
  const { code, signal, error } = await handle.exited;
  clearTimeout(timer);
  if (error || code !== 0) {
    const how = error ? error.message : `exited (code ${code}, signal ${signal})`;
    throw new Error(`wrk ${how}\n${stdout}${handle.stderrTail()}`);
  }
  return parseWrkOutput(stdout);
}

/**
 * Reads wrk's text report: `{ requestsPerSec, requests, p50Ms, p99Ms, errors }`, where `errors`
 * counts socket errors (connect/read/write/timeout) and non-2xx/3xx responses. A percentile wrk did
 * not print is `null`. Throws when there is no Requests/sec line (not a wrk report).
 */
export function parseWrkOutput(text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (!rps) throw new Error(`no Requests/sec in wrk output:\n${text}`);
  const requests = /^\s*(\d+) requests in /m.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requestsPerSec: Number(rps[1]),
    requests: requests ? Number(requests[1]) : null,
    p50Ms: percentileMs(text, '50'),
    p99Ms: percentileMs(text, '99'),
    errors: {
      connect: socket ? Number(socket[1]) : 0,
      read: socket ? Number(socket[2]) : 0,
      write: socket ? Number(socket[3]) : 0,
      timeout: socket ? Number(socket[4]) : 0,
      non2xx: non2xx ? Number(non2xx[1]) : 0,
    },
  };
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * One line of wrk's "Latency Distribution" block ("     99%    3.21ms"), in milliseconds. wrk
 * prints 0.00us when its percentile lookup runs off its histogram (wg/wrk#236, #354): no response
 * takes 0 µs, so that reads as unknown.
 */
function percentileMs(text, percent) {
  const match = new RegExp(`^\\s+${percent}(?:\\.0+)?%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(text);
  const ms = match ? Number(match[1]) * UNIT_MS[match[2]] : 0;
  return ms > 0 ? ms : null;
}
