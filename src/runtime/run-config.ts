/**
 * `berth --config FILE`: runs what the file describes, in this process or as a primary with
 * workers, and wires the signals: SIGHUP reloads (a bad file is logged and the running config
 * stays), SIGTERM/SIGINT stop gracefully, SIGUSR1 reopens the access log. `berth reload` finds
 * the process through the pid file and sends it SIGHUP.
 */
import cluster from 'node:cluster';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { buildApp } from '../config/build.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/model.js';
import type { ServerAddress } from '../conn/server.js';
import { Runtime } from './runtime.js';
import { listenToPrimary, runPrimary, tellPrimary } from './workers.js';

export type RunIo = {
  /** One line to stderr, prefixed `berth: `. */
  readonly log: (line: string) => void;
  /** The startup lines to stdout. */
  readonly announce: (lines: readonly string[]) => void;
  readonly exit: (code: number) => void;
};

/** How many workers `workers:` asks for: 'auto' is one per core. */
export function workerCount(config: Config): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/**
 * Runs the config in `file`. Resolves once serving (listeners open); rejects with a one-line
 * message when the file is invalid or a listener cannot open.
 */
export async function runConfigFile(file: string, io: RunIo): Promise<void> {
  const config = await loadConfig(file);
  const workers = workerCount(config);
  if (cluster.isWorker) return runWorker(file, config, io);
  if (workers > 1) {
    if (config.listeners.some((l) => l.bind.kind === 'systemd')) {
      throw new Error('socket activation (systemd listeners) needs workers: 1');
    }
    await runPrimary({
      workers,
      validate: async () => {
        await loadConfig(file);
      },
      stopTimeoutMs: config.stopTimeoutMs,
      log: io.log,
      started: (lines) => io.announce([...lines, `berth: ${workers} workers`]),
      stopped: () => {
        removePidFile(config).finally(() => io.exit(0));
      },
    });
    await writePidFile(config);
    return;
  }
  const runtime = await serveInProcess(config, io, {
    ready: () => writePidFile(config),
    stopped: (stopped) => removePidFile(stopped.current ?? config),
  });
  if (runtime === undefined) return;
  io.announce(startupLines(runtime));
  let reloading = false;
  process.on('SIGHUP', () => {
    if (reloading) return;
    reloading = true;
    reloadFrom(file, runtime)
      .then(() => io.log('reloaded'))
      .catch((err: unknown) => io.log(`reload refused, the running config stays: ${(err as Error).message}`))
      .finally(() => {
        reloading = false;
      });
  });
}

/**
 * Runs `config` in this process with the signals wired from the first moment: SIGTERM and SIGINT
 * stop gracefully (a second one exits at once), SIGUSR1 reopens the log, and a stop that arrives
 * while the listeners open is acted on as soon as they are up, never the default kill. Drops
 * privileges once bound, then calls `ready`; `stopped` runs after a graceful stop, before exit(0).
 * Resolves with the running Runtime, or undefined when a stop came during start; rejects (with
 * every listener closed) when one cannot open or privileges cannot be dropped.
 */
