/**
 * Path safety over the wire. fetch and curl normalise `..` and some escapes before sending, so
 * every hostile target here goes out byte for byte on a raw socket. A secret file sits beside the
 * served root (and a symlink inside the root points at it); its content must never appear in any
 * response, whatever the status.
 */
import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exchange, type ParsedResponse } from './raw-client.js';
import {
  makeTempDir,
  rawRequest,
  removeTree,
  STATIC_TIMEOUT_MS,
  withStatic,
  writeTree,
} from './static-fixture.js';

const TEST_TIMEOUT_MS = 15_000;
const SECRET = 'SECRET-BESIDE-THE-ROOT-9d2e7';
const INSIDE = 'an ordinary file inside the root\n';

/** Request-targets that try to leave the root; each is sent exactly as written. */
const HOSTILE_TARGETS: readonly string[] = [
  '/../secret.txt',
  '/../../../../../../secret.txt',
  '/sub/../../secret.txt',
  '/./.././secret.txt',
  '//../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/secret.txt',
  '/.%2e/secret.txt',
  '/%2e./secret.txt',
  '/sub/%2e%2e/%2e%2e/secret.txt',
  '/..%2fsecret.txt',
  '/%2e%2e%2fsecret.txt',
  '/%2e%2e%2Fsecret.txt',
  '/sub%2f..%2f..%2fsecret.txt',
  '/..%5csecret.txt',
  '/%2e%2e%5csecret.txt',
  '/sub%5c..%5c..%5csecret.txt',
  '/..\\secret.txt',
  '/sub\\..\\..\\secret.txt',
  '/secret.txt%00',
  '/../secret.txt%00.html',
  '/%00/../secret.txt',
  '/%252e%252e/secret.txt',
  '/%252e%252e%252fsecret.txt',
  '/%25%32%65%25%32%65/secret.txt',
  '/%c0%ae%c0%ae/secret.txt',
  '/%c0%ae%c0%ae%c0%afsecret.txt',
  '/%e0%80%ae%e0%80%ae/secret.txt',
  '/%f0%80%80%ae%f0%80%80%ae/secret.txt',
  '/..%c0%afsecret.txt',
  '/..%c1%9csecret.txt',
  '/%u002e%u002e/secret.txt',
  '/..;/secret.txt',
  '/...//secret.txt',
  '/escape.txt',
  '/escape-dir/secret.txt',
  'http://127.0.0.1/../secret.txt',
  'http://127.0.0.1/%2e%2e/secret.txt',
  '/%2e%2e',
  '/..',
];

let base = '';
let root = '';

before(async () => {
  base = await makeTempDir('paths');
  root = join(base, 'root');
  await writeFile(join(base, 'secret.txt'), SECRET);
  await writeTree(root, {
    'inside.txt': INSIDE,
    'sub/file.txt': 'sub file\n',
    '.env': 'DB_PASSWORD=hunter2\n',
    '.git/config': '[core]\n\trepositoryformatversion = 0\n',
    'public/.well-known/security.txt': 'Contact: mailto:security@example.test\n',
  });
  await symlink(join(base, 'secret.txt'), join(root, 'escape.txt'));
  await symlink(base, join(root, 'escape-dir'));
});

after(async () => {
  await removeTree(base);
});

/** The one response to a raw request, or whatever the server sent before closing. */
async function hostile(port: number, target: string): Promise<{ status: number | undefined; text: string }> {
  const result = await exchange(
    { port },
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    { timeoutMs: STATIC_TIMEOUT_MS },
  );
  return { status: result.finals[0]?.status, text: result.bytes.toString('latin1') };
}

function body(res: ParsedResponse): string {
  return res.body.toString('latin1');
}

