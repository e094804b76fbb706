/**
 * `berth --config FILE`, `berth check FILE` and `berth reload` end to end: the real command (through
 * tsx), a config file in a temp folder, curl and fetch as clients on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, portOf, startBerth } from './berth-process.js';
import { curl } from './raw-client.js';

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-config-cli-'));
  await writeFile(join(dir, 'index.html'), '<h1>default site</h1>');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A config: site a.test answers `body`, the default site serves the temp folder. */
function config(body: string, extra = ''): string {
  return `listeners:
  - { port: 0 }
pidFile: ./berth.pid
log: { format: off }
${extra}
sites:
  - hosts: [a.test]
    routes:
      - match: /
        respond: { status: 200, body: "${body}" }
  - routes:
      - match: /
        static: .
`;
}

async function get(port: number, host: string, path = '/'): Promise<string> {
  const result = await curl(['-s', '-H', `Host: ${host}`, `http://127.0.0.1:${port}${path}`]);
  return result.stdout;
}

describe('berth --config, check and reload', () => {
  it('routes by Host to each site, and shows the status page to loopback', async () => {
    const file = join(dir, 'sites.yaml');
    await writeFile(file, config('site a'));
    const berth = startBerth(['--config', file]);
    try {
      const port = portOf(await berth.startupLine());
      assert.equal(await get(port, 'a.test'), 'site a');
      assert.equal(await get(port, 'other.test'), '<h1>default site</h1>');
      const status = await fetch(`http://127.0.0.1:${port}/.berth/status.json`);
      assert.equal(status.status, 200);
      assert.ok('totals' in ((await status.json()) as object));
      const metrics = await (await fetch(`http://127.0.0.1:${port}/.berth/metrics`)).text();
      assert.match(metrics, /^berth_requests_total/m);
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('berth check names the file, line and key of a mistake, and summarises a good file', async () => {
    const good = join(dir, 'good.yaml');
    await writeFile(good, config('ok'));
    const ok = startBerth(['check', good]);
    assert.equal(await ok.exited, 0);
    assert.match(ok.stdout(), /1 listener/);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, config('ok').replace('match: /\n        static: .', 'match: /\n        statik: .'));
    const refused = startBerth(['check', bad]);
    assert.equal(await refused.exited, 2);
    assert.match(refused.stderr(), /^berth: .*bad\.yaml:\d+:\d+: sites\[1\]\.routes\[0\]/);
  });

  it('berth reload moves a running berth to the edited file, and a broken edit changes nothing', async () => {
    const file = join(dir, 'reload.yaml');
    await writeFile(file, config('before'));
    const berth = startBerth(['--config', file]);
    try {
      const port = portOf(await berth.startupLine());
      assert.equal(await get(port, 'a.test'), 'before');
      assert.equal((await readFile(join(dir, 'berth.pid'), 'utf8')).trim(), String(berth.child.pid));
      await writeFile(file, config('after'));
      const reload = startBerth(['reload', '--config', file]);
      assert.equal(await reload.exited, 0);
      await waitFor(async () => (await get(port, 'a.test')) === 'after');
      await writeFile(file, 'sites: [');
      process.kill(berth.child.pid!, 'SIGHUP');
      await waitFor(async () => berth.stderr().includes('reload refused'));
      assert.equal(await get(port, 'a.test'), 'after');
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('workers: 2 serves from worker processes and stops them cleanly one after the other', async () => {
    const file = join(dir, 'workers.yaml');
    await writeFile(file, config('from a worker', 'workers: 2'));
    const berth = startBerth(['--config', file]);
    let stopped = false;
    try {
      const line = await berth.startupLine();
      const port = portOf(line);
      assert.match(berth.stdout(), /2 workers/);
      for (let i = 0; i < 10; i++) assert.equal(await get(port, 'a.test'), 'from a worker');
      const pids = await workerPids(berth.child.pid!, 2);
      assert.equal(await berth.stop(), 0);
      stopped = true;
      const order = [...berth.stderr().matchAll(/worker (\d+) stopped \((\d) of 2\)/g)].map((m) => [
        Number(m[1]),
        m[2],
      ]);
      assert.deepEqual(
        order.map(([, n]) => n),
        ['1', '2'],
        berth.stderr(),
      );
      assert.deepEqual(order.map(([pid]) => pid).sort(), [...pids].sort());
    } finally {
      if (!stopped) await berth.stop();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('berth --config with workers', () => {
  it('replaces a worker that dies and rolls a reload through every worker', async () => {
    const file = join(dir, 'workers-reload.yaml');
    // A fixed port: with port 0, a listener whose every worker died gets a new random port.
    const fixed = await freePort();
    await writeFile(file, config('first', 'workers: 2').replace('port: 0', `port: ${fixed}`));
    const berth = startBerth(['--config', file]);
    try {
      const port = portOf(await berth.startupLine());
      const workers = await workerPids(berth.child.pid!, 2);
      process.kill(workers[0]!, 'SIGKILL');
      await waitFor(async () => berth.stderr().includes('starting another'));
      // A worker that dies young is replaced after a second; the new one starts tsx cold.
      await waitFor(async () => (await workerPids(berth.child.pid!, 0)).length === 2, 20_000);
      for (let i = 0; i < 10; i++) {
        const out = await curl(['-sS', '-H', 'Host: a.test', `http://127.0.0.1:${port}/`]);
        assert.equal(out.stdout, 'first', `curl ${out.code}: ${out.stderr}; berth: ${berth.stderr()}`);
      }
      await writeFile(file, config('second', 'workers: 2').replace('port: 0', `port: ${fixed}`));
      process.kill(berth.child.pid!, 'SIGHUP');
      await waitFor(async () => berth.stderr().includes('reloaded'), 20_000);
      // Every connection (curl opens a new one each time) lands on some worker: all answer anew.
      for (let i = 0; i < 10; i++) assert.equal(await get(port, 'a.test'), 'second');
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });
});

/**
 * The pids of a process's live worker children (the command itself, forked by node:cluster; not
 * tsx's esbuild helper), once there are at least `atLeast` of them.
 */
async function workerPids(parent: number, atLeast: number): Promise<number[]> {
  let pids: number[] = [];
  await waitFor(async () => {
    const text = await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8').catch(() => '');
    const children = text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number);
    pids = [];
    for (const pid of children) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      if (cmdline.includes('main.ts') && !/\) Z /.test(state)) pids.push(pid);
    }
    return pids.length >= atLeast;
  });
  return pids;
}
