/**
 * Faults, with nothing lost (issue #8 §3): a file-size limit hit during an upload, a config file
 * that disappears before a reload, and SIGTERM with requests in flight. The real command runs
 * (through tsx, or under prlimit for the file-size limit); clients are curl and fetch on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { portOf, startBerth } from './berth-process.js';
import { curl } from './raw-client.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-faults-'));
  await chmod(dir, 0o755);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('faults', () => {
  it('an upload past the file-size limit gets 413, keeps the old file and leaves no temp file', async () => {
    const site = join(dir, 'site');
    await mkdir(site);
    await writeFile(join(site, 'doc.txt'), 'the original');
    // RLIMIT_FSIZE: a write past 100 kB fails with EFBIG (Node ignores SIGXFSZ).
    const child = spawn(
      'prlimit',
      [
        '--fsize=100000',
        process.execPath,
        '--import',
        TSX,
        MAIN,
        site,
        '-p',
        '0',
        '--upload',
        '--unsafe-open-uploads',
        '--log',
        'off',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
    });
    try {
      for (let i = 0; i < 200 && !stdout.includes('\n'); i++) await sleep(50);
      const port = portOf(stdout.split('\n')[0]!);
      const big = join(dir, 'big.bin');
      await writeFile(big, Buffer.alloc(300_000, 0x61));
      const put = await curl([
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-T',
        big,
        `http://127.0.0.1:${port}/doc.txt`,
      ]);
      assert.equal(put.stdout, '413');
      assert.equal(await readFile(join(site, 'doc.txt'), 'utf8'), 'the original');
      assert.deepEqual(await readdir(site), ['doc.txt'], 'no temporary file left behind');
      const get = await curl(['-s', `http://127.0.0.1:${port}/doc.txt`]);
      assert.equal(get.stdout, 'the original');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('a config file that disappears before a reload leaves the running config serving', async () => {
    const file = join(dir, 'vanishing.yaml');
    await writeFile(
      file,
      'listeners: [{ port: 0 }]\nlog: { format: off }\nsites:\n  - routes: [{ respond: { status: 200, body: still here } }]\n',
    );
    const berth = startBerth(['--config', file]);
    try {
      const port = portOf(await berth.startupLine());
      await rm(file);
      process.kill(berth.child.pid!, 'SIGHUP');
      for (let i = 0; i < 100 && !berth.stderr().includes('reload refused'); i++) await sleep(50);
      assert.match(berth.stderr(), /reload refused, the running config stays: .*vanishing\.yaml/);
      assert.equal((await curl(['-s', `http://127.0.0.1:${port}/`])).stdout, 'still here');
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('SIGTERM lets every accepted request finish, then exits 0', async () => {
    const slow = join(dir, 'slow');
    await mkdir(slow);
    // A 4 MiB file, sent to clients that read slowly: they are in flight when SIGTERM comes.
    await writeFile(join(slow, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 0x62));
    const berth = startBerth([slow, '-p', '0', '--log', 'off']);
    const port = portOf(await berth.startupLine());
    const downloads = Array.from({ length: 8 }, () =>
      curl(
        [
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code} %{size_download}',
          '--limit-rate',
          '2M',
          `http://127.0.0.1:${port}/big.bin`,
        ],
        15_000,
      ),
    );
    await sleep(500);
    assert.equal(await berth.stop(), 0);
    for (const result of await Promise.all(downloads)) {
      assert.equal(result.stdout, `200 ${4 * 1024 * 1024}`, result.stderr);
    }
    const refused = await curl([
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `http://127.0.0.1:${port}/big.bin`,
    ]);
    assert.equal(refused.stdout, '000', 'new connections are refused once it has stopped');
  });
});
