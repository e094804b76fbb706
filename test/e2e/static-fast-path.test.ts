/**
 * The file server's promise-free path (src/static/send-fast.ts) against its long way
 * (sendFile()): the first request for a file takes the long way (nothing is memoized yet), the
 * next ones take the fast path when they can. Whatever the file and the request, the answers
 * must be the same bytes, fields and order (Date aside).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ParsedResponse } from './raw-client.js';
import {
  makeTempDir,
  rawRequest,
  removeTree,
  STATIC_TIMEOUT_MS,
  withStatic,
  writeTree,
} from './static-fixture.js';

let root = '';
const HTML = `<!doctype html><p>${'words '.repeat(400)}</p>\n`;

before(async () => {
  root = await makeTempDir('fast');
  await writeTree(root, {
    'plain.bin': randomBytes(2048),
    'page.html': HTML,
    'style.css': `body { color: red; }\n${'/* pad */\n'.repeat(200)}`,
    'style.css.gz': randomBytes(100),
    'doc.html': HTML,
    'doc.html.fr': `<!doctype html><p>${'mots '.repeat(400)}</p>\n`,
    'small.txt': 'tiny file\n',
    'empty.txt': '',
  });
});
after(() => removeTree(root));

/** Status, fields in order without Date, and body: what must not depend on the path taken. */
function answer(res: ParsedResponse): unknown {
  return {
    status: res.status,
    fields: res.fields.filter(([name]) => name.toLowerCase() !== 'date'),
    body: res.body.toString('base64'),
  };
}

const CASES: readonly { target: string; method?: string; headers?: Record<string, string> }[] = [
  { target: '/plain.bin' },
  { target: '/plain.bin', method: 'HEAD' },
  { target: '/page.html' },
  { target: '/page.html', headers: { 'Accept-Encoding': 'gzip' } },
  { target: '/page.html', headers: { 'Accept-Encoding': 'identity;q=1, br;q=0.5' } },
  { target: '/page.html', headers: { 'Accept-Encoding': 'br;q=1, identity;q=0' } },
  { target: '/page.html', headers: { Range: 'bytes=0-9' } },
  { target: '/style.css' },
  { target: '/style.css', headers: { 'Accept-Encoding': 'gzip' } },
  { target: '/doc.html' },
  { target: '/doc.html', headers: { 'Accept-Language': 'fr' } },
  { target: '/doc.html.fr' },
  { target: '/small.txt' },
  { target: '/empty.txt' },
  { target: '/small.txt?query=1' },
];

describe('the static fast path', () => {
  for (const { target, method = 'GET', headers = {} } of CASES) {
    const label = `${method} ${target} ${JSON.stringify(headers)}`;
    it(`answers ${label} the same cold and hot`, { timeout: STATIC_TIMEOUT_MS * 4 }, () =>
      withStatic({ root }, async ({ port }) => {
        const cold = await rawRequest(port, method, target, headers);
        const hot = await rawRequest(port, method, target, headers);
        const again = await rawRequest(port, method, target, headers);
        assert.deepEqual(answer(hot), answer(cold));
        assert.deepEqual(answer(again), answer(cold));
      }),
    );
  }

  it('answers a conditional request for a hot file with 304', { timeout: STATIC_TIMEOUT_MS * 2 }, () =>
    withStatic({ root }, async ({ port }) => {
      const first = await rawRequest(port, 'GET', '/small.txt');
      await rawRequest(port, 'GET', '/small.txt');
      const etag = first.fields.find(([name]) => name === 'ETag')?.[1];
      assert.ok(etag);
      const revalidated = await rawRequest(port, 'GET', '/small.txt', { 'If-None-Match': etag });
      assert.equal(revalidated.status, 304);
      assert.equal(revalidated.body.length, 0);
    }),
  );

  it(
    'serves a file changed on disk, not the remembered one, once the memo is stale',
    {
      timeout: STATIC_TIMEOUT_MS * 2,
    },
    () =>
      withStatic({ root }, async ({ port }) => {
        const path = join(root, 'changing.txt');
        await writeFile(path, 'first version\n');
        assert.equal((await rawRequest(port, 'GET', '/changing.txt')).body.toString(), 'first version\n');
        assert.equal((await rawRequest(port, 'GET', '/changing.txt')).body.toString(), 'first version\n');
        await writeFile(path, 'the second, longer version\n');
        await sleep(1_100); // the lookups are trusted for a second
        const changed = await rawRequest(port, 'GET', '/changing.txt');
        assert.equal(changed.body.toString(), 'the second, longer version\n');
      }),
  );
});
