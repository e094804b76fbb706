/** basicAuth(): the config adapter over static/auth.ts, on a real Berth server, asked with fetch. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { withServer } from '../../test/e2e/raw-client.js';
import type { Handler } from '../handler/types.js';
import { type BasicAuthConfig, basicAuth } from './basic-auth.js';

const ok: Handler = (_req, res) => res.end('secret');

function plain(pairs: string[], methods: string[] = []): BasicAuthConfig {
  return { kind: 'basic-auth', realm: 'Staff "only"', users: { kind: 'plain', pairs }, methods };
}

function authorization(pair: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

/** Statuses of each request, in order, against one server. */
async function statuses(
  cfg: BasicAuthConfig,
  requests: { method?: string; headers?: Record<string, string> }[],
): Promise<number[]> {
  const out: number[] = [];
  await withServer((await basicAuth(cfg))(ok), undefined, async ({ url }) => {
    for (const init of requests) {
      const response = await fetch(url, init);
      await response.arrayBuffer();
      out.push(response.status);
    }
  });
  return out;
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-basic-auth-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('basicAuth()', () => {
  it('basicAuth() with plain pairs lets each user in and challenges everyone else', async () => {
    let challenge: string | null = null;
    await withServer(
      (await basicAuth(plain(['ann:one', 'bob:two:three'])))(ok),
      undefined,
      async ({ url }) => {
        const denied = await fetch(url);
        await denied.arrayBuffer();
        assert.equal(denied.status, 401);
        challenge = denied.headers.get('www-authenticate');
        for (const pair of ['ann:one', 'bob:two:three']) {
          const response = await fetch(url, { headers: authorization(pair) });
          assert.equal(await response.text(), 'secret', pair);
        }
        for (const pair of ['ann:two', 'bob:two', 'eve:one']) {
          const response = await fetch(url, { headers: authorization(pair) });
          await response.arrayBuffer();
          assert.equal(response.status, 401, pair);
        }
      },
    );
    assert.equal(challenge, 'Basic realm="Staff \\"only\\"", charset="UTF-8"');
  });

  it('basicAuth() with methods guards only those, case-insensitively, and GET brings HEAD', async () => {
    assert.deepEqual(
      await statuses(plain(['ann:one'], ['put', 'DELETE']), [
        { method: 'GET' },
        { method: 'PUT' },
        { method: 'DELETE' },
        { method: 'PUT', headers: authorization('ann:one') },
      ]),
      [200, 401, 401, 200],
    );
    assert.deepEqual(
      await statuses(plain(['ann:one'], ['GET']), [{ method: 'HEAD' }, { method: 'POST' }]),
      [401, 200],
    );
  });

  it('basicAuth() reads an htpasswd file of bcrypt hashes', async () => {
    const file = join(dir, 'users.htpasswd');
    await writeFile(file, `# staff\nann:${bcrypt.hashSync('one', 4)}\n`);
    const cfg: BasicAuthConfig = {
      kind: 'basic-auth',
      realm: 'r',
      users: { kind: 'htpasswd', file },
      methods: [],
    };
    assert.deepEqual(
      await statuses(cfg, [{}, { headers: authorization('ann:one') }, { headers: authorization('ann:two') }]),
      [401, 200, 401],
    );
  });

  it('basicAuth() refuses no users, a repeated user, a bad pair, a bad realm and a bad htpasswd file', async () => {
    await assert.rejects(basicAuth(plain([])), /no user/);
    await assert.rejects(basicAuth(plain(['ann:a', 'ann:b'])), /appears twice/);
    await assert.rejects(basicAuth(plain(['nocolon'])), /entry 1/);
    await assert.rejects(basicAuth({ ...plain(['a:b']), realm: 'x\r\ny' }), /control character/);
    const file = join(dir, 'md5.htpasswd');
    await writeFile(file, 'ann:$apr1$abc$def\n');
    await assert.rejects(
      basicAuth({ kind: 'basic-auth', realm: 'r', users: { kind: 'htpasswd', file }, methods: [] }),
      /only bcrypt/,
    );
  });
});
