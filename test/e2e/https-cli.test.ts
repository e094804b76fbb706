/**
 * The `berth` command serving HTTPS, run as a user would (`node --import tsx src/cli/main.ts`)
 * with XDG_DATA_HOME in a temporary folder, so the local CA it makes on first use lands there and
 * nowhere else. Clients trust only that CA (curl --cacert, never -k).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ensureLocalCertificate, type LocalCertificate } from '../../src/tls/local-ca.js';
import { freePort } from './berth-process.js';
import { curl, exchange, field } from './raw-client.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(REPO, 'src', 'cli', 'main.ts');
// Resolved here, from the repository, because the command runs in a folder without node_modules.
const TSX = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 30_000;
const HELLO = 'hello from berth over tls\n';
const STARTUP =
  /^berth: serving site on (https?):\/\/127\.0\.0\.1:(\d+)(?: \(and http:\/\/127\.0\.0\.1:(\d+) redirecting to it\))?$/;

type Berth = {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
};

let dir = '';
let n = 0;

/** A fresh XDG_DATA_HOME (not yet created) per test. */
function freshXdg(): string {
  return join(dir, `xdg-${++n}`);
}

function berth(args: readonly string[], xdg: string): Berth {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: dir,
    env: { ...process.env, PORT: '', XDG_DATA_HOME: xdg },
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
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

type Started = {
  readonly line: string;
  readonly scheme: string;
  readonly port: number;
  readonly redirect?: number;
};

/** Waits for the startup line and parses it; rejects if the command exits first or it does not match. */
async function started(b: Berth): Promise<Started> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  void b.exited.then(() => {
    exited = true;
  });
  while (!b.stdout().includes('\n')) {
    if (exited) throw new Error(`berth exited before its startup line; stderr: ${b.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no startup line in time; stderr: ${b.stderr()}`);
    await sleep(20);
  }
  const line = b.stdout().split('\n')[0]!;
  const match = STARTUP.exec(line);
  assert.ok(match, `unexpected startup line: ${line}`);
  return {
    line,
    scheme: match[1]!,
    port: Number(match[2]),
    ...(match[3] === undefined ? {} : { redirect: Number(match[3]) }),
  };
}

/** How long SIGTERM may take with nothing in flight before the command is killed (exit null). */
const STOP_BOUND_MS = 5_000;

