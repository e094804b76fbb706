import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { portOf, startBerth } from './berth-process.js';
import { curl } from './raw-client.js';

let app: http.Server;
let appUrl = '';
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-proxy-cli-'));
  await writeFile(join(dir, 'page.txt'), 'a file');
  app = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(
      `app ${req.method} ${req.url} via=${req.headers.via ?? ''} xff=${req.headers['x-forwarded-for'] ?? ''}`,
    );
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => app.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('berth proxy, berth forward-proxy and --fallback-proxy', () => {
  it('berth proxy --to forwards to the app with Via and X-Forwarded-For, and says so in one line', async () => {
    const berth = startBerth(['proxy', '--to', appUrl, '-p', '0', '--pseudonym', 'gw1']);
    try {
      const line = await berth.startupLine();
      assert.match(line, new RegExp(`^berth: proxying to ${appUrl} on http://127\\.0\\.0\\.1:\\d+$`));
      const body = await (await fetch(`http://127.0.0.1:${portOf(line)}/items?x=1`)).text();
      assert.equal(body, 'app GET /items?x=1 via=1.1 gw1 xff=127.0.0.1');
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('berth forward-proxy serves curl -x with absolute-form requests', async () => {
    const berth = startBerth(['forward-proxy', '-p', '0', '--pseudonym', 'fw1']);
    try {
      const line = await berth.startupLine();
      assert.match(line, /^berth: forward proxy on http:\/\/127\.0\.0\.1:\d+$/);
      const result = await curl(['-sS', '-x', `http://127.0.0.1:${portOf(line)}`, `${appUrl}/through`]);
      assert.equal(result.stdout, 'app GET /through via=1.1 fw1 xff=');
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('berth ROOT --fallback-proxy serves files and sends the rest to the app', async () => {
    const berth = startBerth([dir, '--fallback-proxy', appUrl, '-p', '0', '--log', 'off']);
    try {
      const port = portOf(await berth.startupLine());
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/page.txt`)).text(), 'a file');
      const api = await (await fetch(`http://127.0.0.1:${port}/api`, { method: 'POST', body: 'x' })).text();
      assert.match(api, /^app POST \/api /);
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });

  it('refuses nonsense in one line: proxy without --to, serve flags on a proxy, a bad upstream URL', async () => {
    for (const args of [
      ['proxy'],
      ['forward-proxy', '--spa'],
      ['proxy', '--to', 'ftp://x'],
      [dir, '--to', appUrl],
    ]) {
      const berth = startBerth(args);
      const code = await berth.exited;
      assert.notEqual(code, 0, args.join(' '));
      assert.equal(berth.stderr().trim().split('\n').length, 1, berth.stderr());
      assert.match(berth.stderr(), /^berth: /);
    }
  });
});
