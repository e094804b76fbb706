/**
 * Runs the `berth` command as a user would, as its own process (`node --import tsx
 * src/cli/main.ts`), in a temporary folder so ROOT is typed relative to it, and talks to it with
 * Node's fetch.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './berth-process.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(REPO, 'src', 'cli', 'main.ts');
// Resolved here, from the repository, because the command runs in a folder without node_modules.
const TSX = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 20_000;

type Berth = {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
};

let dir = '';

function berth(args: string[], env: Record<string, string> = {}): Berth {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: dir,
    env: { ...process.env, PORT: '', ...env },
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

/** Waits until stdout holds a whole first line; rejects if the command exits first. */
async function startupLine(b: Berth): Promise<string> {
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
  return b.stdout().split('\n')[0]!;
}

/** Waits until `predicate(stdout)` holds (the access log is flushed within ~100 ms). */
async function waitForStdout(b: Berth, predicate: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 5_000;
  while (!predicate(b.stdout())) {
    if (Date.now() > deadline) throw new Error(`stdout never matched; got: ${b.stdout()}`);
    await sleep(20);
  }
  return b.stdout();
}

async function stop(b: Berth): Promise<number | null> {
  if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGTERM');
  return b.exited;
}

/** Runs a command that must fail at once; returns its exit code and its stderr as lines. */
async function failing(args: string[]): Promise<{ code: number | null; lines: string[]; stdout: string }> {
  const b = berth(args);
  const code = await b.exited;
  return { code, lines: b.stderr().trimEnd().split('\n'), stdout: b.stdout() };
}

function basic(userPass: string): string {
  return `Basic ${Buffer.from(userPass).toString('base64')}`;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  await mkdir(join(dir, 'site'));
  await writeFile(join(dir, 'site', 'hello.txt'), 'hello from berth\n');
  await writeFile(join(dir, 'site', 'index.html'), '<h1>home</h1>\n');
  await writeFile(join(dir, 'a-file'), 'not a folder');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('berth serve', () => {
  it('prints one startup line with the real port for -p 0, serves files and logs them', async () => {
    const b = berth(['site', '-p', '0']);
    try {
      const line = await startupLine(b);
      const match = /^berth: serving site on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      assert.ok(match, line);
      assert.notEqual(match[2], '0');
      const res = await fetch(`${match[1]}/hello.txt`, {
        headers: { 'user-agent': 'e2e-agent', authorization: basic('x:y') },
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello from berth\n');
      const out = await waitForStdout(b, (text) => text.includes('/hello.txt'));
      const logLine = out.split('\n')[1]!;
      assert.match(
        logLine,
        /^127\.0\.0\.1 - - \[.+ \+0000\] "GET \/hello.txt HTTP\/1.1" 200 17 "-" "e2e-agent"$/,
      );
      assert.doesNotMatch(out, /eDp5/, 'the Authorization value is never logged');
    } finally {
      assert.equal(await stop(b), 0);
    }
    assert.equal(b.stderr(), '');
  });

  it('serves . when no ROOT is given, and takes the serve word', async () => {
    const b = berth(['serve', '-p', '0']);
    try {
      const line = await startupLine(b);
      const url = /^berth: serving \. on (http:\/\/\S+)$/.exec(line)?.[1];
      assert.ok(url, line);
      assert.equal(await (await fetch(`${url}/site/hello.txt`)).text(), 'hello from berth\n');
    } finally {
      await stop(b);
    }
  });

  it('exits 0 after a graceful close on SIGTERM, and -q prints nothing', async () => {
    const port = await freePort();
    const b = berth(['site', '-q'], { PORT: String(port) });
    try {
      await waitUntilListening(port);
      assert.equal((await fetch(`http://127.0.0.1:${port}/hello.txt`)).status, 200);
    } finally {
      assert.equal(await stop(b), 0);
    }
    assert.equal(b.stdout(), '', '-q prints no startup line and no log');
    assert.equal(b.stderr(), '');
  });

  it('shows an IPv6 address in brackets: -a ::1', async (t) => {
    const probe = net.createServer();
    const v6 = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => probe.close(() => resolve(true)));
    });
    if (!v6) {
      t.skip('::1 is not available on this machine');
      return;
    }
    const b = berth(['site', '-a', '::1', '-p', '0']);
    try {
      const line = await startupLine(b);
      const url = /^berth: serving site on (http:\/\/\[::1\]:\d+)$/.exec(line)?.[1];
      assert.ok(url, line);
      assert.equal((await fetch(`${url}/hello.txt`)).status, 200);
    } finally {
      await stop(b);
    }
  });

  it('asks for a password everywhere with --auth', async () => {
    const b = berth(['site', '-p', '0', '--auth', 'ann:s3cret', '--log', 'json']);
    try {
      const url = /(http:\/\/\S+)$/.exec(await startupLine(b))?.[1];
      assert.ok(url);
      const refused = await fetch(`${url}/hello.txt`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic realm="berth"/);
      const allowed = await fetch(`${url}/hello.txt`, { headers: { authorization: basic('ann:s3cret') } });
      assert.equal(allowed.status, 200);
      const out = await waitForStdout(b, (text) => text.split('\n').length >= 4);
      const [first, second] = out
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l) as { status: number });
      assert.equal(first?.status, 401);
      assert.equal(second?.status, 200);
      assert.doesNotMatch(out, /s3cret|YW5uOnMzY3JldA/);
    } finally {
      await stop(b);
    }
  });

  it('asks for the upload password only for writes with --upload --upload-auth', async () => {
    const port = await freePort();
    const c = berth(['site', '-q', '--upload', '--upload-auth', 'w:pw'], { PORT: String(port) });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitUntilListening(port);
      assert.equal((await fetch(`${url}/hello.txt`)).status, 200);
      const anonymous = await fetch(`${url}/new.txt`, { method: 'PUT', body: 'x' });
      assert.equal(anonymous.status, 401);
      const put = await fetch(`${url}/new.txt`, {
        method: 'PUT',
        body: 'written',
        headers: { authorization: basic('w:pw') },
      });
      assert.ok(put.status === 201 || put.status === 204, String(put.status));
      assert.equal(await readFile(join(dir, 'site', 'new.txt'), 'utf8'), 'written');
    } finally {
      await stop(c);
      await rm(join(dir, 'site', 'new.txt'), { force: true });
    }
  });

  it('writes the access log to --log-file', async () => {
    const b = berth(['site', '-p', '0', '--log', 'common', '--log-file', 'access.log']);
    try {
      const url = /(http:\/\/\S+)$/.exec(await startupLine(b))?.[1];
      assert.ok(url);
      await (await fetch(`${url}/missing`)).arrayBuffer();
    } finally {
      assert.equal(await stop(b), 0);
    }
    const text = await readFile(join(dir, 'access.log'), 'utf8');
    assert.match(text, /^127\.0\.0\.1 - - \[.+\] "GET \/missing HTTP\/1.1" 404 \d+\n$/);
    assert.equal(b.stdout().split('\n').length, 2, 'stdout holds the startup line only');
  });

  it('reopens the log file on SIGUSR1 (log rotation)', async () => {
    const log = join(dir, 'rotate.log');
    const b = berth(['site', '-p', '0', '--log-file', 'rotate.log']);
    try {
      const url = /(http:\/\/\S+)$/.exec(await startupLine(b))?.[1];
      assert.ok(url);
      await (await fetch(`${url}/hello.txt?before`)).arrayBuffer();
      await waitFor(async () => (await readFile(log, 'utf8').catch(() => '')).includes('?before'));
      await rename(log, `${log}.1`);
      b.child.kill('SIGUSR1');
      await waitFor(async () => (await readFile(log, 'utf8').catch(() => undefined)) !== undefined);
      await (await fetch(`${url}/hello.txt?after`)).arrayBuffer();
    } finally {
      assert.equal(await stop(b), 0);
    }
    assert.doesNotMatch(await readFile(`${log}.1`, 'utf8'), /\?after/);
    assert.match(
      await readFile(log, 'utf8'),
      /^[^\n]*"GET \/hello.txt\?after HTTP\/1.1" 200 17 "-" "node"\n$/,
    );
  });

  it('listens on a unix socket with --unix and says unix:PATH', async () => {
    const path = join(dir, 'berth.sock');
    const b = berth(['site', '--unix', path]);
    try {
      assert.equal(await startupLine(b), `berth: serving site on unix:${path}`);
    } finally {
      assert.equal(await stop(b), 0);
    }
  });
});