/** SIGTERM, then the exit code: 0 after a graceful close, null when it had to be killed. */
async function stop(b: Berth): Promise<number | null> {
  if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGTERM');
  const timer = setTimeout(() => b.child.kill('SIGKILL'), STOP_BOUND_MS);
  try {
    return await b.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command that must end on its own; returns its exit code and output. */
async function finished(
  args: readonly string[],
  xdg: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const b = berth(args, xdg);
  const timer = setTimeout(() => b.child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const code = await b.exited;
    return { code, stdout: b.stdout(), stderr: b.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** curl to https://HOST:PORT/path trusting only `ca`, with HOST resolved to 127.0.0.1. */
function curlTls(ca: string, host: string, port: number, path: string, extra: readonly string[] = []) {
  return curl([
    '-sS',
    '--noproxy',
    '*',
    '--cacert',
    ca,
    '--resolve',
    `${host}:${port}:127.0.0.1`,
    ...extra,
    `https://${host}:${port}${path}`,
  ]);
}

/** The certificate the server presents for `servername` (handshake only; the CA is not checked). */
async function servedCertificate(port: number, servername: string): Promise<tls.PeerCertificate> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  socket.on('error', () => {});
  const timer = setTimeout(() => socket.destroy(new Error('handshake timed out')), 5_000);
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerCertificate();
  } finally {
    clearTimeout(timer);
    socket.end();
  }
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

/** A certificate pair made by the local CA in its own folder, for --cert/--key. */
let pair: LocalCertificate;
let pairDir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-https-cli-'));
  await mkdir(join(dir, 'site'));
  await writeFile(join(dir, 'site', 'hello.txt'), HELLO);
  pairDir = join(dir, 'pair');
  pair = await ensureLocalCertificate({ dataDir: pairDir });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('berth --tls (the local CA)', { timeout: TEST_TIMEOUT_MS * 4 }, () => {
  it('prints an https startup line, makes the CA and leaf with 0600 keys, and serves curl --cacert', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const xdg = freshXdg();
    const b = berth(['site', '--tls', '-p', '0'], xdg);
    try {
      const { line, scheme, port } = await started(b);
      assert.equal(scheme, 'https', line);
      assert.notEqual(port, 0);
      const data = join(xdg, 'berth');
      for (const file of ['ca.crt', 'ca.key', 'localhost.crt', 'localhost.key']) {
        assert.ok(existsSync(join(data, file)), `${file} exists under $XDG_DATA_HOME/berth`);
      }
      assert.equal(await mode(join(data, 'ca.key')), 0o600);
      assert.equal(await mode(join(data, 'localhost.key')), 0o600);
      assert.equal(await mode(data), 0o700);
      const ca = join(data, 'ca.crt');
      for (const host of ['localhost', '127.0.0.1']) {
        const out = await curlTls(ca, host, port, '/hello.txt', ['-w', '\n%{http_version}']);
        assert.equal(out.code, 0, `${host}: ${out.stderr}`);
        assert.equal(out.stdout, `${HELLO}\n2`, `${host}: the body, over HTTP/2 (curl's default for https)`);
      }
      const h1 = await curlTls(ca, 'localhost', port, '/hello.txt', ['--http1.1', '-w', '\n%{http_version}']);
      assert.equal(h1.stdout, `${HELLO}\n1.1`, h1.stderr);
    } finally {
      assert.equal(await stop(b), 0);
    }
    assert.equal(b.stderr(), '');
  });

  it('reuses the same CA on the next start', { timeout: TEST_TIMEOUT_MS }, async () => {
    const xdg = freshXdg();
    const ca = join(xdg, 'berth', 'ca.crt');
    const first = berth(['site', '--tls', '-p', '0'], xdg);
    let caPem: string;
    try {
      await started(first);
      caPem = await readFile(ca, 'utf8');
    } finally {
      assert.equal(await stop(first), 0);
    }
    const caKey = await readFile(join(xdg, 'berth', 'ca.key'), 'utf8');
    const second = berth(['site', '--tls', '-p', '0'], xdg);
    try {
      const { port } = await started(second);
      assert.equal(await readFile(ca, 'utf8'), caPem, 'ca.crt is unchanged');
      assert.equal(await readFile(join(xdg, 'berth', 'ca.key'), 'utf8'), caKey, 'ca.key is unchanged');
      const out = await curlTls(ca, 'localhost', port, '/hello.txt');
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, HELLO);
    } finally {
      assert.equal(await stop(second), 0);
    }
  });

  it('adds --host example.test to the leaf, which curl then accepts for that name', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const xdg = freshXdg();
    const b = berth(['site', '--tls', '--host', 'example.test', '-p', '0'], xdg);
    try {
      const { port } = await started(b);
      const leaf = new X509Certificate(await readFile(join(xdg, 'berth', 'localhost.crt'), 'utf8'));
      assert.match(leaf.subjectAltName ?? '', /\bDNS:example\.test\b/);
      assert.match(leaf.subjectAltName ?? '', /\bDNS:localhost\b/);
      const served = await servedCertificate(port, 'example.test');
      assert.equal(served.fingerprint256, leaf.fingerprint256, 'the leaf on disk is the one served');
      const out = await curlTls(join(xdg, 'berth', 'ca.crt'), 'example.test', port, '/hello.txt');
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, HELLO);
      // And a name it was not asked for is not covered (checked here, not by a client hanging up).
      assert.ok(tls.checkServerIdentity('other.test', served) instanceof Error);
      assert.equal(tls.checkServerIdentity('example.test', served), undefined);
    } finally {
      assert.equal(await stop(b), 0);
    }
  });

  it('exits 0 soon after SIGTERM even when a client refused the certificate and hung up', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const xdg = freshXdg();
    const b = berth(['site', '--tls', '-p', '0'], xdg);
    let code: number | null = null;
    try {
      const { port } = await started(b);
      // What a browser does with a certificate for another name: handshake (ALPN h2), check, hang up.
      const out = await curlTls(join(xdg, 'berth', 'ca.crt'), 'wrong.test', port, '/hello.txt', ['--http2']);
      assert.equal(out.code, 60, out.stderr);
    } finally {
      const t0 = Date.now();
      code = await stop(b);
      assert.equal(
        code,
        0,
        `berth must exit 0 within ${STOP_BOUND_MS} ms of SIGTERM (took ${Date.now() - t0} ms)`,
      );
    }
  });

  it('`berth ca` prints the CA path and how to trust it, and exits 0', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const xdg = freshXdg();
    const ca = join(xdg, 'berth', 'ca.crt');
    const out = await finished(['ca'], xdg);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, '');
    assert.ok(out.stdout.startsWith(`Berth local CA certificate: ${ca}\n`), out.stdout);
    assert.ok(out.stdout.includes(`curl --cacert ${ca} https://localhost:PORT/`));
    assert.ok(out.stdout.includes(`NODE_EXTRA_CA_CERTS=${ca}`));
    assert.match(out.stdout, /update-ca-certificates/);
    assert.match(out.stdout, /security add-trusted-cert/);
    assert.match(out.stdout, /certutil/);
    assert.ok(new X509Certificate(await readFile(ca)).ca, 'the file it names is a CA certificate');
  });
});

