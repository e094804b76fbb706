/**
 * Deploying: socket activation (a listening socket passed as descriptor 3 with LISTEN_FDS and
 * LISTEN_PID, as systemd does) and `user:` (root dropped after binding). The command runs for
 * real; `sh -c 'LISTEN_PID=$$ exec …'` gives it the pid systemd would have set.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { portOf, startBerth } from './berth-process.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-deploy-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('deploying', () => {
  it('serves on a socket passed by systemd (LISTEN_FDS), binding nothing itself', async () => {
    const file = join(dir, 'activated.yaml');
    await writeFile(
      file,
      'listeners: [{ systemd: 0 }]\nlog: { format: off }\nsites:\n  - routes: [{ respond: { status: 200, body: activated } }]\n',
    );
    const socket = net.createServer();
    await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve));
    const { port } = socket.address() as AddressInfo;
    const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawn(
      'sh',
      [
        '-c',
        `LISTEN_PID=$$ LISTEN_FDS=1 exec "${process.execPath}" --import "${TSX}" "${MAIN}" --config "${file}"`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe', fd] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
    });
    try {
      for (let i = 0; i < 200 && !stdout.includes('\n'); i++) await sleep(50);
      assert.match(stdout, /serving on/, stderr);
      // The parent stops accepting on its copy: every connection now goes to Berth.
      socket.close();
      const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      assert.equal(body, 'activated');
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
      socket.close();
    }
  });

  it('refuses a systemd listener when no socket was passed, in one line', async () => {
    const file = join(dir, 'not-activated.yaml');
    await writeFile(file, 'listeners: [{ systemd: 0 }]\nsites:\n  - routes: [{ respond: 204 }]\n');
    const berth = startBerth(['--config', file]);
    assert.notEqual(await berth.exited, 0);
    assert.match(berth.stderr(), /^berth: .*systemd passed no socket 0/);
  });

  it('user: drops root after binding (and changes nothing when not root)', async () => {
    const file = join(dir, 'user.yaml');
    await writeFile(
      file,
      'listeners: [{ port: 0 }]\nlog: { format: off }\nuser: nobody\nsites:\n  - routes: [{ respond: { status: 200, body: ok } }]\n',
    );
    const berth = startBerth(['--config', file]);
    try {
      const port = portOf(await berth.startupLine());
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
      const status = await readFile(`/proc/${berth.child.pid}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const expected = process.getuid?.() === 0 ? Number(await idOf('nobody')) : process.getuid?.();
      assert.equal(uid, expected);
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });
});

describe('berth --user', () => {
  it('drops root after binding for the command too (and changes nothing when not root)', async () => {
    await writeFile(join(dir, 'page.txt'), 'served');
    // Readable by the user it becomes (mkdtemp makes the folder 0700).
    await chmod(dir, 0o755);
    const berth = startBerth([dir, '-p', '0', '--user', 'nobody', '--log', 'off']);
    try {
      const port = portOf(await berth.startupLine());
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/page.txt`)).text(), 'served');
      const status = await readFile(`/proc/${berth.child.pid}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const expected = process.getuid?.() === 0 ? Number(await idOf('nobody')) : process.getuid?.();
      assert.equal(uid, expected);
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });
});

/** The uid of a user, from /etc/passwd. */
async function idOf(user: string): Promise<string> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith(`${user}:`));
  if (line === undefined) throw new Error(`no user ${user}`);
  return line.split(':')[2]!;
}