describe('berth errors', () => {
  it('exits non-zero with one line naming the port when -p is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, lines, stdout } = await failing(['site', '-p', String(port)]);
      assert.equal(code, 1);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0]!, new RegExp(`^berth: cannot listen on 127\\.0\\.0\\.1:${port}: .*in use`));
      assert.equal(stdout, '', 'no startup line, and no other port tried');
    } finally {
      taken.close();
    }
  });

  it('refuses --upload without credentials, in one line that says how to fix it', async () => {
    const { code, lines } = await failing(['site', '--upload']);
    assert.equal(code, 2);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^berth: --upload .*--upload-auth USER:PASS.*--unsafe-open-uploads/);
  });

  it('names an unknown flag in one line', async () => {
    const { code, lines } = await failing(['site', '--bogus']);
    assert.equal(code, 2);
    assert.deepEqual(lines, ['berth: unknown option --bogus (see berth --help)']);
  });

  it('says in one line when ROOT is missing or not a folder', async () => {
    const missing = await failing(['nowhere', '-p', '0']);
    assert.equal(missing.code, 2);
    assert.deepEqual(missing.lines, ['berth: nowhere: no such directory']);
    const file = await failing(['a-file', '-p', '0']);
    assert.equal(file.code, 2);
    assert.equal(file.lines.length, 1);
    assert.match(file.lines[0]!, /^berth: a-file is not a directory/);
  });

  it('says in one line when --auth-file cannot be read', async () => {
    const { code, lines } = await failing(['site', '--auth-file', 'no-such.htpasswd']);
    assert.equal(code, 2);
    assert.deepEqual(lines, ['berth: --auth-file no-such.htpasswd: no such file']);
  });
});

describe('berth --help and --version', () => {
  it('--help lists the flags and exits 0', async () => {
    const b = berth(['--help']);
    assert.equal(await b.exited, 0);
    const help = b.stdout();
    assert.match(help, /^usage: berth \[serve\] \[ROOT\] \[options\]/);
    for (const flag of [
      '--port',
      '--address',
      '--unix',
      '--cache',
      '--cors',
      '--spa',
      '--no-listing',
      '--dotfiles',
      '--follow-symlinks',
      '--no-compress',
      '--log',
      '--log-file',
      '--quiet',
      '--auth',
      '--auth-file',
      '--upload',
      '--upload-auth',
      '--unsafe-open-uploads',
      '--max-upload',
      '--help',
      '--version',
    ]) {
      assert.ok(help.includes(flag), flag);
    }
  });

  it('--version prints the package version', async () => {
    const b = berth(['-v']);
    assert.equal(await b.exited, 0);
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.equal(b.stdout(), `berth ${pkg.version}\n`);
  });
});

async function waitUntilListening(port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await sleep(50);
  }
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
