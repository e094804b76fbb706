/**
 * `--cache` on the proxy commands, end to end: `berth proxy --to URL --cache` (memory, and
 * `--cache-dir` surviving a restart) and `berth forward-proxy --cache` with curl -x, in front of a
 * node:http origin on 127.0.0.1 that counts its requests.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, portOf, startBerth } from './berth-process.js';
import { curl } from './raw-client.js';

let origin: http.Server;
let originUrl = '';
let hits = 0;
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cache-cli-'));
  origin = http.createServer((req, res) => {
    hits++;
    res.setHeader('Cache-Control', req.url === '/private' ? 'private, max-age=60' : 'max-age=60');
    res.setHeader('Content-Type', 'text/plain');
    res.end(`origin ${req.url} #${hits}`);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => origin.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('berth proxy --cache and berth forward-proxy --cache', () => {
  it('berth proxy --cache answers a repeat request itself, with Cache-Status', async () => {
    const berth = startBerth(['proxy', '--to', originUrl, '--cache', '-p', '0', '--log', 'off']);
    try {
      const line = await berth.startupLine();
      assert.match(line, /proxying to .* with a cache on http:/);
      const url = `http://127.0.0.1:${portOf(line)}/memory`;
      const before = hits;
      const first = await fetch(url);
      assert.equal(await first.text(), `origin /memory #${before + 1}`);
      const second = await fetch(url);
      assert.equal(await second.text(), `origin /memory #${before + 1}`);
      assert.match(second.headers.get('cache-status') ?? '', /^berth; hit; ttl=\d+$/);
      assert.equal(hits, before + 1);
      const privateFirst = await (await fetch(`http://127.0.0.1:${portOf(line)}/private`)).text();
      const privateSecond = await (await fetch(`http://127.0.0.1:${portOf(line)}/private`)).text();
      assert.notEqual(privateFirst, privateSecond, 'a private response is not served to another client');
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('berth proxy --cache --cache-dir keeps responses across a restart', async () => {
    const cacheDir = join(dir, 'store');
    // A fixed port: the cache key holds the Host the client sent, port included.
    const port = await freePort();
    const args = [
      'proxy',
      '--to',
      originUrl,
      '--cache',
      '--cache-dir',
      cacheDir,
      '--cache-size',
      '16',
      '-p',
      String(port),
      '--log',
      'off',
    ];
    const first = startBerth(args);
    const before = hits;
    try {
      const line = await first.startupLine();
      const body = await (await fetch(`http://127.0.0.1:${portOf(line)}/disk`)).text();
      assert.equal(body, `origin /disk #${before + 1}`);
    } finally {
      assert.equal(await first.stop(), 0);
    }
    const second = startBerth(args);
    try {
      const line = await second.startupLine();
      const res = await fetch(`http://127.0.0.1:${portOf(line)}/disk`);
      assert.equal(await res.text(), `origin /disk #${before + 1}`);
      assert.match(res.headers.get('cache-status') ?? '', /hit/);
      assert.equal(hits, before + 1);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });

  it('berth forward-proxy --cache serves curl -x from the cache the second time', async () => {
    const berth = startBerth(['forward-proxy', '--cache', '-p', '0', '--log', 'off']);
    try {
      const line = await berth.startupLine();
      const proxy = `http://127.0.0.1:${portOf(line)}`;
      const before = hits;
      const a = await curl(['-s', '-x', proxy, `${originUrl}/fwd`]);
      const b = await curl(['-s', '-i', '-x', proxy, `${originUrl}/fwd`]);
      assert.equal(a.stdout, `origin /fwd #${before + 1}`);
      assert.match(b.stdout, /cache-status: berth; hit/i);
      assert.equal(hits, before + 1);
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('rejects --cache-size without --cache, and a value given to --cache, in one line', async () => {
    for (const args of [
      ['proxy', '--to', originUrl, '--cache-size', '10'],
      ['proxy', '--to', originUrl, '--cache=yes'],
    ]) {
      const berth = startBerth(args);
      assert.equal(await berth.exited, 2);
      assert.match(berth.stderr(), /^berth: --cache/);
    }
  });
});
