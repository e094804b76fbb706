import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeLocalCa } from './ca-command.js';
import { certificateNames } from './load.js';
import { defaultDataDir, ensureLocalCertificate } from './local-ca.js';

const DAY_MS = 24 * 60 * 60 * 1000;

let root = '';
let n = 0;
/** A fresh, not yet existing data folder per test. */
const freshDir = () => join(root, `data-${++n}`);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-local-ca-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('ensureLocalCertificate()', () => {
  it('makes the CA and a leaf on first use, keys 0600 in a 0700 folder', async () => {
    const dataDir = freshDir();
    const local = await ensureLocalCertificate({ dataDir });
    assert.deepEqual(local.created, { ca: true, leaf: true });
    assert.equal(local.caCertPath, join(dataDir, 'ca.crt'));
    assert.equal(local.leafPath, join(dataDir, 'localhost.crt'));
    assert.equal(await mode(dataDir), 0o700);
    assert.equal(await mode(join(dataDir, 'ca.key')), 0o600);
    assert.equal(await mode(join(dataDir, 'localhost.key')), 0o600);
    assert.deepEqual((await readdir(dataDir)).sort(), ['ca.crt', 'ca.key', 'localhost.crt', 'localhost.key']);
    assert.equal(await readFile(local.caCertPath, 'utf8'), local.caCert);
    assert.equal(await readFile(local.leafPath, 'utf8'), local.cert);
    assert.equal(await readFile(join(dataDir, 'localhost.key'), 'utf8'), local.key);
  });

  it('reuses both the CA and the leaf on the next start', async () => {
    const dataDir = freshDir();
    const first = await ensureLocalCertificate({ dataDir, hosts: ['app.test'] });
    const second = await ensureLocalCertificate({ dataDir, hosts: ['app.test'] });
    assert.deepEqual(second.created, { ca: false, leaf: false });
    assert.equal(second.caCert, first.caCert);
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
  });

  it('issues a new leaf, signed by the same CA, when a new host is asked for', async () => {
    const dataDir = freshDir();
    const first = await ensureLocalCertificate({ dataDir });
    const second = await ensureLocalCertificate({
      dataDir,
      hosts: ['App.Test', '192.168.1.20', '[fd00::1]'],
    });
    assert.deepEqual(second.created, { ca: false, leaf: true });
    assert.equal(second.caCert, first.caCert);
    assert.notEqual(second.cert, first.cert);
    const leaf = new X509Certificate(second.cert);
    assert.ok(leaf.verify(new X509Certificate(first.caCert).publicKey));
    assert.match(leaf.subject, /^CN=app\.test$/m);
    assert.deepEqual(certificateNames(second.cert), [
      'localhost',
      '127.0.0.1',
      '::1',
      'app.test',
      '192.168.1.20',
      'fd00::1',
    ]);
    // A leaf covering more than asked is still good for a subset.
    const third = await ensureLocalCertificate({ dataDir, hosts: ['app.test'] });
    assert.deepEqual(third.created, { ca: false, leaf: false });
  });

  it('renews the leaf when 30 days or less are left, and keeps the CA', async () => {
    const dataDir = freshDir();
    const now = new Date();
    const first = await ensureLocalCertificate({ dataDir, now });
    const at366 = await ensureLocalCertificate({ dataDir, now: new Date(now.getTime() + 366 * DAY_MS) });
    assert.deepEqual(at366.created, { ca: false, leaf: false });
    const later = new Date(now.getTime() + 380 * DAY_MS);
    const renewed = await ensureLocalCertificate({ dataDir, now: later });
    assert.deepEqual(renewed.created, { ca: false, leaf: true });
    assert.equal(renewed.caCert, first.caCert);
    assert.ok(Date.parse(new X509Certificate(renewed.cert).validTo) > later.getTime() + 300 * DAY_MS);
  });

  it('issues a leaf that verifies against the CA and is not self-signed', async () => {
    const local = await ensureLocalCertificate({ dataDir: freshDir() });
    const ca = new X509Certificate(local.caCert);
    const leaf = new X509Certificate(local.cert);
    assert.ok(leaf.verify(ca.publicKey));
    assert.ok(leaf.checkIssued(ca));
    assert.equal(leaf.checkIssued(leaf), false);
    assert.equal(leaf.verify(leaf.publicKey), false);
    assert.notEqual(leaf.issuer, leaf.subject);
    assert.equal(leaf.ca, false);
    assert.match(leaf.subject, /^CN=localhost$/m);
    assert.equal(leaf.issuer, 'CN=Berth Local CA\nO=Berth');
  });

  it('makes EC P-256 keys for both', async () => {
    const local = await ensureLocalCertificate({ dataDir: freshDir() });
    for (const pem of [local.cert, local.caCert]) {
      const key = new X509Certificate(pem).publicKey;
      assert.equal(key.asymmetricKeyType, 'ec');
      assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    }
  });

  it('puts localhost, 127.0.0.1 and ::1 in every leaf, once each', async () => {
    const local = await ensureLocalCertificate({
      dataDir: freshDir(),
      hosts: ['localhost', '::1', 'dev.test'],
    });
    assert.deepEqual(certificateNames(local.cert), ['localhost', '127.0.0.1', '::1', 'dev.test']);
    const leaf = new X509Certificate(local.cert);
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.ok(leaf.checkIP('::1') !== undefined);
    assert.match(leaf.subject, /^CN=localhost$/m);
  });

  it('keeps the leaf within 825 days (397) and the CA at 10 years', async () => {
    const local = await ensureLocalCertificate({ dataDir: freshDir() });
    const days = (pem: string) => {
      const c = new X509Certificate(pem);
      return (Date.parse(c.validTo) - Date.parse(c.validFrom)) / DAY_MS;
    };
    assert.equal(days(local.cert), 397);
    assert.ok(days(local.cert) <= 825);
    assert.ok(days(local.caCert) >= 3652 && days(local.caCert) <= 3653);
  });

  it('gives the leaf a random positive 16-byte serial', async () => {
    const dataDir = freshDir();
    const a = new X509Certificate((await ensureLocalCertificate({ dataDir })).cert).serialNumber;
    const b = new X509Certificate((await ensureLocalCertificate({ dataDir, hosts: ['x.test'] })).cert)
      .serialNumber;
    assert.match(a, /^[0-7][0-9A-F]{31}$/);
    assert.notEqual(a, b);
  });

  it('reissues a damaged leaf but refuses a damaged CA, asking for the folder to be deleted', async () => {
    const dataDir = freshDir();
    await ensureLocalCertificate({ dataDir });
    await writeFile(join(dataDir, 'localhost.crt'), 'garbage');
    assert.deepEqual((await ensureLocalCertificate({ dataDir })).created, { ca: false, leaf: true });
    await writeFile(join(dataDir, 'ca.crt'), 'garbage');
    await assert.rejects(ensureLocalCertificate({ dataDir }), (err: Error) => {
      assert.match(err.message, /local CA/);
      assert.ok(err.message.includes(`Delete ${dataDir}`));
      return true;
    });
  });

  it('refuses an expired CA instead of replacing it', async () => {
    const dataDir = freshDir();
    const first = await ensureLocalCertificate({ dataDir });
    const in11Years = new Date(Date.now() + 11 * 366 * DAY_MS);
    await assert.rejects(ensureLocalCertificate({ dataDir, now: in11Years }), /expired on .*Delete /);
    assert.equal(await readFile(join(dataDir, 'ca.crt'), 'utf8'), first.caCert);
  });

  it('refuses a CA whose key does not match', async () => {
    const a = freshDir();
    const b = freshDir();
    await ensureLocalCertificate({ dataDir: a });
    await ensureLocalCertificate({ dataDir: b });
    await writeFile(join(a, 'ca.key'), await readFile(join(b, 'ca.key')));
    await assert.rejects(ensureLocalCertificate({ dataDir: a }), /ca\.key does not match/);
  });

  it('rejects a host that is neither a DNS name nor an IP', async () => {
    await assert.rejects(
      ensureLocalCertificate({ dataDir: freshDir(), hosts: ['bad host'] }),
      /"bad host" is not a valid/,
    );
  });

  it('gives a consistent answer to concurrent first calls', async () => {
    const dataDir = freshDir();
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureLocalCertificate({ dataDir })));
    const ca = await readFile(join(dataDir, 'ca.crt'), 'utf8');
    for (const r of results) assert.equal(r.caCert, ca);
    assert.equal(results.filter((r) => r.created.ca).length, 1);
    const again = await ensureLocalCertificate({ dataDir });
    assert.deepEqual(again.created, { ca: false, leaf: false });
  });
});