describe('berth --cert/--key', { timeout: TEST_TIMEOUT_MS * 4 }, () => {
  it('serves the given pair and makes no local CA', { timeout: TEST_TIMEOUT_MS }, async () => {
    const xdg = freshXdg();
    const b = berth(
      ['site', '--cert', pair.leafPath, '--key', join(pairDir, 'localhost.key'), '-p', '0'],
      xdg,
    );
    try {
      const { scheme, port } = await started(b);
      assert.equal(scheme, 'https');
      const served = await servedCertificate(port, 'localhost');
      assert.equal(served.fingerprint256, new X509Certificate(pair.cert).fingerprint256);
      const out = await curlTls(pair.caCertPath, 'localhost', port, '/hello.txt');
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, HELLO);
      assert.equal(existsSync(join(xdg, 'berth')), false, 'no local CA is made when files are given');
    } finally {
      assert.equal(await stop(b), 0);
    }
  });

  it('decrypts an encrypted key with --key-pass-file', { timeout: TEST_TIMEOUT_MS }, async () => {
    const keyPath = join(dir, 'encrypted.key');
    const passPath = join(dir, 'pass.txt');
    await writeKeyAndPass(keyPath, passPath, 'correct horse battery staple');
    const b = berth(
      ['site', '--cert', pair.leafPath, '--key', keyPath, '--key-pass-file', passPath, '-p', '0'],
      freshXdg(),
    );
    try {
      const { port } = await started(b);
      const out = await curlTls(pair.caCertPath, 'localhost', port, '/hello.txt');
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, HELLO);
    } finally {
      assert.equal(await stop(b), 0);
    }
  });

  it('refuses a wrong passphrase with one line and a non-zero exit', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const keyPath = join(dir, 'encrypted-2.key');
    const passPath = join(dir, 'pass-2.txt');
    const wrongPath = join(dir, 'wrong-pass.txt');
    await writeKeyAndPass(keyPath, passPath, 'the right one');
    await writeFile(wrongPath, 'the wrong one\n', { mode: 0o600 });
    const out = await finished(
      ['site', '--cert', pair.leafPath, '--key', keyPath, '--key-pass-file', wrongPath, '-p', '0'],
      freshXdg(),
    );
    assert.notEqual(out.code, 0);
    assert.equal(out.stdout, '');
    const lines = out.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0]!, /^berth: .*encrypted-2\.key.*wrong passphrase/);
  });
});

