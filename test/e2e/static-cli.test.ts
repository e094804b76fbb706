/**
 * The `berth` command serving a folder, run as its own process the way a user runs it
 * (`node --import tsx src/cli/main.ts ROOT ...`): uploads with `--upload --upload-auth`, the 405
 * without `--upload`, PUT targets that try to leave ROOT, and a few serving flags
 * (`--no-compress`, `-c`, `--dotfiles allow`, `--cors`). Two processes, started once for the file.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { access, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { curl, field } from './raw-client.js';
import { makeTempDir, rawRequest, removeTree, writeTree } from './static-fixture.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(REPO, 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 15_000;
const SECRET = 'SECRET-BESIDE-THE-ROOT-do-not-overwrite';
const CREDENTIALS = 'uploader:pa55word';
const CSS = `${'.rule { color: blue; margin: 0 auto; }\n'.repeat(100)}`;

type Berth = { child: ChildProcess; url: string; port: number; stderr: () => string };

let base = '';
let root = '';
let uploads: Berth | undefined;
let readOnly: Berth | undefined;

/** Starts `berth ROOT ...args -p 0 --log off` and waits for its startup line. */
async function startBerth(args: readonly string[]): Promise<Berth> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'root', ...args, '-p', '0', '--log', 'off'], {
    cwd: base,
    env: { ...process.env, PORT: '' },
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
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!stdout.includes('\n')) {
    if (child.exitCode !== null) throw new Error(`berth exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`berth printed no startup line in time; stderr: ${stderr}`);
    }
    await sleep(20);
  }
  const match = /^berth: serving root on (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(stdout);
  if (match === null) {
    child.kill('SIGKILL');
    throw new Error(`unexpected startup line: ${stdout}`);
  }
  return { child, url: match[1]!, port: Number(match[2]), stderr: () => stderr };
}

async function stopBerth(b: Berth | undefined): Promise<void> {
  if (b === undefined || b.child.exitCode !== null || b.child.signalCode !== null) return;
  const exited = once(b.child, 'exit');
  b.child.kill('SIGTERM');
  const timer = setTimeout(() => b.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function auth(userPass = CREDENTIALS): string {
  return `Basic ${Buffer.from(userPass).toString('base64')}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  base = await makeTempDir('cli');
  root = join(base, 'root');
  await writeFile(join(base, 'secret.txt'), SECRET);
  await writeTree(root, {
    'hello.txt': 'hello\n',
    'site.css': CSS,
    '.well-known/security.txt': 'Contact: mailto:security@example.test\n',
    'sub/keep.txt': 'keep\n',
  });
  await symlink(base, join(root, 'outlink'));
  await symlink(join(base, 'secret.txt'), join(root, 'secret-link.txt'));
  [uploads, readOnly] = await Promise.all([
    startBerth(['--upload', '--upload-auth', CREDENTIALS]),
    startBerth(['--no-compress', '-c', '3600', '--dotfiles', 'allow', '--cors']),
  ]);
});

after(async () => {
  await Promise.all([stopBerth(uploads), stopBerth(readOnly)]);
  await removeTree(base);
});

