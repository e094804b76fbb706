import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { after, before, test } from 'node:test';
import type { DotfilesPolicy } from './options.js';
import {
  encodeUrlPath,
  type Resolution,
  type ResolveOptions,
  resolveRequestPath,
  resolveWritePath,
  type WriteResolution,
} from './resolve.js';

/*
 * The tree, built fresh in os.tmpdir():
 *   base/
 *     outside/secret.txt               a file outside the root
 *     root-evil/x.txt                  a sibling whose name starts like the root's
 *     root/
 *       index.html  a.txt  café.txt  "with space.txt"  %2e%2e  C:  ..;
 *       .hidden.txt  .git/config
 *       sub/index.html  sub/.env  sub/nested/deep.txt
 *       evil.com/index.html            for `//evil.com` → must not redirect to //evil.com/
 *       q?dir/                         a directory whose name needs encoding in a Location
 *       link-in       -> a.txt         stays inside
 *       link-dir-in   -> sub           stays inside
 *       link-dot      -> .git          inside, but into a dot directory
 *       link-etc      -> /etc          leaves the root
 *       link-passwd   -> /etc/passwd   leaves the root
 *       link-out-dir  -> ../outside    a directory leading outside
 *       link-sibling  -> ../root-evil/x.txt
 *       dangling      -> ../outside/nope
 */
let base = '';
let root = '';
let outside = '';