describe('path safety over raw sockets', { timeout: TEST_TIMEOUT_MS }, () => {
  it('never sends a byte of a file outside the root, whatever the target', async () => {
    await withStatic({ root }, async ({ port }) => {
      for (const target of HOSTILE_TARGETS) {
        const { status, text } = await hostile(port, target);
        assert.ok(
          !text.includes(SECRET),
          `${target} leaked the secret: ${JSON.stringify(text.slice(0, 300))}`,
        );
        assert.ok(status !== undefined, `${target}: the server answered`);
        // Only the targets that clamp to the root itself (a listing) may be 200.
        if (target.includes('secret')) assert.notEqual(status, 200, target);
      }
    });
  });

  it('keeps the secret back with dotfiles: allow and spa on too', async () => {
    await withStatic({ root, dotfiles: 'allow', spa: true }, async ({ port }) => {
      for (const target of HOSTILE_TARGETS) {
        const { text } = await hostile(port, target);
        assert.ok(!text.includes(SECRET), `${target} leaked the secret with dotfiles: allow, spa`);
      }
    });
  });

  it('clamps `..` above the root to the root, as RFC 3986 §5.2.4 says', async () => {
    await withStatic({ root }, async ({ port }) => {
      for (const target of ['/../inside.txt', '/%2e%2e/inside.txt', '/sub/../../../inside.txt']) {
        const res = await rawRequest(port, 'GET', target);
        assert.equal(res.status, 200, target);
        assert.equal(body(res), INSIDE, target);
      }
    });
  });

  it('rejects encoded separators, NUL, malformed and overlong UTF-8 with 400', async () => {
    await withStatic({ root }, async ({ port }) => {
      for (const target of [
        '/sub%2ffile.txt',
        '/sub%5cfile.txt',
        '/inside.txt%00',
        '/%c0%ae%c0%ae/inside.txt',
        '/%e0%80%ae/inside.txt',
        '/%zz/inside.txt',
      ]) {
        const { status } = await hostile(port, target);
        assert.equal(status, 400, target);
      }
    });
  });

  it('serves a double-encoded name literally, never decoding twice', async () => {
    await writeTree(root, { '%2e%2e/literal.txt': 'a folder really named %2e%2e\n' });
    await withStatic({ root }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/%252e%252e/literal.txt');
      assert.equal(res.status, 200);
      assert.equal(body(res), 'a folder really named %2e%2e\n');
    });
  });

  it('refuses a symlink that leads out of the root with 403, and serves it with followSymlinks', async () => {
    await withStatic({ root }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/escape.txt');
      assert.equal(res.status, 403);
      assert.ok(!body(res).includes(SECRET));
    });
    await withStatic({ root, followSymlinks: true }, async ({ port }) => {
      const res = await rawRequest(port, 'GET', '/escape.txt');
      assert.equal(res.status, 200, 'the operator asked for it');
      assert.equal(body(res), SECRET);
    });
  });
});

describe('dotfiles', { timeout: TEST_TIMEOUT_MS }, () => {
  const DOT_TARGETS = ['/.env', '/.git/config', '/%2eenv', '/%2Egit/config', '/sub/../.env'];

  it('hides dotfiles by default: 404, as if absent', async () => {
    await withStatic({ root }, async ({ port }) => {
      for (const target of DOT_TARGETS) {
        const res = await rawRequest(port, 'GET', target);
        assert.equal(res.status, 404, target);
        assert.doesNotMatch(body(res), /hunter2|repositoryformatversion/, target);
      }
      const missing = await rawRequest(port, 'GET', '/.nothing-here');
      assert.equal(missing.status, 404, 'an absent dotfile looks the same');
      assert.equal(field404(missing), field404(await rawRequest(port, 'GET', '/.env')));
    });
  });

  it('refuses dotfiles with 403 under deny', async () => {
    await withStatic({ root, dotfiles: 'deny' }, async ({ port }) => {
      for (const target of DOT_TARGETS) {
        const res = await rawRequest(port, 'GET', target);
        assert.equal(res.status, 403, target);
      }
    });
  });

  it('serves dotfiles under allow', async () => {
    await withStatic({ root, dotfiles: 'allow' }, async ({ port }) => {
      const env = await rawRequest(port, 'GET', '/.env');
      assert.equal(env.status, 200);
      assert.equal(body(env), 'DB_PASSWORD=hunter2\n');
      const wellKnown = await rawRequest(port, 'GET', '/public/.well-known/security.txt');
      assert.equal(wellKnown.status, 200);
      assert.match(body(wellKnown), /^Contact:/);
    });
  });
});

/** The 404 page with the path taken out, to compare two 404s. */
function field404(res: ParsedResponse): string {
  return `${res.status} ${body(res).replace(/Nothing at [^<]*/, '')}`;
}
