import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createStaticHandler } from '../../src/static/serve.js';
import { withServer } from './raw-client.js';

test('a fallback handler gets what is not a file: missing paths and methods files do not take', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fallback-'));
  try {
    await writeFile(join(root, 'page.html'), '<p>file</p>');
    const handler = await createStaticHandler({
      root,
      fallback: (req, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.end(`app ${req.method} ${req.url}`);
      },
    });
    await withServer(handler, undefined, async ({ url }) => {
      assert.equal(await (await fetch(`${url}/page.html`)).text(), '<p>file</p>');
      assert.equal(await (await fetch(`${url}/api/items?x=1`)).text(), 'app GET /api/items?x=1');
      const posted = await fetch(`${url}/page.html`, { method: 'POST', body: 'x' });
      assert.equal(await posted.text(), 'app POST /page.html');
      const options = await fetch(`${url}/page.html`, { method: 'OPTIONS' });
      assert.equal(options.status, 204);
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
