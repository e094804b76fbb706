/**
 * Runs the `berth` command (src/cli/main.ts through tsx) as a child process for CLI tests, and
 * reads its startup line. The older CLI tests carry their own copies of this; new ones use it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.ts');
// Resolved from the repository: the command may run in a folder without node_modules.
const TSX = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 20_000;

export type BerthProcess = {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** The first stdout line; rejects if the command exits first or takes too long. */
  startupLine(): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
};

export function startBerth(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): BerthProcess {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, PORT: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  let exitCode: number | null | undefined;
  const exited = once(child, 'exit').then(([code]) => {
    exitCode = code as number | null;
    return exitCode;
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async startupLine() {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!stdout.includes('\n')) {
        if (exitCode !== undefined)
          throw new Error(`berth exited (${exitCode}) before its startup line: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`no startup line in time; stderr: ${stderr}`);
        await sleep(20);
      }
      return stdout.split('\n')[0]!;
    },
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A port that was free on 127.0.0.1 a moment ago (for a test that needs a fixed port). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The port in a startup line's URL (`… on http://127.0.0.1:PORT`). */
export function portOf(line: string): number {
  const match = /:(\d+)(?:\s|$|\))/.exec(line.slice(line.lastIndexOf(' on ') + 4));
  if (match === null) throw new Error(`no port in "${line}"`);
  return Number(match[1]);
}
