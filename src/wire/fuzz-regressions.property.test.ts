/**
 * Replays the fuzzer's findings (testdata/fuzz/<target>/, each once a crash or a broken property)
 * and its committed corpus (testdata/fuzz/corpus/<target>/) through the same checks the fuzzer
 * runs (fuzz/targets.ts): only ParseError, bounded time, the same result however the input is
 * split, and re-serialised messages parsing back the same. A fixed bug stays fixed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CORPUS_DIR, FUZZ_DATA_DIR, readCorpus } from '../../fuzz/seeds.js';
import { TARGETS } from '../../fuzz/targets.js';

/** An input that once hung the parser is checked in a worker thread, stopped after this long. */
const HANG_LIMIT_MS = 10_000;
const TARGETS_URL = new URL('../../fuzz/targets.ts', import.meta.url).href;

/** Runs `target.check(file)` in a worker (with tsx's hooks, which workers do not inherit). */
function checkInWorker(target: string, file: string): Promise<string | undefined> {
  const code = `const { workerData, parentPort } = require('node:worker_threads');
import('tsx/esm/api').then((tsx) => { tsx.register(); return import(workerData.url); }).then(({ TARGETS }) => {
  try { TARGETS.find((t) => t.name === workerData.target).check(require('node:fs').readFileSync(workerData.file)); parentPort.postMessage(undefined); }
  catch (err) { parentPort.postMessage(String(err)); }
});`;
  const worker = new Worker(code, { eval: true, workerData: { url: TARGETS_URL, target, file } });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve(`still running after ${HANG_LIMIT_MS} ms`);
    }, HANG_LIMIT_MS);
    worker.once('message', (failure: string | undefined) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(failure);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      resolve(String(err));
    });
  });
}

for (const target of TARGETS) {
  const dir = path.join(FUZZ_DATA_DIR, target.name);
  const findings = existsSync(dir) ? readdirSync(dir).sort() : [];
  test(`the ${target.name} fuzz target passes its ${findings.length} saved findings`, async () => {
    for (const name of findings) {
      const file = path.join(dir, name);
      const label = `testdata/fuzz/${target.name}/${name}`;
      if (name.startsWith('hang-')) {
        assert.equal(await checkInWorker(target.name, file), undefined, label);
      } else {
        assert.doesNotThrow(() => target.check(readFileSync(file)), label);
      }
    }
  });

  test(`the ${target.name} fuzz target passes its committed corpus`, () => {
    const corpus = readCorpus(target.name);
    for (const [i, input] of corpus.entries()) {
      assert.doesNotThrow(
        () => target.check(input),
        `${path.relative(process.cwd(), CORPUS_DIR)}/${target.name} #${i}`,
      );
    }
  });
}
