/**
 * PUT and DELETE through a real Berth server on 127.0.0.1: atomic replacement, the upload limit,
 * a client that goes away mid-body, conflicts and write preconditions. A tiny inline resolver
 * stands in for static/resolve.ts so these tests depend on upload.ts alone.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Handler, HttpError, type Server } from '../index.js';
import { encodeUrlPath } from './resolve.js';
import {
  checkWritePreconditions,
  deleteFile,
  evaluateWritePreconditions,
  putFile,
  UPLOAD_TEMP_PREFIX,
} from './upload.js';

const MAX_UPLOAD_BYTES = 64 * 1024;
const TEST_TIMEOUT_MS = 10_000;

/** A strong validator good enough for the test: size and mtime, as many servers make it. */
function etagOf(s: { size: number; mtimeMs: number }): string {
  return `"${s.size.toString(16)}-${Math.floor(s.mtimeMs * 1000).toString(16)}"`;
}

function handlerFor(root: string): Handler {
  return async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://t').pathname);
    const path = join(root, ...urlPath.split('/'));
    const parentExists = await stat(dirname(path)).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const current = await stat(path).catch(() => undefined);
    const target = { path, urlPath, parentExists, exists: current !== undefined, stat: current };
    const etag = current?.isFile() ? etagOf(current) : undefined;
    switch (req.method) {
      case 'GET': {
        if (etag === undefined) throw new HttpError(404);
        res.setHeader('ETag', etag);
        res.end(await readFile(path));
        return;
      }
      case 'PUT': {
        checkWritePreconditions(req.headers, { exists: target.exists, etag });
        const result = await putFile(req, target, { maxUploadBytes: MAX_UPLOAD_BYTES, etag });
        res.statusCode = result.status;
        if (result.location !== undefined) res.setHeader('Location', result.location);
        res.end();
        return;
      }
      case 'DELETE':
        res.statusCode = await deleteFile(target);
        res.end();
        return;
      default:
        throw new HttpError(405, undefined, { headers: { Allow: 'GET, PUT, DELETE' } });
    }
  };
}

