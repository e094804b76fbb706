/**
 * Shared fixtures for the static file server's end-to-end tests (test/e2e/static-*.test.ts):
 * a temporary tree of files, a Berth server running createStaticHandler() over it, and one raw
 * HTTP/1.1 request that returns exactly what the server sent (no client-side decoding or path
 * normalisation, unlike fetch and curl).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Handler } from '../../src/index.js';
import type { StaticOptions } from '../../src/static/options.js';
import { createStaticHandler } from '../../src/static/serve.js';
import { exchange, type ParsedResponse, type Running, withServer } from './raw-client.js';

/** Bound on one raw exchange in these tests. */
export const STATIC_TIMEOUT_MS = 5_000;

/** Creates a fresh temporary folder named after `label`; the caller removes it with removeTree(). */
export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `berth-static-${label}-`));
}

/** Writes `files` (relative path → content) under `dir`, creating folders as needed. */
export async function writeTree(
  dir: string,
  files: Readonly<Record<string, string | Buffer>>,
): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

export async function removeTree(dir: string): Promise<void> {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}

/** Runs `body` against a Berth server that serves `options.root` (optionally wrapped), then closes it. */
export async function withStatic(
  options: StaticOptions,
  body: (running: Running) => Promise<void>,
  wrap: (files: Handler) => Handler = (files) => files,
): Promise<void> {
  const files = await createStaticHandler(options);
  await withServer(wrap(files), undefined, body);
}

/**
 * Sends one request over a fresh raw connection exactly as given (the target is not normalised)
 * and returns the one response. `headers` are sent in order after Host; `body`, when given,
 * goes with a Content-Length.
 */
export async function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: Readonly<Record<string, string>> = {},
  body?: string | Buffer,
): Promise<ParsedResponse> {
  let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  const bytes = Buffer.concat([
    Buffer.from(`${head}\r\n`, 'latin1'),
    body === undefined ? Buffer.alloc(0) : Buffer.from(body),
  ]);
  const result = await exchange({ port }, bytes, {
    responses: 1,
    methods: [method],
    timeoutMs: STATIC_TIMEOUT_MS,
  });
  const response = result.finals[0];
  if (response === undefined) {
    throw new Error(
      `no response to ${method} ${target}; received: ${JSON.stringify(result.text.slice(0, 400))}`,
    );
  }
  return response;
}
