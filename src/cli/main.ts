#!/usr/bin/env node
/**
 * The `berth` command: `berth [serve] [ROOT] [options]` serves the files under ROOT.
 *
 * Every command builds a Config (to-config.ts for the flags, config/load.ts for --config) and
 * runs it through the same runtime and handler chains (config/build.ts): access log → metrics →
 * status page → site → route middleware (Basic auth …) → cache → handler. The log sits outside
 * auth so refused requests (401) are logged too.
 *
 * Errors are one line on stderr, never a stack: usage and setup problems (bad flag, missing root,
 * unreadable auth or log file) exit 2, a failed listen exits 1 — and never moves to another port.
 * SIGINT/SIGTERM close gracefully (in-flight requests finish, the log is flushed) and exit 0;
 * a second signal exits at once. SIGUSR1 reopens the log file (rotation).
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/model.js';
import { ListenError } from '../conn/listen-errors.js';
import { loadHtpasswd, plainCredentials } from '../static/auth.js';
import {
  type AuthSpec,
  type ForwardProxyCommand,
  type ListenerCommand,
  type ProxyCommand,
  parseServeArgs,
  type ServeCommand,
  USAGE,
} from './args.js';
import { forwardProxyConfig, proxyConfig, serveConfig } from './to-config.js';

const EXIT_USAGE = 2;
const EXIT_LISTEN = 1;

/** A setup failure whose message is the whole line to print. */
class SetupError extends Error {}

async function main(argv: string[]): Promise<void> {
  const parsed = parseServeArgs(argv, process.env);
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return;
    case 'version': {
      const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
      process.stdout.write(`berth ${pkg.version}\n`);
      return;
    }
    case 'error':
      fail(`${parsed.message}`, EXIT_USAGE);
      return;
    case 'serve':
      await serve(parsed);
      return;
    case 'ca':
      await printCa();
      return;
    case 'proxy':
    case 'forward-proxy':
      await runProxy(parsed);
      return;
    case 'config':
      await runConfig(parsed.file);
      return;
    case 'check': {
      const { checkConfig } = await import('../config/load.js');
      const result = await checkConfig(parsed.file);
      if (result.ok) process.stdout.write(`${result.summary}\n`);
      else fail(result.message, EXIT_USAGE);
      return;
    }
    case 'reload':
      try {
        const { signalReload } = await import('../runtime/run-config.js');
        const pid = await signalReload(parsed);
        process.stdout.write(`berth: asked process ${pid} to reload\n`);
      } catch (err) {
        fail(message(err), EXIT_USAGE);
      }
      return;
    default:
      assertNever(parsed);
  }
}

async function serve(cmd: ServeCommand): Promise<void> {
  try {
    await checkRoot(cmd.root);
    await Promise.all([checkCredentials(cmd.auth), checkCredentials(cmd.uploadAuth)]);
    await checkLogFile(cmd);
  } catch (err) {
    fail(message(err), EXIT_USAGE);
    return;
  }
  await runCommand(cmd, serveConfig(cmd), `serving ${cmd.root}`);
}

/** `berth proxy` and `berth forward-proxy`: the same listener, log and TLS handling as serve. */
async function runProxy(cmd: ProxyCommand | ForwardProxyCommand): Promise<void> {
  try {
    await checkLogFile(cmd);
  } catch (err) {
    fail(message(err), EXIT_USAGE);
    return;
  }
  const cached = cmd.cache === undefined ? '' : cmd.kind === 'proxy' ? ', with a cache' : ' with a cache';
  if (cmd.kind === 'proxy')
    await runCommand(cmd, proxyConfig(cmd), `proxying to ${cmd.to.join(', ')}${cached}`);
  else await runCommand(cmd, forwardProxyConfig(cmd), `forward proxy${cached}`);
}

/** `berth --config FILE`: a config error or a listener that cannot open ends it with one line. */
async function runConfig(file: string): Promise<void> {
  const { runConfigFile } = await import('../runtime/run-config.js');
  try {
    await runConfigFile(file, {
      log: (line) => process.stderr.write(`berth: ${line}\n`),
      announce: (lines) => process.stdout.write(`${lines.join('\n')}\n`),
      exit: (code) => process.exit(code),
    });
  } catch (err) {
    fail(message(err), err instanceof ListenError ? EXIT_LISTEN : EXIT_USAGE);
  }
}

/**
 * Runs a command's config (built from its flags, see to-config.ts) through the same runtime as
 * `berth --config`: prints the startup line, and runs until SIGINT/SIGTERM (graceful).
 */
async function runCommand(cmd: ListenerCommand, config: Config, what: string): Promise<void> {
  const { displayAddress, serveInProcess } = await import('../runtime/run-config.js');
  let runtime: Awaited<ReturnType<typeof serveInProcess>>;
  try {
    runtime = await serveInProcess(config, {
      log: (line) => process.stderr.write(`berth: ${line}\n`),
      exit: (code) => process.exit(code),
    });
  } catch (err) {
    fail(message(err), err instanceof ListenError ? EXIT_LISTEN : EXIT_USAGE);
    process.exit();
  }
  if (runtime === undefined || cmd.quiet) return;
  const [main, redirect] = runtime.addresses();
  let line = `berth: ${what} on ${displayAddress(main!.address, main!.secure)}`;
  if (redirect !== undefined) line += ` (and ${displayAddress(redirect.address, false)} redirecting to it)`;
  process.stdout.write(`${line}\n`);
}

/** ROOT must exist and be a directory; the error names it as the user typed it. */
async function checkRoot(root: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SetupError(`${root}: no such directory`);
    if (code === 'EACCES') throw new SetupError(`${root}: permission denied`);
    throw new SetupError(`${root}: ${message(err)}`);
  }
  if (!isDirectory) throw new SetupError(`${root} is not a directory: give the folder to serve`);
}

/** A credential pair or htpasswd file the flags name must be usable, with a message naming the flag. */
async function checkCredentials(spec: AuthSpec | undefined): Promise<void> {
  if (spec === undefined) return;
  if (spec.kind === 'plain') {
    plainCredentials(spec.userPass);
    return;
  }
  try {
    await loadHtpasswd(spec.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SetupError(`--auth-file ${spec.file}: no such file`);
    if (code === 'EACCES') throw new SetupError(`--auth-file ${spec.file}: permission denied`);
    throw new SetupError(`--auth-file: ${message(err)}`);
  }
}

/** --log-file must be in a folder that exists, said before anything starts. */
async function checkLogFile(cmd: ListenerCommand): Promise<void> {
  const file = cmd.log.file;
  if (file === undefined) return;
  const folder = dirname(resolve(file));
  const isFolder = await stat(folder).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isFolder) throw new SetupError(`cannot open the log file ${file}: its folder does not exist`);
}

/** `berth ca`: where the local CA certificate is and how to trust it (made if missing). */
async function printCa(): Promise<void> {
  try {
    const { ensureLocalCertificate } = await import('../tls/local-ca.js');
    const { describeLocalCa } = await import('../tls/ca-command.js');
    const local = await ensureLocalCertificate({});
    process.stdout.write(`${describeLocalCa(local.caCertPath)}\n`);
  } catch (err) {
    fail(message(err), 1);
  }
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ');
}

function fail(line: string, code: number): void {
  process.stderr.write(`berth: ${line}\n`);
  process.exitCode = code;
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(message(err), 1);
});
