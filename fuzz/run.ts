/**
 * `npm run fuzz -- [--seconds 60] [--targets request,response,chunked] [--seed N] [--update-corpus]`
 *
 * A small coverage-guided fuzzer for src/wire/ (the head parsers and the chunked decoder). Jazzer.js
 * was the first choice, but its native addon (the only prebuild in @jazzer.js/fuzzer 4.0.0) needs
 * glibc 2.38 and the package ships no sources to rebuild it, so this uses V8's own block coverage
 * instead (fuzz/coverage.ts). This process only supervises: the loop runs in a worker
 * (fuzz/worker.ts), and if that worker's execution counter stops moving for --hang-ms, the input it
 * is stuck on is saved as a finding and the run ends.
 *
 * Exits 1 if any input crashed, hung, ran slowly or broke a property (see fuzz/targets.ts); the
 * inputs are in testdata/fuzz/<target>/, and src/wire/fuzz-regressions.property.test.ts replays them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SHARED_BYTES, SHARED_HEADER_BYTES, type WorkerOptions, type WorkerReport } from './protocol.js';
import { FUZZ_DATA_DIR } from './seeds.js';

const ALL_TARGETS = ['request', 'response', 'chunked'];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    targets: { type: 'string', default: ALL_TARGETS.join(',') },
    seed: { type: 'string' },
    'update-corpus': { type: 'boolean', default: false },
    'hang-ms': { type: 'string', default: '10000' },
  },
});

const seconds = Number(values.seconds);
const hangMs = Number(values['hang-ms']);
const targets = values.targets.split(',').filter((t) => t !== '');
const unknown = targets.filter((t) => !ALL_TARGETS.includes(t));
if (!(seconds > 0) || !(hangMs > 0) || unknown.length > 0 || targets.length === 0) {
  console.error(
    `usage: npm run fuzz -- [--seconds N] [--targets ${ALL_TARGETS.join(',')}] [--seed N] [--update-corpus]`,
  );
  process.exit(2);
}
const seed = values.seed === undefined ? (Date.now() ^ (process.pid << 16)) >>> 0 : Number(values.seed);
// The worker numbers targets in ALL_TARGETS order, whatever order they were named in.
const ordered = ALL_TARGETS.filter((t) => targets.includes(t));

const shared = new SharedArrayBuffer(SHARED_BYTES);
const header = new Int32Array(shared, 0, 3);
const options: WorkerOptions = {
  seconds,
  targets: ordered,
  seed,
  updateCorpus: values['update-corpus'],
  shared,
};
console.log(`fuzz: ${ordered.join(', ')} for ${seconds} s, seed ${seed}`);
// Node 20's worker threads do not inherit the module hooks tsx registered here: the worker starts
// from a line of JS that registers them, then imports the TypeScript loop.
const WORKER_URL = new URL('./worker.ts', import.meta.url).href;
const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL)}); })`;
const worker = new Worker(bootstrap, { eval: true, workerData: options });

let lastExecs = -1;
let lastChange = Date.now();
const watchdog = setInterval(() => {
  const execs = Atomics.load(header, 0);
  if (execs !== lastExecs) {
    lastExecs = execs;
    lastChange = Date.now();
    return;
  }
  if (Date.now() - lastChange < hangMs) return;
  clearInterval(watchdog);
  const target = ordered[Atomics.load(header, 1)] ?? 'unknown';
  const input = Buffer.from(new Uint8Array(shared, SHARED_HEADER_BYTES, Atomics.load(header, 2)));
  const dir = path.join(FUZZ_DATA_DIR, target);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `hang-${createHash('sha1').update(input).digest('hex').slice(0, 16)}`);
  writeFileSync(file, input);
  console.log(
    `HANG ${target}: no progress for ${hangMs} ms; input saved to ${path.relative(process.cwd(), file)}`,
  );
  process.exitCode = 1;
  void worker.terminate();
}, 250);

worker.on('message', (report: WorkerReport) => {
  if (report.kind === 'log') console.log(report.line);
  else if (report.crashes > 0) process.exitCode = 1;
});
worker.on('error', (err) => {
  console.error('fuzz: the worker failed:', err);
  process.exitCode = 1;
});
worker.on('exit', () => clearInterval(watchdog));
