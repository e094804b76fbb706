// Berth's benchmark harness (`npm run bench` builds first, then runs this).
//
//   node bench/run.mjs [--only <scenario|group>[,…]] [--list]
//   env: BENCH_SECONDS (5)  BENCH_ROUNDS (3)  BENCH_WARMUP_SECONDS (2)  BENCH_IDLE_SETTLE_MS (1000)
//        BENCH_SERVER_CPU (1)  BENCH_CLIENT_CPU (0)  BENCH_BERTH_SCRIPT  BENCH_BERTH_STATIC_SCRIPT
//        BENCH_NGINX
//
// Load scenarios start every target (each its own process pinned to the server core), check one
// response, warm each up, then run wrk (pinned to the client core) in alternating rounds
// (A B C A B C …) so drift on the machine spreads over all targets; the table shows the median
// round per target. A scenario with an `upstream` (proxy) starts that server first, pinned to the
// client core beside wrk so each proxy has the server core to itself, checks it, and hands its
// address to every target. The idle scenario measures server memory per idle keep-alive connection. The
// static scenarios serve random files from a temp folder (static-files.mjs) removed at exit. The
// TLS scenarios load over https (certificate from tls-cert.mjs), with h2load for HTTP/2.
// Markdown tables go to stdout, progress to stderr, everything to bench/results/latest.json.
// Children are stopped at the end, on error and on SIGINT (see child-processes.mjs).
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { get as getHttps } from 'node:https';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { canPin, stopChildrenOnExit } from './child-processes.mjs';
import { h2loadUnavailable, runH2load } from './h2load.mjs';
import { measureIdleMemory } from './idle-memory.mjs';
import { formatIdleTable, formatWrkTable } from './report.mjs';
import { scenarios } from './scenarios.mjs';
import { runWrk, wrkUnavailable } from './wrk.mjs';