describe('berth --redirect-http, --hsts, --h2c', { timeout: TEST_TIMEOUT_MS * 4 }, () => {
  it('--redirect-http answers 308 to https://HOST:PORT/path?query, and curl -L lands there', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const xdg = freshXdg();
    const httpPort = await freePort();
    const b = berth(['site', '--tls', '-p', '0', '--redirect-http', String(httpPort)], xdg);
    try {
      const { port, redirect } = await started(b);
      assert.equal(redirect, httpPort, 'the startup line names the redirecting port');
      const head = (host: string, target: string) =>
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
      const local = await exchange({ port: httpPort }, head(`localhost:${httpPort}`, '/a/b.txt?x=1&y=%20'));
      assert.equal(local.finals[0]?.status, 308, local.text);
      assert.equal(field(local.finals[0]!, 'location'), `https://localhost:${port}/a/b.txt?x=1&y=%20`);
      assert.equal(field(local.finals[0]!, 'strict-transport-security'), undefined);
      const ip = await exchange({ port: httpPort }, head(`127.0.0.1:${httpPort}`, '/?q'));
      assert.equal(field(ip.finals[0]!, 'location'), `https://127.0.0.1:${port}/?q`);

      const followed = await curl([
        '-sS',
        '--noproxy',
        '*',
        '-L',
        '--cacert',
        join(xdg, 'berth', 'ca.crt'),
        '--resolve',
        `localhost:${httpPort}:127.0.0.1`,
        '--resolve',
        `localhost:${port}:127.0.0.1`,
        '-w',
        '\n%{url_effective}',
        `http://localhost:${httpPort}/hello.txt`,
      ]);
      assert.equal(followed.code, 0, followed.stderr);
      assert.equal(followed.stdout, `${HELLO}\nhttps://localhost:${port}/hello.txt`);
    } finally {
      assert.equal(await stop(b), 0);
    }
  });

  it('--hsts adds Strict-Transport-Security over HTTPS (and not on the cleartext redirect)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const xdg = freshXdg();
    const httpPort = await freePort();
    const b = berth(['site', '--tls', '--hsts', '-p', '0', '--redirect-http', String(httpPort)], xdg);
    try {
      const { port } = await started(b);
      for (const flag of ['--http2', '--http1.1']) {
        const out = await curlTls(join(xdg, 'berth', 'ca.crt'), 'localhost', port, '/hello.txt', [
          flag,
          '-D',
          '-',
          '-o',
          '/dev/null',
        ]);
        assert.equal(out.code, 0, out.stderr);
        assert.match(
          out.stdout,
          /^strict-transport-security: max-age=31536000\r$/im,
          `${flag}: ${out.stdout}`,
        );
      }
      const missing = await curlTls(join(xdg, 'berth', 'ca.crt'), 'localhost', port, '/nope', [
        '-D',
        '-',
        '-o',
        '/dev/null',
      ]);
      assert.match(missing.stdout, /^HTTP\/2 404/);
      assert.match(missing.stdout, /^strict-transport-security: max-age=31536000\r$/im, 'on errors too');
      // RFC 6797 §7.2: never over cleartext.
      const plain = await exchange(
        { port: httpPort },
        'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      );
      assert.equal(plain.finals[0]?.status, 308);
      assert.equal(field(plain.finals[0]!, 'strict-transport-security'), undefined);
    } finally {
      assert.equal(await stop(b), 0);
    }
  });

  it('--hsts without TLS is a one-line usage error', { timeout: TEST_TIMEOUT_MS }, async () => {
    const out = await finished(['site', '--hsts', '-p', '0'], freshXdg());
    assert.equal(out.code, 2);
    assert.equal(out.stdout, '');
    assert.equal(out.stderr, 'berth: --hsts only applies to HTTPS: add --tls or --cert/--key\n');
  });

  it('--h2c answers curl --http2-prior-knowledge over HTTP/2, and HTTP/1.1 on the same port', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const b = berth(['site', '--h2c', '-p', '0'], freshXdg());
    try {
      const { scheme, port } = await started(b);
      assert.equal(scheme, 'http');
      const url = `http://127.0.0.1:${port}/hello.txt`;
      const h2 = await curl([
        '-sS',
        '--noproxy',
        '*',
        '--http2-prior-knowledge',
        '-w',
        '\n%{http_version}',
        url,
      ]);
      assert.equal(h2.code, 0, h2.stderr);
      assert.equal(h2.stdout, `${HELLO}\n2`);
      const h1 = await curl(['-sS', '--noproxy', '*', '--http1.1', '-w', '\n%{http_version}', url]);
      assert.equal(h1.code, 0, h1.stderr);
      assert.equal(h1.stdout, `${HELLO}\n1.1`);
    } finally {
      assert.equal(await stop(b), 0);
    }
  });
});

/** Writes the pair's key encrypted (PKCS#8, AES-256-CBC) and its passphrase with a trailing newline. */
async function writeKeyAndPass(keyPath: string, passPath: string, passphrase: string): Promise<void> {
  const encrypted = createPrivateKey(pair.key).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase,
  });
  assert.match(String(encrypted), /-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  await writeFile(keyPath, encrypted, { mode: 0o600 });
  await writeFile(passPath, `${passphrase}\n`, { mode: 0o600 });
}