export async function serveInProcess(
  config: Config,
  io: Pick<RunIo, 'log' | 'exit'>,
  hooks: { ready?: () => Promise<void>; stopped?: (runtime: Runtime) => Promise<void> } = {},
): Promise<Runtime | undefined> {
  const runtime = new Runtime(buildApp, io.log);
  let ready = false;
  let stopping = false;
  const stop = (): void => {
    if (stopping) io.exit(1); // a second Ctrl-C: the user does not want to wait
    stopping = true;
    if (!ready) return;
    runtime
      .stop()
      .then(() => hooks.stopped?.(runtime))
      .finally(() => io.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR1', () => runtime.reopenLogs());
  try {
    await runtime.start(config);
    await dropPrivileges(config.user);
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  await hooks.ready?.();
  ready = true;
  if (stopping) {
    stopping = false;
    stop();
    return undefined;
  }
  return runtime;
}

async function runWorker(file: string, config: Config, io: RunIo): Promise<void> {
  const runtime = new Runtime(buildApp, io.log);
  try {
    await runtime.start(config);
    await dropPrivileges(config.user);
  } catch (err) {
    tellPrimary({ type: 'failed', error: (err as Error).message });
    io.exit(1);
    return;
  }
  let stopped: Promise<void> | undefined;
  listenToPrimary({
    reload: () => reloadFrom(file, runtime),
    stop: () => {
      stopped ??= runtime.stop();
      return stopped;
    },
    reopenLog: () => runtime.reopenLogs(),
  });
  tellPrimary({ type: 'ready', lines: startupLines(runtime) });
}

async function reloadFrom(file: string, runtime: Runtime): Promise<void> {
  await runtime.reload(await loadConfig(file));
}

/** `berth: serving on http://127.0.0.1:8080 (main), https://[::]:8443 (tls)`. */
function startupLines(runtime: Runtime): string[] {
  const urls = runtime
    .addresses()
    .map(({ id, address, secure }) => `${displayAddress(address, secure)} (${id})`);
  return [`berth: serving on ${urls.join(', ')}`];
}

/** `http://127.0.0.1:8080`, `https://[::1]:8443`, or `unix:/path`. */
export function displayAddress(address: ServerAddress, secure: boolean): string {
  if ('path' in address) return `unix:${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${secure ? 'https' : 'http'}://${host}:${address.port}`;
}

/**
 * `user:`: once the listeners are bound (ports below 1024 need root), become that user and its
 * primary group, so nothing after binding runs as root. A no-op when not root.
 */
async function dropPrivileges(user: string | undefined): Promise<void> {
  if (user === undefined || process.getuid?.() !== 0) return;
  // The user's primary group from /etc/passwd (Debian's nobody is in nogroup, not "nobody").
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const entry = passwd.split('\n').find((line) => line.startsWith(`${user}:`));
  if (entry === undefined) throw new Error(`cannot become user ${user}: no such user in /etc/passwd`);
  const gid = Number(entry.split(':')[3]);
  try {
    // Supplementary groups first, while still root: root's own must not be kept.
    (process as NodeJS.Process & { initgroups?: (user: string, group: number) => void }).initgroups?.(
      user,
      gid,
    );
    process.setgid?.(gid);
    process.setuid?.(user);
  } catch (err) {
    throw new Error(`cannot become user ${user}: ${(err as Error).message}`);
  }
}

async function writePidFile(config: Config): Promise<void> {
  if (config.pidFile !== undefined) await writeFile(config.pidFile, `${process.pid}\n`);
}

async function removePidFile(config: Config): Promise<void> {
  if (config.pidFile !== undefined) await rm(config.pidFile, { force: true });
}

/**
 * `berth reload`: reads the pid (from `pidFile`, or the pidFile the config names) and sends it
 * SIGHUP. Throws with a one-line message when there is no pid file or no such process.
 */
export async function signalReload(options: {
  pidFile?: string | undefined;
  config?: string | undefined;
}): Promise<number> {
  let pidFile = options.pidFile;
  if (pidFile === undefined && options.config !== undefined) {
    pidFile = (await loadConfig(options.config)).pidFile;
    if (pidFile === undefined)
      throw new Error(`${options.config} sets no pidFile: add one, or give --pid-file`);
  }
  if (pidFile === undefined) throw new Error('berth reload needs --config FILE or --pid-file FILE');
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch {
    throw new Error(`no pid file at ${pidFile}: is berth running with this config?`);
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`${pidFile} does not hold a process id`);
  try {
    process.kill(pid, 'SIGHUP');
  } catch {
    throw new Error(`no process ${pid} (from ${pidFile}): berth is not running, or the file is stale`);
  }
  return pid;
}
