#!/usr/bin/env node
/**
 * The `berth` command. For now it serves the demo app; the static file server (next issue)
 * takes its place. Errors are one line on stderr and a non-zero exit, never a stack.
 */
import { parseArgs } from 'node:util';
import { createServer } from '../conn/server.js';
import { demoApp } from './demo-app.js';

const USAGE = `usage: berth [options]
  -p, --port N        port to listen on (default 8080, or $PORT; 0 picks a free port)
  -a, --address ADDR  address to bind (default 127.0.0.1; 0.0.0.0, ::, ::1 work)
      --unix PATH     listen on a unix socket instead
  -h, --help          show this help
  -v, --version       print the version`;

async function main(argv: string[]): Promise<number> {
  let values: { port?: string; address?: string; unix?: string; help?: boolean; version?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        address: { type: 'string', short: 'a' },
        unix: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`berth: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    process.stdout.write(`berth ${pkg.version}\n`);
    return 0;
  }
  const portText = values.port ?? process.env.PORT ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    process.stderr.write(`berth: invalid port "${portText}": expected a number from 0 to 65535\n`);
    return 2;
  }
  const host = values.address ?? '127.0.0.1';
  const server = createServer(demoApp);
  try {
    await server.listen(values.unix !== undefined ? { path: values.unix } : { port, host });
  } catch (err) {
    process.stderr.write(`berth: ${(err as Error).message}\n`);
    return 1;
  }
  const address = server.address();
  const url =
    'path' in address
      ? `unix:${address.path}`
      : `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  process.stdout.write(`berth: serving the demo app on ${url}\n`);
  const stop = (): void => {
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
});