before(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'berth-resolve-')));
  root = join(base, 'root');
  outside = join(base, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await mkdir(join(base, 'root-evil'));
  await writeFile(join(base, 'root-evil', 'x.txt'), 'evil');
  await mkdir(join(root, 'sub', 'nested'), { recursive: true });
  await mkdir(join(root, '.git'));
  await mkdir(join(root, 'evil.com'));
  await mkdir(join(root, 'q?dir'));
  const files: [string, string][] = [
    ['index.html', '<h1>root</h1>'],
    ['a.txt', 'a'],
    ['café.txt', 'café'],
    ['with space.txt', 'space'],
    ['%2e%2e', 'literal'],
    ['C:', 'drive-like'],
    ['..;', 'tomcat-like'],
    ['.hidden.txt', 'hidden'],
    ['.git/config', '[core]'],
    ['sub/index.html', '<h1>sub</h1>'],
    ['sub/.env', 'SECRET=1'],
    ['sub/nested/deep.txt', 'deep'],
    ['evil.com/index.html', 'not evil'],
  ];
  for (const [name, body] of files) await writeFile(join(root, name), body);
  await symlink('a.txt', join(root, 'link-in'));
  await symlink('sub', join(root, 'link-dir-in'));
  await symlink('.git', join(root, 'link-dot'));
  await symlink('/etc', join(root, 'link-etc'));
  await symlink('/etc/passwd', join(root, 'link-passwd'));
  await symlink('../outside', join(root, 'link-out-dir'));
  await symlink('../root-evil/x.txt', join(root, 'link-sibling'));
  await symlink('../outside/nope', join(root, 'dangling'));
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

const STRICT: ResolveOptions = { dotfiles: 'ignore', followSymlinks: false };
const POLICIES: readonly DotfilesPolicy[] = ['ignore', 'deny', 'allow'];

function isInside(path: string): boolean {
  const rel = relative(root, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function resolve(target: string, options: ResolveOptions = STRICT): Promise<Resolution> {
  return resolveRequestPath(root, target, options);
}

function resolveWrite(target: string, options: ResolveOptions = STRICT): Promise<WriteResolution> {
  return resolveWritePath(root, target, options);
}

type Expected = Resolution['kind'] | { readonly [P in DotfilesPolicy]: Resolution['kind'] };

/** Attack targets and what each must come to (with followSymlinks off). */
const ATTACKS: readonly (readonly [string, Expected])[] = [
  ['/../etc/passwd', 'not-found'],
  ['/../../../../../../etc/passwd', 'not-found'],
  ['/%2e%2e/%2e%2e/etc/passwd', 'not-found'],
  ['/%2E%2E/%2E%2E/etc/passwd', 'not-found'],
  ['/sub/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 'not-found'],
  ['/..%2fetc', 'bad-request'],
  ['/..%2Fetc%2Fpasswd', 'bad-request'],
  ['/%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'bad-request'],
  ['/sub%2f..%2f..%2f', 'bad-request'],
  ['/..%5cetc', 'bad-request'],
  ['/..%5C..%5Cetc%5Cpasswd', 'bad-request'],
  ['/C:%5c..%5c', 'bad-request'],
  ['/..\\..\\', 'bad-request'],
  ['/..\\etc\\passwd', 'bad-request'],
  ['/%252e%252e/', 'not-found'],
  ['/%252e%252e/etc/passwd', 'not-found'],
  ['/.%2e/', 'directory'],
  ['/%2e./etc/passwd', 'not-found'],
  ['/a/../../x', 'not-found'],
  ['/./././../x', 'not-found'],
  ['/%00', 'bad-request'],
  ['/a.txt%00.html', 'bad-request'],
  ['/a.txt\u0000.html', 'bad-request'],
  ['/%c0%ae%c0%ae/', 'bad-request'],
  ['/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', 'bad-request'],
  ['/%e0%80%ae', 'bad-request'],
  ['/..%c0%af..%c0%afetc', 'bad-request'],
  ['/%ed%a0%80', 'bad-request'],
  ['/%ff', 'bad-request'],
  ['/%', 'bad-request'],
  ['/%2', 'bad-request'],
  ['/%zz', 'bad-request'],
  ['/%%32%65%%32%65/', 'bad-request'],
  ['/%u002e%u002e/', 'bad-request'],
  ['/%0d%0aSet-Cookie:x=1', 'bad-request'],
  ['/a.txt\r\nLocation: //evil', 'bad-request'],
  ['/caf\u00e9.txt', 'bad-request'],
  ['/a.txt#frag', 'bad-request'],
  ['//etc/passwd', 'not-found'],
  ['///etc/passwd', 'not-found'],
  ['/%ef%bc%8f..%ef%bc%8fetc', 'not-found'],
  ['/..;/etc/passwd', { ignore: 'not-found', deny: 'forbidden', allow: 'not-found' }],
  ['/..;', { ignore: 'not-found', deny: 'forbidden', allow: 'file' }],
  ['http://evil.example/../etc/passwd', 'not-found'],
  ['http://evil.example/%2e%2e/', 'directory'],
  ['*', 'bad-request'],
  ['evil.example:443', 'bad-request'],
  ['etc/passwd', 'bad-request'],
  ['', 'bad-request'],
  ['/.git/config', { ignore: 'not-found', deny: 'forbidden', allow: 'file' }],
  ['/.git', { ignore: 'not-found', deny: 'forbidden', allow: 'redirect' }],
  ['/%2egit/config', { ignore: 'not-found', deny: 'forbidden', allow: 'file' }],
  ['/sub/.env', { ignore: 'not-found', deny: 'forbidden', allow: 'file' }],
  ['/sub/nested/../.env', { ignore: 'not-found', deny: 'forbidden', allow: 'file' }],
  ['/.hidden.txt', { ignore: 'not-found', deny: 'forbidden', allow: 'file' }],
  ['/.../', { ignore: 'not-found', deny: 'forbidden', allow: 'not-found' }],
  ['/link-dot/config', { ignore: 'not-found', deny: 'forbidden', allow: 'file' }],
  ['/link-etc/passwd', 'forbidden'],
  ['/link-etc', 'forbidden'],
  ['/link-etc/', 'forbidden'],
  ['/link-passwd', 'forbidden'],
  ['/link-out-dir/secret.txt', 'forbidden'],
  ['/link-out-dir', 'forbidden'],
  ['/link-sibling', 'forbidden'],
  ['/link-out-dir/nope', 'not-found'],
  ['/dangling', 'not-found'],
  ['/a.txt/', 'not-found'],
  ['/a.txt/..', 'directory'],
  ['/a.txt/x', 'not-found'],
  ['/C:', 'file'],
  ['/C:/', 'not-found'],
];

test('resolveRequestPath() answers each attack target as expected and never leaves the root', async () => {
  assert.ok(ATTACKS.length >= 25);
  for (const dotfiles of POLICIES) {
    for (const [target, expected] of ATTACKS) {
      const r = await resolve(target, { dotfiles, followSymlinks: false });
      const kind = typeof expected === 'string' ? expected : expected[dotfiles];
      const label = `${JSON.stringify(target)} with dotfiles=${dotfiles}`;
      assert.equal(r.kind, kind, `${label}: ${JSON.stringify(r)}`);
      if (r.kind === 'file' || r.kind === 'directory') assert.ok(isInside(r.path), `${label} → ${r.path}`);
      if (r.kind === 'redirect') assert.match(r.location, /^\/(?![/\\])/, label);
    }
  }
});

test('resolveWritePath() never gives a target outside the root for the attack targets', async () => {
  for (const dotfiles of POLICIES) {
    for (const followSymlinks of [false, true]) {
      for (const [target] of ATTACKS) {
        const r = await resolveWrite(target, { dotfiles, followSymlinks });
        if (r.kind === 'target') assert.ok(isInside(r.path), `${JSON.stringify(target)} → ${r.path}`);
      }
    }
  }
});

test('resolveRequestPath() serves a plain file with its real path, stat and URL path', async () => {
  const r = await resolve('/a.txt');
  assert.equal(r.kind, 'file');
  if (r.kind !== 'file') return;
  assert.equal(r.path, join(root, 'a.txt'));
  assert.equal(r.urlPath, '/a.txt');
  assert.equal(r.stat.size, 1);
  assert.equal((await resolve('/sub/nested/deep.txt')).kind, 'file');
  assert.deepEqual(await resolve('/a.txt?download=1&x=%2F'), r);
});

test('resolveRequestPath() gives the root and slash-terminated directories as directories', async () => {
  const r = await resolve('/');
  assert.equal(r.kind, 'directory');
  if (r.kind !== 'directory') return;
  assert.equal(r.path, root);
  assert.equal(r.urlPath, '/');
  const sub = await resolve('/sub/?sort=name');
  assert.equal(sub.kind, 'directory');
  if (sub.kind !== 'directory') return;
  assert.equal(sub.path, join(root, 'sub'));
  assert.equal(sub.urlPath, '/sub/');
  const nested = await resolve('/sub/./nested/.');
  assert.equal(nested.kind, 'directory');
  if (nested.kind === 'directory') assert.equal(nested.urlPath, '/sub/nested/');
});

test('resolveRequestPath() redirects a directory without its trailing slash, keeping the query', async () => {
  assert.deepEqual(await resolve('/sub'), { kind: 'redirect', location: '/sub/' });
  assert.deepEqual(await resolve('/sub?x=1&y=%2F'), { kind: 'redirect', location: '/sub/?x=1&y=%2F' });
  assert.deepEqual(await resolve('/sub?'), { kind: 'redirect', location: '/sub/?' });
  assert.deepEqual(await resolve('/sub/nested'), { kind: 'redirect', location: '/sub/nested/' });
  assert.deepEqual(await resolve('/a/../sub'), { kind: 'redirect', location: '/sub/' });
  assert.deepEqual(await resolve('http://h.example/sub?q'), { kind: 'redirect', location: '/sub/?q' });
});

test('resolveRequestPath() never redirects to a protocol-relative //host', async () => {
  assert.deepEqual(await resolve('//evil.com'), { kind: 'redirect', location: '/evil.com/' });
  assert.deepEqual(await resolve('///evil.com?x'), { kind: 'redirect', location: '/evil.com/?x' });
  assert.deepEqual(await resolve('/.//evil.com'), { kind: 'redirect', location: '/evil.com/' });
  assert.deepEqual(await resolve('/../evil.com'), { kind: 'redirect', location: '/evil.com/' });
});

test('resolveRequestPath() re-encodes the redirect Location from the decoded segments', async () => {
  assert.deepEqual(await resolve('/q%3Fdir'), { kind: 'redirect', location: '/q%3Fdir/' });
  assert.deepEqual(await resolve('/q%3fdir?a=b'), { kind: 'redirect', location: '/q%3Fdir/?a=b' });
  const dir = await resolve('/q%3Fdir/');
  assert.equal(dir.kind, 'directory');
  if (dir.kind === 'directory') assert.equal(dir.urlPath, '/q?dir/');
});

test('resolveRequestPath() decodes unicode and spaces once', async () => {
  const cafe = await resolve('/caf%C3%A9.txt');
  assert.equal(cafe.kind, 'file');
  if (cafe.kind === 'file') {
    assert.equal(cafe.path, join(root, 'café.txt'));
    assert.equal(cafe.urlPath, '/café.txt');
  }
  assert.equal((await resolve('/caf%c3%a9.txt')).kind, 'file');
  const space = await resolve('/with%20space.txt');
  assert.equal(space.kind, 'file');
  if (space.kind === 'file') assert.equal(space.path, join(root, 'with space.txt'));
  assert.equal((await resolve('/with+space.txt')).kind, 'not-found');
});

test('resolveRequestPath() reads a double-encoded %252e%252e as the literal name %2e%2e', async () => {
  const r = await resolve('/%252e%252e');
  assert.equal(r.kind, 'file');
  if (r.kind === 'file') {
    assert.equal(r.path, join(root, '%2e%2e'));
    assert.equal(r.urlPath, '/%2e%2e');
  }
});

test('resolveRequestPath() follows symlinks that stay inside the root', async () => {
  const file = await resolve('/link-in');
  assert.equal(file.kind, 'file');
  if (file.kind === 'file') {
    assert.equal(file.path, join(root, 'a.txt'));
    assert.equal(file.urlPath, '/link-in');
  }
  assert.deepEqual(await resolve('/link-dir-in'), { kind: 'redirect', location: '/link-dir-in/' });
  const dir = await resolve('/link-dir-in/');
  assert.equal(dir.kind, 'directory');
  if (dir.kind === 'directory') assert.equal(dir.path, join(root, 'sub'));
  const nested = await resolve('/link-dir-in/nested/deep.txt');
  assert.equal(nested.kind, 'file');
  if (nested.kind === 'file') assert.equal(nested.path, join(root, 'sub', 'nested', 'deep.txt'));
});

test('resolveRequestPath() forbids symlinks out of the root unless followSymlinks is set', async () => {
  const strict = await resolve('/link-out-dir/secret.txt');
  assert.deepEqual(strict, { kind: 'forbidden', reason: 'symlink leads outside the root' });
  const follow: ResolveOptions = { dotfiles: 'ignore', followSymlinks: true };
  const secret = await resolve('/link-out-dir/secret.txt', follow);
  assert.equal(secret.kind, 'file');
  if (secret.kind === 'file') assert.equal(secret.path, join(outside, 'secret.txt'));
  const passwd = await resolve('/link-etc/passwd', follow);
  assert.equal(passwd.kind, 'file');
  if (passwd.kind === 'file') assert.equal(passwd.path, '/etc/passwd');
  assert.deepEqual(await resolve('/link-etc', follow), { kind: 'redirect', location: '/link-etc/' });
  assert.equal((await resolve('/dangling', follow)).kind, 'not-found');
  // Following symlinks does not loosen the URL rules.
  assert.equal((await resolve('/../etc/passwd', follow)).kind, 'not-found');
  assert.equal((await resolve('/.git/config', follow)).kind, 'not-found');
});

test('resolveRequestPath() throws TypeError for a relative root', async () => {
  await assert.rejects(resolveRequestPath('relative/root', '/', STRICT), TypeError);
});

test('resolveWritePath() gives a new file in an existing directory', async () => {
  assert.deepEqual(await resolveWrite('/new.txt'), {
    kind: 'target',
    path: join(root, 'new.txt'),
    urlPath: '/new.txt',
    parentExists: true,
    exists: false,
  });
  const nested = await resolveWrite('/sub/caf%C3%A9%20new.txt?overwrite=1');
  assert.equal(nested.kind, 'target');
  if (nested.kind === 'target') {
    assert.equal(nested.path, join(root, 'sub', 'café new.txt'));
    assert.equal(nested.urlPath, '/sub/café new.txt');
  }
});

test('resolveWritePath() reports an existing file with its stat', async () => {
  const r = await resolveWrite('/a.txt');
  assert.equal(r.kind, 'target');
  if (r.kind !== 'target') return;
  assert.equal(r.exists, true);
  assert.equal(r.parentExists, true);
  assert.equal(r.stat?.size, 1);
});

test('resolveWritePath() reports a missing parent with the path to create', async () => {
  assert.deepEqual(await resolveWrite('/nope/deeper/x.txt'), {
    kind: 'target',
    path: join(root, 'nope', 'deeper', 'x.txt'),
    urlPath: '/nope/deeper/x.txt',
    parentExists: false,
    exists: false,
  });
  const viaLink = await resolveWrite('/link-dir-in/fresh/x.txt');
  assert.equal(viaLink.kind, 'target');
  if (viaLink.kind === 'target') assert.equal(viaLink.path, join(root, 'sub', 'fresh', 'x.txt'));
});

test('resolveWritePath() writes through inside symlinks at their real path', async () => {
  const file = await resolveWrite('/link-in');
  assert.equal(file.kind, 'target');
  if (file.kind === 'target') assert.equal(file.path, join(root, 'a.txt'));
  const dir = await resolveWrite('/link-dir-in/new.txt');
  assert.equal(dir.kind, 'target');
  if (dir.kind === 'target') assert.equal(dir.path, join(root, 'sub', 'new.txt'));
});

test('resolveWritePath() answers conflict when a parent is a file or the target a directory', async () => {
  assert.equal((await resolveWrite('/a.txt/x')).kind, 'conflict');
  assert.equal((await resolveWrite('/a.txt/x/y.txt')).kind, 'conflict');
  assert.equal((await resolveWrite('/sub')).kind, 'conflict');
  assert.equal((await resolveWrite('/link-dir-in')).kind, 'conflict');
});

test('resolveWritePath() rejects directory targets and bad encodings', async () => {
  for (const target of ['/', '/sub/', '/new/', '/x/..', '/%2e', '/a%2fb', '/%00', '/%c0%ae', '/a\\b']) {
    assert.equal((await resolveWrite(target)).kind, 'bad-request', target);
  }
});

test('resolveWritePath() never writes outside the root, even with followSymlinks', async () => {
  const follow: ResolveOptions = { dotfiles: 'allow', followSymlinks: true };
  for (const target of [
    '/link-out-dir/x.txt',
    '/link-out-dir/secret.txt',
    '/link-out-dir/new/x.txt',
    '/link-etc/passwd',
    '/link-passwd',
    '/link-sibling',
    '/dangling',
    '/dangling/x.txt',
  ]) {
    assert.equal((await resolveWrite(target, follow)).kind, 'forbidden', target);
  }
});

test('resolveWritePath() applies the dotfile policy to the URL and to the real path', async () => {
  assert.equal((await resolveWrite('/.env')).kind, 'not-found');
  assert.equal(
    (await resolveWrite('/sub/.env', { dotfiles: 'deny', followSymlinks: false })).kind,
    'forbidden',
  );
  assert.equal(
    (await resolveWrite('/link-dot/config', { dotfiles: 'deny', followSymlinks: false })).kind,
    'forbidden',
  );
  assert.equal(
    (await resolveWrite('/link-dot/new', { dotfiles: 'ignore', followSymlinks: false })).kind,
    'not-found',
  );
  const allowed = await resolveWrite('/.env', { dotfiles: 'allow', followSymlinks: false });
  assert.equal(allowed.kind, 'target');
  if (allowed.kind === 'target') assert.equal(allowed.path, join(root, '.env'));
});

test('encodeUrlPath() encodes each segment and keeps the slashes', () => {
  assert.equal(encodeUrlPath('/'), '/');
  assert.equal(encodeUrlPath('/café dir/'), '/caf%C3%A9%20dir/');
  assert.equal(encodeUrlPath('/q?x#y/%2e'), '/q%3Fx%23y/%252e');
  assert.equal(encodeUrlPath('/a\\b'), '/a%5Cb');
});
