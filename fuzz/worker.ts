/**
 * The fuzzing loop, in a worker thread so the supervisor (fuzz/run.ts) can stop it if an input
 * makes the parser loop. Before each input it writes the input into shared memory and bumps an
 * execution counter there; a counter that stops moving tells the supervisor which input hung.
 *
 * Per target: load the seeds, keeping those with new coverage; then, until the deadline, pick a
 * corpus entry, mutate it (fuzz/mutate.ts), check it (fuzz/targets.ts), take coverage, keep it if
 * it has a feature never seen before. Findings are saved to testdata/fuzz/<target>/. At the end
 * the corpus is minimised (smallest inputs first, each kept only if it adds a feature) and, with
 * --update-corpus, written to testdata/fuzz/corpus/<target>/.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { WireCoverage } from './coverage.js';
import { MAX_INPUT_BYTES, mutate } from './mutate.js';
import { SHARED_HEADER_BYTES, type WorkerOptions, type WorkerReport } from './protocol.js';
import { Rng } from './rng.js';
import { CORPUS_DIR, FUZZ_DATA_DIR, seedsFor } from './seeds.js';
import type { FuzzTarget } from './targets.js';

/** Corpus files written by --update-corpus, over all targets, in bytes (the repository keeps them). */
const CORPUS_BUDGET_BYTES = 150 * 1024;
/**
 * "Total work linear": the wire/ block counts of one check may not pass this many per input byte
 * (plus a constant). A check feeds the input about ten times (whole, byte by byte, at random cuts,
 * round trip; two limit sets); a linear parser stays far below, a quadratic one on a 4 KiB input
 * far above.
 */
const WORK_PER_BYTE = 1000;
const WORK_BASE = 100_000;
const SLICE_EXECS = 200;
const REPORT_EVERY_MS = 10_000;

type State = {
  readonly target: FuzzTarget;
  readonly index: number;
  corpus: Buffer[];
  readonly seen: Set<number>;
  execs: number;
  readonly crashes: Map<string, string>;
  worstWorkPerByte: number;
};

const options = workerData as WorkerOptions;
const header = new Int32Array(options.shared, 0, 3);
const sharedInput = new Uint8Array(options.shared, SHARED_HEADER_BYTES);
const coverage = new WireCoverage();
// Coverage starts before wire/ loads, so the first take reports every function in it.
coverage.start();
const { TARGETS } = await import('./targets.js');
coverage.take();

function log(line: string): void {
  parentPort!.postMessage({ kind: 'log', line } satisfies WorkerReport);
}

/** Checks one input; returns its features, or undefined when it was a finding. */
function execute(state: State, input: Buffer): number[] | undefined {
  const n = Math.min(input.length, sharedInput.length);
  sharedInput.set(input.subarray(0, n));
  Atomics.store(header, 1, state.index);
  Atomics.store(header, 2, n);
  Atomics.add(header, 0, 1);
  state.execs++;
  let failure: unknown;
  try {
    state.target.check(input);
  } catch (err) {
    failure = err;
  }
  const take = coverage.take();
  if (failure === undefined) {
    const perByte = take.work / (input.length + 1);
    if (perByte > state.worstWorkPerByte) state.worstWorkPerByte = perByte;
    if (take.work > WORK_BASE + WORK_PER_BYTE * input.length) {
      failure = new Error(`non-linear work: ${take.work} block executions for ${input.length} bytes`);
    }
  }
  if (failure !== undefined) {
    report(state, input, failure);
    return undefined;
  }
  return take.features;
}

/** Saves a finding once per kind (error name, first line of message, top wire/ frame). */
function report(state: State, input: Buffer, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  const frame = (error.stack ?? '').split('\n').find((l) => l.includes('/src/wire/')) ?? '';
  const firstLine = error.message.split('\n')[0]!.replace(/\d+/g, 'N');
  const signature = `${error.name}|${firstLine}|${frame.trim()}`;
  if (state.crashes.has(signature)) return;
  const hash = createHash('sha1').update(input).digest('hex').slice(0, 16);
  const dir = path.join(FUZZ_DATA_DIR, state.target.name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `crash-${hash}`);
  writeFileSync(file, input);
  state.crashes.set(signature, file);
  log(`CRASH ${state.target.name}: ${error.name}: ${error.message.split('\n')[0]}`);
  log(`  saved ${path.relative(process.cwd(), file)} (${input.length} bytes)`);
  if (frame !== '') log(`  at ${frame.trim()}`);
}

function addIfNew(state: State, input: Buffer, features: number[] | undefined): boolean {
  if (features === undefined) return false;
  let fresh = false;
  for (const f of features) {
    if (!state.seen.has(f)) {
      state.seen.add(f);
      fresh = true;
    }
  }
  if (fresh) state.corpus.push(input);
  return fresh;
}

/**
 * Keeps, smallest first, the corpus entries that add a feature; re-runs each to know its features.
 * With `blocksOnly` a feature is a block whatever its count: the smaller set the repository keeps.
 */
