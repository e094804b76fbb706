import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateNames, loadCertificateFiles } from './load.js';
import { ensureLocalCertificate, type LocalCertificate } from './local-ca.js';

const PASSPHRASE = 'correct horse battery staple';
const DAY_MS = 24 * 60 * 60 * 1000;

let dir = '';
let local: LocalCertificate;
/** Writes text to a file in the temp folder and returns its path. */
const file = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};
const encrypted = (pem: string, format: 'pkcs8' | 'sec1') =>
  createPrivateKey(pem).export({
    type: format,
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: PASSPHRASE,
  }) as string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-load-'));
  // A real CA-signed pair to load; the CA's key is the "other" key for the mismatch case.
  local = await ensureLocalCertificate({ dataDir: join(dir, 'ca'), hosts: ['app.test'] });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadCertificateFiles()', () => {
  it('loads a matching certificate and key, with their names', async () => {
    const loaded = await loadCertificateFiles({
      cert: await file('good.crt', local.cert),
      key: await file('good.key', local.key),
    });
    assert.equal(loaded.cert, local.cert);
    assert.equal(loaded.key, local.key);
    assert.equal('passphrase' in loaded, false);
    assert.deepEqual(loaded.names, ['localhost', '127.0.0.1', '::1', 'app.test']);
  });

  it('rejects a key that does not match the certificate, naming both files', async () => {
    const cert = await file('mismatch.crt', local.cert);
    const key = await file('other.key', await readFile(join(dir, 'ca', 'ca.key'), 'utf8'));
    await assert.rejects(loadCertificateFiles({ cert, key }), {
      message: `key ${key}: does not match certificate ${cert}`,
    });
  });

  for (const format of ['pkcs8', 'sec1'] as const) {
    it(`loads an encrypted ${format} key with its passphrase file (trailing newline ignored)`, async () => {
      const key = await file(`enc-${format}.key`, encrypted(local.key, format));
      const loaded = await loadCertificateFiles({
        cert: await file('enc.crt', local.cert),
        key,
        keyPassFile: await file('pass.txt', `${PASSPHRASE}\n`),
      });
      assert.equal(loaded.passphrase, PASSPHRASE);
      assert.match(loaded.key, /ENCRYPTED/);
    });

    it(`rejects a wrong passphrase for an encrypted ${format} key`, async () => {
      const key = await file(`enc-${format}.key`, encrypted(local.key, format));
      const keyPassFile = await file('wrong.txt', 'wrong\n');
      await assert.rejects(
        loadCertificateFiles({ cert: await file('enc.crt', local.cert), key, keyPassFile }),
        {
          message: `key ${key}: wrong passphrase (from ${keyPassFile}), or the key is damaged`,
        },
      );
    });
  }

  it('calls it a wrong passphrase too when the padding happens to check out and decoding fails', async () => {
    // About one wrong passphrase in 250 decrypts to valid padding; OpenSSL then reports a
    // decoder error instead of "bad decrypt". Search for such a passphrase for this key.
    const pem = encrypted(local.key, 'pkcs8');
    let unlucky = '';
    for (let i = 0; i < 5000 && unlucky === ''; i++) {
      try {
        createPrivateKey({ key: pem, passphrase: `wrong-${i}` });
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'ERR_OSSL_BAD_DECRYPT') unlucky = `wrong-${i}`;
      }
    }
    assert.notEqual(unlucky, '', 'no passphrase among 5000 got past the padding check');
    const key = await file('enc-unlucky.key', pem);
    const keyPassFile = await file('unlucky.txt', `${unlucky}\n`);
    await assert.rejects(
      loadCertificateFiles({ cert: await file('enc.crt', local.cert), key, keyPassFile }),
      { message: `key ${key}: wrong passphrase (from ${keyPassFile}), or the key is damaged` },
    );
  });

  it('rejects an encrypted key given without a passphrase file', async () => {
    const key = await file('enc-nopass.key', encrypted(local.key, 'pkcs8'));
    await assert.rejects(loadCertificateFiles({ cert: await file('enc.crt', local.cert), key }), {
      message: `key ${key}: encrypted, and no passphrase file was given`,
    });
  });

  it('rejects a certificate file that is not PEM', async () => {
    const cert = await file('not-pem.crt', 'hello, I am not a certificate\n');
    await assert.rejects(loadCertificateFiles({ cert, key: await file('k.key', local.key) }), {
      message: `certificate ${cert}: not PEM (no "-----BEGIN CERTIFICATE-----" line)`,
    });
  });

  it('rejects a key file that is not PEM', async () => {
    const key = await file('not-pem.key', Buffer.from('binary junk').toString('base64'));
    await assert.rejects(loadCertificateFiles({ cert: await file('c.crt', local.cert), key }), {
      message: `key ${key}: not PEM (no "-----BEGIN ... PRIVATE KEY-----" line)`,
    });
  });

  it('rejects a PEM block that is not a valid certificate', async () => {
    const cert = await file('broken.crt', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await assert.rejects(
      loadCertificateFiles({ cert, key: await file('k.key', local.key) }),
      (err: Error) => {
        assert.ok(err.message.startsWith(`certificate ${cert}: cannot be parsed (`));
        assert.ok(!err.message.includes('\n'));
        return true;
      },
    );
  });

  it('rejects an expired certificate, naming the date', async () => {
    const cert = await file('old.crt', local.cert);
    const key = await file('old.key', local.key);
    const notAfter = new Date(new X509Certificate(local.cert).validTo).toISOString().replace('.000Z', 'Z');
    await assert.rejects(loadCertificateFiles({ cert, key, now: new Date(Date.now() + 400 * DAY_MS) }), {
      message: `certificate ${cert}: expired on ${notAfter}`,
    });
  });

  it('names a missing file', async () => {
    const cert = join(dir, 'missing.crt');
    await assert.rejects(loadCertificateFiles({ cert, key: cert }), {
      message: `certificate ${cert}: no such file`,
    });
  });
});

describe('certificateNames()', () => {
  it('lists DNS and IP subject alternative names, IPv6 in canonical form', () => {
    assert.deepEqual(certificateNames(local.cert), ['localhost', '127.0.0.1', '::1', 'app.test']);
  });

  it('falls back to the CN when there is no subject alternative name', () => {
    assert.deepEqual(certificateNames(local.caCert), ['berth local ca']);
  });
});
