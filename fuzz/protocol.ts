/**
 * What the supervisor (fuzz/run.ts) and the fuzzing worker (fuzz/worker.ts) share: the worker's
 * options, its reports, and the layout of the shared memory the watchdog reads.
 */
import { MAX_INPUT_BYTES } from './mutate.js';

/** What the supervisor passes in. */
export type WorkerOptions = {
  readonly seconds: number;
  readonly targets: readonly string[];
  readonly seed: number;
  readonly updateCorpus: boolean;
  /** Int32 [0] executions so far, [1] target index, [2] input length; then the input bytes. */
  readonly shared: SharedArrayBuffer;
};

/** Messages to the supervisor. */
export type WorkerReport =
  | { readonly kind: 'log'; readonly line: string }
  | { readonly kind: 'done'; readonly crashes: number };

export const SHARED_HEADER_BYTES = 12;
export const SHARED_BYTES = SHARED_HEADER_BYTES + MAX_INPUT_BYTES;
