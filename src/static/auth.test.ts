/**
 * Basic authentication: parsing the Authorization field, the two credential sources, and the 401
 * challenge as a real client sees it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { createServer } from '../index.js';
import { type Credentials, loadHtpasswd, parseBasicAuth, plainCredentials, requireAuth } from './auth.js';

function basic(userPass: string | Buffer, scheme = 'Basic'): string {
  return `${scheme} ${Buffer.from(userPass).toString('base64')}`;
}

describe('parseBasicAuth()', () => {
  it('reads the user and password of a Basic field', () => {
    assert.deepEqual(parseBasicAuth(basic('aladdin:opensesame')), { user: 'aladdin', pass: 'opensesame' });
  });

  it('matches the scheme without regard to case', () => {
    assert.deepEqual(parseBasicAuth(basic('a:b', 'bAsIc')), { user: 'a', pass: 'b' });
  });

  it('splits at the first colon, so the password may hold colons', () => {
    assert.deepEqual(parseBasicAuth(basic('u:p:a:s:s')), { user: 'u', pass: 'p:a:s:s' });
  });

  it('accepts an empty password and base64 without padding', () => {
    assert.deepEqual(parseBasicAuth(basic('u:')), { user: 'u', pass: '' });
    assert.deepEqual(parseBasicAuth(`Basic ${Buffer.from('ab:c').toString('base64').replace(/=+$/, '')}`), {
      user: 'ab',
      pass: 'c',
    });
  });

  it('decodes UTF-8 and normalizes to NFC', () => {
    assert.deepEqual(parseBasicAuth(basic('tést:pässwörd')), { user: 'tést', pass: 'pässwörd' });
    assert.deepEqual(parseBasicAuth(basic('te\u0301st:x')), { user: 'tést', pass: 'x' });
  });

  it('returns undefined for a missing field or another scheme', () => {
    assert.equal(parseBasicAuth(undefined), undefined);
    assert.equal(parseBasicAuth(basic('a:b', 'Bearer')), undefined);
    assert.equal(parseBasicAuth(basic('a:b', 'Basicx')), undefined);
    assert.equal(parseBasicAuth('Basic'), undefined);
    assert.equal(parseBasicAuth('Basic '), undefined);
  });

  it('returns undefined for bad base64, no colon, invalid UTF-8 or a control character', () => {
    assert.equal(parseBasicAuth('Basic !!!!'), undefined);
    assert.equal(parseBasicAuth('Basic YWJj=d'), undefined);
    assert.equal(parseBasicAuth(basic('nocolon')), undefined);
    assert.equal(parseBasicAuth(basic(Buffer.from([0x75, 0x3a, 0xff, 0xfe]))), undefined);
    assert.equal(parseBasicAuth(basic('u:p\nq')), undefined);
    assert.equal(parseBasicAuth(basic('u:p\x7f')), undefined);
  });
});

describe('plainCredentials()', () => {
  const credentials = plainCredentials('admin:s3cret:with:colons');

  it('accepts the configured pair only', async () => {
    assert.equal(await credentials.check('admin', 's3cret:with:colons'), true);
    assert.equal(await credentials.check('admin', 's3cret'), false);
    assert.equal(await credentials.check('Admin', 's3cret:with:colons'), false);
    assert.equal(await credentials.check('', ''), false);
  });

  it('throws for a spec without a colon or user', () => {
    assert.throws(() => plainCredentials('admin'), /user:password/);
    assert.throws(() => plainCredentials(':pass'), /user:password/);
  });
});

describe('loadHtpasswd()', () => {
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'berth-auth-'));
  });

  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function htpasswd(name: string, text: string): Promise<string> {
    const file = join(folder, name);
    await writeFile(file, text);
    return file;
  }

  it('checks passwords against bcrypt entries of each prefix', async () => {
    const alice = await bcrypt.hash('wonderland', 4);
    const bob = (await bcrypt.hash('builder', 4)).replace(/^\$2b\$/, '$2y$');
    const carol = (await bcrypt.hash('singer', 4)).replace(/^\$2b\$/, '$2a$');
    const file = await htpasswd('ok.htpasswd', `# users\n\nalice:${alice}\r\nbob:${bob}\ncarol:${carol}\n`);
    const credentials = await loadHtpasswd(file);
    assert.equal(await credentials.check('alice', 'wonderland'), true);
    assert.equal(await credentials.check('alice', 'wonderland'), true, 'again, from the verified set');
    assert.equal(await credentials.check('alice', 'Wonderland'), false);
    assert.equal(await credentials.check('bob', 'builder'), true);
    assert.equal(await credentials.check('carol', 'singer'), true);
    assert.equal(await credentials.check('mallory', 'wonderland'), false);
  });

  it('rejects other hash kinds, naming the line and user but not the hash', async () => {
    const alice = await bcrypt.hash('x', 4);
    const file = await htpasswd(
      'md5.htpasswd',
      `alice:${alice}\nbob:$apr1$abcdefgh$0123456789abcdefghijkl\n`,
    );
    await assert.rejects(loadHtpasswd(file), (err: Error) => {
      assert.match(err.message, /md5\.htpasswd line 2: user "bob" has an Apache MD5/);
      assert.match(err.message, /htpasswd -B/);
      assert.doesNotMatch(err.message, /0123456789/);
      return true;
    });
    const sha = await htpasswd('sha.htpasswd', 'dave:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n');
    await assert.rejects(loadHtpasswd(sha), /line 1: user "dave" has a SHA-1/);
  });

  it('rejects a repeated user, a line without a colon and a file without users', async () => {
    const hash = await bcrypt.hash('x', 4);
    await assert.rejects(
      loadHtpasswd(await htpasswd('dup.htpasswd', `a:${hash}\na:${hash}\n`)),
      /line 2: user "a" is already on line 1/,
    );
    await assert.rejects(
      loadHtpasswd(await htpasswd('bad.htpasswd', 'just-a-name\n')),
      /line 1: expected user:hash/,
    );
    await assert.rejects(loadHtpasswd(await htpasswd('empty.htpasswd', '# nobody\n')), /no users/);
  });
});

describe('requireAuth()', () => {
  const credentials: Credentials = plainCredentials('user:pa"ss');
  const server = createServer(async (req, res) => {
    if (!(await requireAuth(req, res, credentials, 'Files "here"'))) return;
    res.end('welcome');
  });
  let base: string;

  before(async () => {
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.address();
    assert.ok('port' in address);
    base = `http://127.0.0.1:${address.port}`;
  });

  after(() => server.close());

  it('answers 401 with a Basic challenge when credentials are missing', async () => {
    const res = await fetch(base);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Files \\"here\\"", charset="UTF-8"');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await res.text(), /401/);
  });

  it('answers 401 to wrong credentials and to another scheme', async () => {
    assert.equal((await fetch(base, { headers: { Authorization: basic('user:nope') } })).status, 401);
    assert.equal((await fetch(base, { headers: { Authorization: 'Bearer abc' } })).status, 401);
  });

  it('lets the right credentials through', async () => {
    const res = await fetch(base, { headers: { Authorization: basic('user:pa"ss') } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'welcome');
  });
});