function minimise(state: State, blocksOnly: boolean): void {
  const seen = new Set<number>();
  const kept: Buffer[] = [];
  for (const input of [...state.corpus].sort((a, b) => a.length - b.length || Buffer.compare(a, b))) {
    const features = execute(state, input);
    if (features === undefined) continue;
    let fresh = false;
    for (const feature of features) {
      const f = blocksOnly ? feature >> 3 : feature;
      if (!seen.has(f)) {
        seen.add(f);
        fresh = true;
      }
    }
    if (fresh) kept.push(input);
  }
  state.corpus = kept;
}

function writeCorpus(states: readonly State[]): void {
  let budget = CORPUS_BUDGET_BYTES;
  for (const state of states) {
    const dir = path.join(CORPUS_DIR, state.target.name);
    if (existsSync(dir)) for (const name of readdirSync(dir)) rmSync(path.join(dir, name));
    mkdirSync(dir, { recursive: true });
    const share = Math.floor(budget / (states.length - states.indexOf(state)));
    let used = 0;
    for (const input of state.corpus) {
      if (used + input.length > share) break;
      used += input.length;
      writeFileSync(path.join(dir, createHash('sha1').update(input).digest('hex').slice(0, 16)), input);
    }
    budget -= used;
  }
}

function statusLine(states: readonly State[], elapsedMs: number): string {
  const execs = states.reduce((sum, s) => sum + s.execs, 0);
  const cov = coverage.summary();
  const crashes = states.reduce((sum, s) => sum + s.crashes.size, 0);
  return (
    `${(elapsedMs / 1000).toFixed(0)} s: ${execs} execs (${Math.round(execs / (elapsedMs / 1000))}/s), ` +
    `blocks ${cov.blocksCovered}/${cov.blocksKnown}, corpus ${states.map((s) => s.corpus.length).join('+')}, crashes ${crashes}`
  );
}

function run(): void {
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const rng = new Rng(options.seed);
  const states: State[] = TARGETS.filter((t) => options.targets.includes(t.name)).map((target, index) => ({
    target,
    index,
    corpus: [],
    seen: new Set(),
    execs: 0,
    crashes: new Map(),
    worstWorkPerByte: 0,
  }));
  for (const state of states) {
    const seeds = seedsFor(state.target.name).filter((s) => s.length <= MAX_INPUT_BYTES);
    for (const seed of seeds) addIfNew(state, seed, execute(state, seed));
    if (state.corpus.length === 0) state.corpus.push(Buffer.alloc(0));
    log(`${state.target.name}: ${seeds.length} seeds, ${state.corpus.length} kept`);
  }
  let nextReport = performance.now() + REPORT_EVERY_MS;
  while (performance.now() < deadline) {
    for (const state of states) {
      for (let k = 0; k < SLICE_EXECS; k++) {
        // Favour recent finds (the end of the corpus) half the time: they open new paths.
        const corpus = state.corpus;
        const base = rng.oneIn(2)
          ? corpus[corpus.length - 1 - rng.below(Math.min(16, corpus.length))]!
          : rng.pick(corpus);
        const input = mutate(base, rng.pick(corpus), rng);
        addIfNew(state, input, execute(state, input));
      }
    }
    if (performance.now() >= nextReport) {
      log(statusLine(states, performance.now() - started));
      nextReport += REPORT_EVERY_MS;
    }
  }
  const elapsed = performance.now() - started;
  const fuzzExecs = states.reduce((sum, s) => sum + s.execs, 0);
  const before = states.map((s) => s.corpus.length);
  const fuzzExecsPerTarget = states.map((s) => s.execs);
  for (const state of states) minimise(state, false);
  const after = states.map((s) => s.corpus.length);
  if (options.updateCorpus) {
    for (const state of states) minimise(state, true);
    writeCorpus(states);
  }
  const cov = coverage.summary();
  const crashes = states.reduce((sum, s) => sum + s.crashes.size, 0);
  log('');
  log(
    `fuzz: ${(elapsed / 1000).toFixed(1)} s, ${fuzzExecs} executions (${Math.round(fuzzExecs / (elapsed / 1000))}/s)`,
  );
  for (const [i, s] of states.entries()) {
    log(
      `  ${s.target.name.padEnd(9)} ${String(fuzzExecsPerTarget[i]).padStart(8)} execs, features ${s.seen.size}, ` +
        `corpus ${before[i]}, minimised ${after[i]}` +
        (options.updateCorpus
          ? `, written ${s.corpus.length} (${s.corpus.reduce((n, b) => n + b.length, 0)} bytes)`
          : '') +
        ', ' +
        `worst work ${s.worstWorkPerByte.toFixed(0)}/byte, crashes ${s.crashes.size}`,
    );
  }
  log(
    `  coverage of src/wire: ${cov.blocksCovered}/${cov.blocksKnown} blocks, ` +
      `${((100 * cov.bytesCovered) / cov.bytesTotal).toFixed(1)}% of code bytes`,
  );
  for (const f of cov.files)
    log(`    ${path.basename(f.url.replace(/\?.*$/, '')).padEnd(20)} ${f.percent.toFixed(1)}%`);
  if (options.updateCorpus) log(`  corpus written to ${path.relative(process.cwd(), CORPUS_DIR)}/`);
  for (const s of states)
    for (const file of s.crashes.values()) log(`  crash: ${path.relative(process.cwd(), file)}`);
  coverage.stop();
  parentPort!.postMessage({ kind: 'done', crashes } satisfies WorkerReport);
}

run();
