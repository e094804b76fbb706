/**
 * `workers: N`: a primary process that runs no server itself but N workers (node:cluster), which
 * share the listeners (the primary holds each listening socket and hands connections out). The
 * primary replaces a worker that dies, and rolls reload and stop through them one at a time:
 * SIGHUP → the new config is validated here first, then each worker reloads in turn and says
 * whether it managed; SIGTERM → each worker in turn stops gracefully (closes its listeners,
 * finishes what it serves, exits) while the others still accept, so the listening socket stays
 * open until the last worker goes; SIGUSR1 → each reopens its log. A stop takes at most
 * stopTimeoutMs (+2 s, then SIGKILL) per worker; under systemd's default KillMode every worker
 * also gets SIGTERM itself and they stop together.
 */
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';

/** Messages between the primary and its workers. */
export type ToWorker =
  | { readonly type: 'reload' }
  | { readonly type: 'stop' }
  | { readonly type: 'reopen-log' };
export type FromWorker =
  | { readonly type: 'ready'; readonly lines: readonly string[] }
  | { readonly type: 'reloaded'; readonly error?: string }
  | { readonly type: 'failed'; readonly error: string };

/** A worker that dies sooner than this after starting counts as crashing: the next one waits. */
const CRASH_WINDOW_MS = 5_000;
const RESTART_DELAY_MS = 1_000;
/** How long a worker may take to reload before the primary moves on. */
const RELOAD_TIMEOUT_MS = 30_000;

export type PrimaryOptions = {
  readonly workers: number;
  /** Validates the config file again (throws with a one-line message when it is wrong). */
  readonly validate: () => Promise<void>;
  readonly stopTimeoutMs: number;
  readonly log: (line: string) => void;
  /** Called once, with the first worker's startup lines. */
  readonly started: (lines: readonly string[]) => void;
  /** Called when the primary has stopped every worker. */
  readonly stopped: () => void;
};

/**
 * Runs the primary: forks the workers with this process's own arguments and resolves once the
 * first is ready (rejects if the first worker fails to start: a bad config or a port in use).
 */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { log } = options;
  let stopping = false;
  let reloading = false;
  const startedAt = new Map<Worker, number>();

  const fork = (): Worker => {
    const worker = cluster.fork({ BERTH_WORKER: '1' });
    startedAt.set(worker, Date.now());
    worker.on('exit', (code, signal) => {
      const lived = Date.now() - (startedAt.get(worker) ?? 0);
      startedAt.delete(worker);
      if (stopping) return;
      log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
      const delay = lived < CRASH_WINDOW_MS ? RESTART_DELAY_MS : 0;
      setTimeout(() => {
        if (!stopping) fork();
      }, delay).unref();
    });
    return worker;
  };

  // The first worker alone, so a bad config or a port in use is reported once; then the rest.
  // The startup line waits until every worker serves.
  const first = fork();
  const ready = await firstMessage(first);
  if (ready?.type !== 'ready') {
    stopping = true;
    first.kill();
    throw new Error(ready?.type === 'failed' ? ready.error : 'the first worker failed to start');
  }
  const rest = Array.from({ length: options.workers - 1 }, () => fork());
  await Promise.all(rest.map((worker) => firstMessage(worker)));
  options.started(ready.lines);

  const workers = (): Worker[] => [...startedAt.keys()].filter((w) => w.isConnected());

  process.on('SIGHUP', () => {
    if (reloading) return;
    reloading = true;
    (async () => {
      try {
        await options.validate();
      } catch (err) {
        log(`reload refused, the running config stays: ${(err as Error).message}`);
        return;
      }
      for (const worker of workers()) {
        worker.send({ type: 'reload' } satisfies ToWorker);
        const answer = await Promise.race([
          firstMessage(worker),
          new Promise<undefined>((resolve) =>
            setTimeout(() => resolve(undefined), RELOAD_TIMEOUT_MS).unref(),
          ),
        ]);
        if (answer?.type === 'reloaded' && answer.error !== undefined) {
          log(`worker ${worker.process.pid} kept its config: ${answer.error}`);
        }
      }
      log('reloaded');
    })().finally(() => {
      reloading = false;
    });
  });
  process.on('SIGUSR1', () => {
    for (const worker of workers()) worker.send({ type: 'reopen-log' } satisfies ToWorker);
  });
  const stop = (): void => {
    if (stopping) process.exit(1); // a second Ctrl-C: the user does not want to wait
    stopping = true;
    const all = workers();
    (async () => {
      for (const [i, worker] of all.entries()) {
        if (worker.isDead()) continue;
        const exited = once(worker, 'exit');
        const deadline = setTimeout(() => worker.kill('SIGKILL'), options.stopTimeoutMs + 2_000);
        try {
          worker.send({ type: 'stop' } satisfies ToWorker);
        } catch {
          worker.kill('SIGKILL'); // its IPC channel is gone: it cannot be asked
        }
        await exited;
        clearTimeout(deadline);
        log(`worker ${worker.process.pid} stopped (${i + 1} of ${all.length})`);
      }
      options.stopped();
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The next message a worker sends (undefined if it exits first). */
function firstMessage(worker: Worker): Promise<FromWorker | undefined> {
  return new Promise((resolve) => {
    const onMessage = (message: FromWorker): void => {
      worker.off('exit', onExit);
      resolve(message);
    };
    const onExit = (): void => {
      worker.off('message', onMessage);
      resolve(undefined);
    };
    worker.once('message', onMessage);
    worker.once('exit', onExit);
  });
}

/** In a worker: tells the primary how things went. */
export function tellPrimary(message: FromWorker): void {
  process.send?.(message);
}

/** In a worker: handles the primary's requests with the given actions. */
export function listenToPrimary(actions: {
  reload(): Promise<void>;
  stop(): Promise<void>;
  reopenLog(): void;
}): void {
  process.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'reload':
        actions.reload().then(
          () => tellPrimary({ type: 'reloaded' }),
          (err: unknown) => tellPrimary({ type: 'reloaded', error: (err as Error).message }),
        );
        return;
      case 'stop':
        actions.stop().finally(() => process.exit(0));
        return;
      case 'reopen-log':
        actions.reopenLog();
        return;
    }
  });
  // The primary handles the signals for the group; a worker ignores a terminal's Ctrl-C. SIGTERM
  // sent to the whole group (systemd's KillMode=control-group) stops a worker gracefully itself.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => {
    actions.stop().finally(() => process.exit(0));
  });
}