describe('berth ROOT --upload --upload-auth', { timeout: TEST_TIMEOUT_MS }, () => {
  it('refuses a PUT without credentials (or with wrong ones) with 401, writing nothing', async () => {
    const { url } = uploads!;
    const none = await fetch(`${url}/new.txt`, { method: 'PUT', body: 'no auth' });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="berth"/);
    await none.arrayBuffer();
    const wrong = await fetch(`${url}/new.txt`, {
      method: 'PUT',
      body: 'wrong auth',
      headers: { authorization: auth('uploader:nope') },
    });
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();
    assert.equal(await exists(join(root, 'new.txt')), false);
    const read = await fetch(`${url}/hello.txt`);
    assert.equal(read.status, 200, 'reading needs no credentials');
    assert.equal(await read.text(), 'hello\n');
  });

  it('creates with 201 and Location, replaces with 204, deletes with 204, then 404', async () => {
    const { url } = uploads!;
    const created = await fetch(`${url}/new.txt`, {
      method: 'PUT',
      body: 'first version\n',
      headers: { authorization: auth() },
    });
    assert.equal(created.status, 201);
    assert.equal(new URL(created.headers.get('location') ?? '', url).pathname, '/new.txt');
    await created.arrayBuffer();
    assert.equal(await (await fetch(`${url}/new.txt`)).text(), 'first version\n');
    assert.equal(await readFile(join(root, 'new.txt'), 'utf8'), 'first version\n');

    const replaced = await fetch(`${url}/new.txt`, {
      method: 'PUT',
      body: 'second version\n',
      headers: { authorization: auth() },
    });
    assert.equal(replaced.status, 204);
    const got = await fetch(`${url}/new.txt`);
    assert.equal(await got.text(), 'second version\n', 'the new content at once, no stale cache');

    const refused = await fetch(`${url}/new.txt`, { method: 'DELETE' });
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();
    const deleted = await fetch(`${url}/new.txt`, { method: 'DELETE', headers: { authorization: auth() } });
    assert.equal(deleted.status, 204);
    const gone = await fetch(`${url}/new.txt`);
    assert.equal(gone.status, 404);
    await gone.arrayBuffer();
    assert.equal(await exists(join(root, 'new.txt')), false);
  });

  it('takes a 1 MiB upload from curl -T and serves it back intact', async () => {
    const { url } = uploads!;
    const payload = randomBytes(1024 * 1024);
    const local = join(base, 'payload.bin');
    await writeFile(local, payload);
    const put = await curl([
      '-sS',
      '-T',
      local,
      '-u',
      CREDENTIALS,
      '-w',
      '%{http_code}',
      `${url}/payload.bin`,
    ]);
    assert.equal(put.stdout, '201', put.stderr);
    const out = join(base, 'payload.out');
    const get = await curl(['-sS', '-o', out, '-w', '%{http_code}', `${url}/payload.bin`]);
    assert.equal(get.stdout, '200', get.stderr);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(await readFile(out)), sha(payload));
  });

  it('never writes outside ROOT, whatever the PUT target', async () => {
    const { port } = uploads!;
    const targets = [
      ['/../escape-1.txt', 'escape-1.txt'],
      ['/../../escape-2.txt', 'escape-2.txt'],
      ['/%2e%2e/escape-3.txt', 'escape-3.txt'],
      ['/sub/../../escape-4.txt', 'escape-4.txt'],
      ['/..%2fescape-5.txt', 'escape-5.txt'],
      ['/..%5cescape-6.txt', 'escape-6.txt'],
      ['/outlink/escape-7.txt', 'escape-7.txt'],
      ['/../secret.txt', 'secret.txt'],
      ['/secret-link.txt', 'secret.txt'],
      ['/outlink/secret.txt', 'secret.txt'],
    ] as const;
    const statuses: string[] = [];
    for (const [target] of targets) {
      const res = await rawRequest(port, 'PUT', target, { Authorization: auth() }, 'OVERWRITTEN');
      statuses.push(`${target} ${res.status}`);
      assert.ok([201, 204, 400, 403, 404, 409].includes(res.status), `${target}: ${res.status}`);
    }
    for (const [, name] of targets) {
      if (name === 'secret.txt') continue;
      assert.equal(
        await exists(join(base, name)),
        false,
        `${name} was written beside ROOT (${statuses.join('; ')})`,
      );
    }
    assert.equal(await readFile(join(base, 'secret.txt'), 'utf8'), SECRET, statuses.join('; '));
    const outlink = await rawRequest(port, 'PUT', '/outlink/escape-7.txt', { Authorization: auth() }, 'x');
    assert.equal(outlink.status, 403, 'a folder symlink out of ROOT is refused');
    const link = await rawRequest(port, 'PUT', '/secret-link.txt', { Authorization: auth() }, 'x');
    assert.equal(link.status, 403, 'a file symlink out of ROOT is refused');
  });
});

describe('berth ROOT without --upload', { timeout: TEST_TIMEOUT_MS }, () => {
  it('answers PUT and DELETE with 405 and Allow, and changes nothing', async () => {
    const { url } = readOnly!;
    for (const method of ['PUT', 'DELETE']) {
      const res = await fetch(`${url}/hello.txt`, {
        method,
        ...(method === 'PUT' ? { body: 'overwritten' } : {}),
        headers: { authorization: auth() },
      });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS', method);
      await res.arrayBuffer();
    }
    assert.equal(await readFile(join(root, 'hello.txt'), 'utf8'), 'hello\n');
  });

  it('obeys --no-compress, -c 3600, --dotfiles allow and --cors', async () => {
    const { port } = readOnly!;
    const css = await rawRequest(port, 'GET', '/site.css', { 'Accept-Encoding': 'gzip, br' });
    assert.equal(css.status, 200);
    assert.equal(field(css, 'content-encoding'), undefined);
    assert.equal(css.body.toString(), CSS);
    assert.equal(field(css, 'cache-control'), 'public, max-age=3600');
    assert.equal(field(css, 'access-control-allow-origin'), '*');
    const dot = await rawRequest(port, 'GET', '/.well-known/security.txt');
    assert.equal(dot.status, 200);
    assert.match(dot.body.toString(), /^Contact:/);
    assert.equal(readOnly!.stderr(), '');
  });
});
