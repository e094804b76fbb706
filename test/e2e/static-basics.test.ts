/**
 * The static file server as a client sees it: methods, media types, index files and the
 * directory redirect, 404 and 403 pages, Cache-Control, single-page-app fallback, CORS, JSON
 * listings, language variants, and a file changed on disk. One server per option set, over a temp
 * tree; clients are raw sockets (exact bytes), Node's fetch and curl.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { curl, field, IMF_FIXDATE } from './raw-client.js';
import { makeTempDir, rawRequest, removeTree, withStatic, writeTree } from './static-fixture.js';

const TEST_TIMEOUT_MS = 10_000;
/** The file server trusts a stat for about a second (STALE_CHECK_MS); wait a little longer. */
const CHANGE_NOTICED_MS = 1_200;

const INDEX_HTML = '<!doctype html><title>home</title><h1>home</h1>\n';
const INDEX_FR = '<!doctype html><html lang="fr"><title>accueil</title><h1>accueil</h1>\n';
const DOCS_INDEX = '<!doctype html><title>docs</title>\n';
const SECRET = 'SECRET-OUTSIDE-THE-ROOT-4f1c';

/** Name → [content, expected Content-Type]. */
const TYPED: readonly (readonly [string, string])[] = [
  ['page.html', 'text/html; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['data.json', 'application/json; charset=utf-8'],
  ['logo.svg', 'image/svg+xml; charset=utf-8'],
  ['image.png', 'image/png'],
  ['photo.jpg', 'image/jpeg'],
  ['clip.mp4', 'video/mp4'],
  ['pic.webp', 'image/webp'],
  ['manifest.mpd', 'application/dash+xml; charset=utf-8'],
  ['seg-1.m4s', 'video/iso.segment'],
];

let base = '';
let root = '';

before(async () => {
  base = await makeTempDir('basics');
  root = join(base, 'root');
  await writeFile(join(base, 'secret.txt'), SECRET);
  const files: Record<string, string> = {
    'index.html': INDEX_HTML,
    'index.html.fr': INDEX_FR,
    'hello.txt': 'hello, world\n',
    'docs/index.html': DOCS_INDEX,
    'plain/a.txt': 'a',
    'plain/b.txt': 'bb',
    'plain/.hidden': 'hidden',
    '.env': 'TOKEN=1',
  };
  for (const [name] of TYPED) files[`types/${name}`] = `content of ${name}`;
  await writeTree(root, files);
  await mkdir(join(root, 'plain', 'sub'));
  await symlink(join(base, 'secret.txt'), join(root, 'escape.txt'));
});

after(async () => {
  await removeTree(base);
});

describe('static files: methods and status codes', { timeout: TEST_TIMEOUT_MS }, () => {
  it('GET sends the file with its length, and HEAD sends the same head with no body', async () => {
    await withStatic({ root }, async ({ port }) => {
      const got = await rawRequest(port, 'GET', '/hello.txt');
      assert.equal(got.status, 200);
      assert.equal(got.body.toString(), 'hello, world\n');
      assert.equal(field(got, 'content-length'), '13');
      assert.equal(field(got, 'content-type'), 'text/plain; charset=utf-8');
      assert.equal(field(got, 'accept-ranges'), 'bytes');

      const head = await rawRequest(port, 'HEAD', '/hello.txt');
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      for (const name of ['content-length', 'content-type', 'etag', 'last-modified', 'cache-control']) {
        assert.equal(field(head, name), field(got, name), name);
      }
    });
  });

  it('gives text types a utf-8 charset and binary media none; .mpd and .m4s get the DASH types', async () => {
    await withStatic({ root }, async ({ url }) => {
      for (const [name, type] of TYPED) {
        const res = await fetch(`${url}/types/${name}`, { headers: { 'accept-encoding': 'identity' } });
        assert.equal(res.status, 200, name);
        assert.equal(res.headers.get('content-type'), type, name);
        assert.equal(await res.text(), `content of ${name}`);
      }
    });
  });

  it('serves index.html for a folder, and redirects a folder without its slash keeping the query', async () => {
    await withStatic({ root }, async ({ port }) => {
      const index = await rawRequest(port, 'GET', '/docs/');
      assert.equal(index.status, 200);
      assert.equal(index.body.toString(), DOCS_INDEX);
      assert.equal(field(index, 'content-type'), 'text/html; charset=utf-8');

      const redirect = await rawRequest(port, 'GET', '/docs?x=1&y=%20z');
      assert.equal(redirect.status, 301);
      assert.equal(field(redirect, 'location'), '/docs/?x=1&y=%20z');

      const bare = await rawRequest(port, 'GET', '/docs');
      assert.equal(field(bare, 'location'), '/docs/');
    });
  });

  it('follows the redirect to the folder with curl -L', async () => {
    await withStatic({ root }, async ({ url }) => {
      const result = await curl(['-sS', '-L', '-w', '\n%{http_code} %{num_redirects}', `${url}/docs?q=1`]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${DOCS_INDEX}\n200 1`);
    });
  });

  it('answers a missing file with a small HTML 404 page', async () => {
    await withStatic({ root }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/no/such/file.txt?x=<b>');
      assert.equal(res.status, 404);
      assert.equal(field(res, 'content-type'), 'text/html; charset=utf-8');
      const text = res.body.toString();
      assert.match(text, /404 Not Found/);
      assert.ok(res.body.length < 1024, `the page is small (${res.body.length} bytes)`);
      assert.doesNotMatch(text, /<b>/);
    });
  });

  it('refuses with 403 a dotfile under dotfiles: deny, and a symlink leading out of the root', async () => {
    await withStatic({ root, dotfiles: 'deny' }, async ({ port }) => {
      const dot = await rawRequest(port, 'GET', '/.env');
      assert.equal(dot.status, 403);
      assert.doesNotMatch(dot.body.toString(), /TOKEN/);
      const link = await rawRequest(port, 'GET', '/escape.txt');
      assert.equal(link.status, 403);
      assert.doesNotMatch(link.body.toString(), new RegExp(SECRET));
    });
  });

  it('answers POST and PATCH on a file with 405 and Allow, OPTIONS with 204 and Allow, TRACE with 405', async () => {
    await withStatic({ root }, async ({ url, port }) => {
      for (const method of ['POST', 'PATCH']) {
        const res = await fetch(`${url}/hello.txt`, { method, body: 'x' });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS', method);
        await res.arrayBuffer();
      }
      const options = await rawRequest(port, 'OPTIONS', '/hello.txt');
      assert.equal(options.status, 204);
      assert.equal(field(options, 'allow'), 'GET, HEAD, OPTIONS');
      assert.equal(options.body.length, 0);

      const trace = await rawRequest(port, 'TRACE', '/hello.txt');
      assert.equal(trace.status, 405);
      assert.equal(field(trace, 'allow'), 'GET, HEAD, OPTIONS');
      assert.doesNotMatch(trace.body.toString(), /TRACE \/hello/, 'TRACE never echoes the request');
    });
  });
});

describe('static files: cache, SPA, CORS, listings', { timeout: TEST_TIMEOUT_MS }, () => {
  it('sends Cache-Control: no-cache by default and public, max-age=3600 with maxAgeSeconds', async () => {
    await withStatic({ root }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/hello.txt');
      assert.equal(field(res, 'cache-control'), 'no-cache');
      assert.match(field(res, 'last-modified') ?? '', IMF_FIXDATE);
    });
    await withStatic({ root, maxAgeSeconds: 3600 }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/hello.txt');
      assert.equal(field(res, 'cache-control'), 'public, max-age=3600');
    });
  });

  it('falls back to index.html with 200 for unknown HTML navigations under spa, and 404 for images', async () => {
    await withStatic({ root, spa: true }, async ({ port }) => {
      const page = await rawRequest(port, 'GET', '/app/settings/42', {
        Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      });
      assert.equal(page.status, 200);
      assert.equal(page.body.toString(), INDEX_HTML);
      assert.equal(field(page, 'content-type'), 'text/html; charset=utf-8');

      const image = await rawRequest(port, 'GET', '/app/missing.png', { Accept: 'image/png' });
      assert.equal(image.status, 404);
    });
    await withStatic({ root }, async ({ port }) => {
      const off = await rawRequest(port, 'GET', '/app/settings/42', { Accept: 'text/html' });
      assert.equal(off.status, 404, 'no fallback without spa');
    });
  });

  it('sends Access-Control-Allow-Origin: * under cors and answers a preflight', async () => {
    await withStatic({ root, cors: true }, async ({ url, port }) => {
      const res = await fetch(`${url}/hello.txt`, { headers: { origin: 'http://elsewhere.test' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /ETag/);
      await res.arrayBuffer();

      const preflight = await rawRequest(port, 'OPTIONS', '/hello.txt', {
        Origin: 'http://elsewhere.test',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'range, x-custom',
      });
      assert.equal(preflight.status, 204);
      assert.equal(field(preflight, 'access-control-allow-origin'), '*');
      assert.match(field(preflight, 'access-control-allow-methods') ?? '', /\bGET\b/);
      assert.equal(field(preflight, 'access-control-allow-headers'), 'range, x-custom');
    });
    await withStatic({ root }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/hello.txt', { Origin: 'http://elsewhere.test' });
      assert.equal(field(res, 'access-control-allow-origin'), undefined, 'no CORS without cors');
    });
  });

  it('keeps Access-Control-Allow-Origin on error answers under cors, so scripts can read the status', async () => {
    await withStatic({ root, cors: true, listing: false, dotfiles: 'deny' }, async ({ port }) => {
      for (const [method, target, status] of [
        ['GET', '/no-such-file', 404],
        ['GET', '/plain/', 403],
        ['GET', '/.env', 403],
        ['GET', '/escape.txt', 403],
        ['POST', '/hello.txt', 405],
        ['GET', '/a%2fb', 400],
      ] as const) {
        const res = await rawRequest(port, method, target, { Origin: 'http://elsewhere.test' });
        assert.equal(res.status, status, `${method} ${target}`);
        assert.equal(field(res, 'access-control-allow-origin'), '*', `${method} ${target} → ${status}`);
      }
    });
  });

  it('lists a folder as JSON when asked, hiding dotfiles', async () => {
    await withStatic({ root }, async ({ url }) => {
      const res = await fetch(`${url}/plain/`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.match(res.headers.get('vary') ?? '', /Accept/);
      const body = (await res.json()) as {
        path: string;
        entries: { name: string; type: string; size: number }[];
      };
      assert.equal(body.path, '/plain/');
      assert.deepEqual(
        body.entries.map((e) => [e.name, e.type, e.size]),
        [
          ['sub', 'directory', 0],
          ['a.txt', 'file', 1],
          ['b.txt', 'file', 2],
        ],
      );

      const html = await fetch(`${url}/plain/`, { headers: { accept: 'text/html' } });
      assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
      const page = await html.text();
      assert.match(page, /b\.txt/);
      assert.doesNotMatch(page, /\.hidden/);
    });
  });

  it('does not list a folder when listings are off', async () => {
    await withStatic({ root, listing: false }, async ({ url }) => {
      for (const accept of ['application/json', 'text/html']) {
        const res = await fetch(`${url}/plain/`, { headers: { accept } });
        assert.ok(res.status === 403 || res.status === 404, `${accept}: ${res.status}`);
        const text = await res.text();
        assert.doesNotMatch(text, /a\.txt|b\.txt/, 'no entry names');
      }
      assert.equal((await fetch(`${url}/docs/`)).status, 200, 'index.html is still served');
    });
  });
});

describe('static files: language variants', { timeout: TEST_TIMEOUT_MS }, () => {
  it('sends index.html.fr for Accept-Language: fr, with Content-Language and Vary', async () => {
    await withStatic({ root }, async ({ port }) => {
      const fr = await rawRequest(port, 'GET', '/', { 'Accept-Language': 'fr' });
      assert.equal(fr.status, 200);
      assert.equal(fr.body.toString(), INDEX_FR);
      assert.equal(field(fr, 'content-language'), 'fr');
      assert.equal(field(fr, 'content-type'), 'text/html; charset=utf-8');
      assert.match(field(fr, 'vary') ?? '', /\bAccept-Language\b/);

      const byName = await rawRequest(port, 'GET', '/index.html', { 'Accept-Language': 'fr-CA, en;q=0.5' });
      assert.equal(byName.body.toString(), INDEX_FR, 'fr-CA falls back to fr');
    });
  });

  it('sends the base file with no Accept-Language, or for a language it does not have', async () => {
    await withStatic({ root }, async ({ port }) => {
      for (const headers of [{}, { 'Accept-Language': 'de' }, { 'Accept-Language': 'de-DE, de;q=0.9' }]) {
        const res = await rawRequest(port, 'GET', '/', headers);
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), INDEX_HTML, JSON.stringify(headers));
        assert.equal(field(res, 'content-language'), undefined);
        assert.match(field(res, 'vary') ?? '', /\bAccept-Language\b/);
      }
    });
  });

  it('gives the two variants different ETags', async () => {
    await withStatic({ root }, async ({ port }) => {
      const en = await rawRequest(port, 'GET', '/');
      const fr = await rawRequest(port, 'GET', '/', { 'Accept-Language': 'fr' });
      assert.notEqual(field(en, 'etag'), field(fr, 'etag'));
      const stale = await rawRequest(port, 'GET', '/', {
        'Accept-Language': 'fr',
        'If-None-Match': field(en, 'etag') ?? '',
      });
      assert.equal(stale.status, 200, 'the English ETag does not validate the French page');
    });
  });

  it('gives same-size variants with the same mtime different ETags (RFC 9110 §8.8.3)', async () => {
    const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    await writeTree(root, { 'twin.txt': 'hello\n', 'twin.txt.fr': 'salut\n' });
    await utimes(join(root, 'twin.txt'), when, when);
    await utimes(join(root, 'twin.txt.fr'), when, when);
    await withStatic({ root }, async ({ port }) => {
      const en = await rawRequest(port, 'GET', '/twin.txt');
      const fr = await rawRequest(port, 'GET', '/twin.txt', { 'Accept-Language': 'fr' });
      assert.equal(en.body.toString(), 'hello\n');
      assert.equal(fr.body.toString(), 'salut\n');
      assert.notEqual(field(en, 'etag'), field(fr, 'etag'), 'two representations, one strong ETag');
      const revalidated = await rawRequest(port, 'GET', '/twin.txt', {
        'If-None-Match': field(fr, 'etag') ?? '',
      });
      assert.equal(revalidated.status, 200, 'a client holding the French copy must get the English one');
    });
  });
});

describe('static files: changes on disk', { timeout: TEST_TIMEOUT_MS }, () => {
  it('notices a changed file within about a second: new content, new ETag', async () => {
    const path = join(root, 'changing.txt');
    await writeFile(path, 'version one\n');
    await withStatic({ root }, async ({ port }) => {
      const first = await rawRequest(port, 'GET', '/changing.txt');
      assert.equal(first.body.toString(), 'version one\n');
      await writeFile(path, 'version two, longer\n');
      await sleep(CHANGE_NOTICED_MS);
      const second = await rawRequest(port, 'GET', '/changing.txt');
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), 'version two, longer\n');
      assert.notEqual(field(second, 'etag'), field(first, 'etag'));
      const revalidated = await rawRequest(port, 'GET', '/changing.txt', {
        'If-None-Match': field(first, 'etag') ?? '',
      });
      assert.equal(revalidated.status, 200, 'the old ETag no longer validates');
      assert.equal(revalidated.body.toString(), 'version two, longer\n');
    });
  });
});