const RESULTS_FILE = fileURLToPath(new URL('results/latest.json', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Descriptor limit asked for load-test servers (64 connections need far fewer). */
const SERVER_FD_LIMIT = 4096;
const CHECK_TIMEOUT_MS = 5000;
const MIB = 1024 * 1024;

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    list: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (flags.help) {
  process.stdout.write('usage: node bench/run.mjs [--only <scenario|group>[,…]] [--list]\n');
  process.exit(0);
}
if (flags.list) {
  for (const s of scenarios) {
    const targets = s.targets.map((t) => t.name).join(', ');
    const upstream = s.upstream ? `, upstream ${s.upstream.map((t) => t.name).join(' or ')}` : '';
    process.stdout.write(
      `${s.name} (group ${s.group}, ${s.kind}): ${s.description} [${targets}${upstream}]\n`,
    );
  }
  process.exit(0);
}

const settings = {
  seconds: positiveNumber('BENCH_SECONDS', 5),
  rounds: positiveNumber('BENCH_ROUNDS', 3),
  warmupSeconds: positiveNumber('BENCH_WARMUP_SECONDS', 2),
  idleSettleMs: positiveNumber('BENCH_IDLE_SETTLE_MS', 1000),
  cpus: { server: cpuNumber('BENCH_SERVER_CPU', 1), client: cpuNumber('BENCH_CLIENT_CPU', 0) },
};
settings.pinned = canPin(settings.cpus.server) && canPin(settings.cpus.client);

stopChildrenOnExit();
const selected = select(scenarios, flags.only);
if (selected.length === 0) {
  process.stderr.write(`no scenario matches --only ${flags.only.join(',')} (see --list)\n`);
  process.exit(2);
}
if (!settings.pinned) progress('taskset or a second core is missing: running unpinned');

const results = [];
for (const scenario of selected) results.push(await runScenario(scenario));

const wrkResults = results.filter((r) => r.kind === 'wrk' && !r.skipped);
const idleResults = results.filter((r) => r.kind === 'idle');
if (wrkResults.length > 0) process.stdout.write(`\n${formatWrkTable(wrkResults)}\n`);
if (idleResults.length > 0) process.stdout.write(`\n${formatIdleTable(idleResults)}\n`);
const notes = results.flatMap(notesFor);
if (notes.length > 0) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`);

mkdirSync(fileURLToPath(new URL('results/', import.meta.url)), { recursive: true });
const report = { date: new Date().toISOString(), machine: machine(), settings, scenarios: results };
writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
progress(`results written to ${RESULTS_FILE.replace(BENCH_DIR, 'bench/')}`);
if (results.some((r) => r.targets.some((t) => t.error))) process.exitCode = 1;

/** Dispatches on `kind`; each runner resolves with `{ name, kind, baseline, note, targets }`. */
function runScenario(scenario) {
  switch (scenario.kind) {
    case 'wrk':
      return runWrkScenario(scenario);
    case 'idle':
      return runIdleScenario(scenario);
    default:
      throw new Error(`scenario ${scenario.name}: unknown kind ${scenario.kind}`);
  }
}

async function runWrkScenario(scenario) {
  const base = {
    name: scenario.name,
    group: scenario.group,
    kind: scenario.kind,
    baseline: scenario.baseline,
    note: scenario.note,
    latencyValid: scenario.latencyValid ?? true,
    bodyBytes: scenario.bodyBytes,
    client: scenario.client ?? 'wrk',
    tls: Boolean(scenario.tls),
  };
  const missing = scenario.client === 'h2load' ? h2loadUnavailable() : wrkUnavailable();
  if (missing) {
    progress(`${scenario.name}: skipped, ${missing}`);
    return { ...base, skipped: missing, targets: [] };
  }
  progress(`${scenario.name}: ${scenario.description}`);
  let upstream;
  if (scenario.upstream) {
    try {
      upstream = await startUpstream(scenario);
    } catch (error) {
      const why = `upstream failed to start: ${error.message}`;
      progress(`  ${why}`);
      const targets = scenario.targets.map((t) => ({
        name: t.name,
        server: t.describe(),
        rounds: [],
        error: why,
      }));
      return { ...base, targets };
    }
    base.upstream = upstream.info;
  }
  const entries = [];
  for (const target of scenario.targets) entries.push(await startTarget(target, scenario, upstream?.address));
  const running = () => entries.filter((e) => e.instance && !e.error);
  const url = (entry) => targetUrl(scenario, entry.instance.port);
  const load = (entry, seconds) =>
    scenario.client === 'h2load'
      ? runH2load({
          url: url(entry),
          clients: scenario.clients,
          streams: scenario.streams,
          seconds,
          cpu: settings.cpus.client,
        })
      : runWrk({
          url: url(entry),
          threads: scenario.threads,
          connections: scenario.connections,
          seconds,
          script: scenario.script ? `${BENCH_DIR}${scenario.script}` : undefined,
          scriptArgs: scenario.scriptArgs,
          cpu: settings.cpus.client,
        });
  const attempt = async (entry, work) => {
    try {
      await work();
    } catch (error) {
      entry.error = error.message;
      progress(`  ${entry.name}: failed: ${firstLine(error.message)}`);
    }
  };
  try {
    for (const entry of running()) {
      progress(`  warm-up ${entry.name} (${settings.warmupSeconds} s)`);
      await attempt(entry, () => load(entry, settings.warmupSeconds));
    }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const entry of running()) {
        await attempt(entry, async () => {
          const result = await load(entry, settings.seconds);
          entry.rounds.push(result);
          progress(
            `  round ${round}/${settings.rounds} ${entry.name}: ${Math.round(result.requestsPerSec)} req/s`,
          );
        });
      }
    }
  } finally {
    await Promise.all(entries.map((e) => e.instance?.stop()));
    await upstream?.instance.stop();
  }
  const targets = entries.map(({ instance, ...entry }) =>
    entry.rounds.length === 0
      ? entry
      : {
          ...entry,
          median: {
            requestsPerSec: median(entry.rounds.map((r) => r.requestsPerSec)),
            p50Ms: median(entry.rounds.map((r) => r.p50Ms)),
            p99Ms: median(entry.rounds.map((r) => r.p99Ms)),
          },
        },
  );
  const baseline = targets.find((t) => t.name === scenario.baseline)?.median?.requestsPerSec;
  for (const t of targets) {
    if (!t.median) continue;
    if (scenario.bodyBytes) t.median.mibPerSec = (t.median.requestsPerSec * scenario.bodyBytes) / MIB;
    if (baseline) t.ratio = t.median.requestsPerSec / baseline;
    const goal = scenario.goals?.[t.name];
    if (goal !== undefined && t.ratio !== undefined) {
      t.goal = goal;
      t.meetsGoal = t.ratio >= goal;
    }
  }
  return { ...base, targets };
}

/**
 * Starts a scenario's upstream: the first of `scenario.upstream` (targets, in order of preference)
 * that is available, pinned to the client core (beside wrk), and checks one response as `expect`
 * says (a proxy must pass the upstream's answer on unchanged). Resolves with `{ info, instance,
 * address }`, `address` being the `{ url, host, port }` targets get as `upstream`; throws when no
 * candidate is available or the upstream fails.
 */
async function startUpstream(scenario) {
  const target = scenario.upstream.find((t) => !t.unavailable());
  if (!target) {
    throw new Error(scenario.upstream.map((t) => `${t.name}: ${t.unavailable()}`).join('; '));
  }
  const cpu = settings.cpus.client;
  const instance = await target.start({ cpu, fdLimit: SERVER_FD_LIMIT });
  const host = '127.0.0.1';
  const address = { url: `http://${host}:${instance.port}`, host, port: instance.port };
  try {
    await checkResponse(`${address.url}${scenario.path}`, scenario.expect);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  progress(
    `  upstream ${target.name} at ${address.url}${settings.pinned ? `, pinned to core ${cpu} with wrk` : ''}`,
  );
  const info = { name: target.name, server: target.describe(), cpu: settings.pinned ? cpu : null };
  return { info, instance, address };
}

/**
 * Starts a target (given `upstream`, the upstream's address, when the scenario has one) and checks
 * one response; failures are recorded on the entry, not thrown.
 */
async function startTarget(target, scenario, upstream) {
  const options = { cpu: settings.cpus.server, fdLimit: SERVER_FD_LIMIT, upstream };
  const entry = { name: target.name, server: target.describe(options), rounds: [] };
  const missing = target.unavailable();
  if (missing) {
    progress(`  ${target.name}: skipped, ${missing}`);
    return { ...entry, skipped: missing };
  }
  try {
    entry.instance = await target.start(options);
    const checked = await checkResponse(targetUrl(scenario, entry.instance.port), scenario.expect, {
      ca: await scenario.tls?.ca(),
      h2: scenario.client === 'h2load',
    });
    if (checked.tls) {
      entry.checkedTls = checked.tls;
      progress(
        `  ${target.name}: ${checked.statusCode}, ${checked.body.length} bytes, ${formatTls(checked.tls)}`,
      );
    }
  } catch (error) {
    entry.error = error.message;
    progress(`  ${target.name}: failed to start: ${error.message}`);
  }
  return entry;
}

async function runIdleScenario(scenario) {
  progress(`${scenario.name}: ${scenario.description}`);
  const targets = [];
  for (const target of scenario.targets) {
    const entry = { name: target.name, server: target.describe() };
    const missing = target.unavailable();
    if (missing) {
      targets.push({ ...entry, skipped: missing });
      continue;
    }
    try {
      entry.result = await measureIdleMemory({
        target,
        connections: scenario.connections,
        settleMs: settings.idleSettleMs,
        cpus: settings.cpus,
      });
      progress(`  ${target.name}: ${entry.result.rssBytesPerConnection} RSS bytes per idle connection`);
    } catch (error) {
      entry.error = error.message;
      progress(`  ${target.name}: failed: ${error.message}`);
    }
    const budget = scenario.budgets?.[target.name];
    if (budget !== undefined && entry.result) {
      entry.budget = budget;
      entry.withinBudget = entry.result.rssBytesPerConnection <= budget;
    }
    targets.push(entry);
  }
  const baseline = targets.find((t) => t.name === scenario.baseline)?.result?.rssBytesPerConnection;
  for (const t of targets) {
    if (t.result && baseline > 0) t.ratio = t.result.rssBytesPerConnection / baseline;
  }
  return {
    name: scenario.name,
    kind: scenario.kind,
    baseline: scenario.baseline,
    note: scenario.note,
    targets,
  };
}

function targetUrl(scenario, port) {
  return `${scenario.tls ? 'https' : 'http'}://127.0.0.1:${port}${scenario.path}`;
}

/**
 * GETs `url` once (no Accept-Encoding), over HTTP/2 when `h2` (TLS with ALPN h2), else HTTP/1.1
 * (TLS without ALPN for https, as wrk connects), trusting only `ca` for https. Resolves with
 * `{ statusCode, headers, body, tls }` (`tls`: protocol, cipher, ALPN; undefined for http) and
 * throws unless the response is as `expect` says: `status`; `body`, a string or a function
 * returning a Buffer, equal to the body; `length`, equal to both the Content-Length header and the
 * bytes received. A Content-Encoding also fails the check.
 */
async function checkResponse(url, expect, { ca, h2 = false } = {}) {
  const what = `GET ${url}${h2 ? ' (h2)' : ''}`;
  let response;
  try {
    response = await (h2 ? fetchHttp2(url, ca) : fetchHttp1(url, ca));
  } catch (error) {
    throw new Error(`${what}: ${error.message}`);
  }
  const problem = responseProblem(response, expect);
  if (problem) throw new Error(`${what}: ${problem}`);
  return response;
}

function fetchHttp1(url, ca) {
  const tls = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const options = { agent: false, timeout: CHECK_TIMEOUT_MS, ...(tls ? { ca } : {}) };
    const request = (tls ? getHttps : get)(url, options, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          statusCode: response.statusCode,
          headers: response.headers,
          body: Buffer.concat(chunks),
          tls: tls ? tlsInfo(response.socket, response.socket.alpnProtocol) : undefined,
        }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no response in ${CHECK_TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

function fetchHttp2(url, ca) {
  const { origin, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const session = connectHttp2(origin, { ca });
    const fail = (error) => {
      session.destroy();
      reject(error);
    };
    session.on('error', fail);
    session.setTimeout(CHECK_TIMEOUT_MS, () => fail(new Error(`no response in ${CHECK_TIMEOUT_MS} ms`)));
    const stream = session.request({ ':path': `${pathname}${search}` });
    let headers = {};
    const chunks = [];
    stream.on('response', (received) => {
      headers = received;
    });
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const tls = tlsInfo(session.socket, session.alpnProtocol);
      session.close();
      resolve({ statusCode: headers[':status'], headers, body: Buffer.concat(chunks), tls });
    });
    stream.on('error', fail);
    stream.end();
  });
}

/** What a TLS socket negotiated, in h2load's terms (OpenSSL names). */
function tlsInfo(socket, alpn) {
  return { protocol: socket.getProtocol(), cipher: socket.getCipher()?.name, alpn: alpn || 'none' };
}

function formatTls({ protocol, cipher, alpn }) {
  return `${protocol} ${cipher}, ALPN ${alpn}`;
}

/** Undefined when the response matches `expect`, else what is wrong. */
function responseProblem({ statusCode, headers, body }, expect) {
  if (statusCode !== expect.status) {
    return `expected status ${expect.status}, got ${statusCode} "${clip(body.toString('utf8'))}"`;
  }
  if (headers['content-encoding']) return `unexpected Content-Encoding: ${headers['content-encoding']}`;
  if (expect.length !== undefined) {
    const declared = headers['content-length'];
    if (declared !== String(expect.length)) {
      return `expected Content-Length ${expect.length}, got ${declared ?? 'none'}`;
    }
    if (body.length !== expect.length) return `expected ${expect.length} body bytes, got ${body.length}`;
  }
  if (typeof expect.body === 'string' && body.toString('utf8') !== expect.body) {
    return `expected body "${expect.body}", got "${clip(body.toString('utf8'))}"`;
  }
  if (typeof expect.body === 'function' && !body.equals(expect.body())) {
    return `body (${body.length} bytes) differs from the expected ${expect.body().length} bytes`;
  }
  return undefined;
}

function clip(text) {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Lines worth reading under the tables: scenario notes, errors, skips, suspicious counts. */
function notesFor(scenario) {
  const notes = [];
  if (scenario.note) notes.push(`${scenario.name}: ${scenario.note}`);
  if (scenario.skipped) notes.push(`${scenario.name}: skipped, ${scenario.skipped}`);
  if (scenario.upstream) {
    const { name, cpu } = scenario.upstream;
    notes.push(
      cpu === null
        ? `${scenario.name}: upstream ${name}, unpinned (taskset or a second core is missing)`
        : `${scenario.name}: upstream ${name} pinned to core ${cpu} together with wrk; each proxy alone on core ${settings.cpus.server}`,
    );
  }
  if (scenario.tls) {
    // h2load reports what its clients negotiated; wrk reports nothing, so the check's is shown.
    const seen = scenario.targets.flatMap((t) => {
      const tls = t.rounds?.find((r) => r.tls)?.tls;
      if (tls) return [`${t.name} ${formatTls(tls)} (${scenario.client})`];
      return t.checkedTls ? [`${t.name} ${formatTls(t.checkedTls)} (harness check)`] : [];
    });
    if (seen.length > 0) notes.push(`${scenario.name}: negotiated: ${seen.join('; ')}`);
  }
  for (const t of scenario.targets) {
    const where = `${scenario.name} / ${t.name}`;
    if (t.skipped) notes.push(`${where}: skipped, ${t.skipped}`);
    if (t.error) notes.push(`${where}: ${firstLine(t.error)} (full text in latest.json)`);
    for (const [i, round] of (t.rounds ?? []).entries()) {
      const errors = Object.entries(round.errors).filter(([, n]) => n > 0);
      if (errors.length > 0)
        notes.push(`${where} round ${i + 1}: ${errors.map(([k, n]) => `${n} ${k}`).join(', ')}`);
    }
    if (t.goal !== undefined) {
      const what = scenario.bodyBytes >= MIB ? 'throughput' : 'req/s';
      notes.push(
        `${where}: ${what} ${t.ratio.toFixed(2)}× ${scenario.baseline}, target ≥ ${t.goal}× — ${t.meetsGoal ? 'OK' : 'MISS'}`,
      );
    }
    const r = t.result;
    if (r?.failed > 0) notes.push(`${where}: ${r.failed} connections failed (${r.firstError})`);
    if (r && r.stillOpen < r.connections) {
      notes.push(
        `${where}: only ${r.stillOpen} of ${r.connections} still open at the sample; figure too low`,
      );
    }
  }
  return notes;
}

/** Scenarios whose name or group is listed in --only (comma-separated, repeatable); all without. */
function select(all, only) {
  if (!only) return all;
  const wanted = new Set(only.flatMap((o) => o.split(',')).map((o) => o.trim()));
  return all.filter((s) => wanted.has(s.name) || wanted.has(s.group));
}

function median(values) {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function machine() {
  const list = cpus();
  return { node: process.version, platform: process.platform, cpus: list.length, cpuModel: list[0]?.model };
}

function positiveNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

function cpuNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a core number, got "${raw}"`);
  return n;
}

function firstLine(text) {
  return text.split('\n')[0];
}

function progress(line) {
  process.stderr.write(`${line}\n`);
}