describe('defaultDataDir()', () => {
  it('uses $XDG_DATA_HOME/berth when it is absolute, else ~/.local/share/berth', () => {
    assert.equal(defaultDataDir({ XDG_DATA_HOME: '/x/data' }), '/x/data/berth');
    assert.match(defaultDataDir({ XDG_DATA_HOME: 'relative' }), /\/\.local\/share\/berth$/);
    assert.match(defaultDataDir({}), /\/\.local\/share\/berth$/);
  });
});

describe('describeLocalCa()', () => {
  it('names the CA path and the ways to trust it', () => {
    const text = describeLocalCa('/home/u/.local/share/berth/ca.crt');
    assert.ok(text.includes('/home/u/.local/share/berth/ca.crt'));
    assert.ok(text.includes('--cacert /home/u/.local/share/berth/ca.crt'));
    assert.ok(text.includes('NODE_EXTRA_CA_CERTS=/home/u/.local/share/berth/ca.crt'));
    assert.ok(
      text.includes('/usr/local/share/ca-certificates/berth-local-ca.crt && sudo update-ca-certificates'),
    );
    assert.ok(
      text.includes('security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain'),
    );
    assert.match(text, /certutil/);
    assert.match(text, /Authorities/);
  });

  it('quotes a path with spaces or quotes for the shell', () => {
    assert.ok(describeLocalCa("/tmp/it's here/ca.crt").includes(`--cacert '/tmp/it'\\''s here/ca.crt'`));
  });
});
