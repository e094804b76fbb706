// The server side of the harness link: when a bench server runs as a child of bench/run.mjs (with
// an IPC channel), it answers memory questions and exits when the harness goes away. Run by hand
// (no IPC channel) it does nothing, so the server scripts stay plain hello-worlds.

/**
 * Answers `{ kind: 'memory' }` with `{ kind: 'memory', rss, heapUsed, external, arrayBuffers }`
 * (bytes), after a full GC when node runs with --expose-gc; exits when the IPC channel closes.
 */
export function answerHarness() {
  if (!process.send) return;
  process.on('message', (message) => {
    if (message?.kind !== 'memory') return;
    collectGarbage();
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    process.send({ kind: 'memory', rss, heapUsed, external, arrayBuffers });
  });
  process.on('disconnect', () => process.exit(0));
}

function collectGarbage() {
  if (typeof globalThis.gc !== 'function') return;
  // Two passes: the first can leave weak/finalizable objects for the second to reclaim.
  globalThis.gc();
  globalThis.gc();
}
