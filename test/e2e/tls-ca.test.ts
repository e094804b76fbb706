/**
 * The local CA's leaf served by a real TLS server (node:https: only the certificate is under test
 * here) on 127.0.0.1, checked by real clients that trust only the CA: curl with --cacert (no -k),
 * Node's tls.connect with `ca`, and OpenSSL's strict X.509 checks.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { ensureLocalCertificate, type LocalCertificate } from '../../src/tls/local-ca.js';

const TEST_TIMEOUT_MS = 15_000;
const CLIENT_TIMEOUT_MS = 5_000;
const BODY = 'hello over tls';

type Run = { readonly stdout: string; readonly stderr: string; readonly code: number };

/** Runs a program, resolving (never rejecting) with its output and exit code. */
function run(file: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: CLIENT_TIMEOUT_MS }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ stdout, stderr, code });
    });
  });
}

/** Connects with Node's TLS client; resolves with whether the peer was authorized, or the error. */
function connect(
  options: tls.ConnectionOptions,
): Promise<{ authorized: boolean; cn?: unknown } | { error: Error }> {
  return new Promise((resolve) => {
    const socket = tls.connect(options, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      resolve({ authorized: socket.authorized, cn });
      socket.end();
    });
    socket.setTimeout(CLIENT_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.on('error', (error) => resolve({ error }));
  });
}

let dir = '';
let local: LocalCertificate;
let server: https.Server;
let port = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-tls-ca-'));
  local = await ensureLocalCertificate({ dataDir: join(dir, 'berth') });
  server = https.createServer({ cert: local.cert, key: local.key }, (_req, res) => res.end(BODY));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the local CA leaf over real TLS', () => {
  it('is trusted by curl --cacert for https://localhost (no -k)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const out = await run('curl', [
      '-sS',
      '--noproxy',
      '*',
      '--cacert',
      local.caCertPath,
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      `https://localhost:${port}/`,
    ]);
    assert.equal(out.stderr, '');
    assert.equal(out.code, 0);
    assert.equal(out.stdout, BODY);
  });

  it('is trusted by curl --cacert for https://127.0.0.1 (an IP SAN)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const out = await run('curl', [
      '-sS',
      '--noproxy',
      '*',
      '--cacert',
      local.caCertPath,
      `https://127.0.0.1:${port}/`,
    ]);
    assert.equal(out.stderr, '');
    assert.equal(out.code, 0);
    assert.equal(out.stdout, BODY);
  });

  it('is refused by curl without the CA (exit 60: peer certificate cannot be authenticated)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const out = await run('curl', ['-sS', '--noproxy', '*', `https://127.0.0.1:${port}/`]);
    assert.equal(out.code, 60);
  });

  it('verifies in Node tls.connect with ca, for servername localhost', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const result = await connect({ host: '127.0.0.1', port, servername: 'localhost', ca: local.caCert });
    assert.deepEqual(result, { authorized: true, cn: 'localhost' });
  });

  it('fails in Node tls.connect without the CA, or for a name it does not cover', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const untrusted = await connect({ host: '127.0.0.1', port, servername: 'localhost' });
    assert.ok('error' in untrusted);
    assert.equal((untrusted.error as { code?: string }).code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const wrongName = await connect({ host: '127.0.0.1', port, servername: 'other.test', ca: local.caCert });
    assert.ok('error' in wrongName);
    assert.equal((wrongName.error as { code?: string }).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('passes openssl verify -x509_strict -purpose sslserver', {
    timeout: TEST_TIMEOUT_MS,
    skip: !existsSync('/usr/bin/openssl') && 'no /usr/bin/openssl',
  }, async () => {
    const out = await run('/usr/bin/openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-CAfile',
      local.caCertPath,
      local.leafPath,
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), `${local.leafPath}: OK`);
  });
});