/** Sends raw bytes and collects everything the server answers until it closes the connection. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    // The server may answer (413) and close before it has read all we sent: a reset then is expected.
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE'
        ? resolve(Buffer.concat(chunks).toString('latin1'))
        : reject(err),
    );
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(bytes);
  });
}

async function tempFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.startsWith(UPLOAD_TEMP_PREFIX));
}

/** Polls until `check` holds, for up to a second. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for: ${what}`);
}

describe('putFile() and deleteFile() behind a real server', () => {
  let root: string;
  let server: Server;
  let base: string;
  let port: number;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-upload-'));
    await mkdir(join(root, 'sub'));
    server = createServer(handlerFor(root), { onError: () => {} });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.address();
    assert.ok('port' in address);
    port = address.port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('creates a new file with 201 and a percent-encoded Location', { timeout: TEST_TIMEOUT_MS }, async () => {
    const res = await fetch(`${base}/sub/new%20file%C3%A9.txt`, { method: 'PUT', body: 'hello' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), '/sub/new%20file%C3%A9.txt');
    assert.equal(await readFile(join(root, 'sub', 'new fileé.txt'), 'utf8'), 'hello');
    assert.deepEqual(await tempFiles(join(root, 'sub')), []);
  });

  it('replaces an existing file with 204', { timeout: TEST_TIMEOUT_MS }, async () => {
    await writeFile(join(root, 'replace.txt'), 'old contents, longer than the new');
    const res = await fetch(`${base}/replace.txt`, { method: 'PUT', body: 'new' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('location'), null);
    assert.equal(await readFile(join(root, 'replace.txt'), 'utf8'), 'new');
  });

  it('rejects a Content-Length beyond the limit with 413 before reading, leaving the old file', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await writeFile(join(root, 'big.txt'), 'keep me');
    const answer = await rawExchange(
      port,
      `PUT /big.txt HTTP/1.1\r\nHost: t\r\nContent-Length: ${10 * 1024 * 1024}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.equal(await readFile(join(root, 'big.txt'), 'utf8'), 'keep me');
    assert.deepEqual(await tempFiles(root), []);
  });

  it('stops a chunked body once it passes the limit with 413, leaving the old file', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await writeFile(join(root, 'chunked.txt'), 'keep me too');
    const piece = 'x'.repeat(16 * 1024);
    const chunks = Array.from({ length: 6 }, () => `${piece.length.toString(16)}\r\n${piece}\r\n`).join('');
    const answer = await rawExchange(
      port,
      `PUT /chunked.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.equal(await readFile(join(root, 'chunked.txt'), 'utf8'), 'keep me too');
    await eventually(async () => (await tempFiles(root)).length === 0, 'no temporary file');
  });

  it('keeps the old file and removes the temporary one when the client goes away mid-body', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await writeFile(join(root, 'abort.txt'), 'original');
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PUT /abort.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 40000\r\n\r\n${'y'.repeat(20000)}`);
    // The upload is under way once its temporary file exists; then the client vanishes.
    await eventually(async () => (await tempFiles(root)).length === 1, 'the temporary file');
    socket.destroy();
    await eventually(async () => (await tempFiles(root)).length === 0, 'the temporary file removed');
    assert.equal(await readFile(join(root, 'abort.txt'), 'utf8'), 'original');
  });

  it('answers 409 when the parent folder does not exist', { timeout: TEST_TIMEOUT_MS }, async () => {
    const res = await fetch(`${base}/missing/a.txt`, { method: 'PUT', body: 'x' });
    assert.equal(res.status, 409);
  });

  it('answers 409 when the target is a folder', { timeout: TEST_TIMEOUT_MS }, async () => {
    const res = await fetch(`${base}/sub`, { method: 'PUT', body: 'x' });
    assert.equal(res.status, 409);
    assert.ok((await stat(join(root, 'sub'))).isDirectory());
  });

  it('answers 400 to a partial PUT with Content-Range', { timeout: TEST_TIMEOUT_MS }, async () => {
    const res = await fetch(`${base}/range.txt`, {
      method: 'PUT',
      body: 'x',
      headers: { 'Content-Range': 'bytes 0-0/1' },
    });
    assert.equal(res.status, 400);
  });

  it('answers 412 to If-None-Match: * when the file exists, and creates it when not', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await writeFile(join(root, 'once.txt'), 'first');
    const conflict = await fetch(`${base}/once.txt`, {
      method: 'PUT',
      body: 'second',
      headers: { 'If-None-Match': '*' },
    });
    assert.equal(conflict.status, 412);
    assert.equal(await readFile(join(root, 'once.txt'), 'utf8'), 'first');
    const fresh = await fetch(`${base}/twice.txt`, {
      method: 'PUT',
      body: 'x',
      headers: { 'If-None-Match': '*' },
    });
    assert.equal(fresh.status, 201);
  });

  it('answers 412 to an If-Match that does not match, and replaces on one that does', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await writeFile(join(root, 'guarded.txt'), 'v1');
    const wrong = await fetch(`${base}/guarded.txt`, {
      method: 'PUT',
      body: 'v2',
      headers: { 'If-Match': '"not-it"' },
    });
    assert.equal(wrong.status, 412);
    assert.equal(await readFile(join(root, 'guarded.txt'), 'utf8'), 'v1');
    const etag = (await fetch(`${base}/guarded.txt`)).headers.get('etag');
    assert.ok(etag);
    const weak = await fetch(`${base}/guarded.txt`, {
      method: 'PUT',
      body: 'v2',
      headers: { 'If-Match': `W/${etag}` },
    });
    assert.equal(weak.status, 412, 'a weak tag never matches strongly');
    const right = await fetch(`${base}/guarded.txt`, {
      method: 'PUT',
      body: 'v2',
      headers: { 'If-Match': etag },
    });
    assert.equal(right.status, 204);
    assert.equal(await readFile(join(root, 'guarded.txt'), 'utf8'), 'v2');
  });

  it('answers 412 to If-Match: * when there is no file', { timeout: TEST_TIMEOUT_MS }, async () => {
    const res = await fetch(`${base}/nothing.txt`, {
      method: 'PUT',
      body: 'x',
      headers: { 'If-Match': '*' },
    });
    assert.equal(res.status, 412);
    await assert.rejects(stat(join(root, 'nothing.txt')), { code: 'ENOENT' });
  });

  it('deletes a file with 204, then answers 404', { timeout: TEST_TIMEOUT_MS }, async () => {
    await writeFile(join(root, 'doomed.txt'), 'bye');
    assert.equal((await fetch(`${base}/doomed.txt`, { method: 'DELETE' })).status, 204);
    await assert.rejects(stat(join(root, 'doomed.txt')), { code: 'ENOENT' });
    assert.equal((await fetch(`${base}/doomed.txt`, { method: 'DELETE' })).status, 404);
  });

  it('refuses to delete a folder with 409', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.equal((await fetch(`${base}/sub`, { method: 'DELETE' })).status, 409);
    assert.ok((await stat(join(root, 'sub'))).isDirectory());
  });
});

describe('evaluateWritePreconditions()', () => {
  const exists = { exists: true, etag: '"abc"' };

  it('proceeds without conditional fields', () => {
    assert.deepEqual(evaluateWritePreconditions({}, exists), { kind: 'proceed' });
  });

  it('matches If-Match strongly against any member of a list', () => {
    assert.equal(evaluateWritePreconditions({ 'if-match': '"x", "abc"' }, exists).kind, 'proceed');
    assert.equal(evaluateWritePreconditions({ 'if-match': '"x"' }, exists).kind, 'failed');
    assert.equal(evaluateWritePreconditions({ 'if-match': 'W/"abc"' }, exists).kind, 'failed');
    assert.equal(
      evaluateWritePreconditions({ 'if-match': '"abc"' }, { exists: true, etag: 'W/"abc"' }).kind,
      'failed',
    );
  });

  it('reads a comma inside an entity-tag as part of the tag', () => {
    const current = { exists: true, etag: '"a,b"' };
    assert.equal(evaluateWritePreconditions({ 'if-match': '"a,b"' }, current).kind, 'proceed');
    assert.equal(evaluateWritePreconditions({ 'if-match': '"a' }, current).kind, 'failed');
  });

  it('fails If-Match when the file has no entity-tag or does not exist', () => {
    assert.equal(evaluateWritePreconditions({ 'if-match': '"abc"' }, { exists: true }).kind, 'failed');
    assert.equal(evaluateWritePreconditions({ 'if-match': '*' }, { exists: false }).kind, 'failed');
    assert.equal(evaluateWritePreconditions({ 'if-match': '*' }, exists).kind, 'proceed');
  });

  it('fails If-None-Match on * when the file exists and on a weak match of a listed tag', () => {
    assert.equal(evaluateWritePreconditions({ 'if-none-match': '*' }, exists).kind, 'failed');
    assert.equal(evaluateWritePreconditions({ 'if-none-match': '*' }, { exists: false }).kind, 'proceed');
    assert.equal(evaluateWritePreconditions({ 'if-none-match': 'W/"abc"' }, exists).kind, 'failed');
    assert.equal(evaluateWritePreconditions({ 'if-none-match': '"other"' }, exists).kind, 'proceed');
  });

  it('fails If-Unmodified-Since for a file changed after the date, unless If-Match is present', () => {
    const current = { exists: true, etag: '"abc"', lastModifiedMs: Date.parse('2024-01-02T00:00:00Z') };
    const earlier = 'Mon, 01 Jan 2024 00:00:00 GMT';
    assert.equal(evaluateWritePreconditions({ 'if-unmodified-since': earlier }, current).kind, 'failed');
    assert.equal(
      evaluateWritePreconditions({ 'if-unmodified-since': 'Wed, 03 Jan 2024 00:00:00 GMT' }, current).kind,
      'proceed',
    );
    assert.equal(
      evaluateWritePreconditions({ 'if-unmodified-since': earlier, 'if-match': '"abc"' }, current).kind,
      'proceed',
    );
  });
});

describe('checkWritePreconditions()', () => {
  it('throws HttpError(412) when a precondition fails and returns when none does', () => {
    assert.throws(() => checkWritePreconditions({ 'if-none-match': '*' }, { exists: true }), {
      name: 'HttpError',
      status: 412,
    });
    assert.equal(checkWritePreconditions({ 'if-none-match': '*' }, { exists: false }), undefined);
  });
});

describe('encodeUrlPath()', () => {
  it('percent-encodes each segment and keeps the slashes', () => {
    assert.equal(encodeUrlPath('/a b/c?d#e/ü%.txt'), '/a%20b/c%3Fd%23e/%C3%BC%25.txt');
  });
});
