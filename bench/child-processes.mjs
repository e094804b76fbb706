// Child processes of the bench harness: every server, load generator and idle client is spawned
// here, tracked, and stopped on the way out (normal end, error, SIGINT/SIGTERM), so a run never
// leaves a server listening. Node children also exit by themselves when their IPC channel to the
// harness closes (see servers/answer-harness.mjs), which covers a harness killed with SIGKILL.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const STOP_GRACE_MS = 2000;
const STDERR_TAIL_CHARS = 4000;

/** Children not yet exited. */
const live = new Set();
/** Synchronous clean-ups (temp dirs) run at process exit. */
const exitTasks = new Set();

const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * Prefixes `argv` with `taskset -c <cpu>` when taskset exists and the machine has that core;
 * otherwise returns `argv` unchanged (the run is then unpinned, and says so in its settings).
 */
export function pinned(cpu, argv) {
  if (cpu === undefined || !canPin(cpu)) return argv;
  return ['taskset', '-c', String(cpu), ...argv];
}

/** True when `pinned(cpu, …)` really pins. */
export function canPin(cpu) {
  return hasTaskset && cpu < availableParallelism();
}

/**
 * Wraps `argv` in `sh -c 'ulimit -n …; exec …'` so the child may hold `limit` descriptors. Raising
 * the hard limit needs CAP_SYS_RESOURCE (absent in many containers, even as root), so when that
 * fails the soft limit is raised to the hard limit instead. `exec` keeps the child's pid.
 */
export function withFdLimit(limit, argv) {
  const script = 'ulimit -n "$0" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  return ['/bin/sh', '-c', script, String(limit), ...argv];
}

/**
 * Spawns `argv` with stdout and stderr piped (and an IPC channel when `ipc`), and tracks it until it
 * exits. Returns a handle: `child`, `exited` (resolves once, with `{ code, signal, error }`) and
 * `stderrTail()` (the last few KB of stderr, for error messages).
 */
export function spawnChild(argv, { ipc = false } = {}) {
  const [command, ...args] = argv;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])] });
  live.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, error: undefined }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  }).finally(() => live.delete(child));
  return { child, exited, stderrTail: () => stderr.trim() };
}

/** Sends SIGTERM, then SIGKILL after a grace period; resolves when the child is gone. */
export async function stopChild(handle) {
  const { child } = handle;
  if (!live.has(child)) return;
  child.kill('SIGTERM');
  let timer;
  const killed = new Promise((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, STOP_GRACE_MS);
  });
  await Promise.race([handle.exited, killed]);
  clearTimeout(timer);
  await handle.exited;
}

/**
 * Resolves with the first line the child prints on stdout (trimmed). Rejects when the child exits
 * first or `timeoutMs` passes, quoting its stderr. Later stdout is read and dropped so the pipe
 * never fills and blocks the child.
 */
export function readFirstLine(handle, timeoutMs, what) {
  const { child } = handle;
  return new Promise((resolve, reject) => {
    let text = '';
    const settle = (fn, value) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume();
      fn(value);
    };
    const onData = (chunk) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end !== -1) settle(resolve, text.slice(0, end).trim());
    };
    const timer = setTimeout(
      () => settle(reject, childError(handle, `${what}: no output within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    handle.exited.then(({ code, signal, error }) => {
      const how = error ? error.message : `exited (code ${code}, signal ${signal})`;
      settle(reject, childError(handle, `${what}: ${how} before printing a line`));
    });
  });
}

/**
 * Sends `message` over the child's IPC channel and resolves with the first reply whose `kind` is
 * `replyKind`. Rejects on exit or after `timeoutMs`.
 */
export function ask(handle, message, replyKind, timeoutMs) {
  const { child } = handle;
  return new Promise((resolve, reject) => {
    const settle = (fn, value) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      fn(value);
    };
    const onMessage = (reply) => {
      if (reply?.kind === replyKind) settle(resolve, reply);
    };
    const timer = setTimeout(
      () => settle(reject, childError(handle, `no '${replyKind}' reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.on('message', onMessage);
    handle.exited.then(() => settle(reject, childError(handle, `exited before replying '${replyKind}'`)));
    child.send(message);
  });
}

/** Removes `dir` now, and at process exit if the run dies before that. */
export function removeDirLater(dir) {
  const task = () => rmSync(dir, { recursive: true, force: true });
  exitTasks.add(task);
  return () => {
    exitTasks.delete(task);
    task();
  };
}

/** Stops every live child (SIGTERM, then SIGKILL). */
export async function stopAllChildren() {
  await Promise.all([...live].map((child) => stopChild({ child, exited: exitOf(child) })));
}

/**
 * Installs the last-resort clean-up: SIGINT/SIGTERM stop all children then exit 130/143, and at
 * process exit any child still alive gets SIGKILL and temp dirs are removed.
 */
export function stopChildrenOnExit() {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ]) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping children\n`);
      stopAllChildren().finally(() => process.exit(code));
    });
  }
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const task of exitTasks) task();
  });
}

function exitOf(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

function childError(handle, message) {
  const tail = handle.stderrTail();
  return new Error(tail ? `${message}\n--- stderr ---\n${tail}` : message);
}
