/**
 * Automatic local HTTPS, as Caddy does it: a private certificate authority made on first use
 * and kept in the user's data folder, and a short-lived server ("leaf") certificate it signs for
 * localhost and the configured hosts. Trust the CA once (`berth ca` prints how); every leaf it
 * issues later is then trusted too.
 *
 * On disk (folder 0700; keys 0600 from the moment they exist, written to a temp file and renamed):
 *   ca.crt  ca.key              the CA, 10 years; never replaced silently once it exists
 *   localhost.crt localhost.key the leaf, 397 days; reissued when hosts change or < 30 days left
 *
 * Everything is made with @peculiar/x509 on node:crypto's WebCrypto; nothing spawns openssl.
 * This is the only module that loads @peculiar/x509 (and the reflect-metadata it needs), so the
 * server imports it lazily, only when local HTTPS is asked for.
 */
import 'reflect-metadata';
import { createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as x509 from '@peculiar/x509';
import { type HostName, parseHostName } from './host-name.js';
import { certificateNames } from './load.js';

x509.cryptoProvider.set(webcrypto);

export type LocalCertificateOptions = {
  /** Host names and IPs to cover besides localhost, 127.0.0.1 and ::1; the first is the CN. */
  readonly hosts?: readonly string[];
  /** Where the CA and leaf live; default `$XDG_DATA_HOME/berth`, else `~/.local/share/berth`. */
  readonly dataDir?: string;
  /** The current time (for tests): validity checks and new certificates start from it. */
  readonly now?: Date;
};

export type LocalCertificate = {
  /** The leaf certificate (PEM) to serve. */
  readonly cert: string;
  /** The leaf's private key (PKCS#8 PEM, unencrypted). */
  readonly key: string;
  /** The CA certificate's path: what users add to their trust stores. */
  readonly caCertPath: string;
  /** The CA certificate (PEM). */
  readonly caCert: string;
  /** The leaf certificate's path. */
  readonly leafPath: string;
  /** What this call made: a new CA (first use) and/or a new leaf (first use, new hosts, renewal). */
  readonly created: { readonly ca: boolean; readonly leaf: boolean };
};

const CA_SUBJECT: x509.JsonName = [{ CN: ['Berth Local CA'] }, { O: ['Berth'] }];
const CA_VALIDITY_YEARS = 10;
/** Apple and Chrome cap TLS server certificates at 398 days; 397 keeps a day of margin. */
const LEAF_VALIDITY_DAYS = 397;
const RENEW_BEFORE_DAYS = 30;
/** New certificates start an hour back, so a client whose clock runs a little slow accepts them. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const SERIAL_BYTES = 16;
const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 60_000;
const LOCK_POLL_MS = 50;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;
const DIR_MODE = 0o700;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Names every local leaf covers, whatever the configuration asks for. */
const ALWAYS: readonly HostName[] = [
  { kind: 'dns', name: 'localhost' },
  { kind: 'ip', name: '127.0.0.1' },
  { kind: 'ip', name: '::1' },
];

type Paths = { dir: string; caCert: string; caKey: string; leafCert: string; leafKey: string; lock: string };

/** A loaded, checked CA. */
type Ca = {
  pem: string;
  cert: X509Certificate;
  parsed: x509.X509Certificate;
  signingKey: webcrypto.CryptoKey;
};

type Leaf = { cert: string; key: string };

/**
 * Returns a leaf certificate for localhost (and `hosts`) signed by the local CA, creating the CA
 * on first use and issuing a new leaf when there is none, it lacks a requested host, or it has 30
 * days or less left. Rejects when a host is not a valid name or IP, when the folder cannot be
 * written, or when the existing CA is unreadable, mismatched or expired: that error asks the user
 * to delete the folder, because a CA they may have trusted is never replaced behind their back.
 * Safe to call from several processes at once (creation happens under a lock file).
 */
export async function ensureLocalCertificate(
  options: LocalCertificateOptions = {},
): Promise<LocalCertificate> {
  const now = options.now ?? new Date();
  const hosts = (options.hosts ?? []).map(parseHostName);
  const names = dedupe([...ALWAYS, ...hosts]);
  const commonName = (hosts[0] ?? ALWAYS[0]!).name;
  const paths = pathsIn(options.dataDir ?? defaultDataDir());
  await makeDataDir(paths.dir);

  // The usual start: both exist and are fine, and nothing is written (no lock needed).
  const existing = await loadCa(paths, now);
  if (existing !== undefined) {
    const leaf = await reusableLeaf(paths, existing, names, now);
    if (leaf !== undefined) return result(paths, existing, leaf, { ca: false, leaf: false });
  }

  return withLock(paths, async () => {
    // Another process may have done the work while this one waited for the lock: look again.
    let ca = await loadCa(paths, now);
    const createdCa = ca === undefined;
    ca ??= await createCa(paths, now);
    const reused = await reusableLeaf(paths, ca, names, now);
    if (reused !== undefined) return result(paths, ca, reused, { ca: createdCa, leaf: false });
    const leaf = await issueLeaf(paths, ca, names, commonName, now);
    return result(paths, ca, leaf, { ca: createdCa, leaf: true });
  });
}

/** `$XDG_DATA_HOME/berth` when XDG_DATA_HOME is an absolute path (XDG Base Directory spec), else `~/.local/share/berth`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  return xdg !== undefined && isAbsolute(xdg)
    ? join(xdg, 'berth')
    : join(homedir(), '.local', 'share', 'berth');
}

function pathsIn(dir: string): Paths {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    leafCert: join(dir, 'localhost.crt'),
    leafKey: join(dir, 'localhost.key'),
    lock: join(dir, '.lock'),
  };
}

function result(paths: Paths, ca: Ca, leaf: Leaf, created: LocalCertificate['created']): LocalCertificate {
  return {
    cert: leaf.cert,
    key: leaf.key,
    caCertPath: paths.caCert,
    caCert: ca.pem,
    leafPath: paths.leafCert,
    created,
  };
}

/** Parents get the usual mode; the folder itself is 0700. An existing folder is left as it is. */
async function makeDataDir(dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir, { mode: DIR_MODE });
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
  }
}

// ---- The CA ----

/**
 * Loads the CA, or undefined when ca.crt does not exist yet. ca.crt is written last, so it marks
 * a complete CA; a ca.key without it is the leftover of an interrupted first run and is replaced.
 */
async function loadCa(paths: Paths, now: Date): Promise<Ca | undefined> {
  let pem: string;
  try {
    pem = await readFile(paths.caCert, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw caUnusable(paths, `${paths.caCert} cannot be read (${message(err)})`);
  }
  let keyPem: string;
  try {
    keyPem = await readFile(paths.caKey, 'utf8');
  } catch (err) {
    throw caUnusable(paths, `${paths.caKey} cannot be read (${message(err)})`);
  }
  let cert: X509Certificate;
  let parsed: x509.X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(pem);
    parsed = new x509.X509Certificate(pem);
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw caUnusable(paths, `it does not parse (${message(err)})`);
  }
  if (!cert.ca) throw caUnusable(paths, `${paths.caCert} is not a CA certificate`);
  if (!cert.checkPrivateKey(key)) throw caUnusable(paths, `${paths.caKey} does not match ${paths.caCert}`);
  if (parsed.notAfter.getTime() <= now.getTime()) {
    throw caUnusable(paths, `it expired on ${parsed.notAfter.toISOString()}`);
  }
  let signingKey: webcrypto.CryptoKey;
  try {
    const der = key.export({ type: 'pkcs8', format: 'der' });
    signingKey = await webcrypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']);
  } catch (err) {
    throw caUnusable(paths, `its key is not an EC P-256 key (${message(err)})`);
  }
  return { pem, cert, parsed, signingKey };
}

function caUnusable(paths: Paths, why: string): Error {
  return new Error(
    `the Berth local CA in ${paths.dir} cannot be used: ${why}. ` +
      `Delete ${paths.dir} to make a new CA (and remove the old one from any trust store you added it to).`,
  );
}

/**
 * Makes and stores the CA: BasicConstraints CA with pathLen 0 (it signs leaves, never other CAs;
 * RFC 5280 §4.2.1.9) and KeyUsage keyCertSign + cRLSign only (§4.2.1.3), both critical.
 */
async function createCa(paths: Paths, now: Date): Promise<Ca> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const parsed = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: CA_SUBJECT,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = parsed.toString('pem');
  // Key first, certificate last: ca.crt existing means the pair is complete (see loadCa).
  await writeFileAtomic(paths.caKey, pkcs8Pem(keys.privateKey), KEY_MODE);
  await writeFileAtomic(paths.caCert, `${pem}\n`, CERT_MODE);
  return { pem: `${pem}\n`, cert: new X509Certificate(pem), parsed, signingKey: keys.privateKey };
}

// ---- The leaf ----

/**
 * The leaf on disk when it can serve these names: it parses, its key matches, this CA signed it,
 * it names every requested host, and it has more than RENEW_BEFORE_DAYS left. Undefined otherwise
 * (including when the files are missing or damaged: a leaf is cheap to reissue, unlike the CA).
 */
async function reusableLeaf(
  paths: Paths,
  ca: Ca,
  names: readonly HostName[],
  now: Date,
): Promise<Leaf | undefined> {
  try {
    const [cert, key] = await Promise.all([
      readFile(paths.leafCert, 'utf8'),
      readFile(paths.leafKey, 'utf8'),
    ]);
    const leaf = new X509Certificate(cert);
    if (!leaf.checkPrivateKey(createPrivateKey(key))) return undefined;
    if (!leaf.checkIssued(ca.cert) || !leaf.verify(ca.cert.publicKey)) return undefined;
    const notBefore = Date.parse(leaf.validFrom);
    const notAfter = Date.parse(leaf.validTo);
    if (!(notBefore <= now.getTime() && notAfter - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS))
      return undefined;
    const covered = new Set(certificateNames(cert));
    return names.every((n) => covered.has(n.name)) ? { cert, key } : undefined;
  } catch {
    return undefined;
  }
}

/** A TLS server certificate for `names` (CA/Browser Forum baseline: EKU serverAuth, SAN only names). */
async function issueLeaf(
  paths: Paths,
  ca: Ca,
  names: readonly HostName[],
  commonName: string,
  now: Date,
): Promise<Leaf> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  // A leaf never outlives its issuer: clients would reject the chain after the CA's notAfter.
  const notAfter = new Date(
    Math.min(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY_MS, ca.parsed.notAfter.getTime()),
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [commonName] }],
    issuer: ca.parsed.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await authorityKeyIdentifier(ca),
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: n.kind, value: n.name }))),
    ],
  });
  const leaf = { cert: `${cert.toString('pem')}\n`, key: pkcs8Pem(keys.privateKey) };
  await writeFileAtomic(paths.leafKey, leaf.key, KEY_MODE);
  await writeFileAtomic(paths.leafCert, leaf.cert, CERT_MODE);
  return leaf;
}

/** RFC 5280 §4.2.1.1: the AKI repeats the CA's own SKI, so chain builders match them byte for byte. */
async function authorityKeyIdentifier(ca: Ca): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = ca.parsed.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski !== null
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(ca.parsed.publicKey);
}

// ---- Helpers ----

/**
 * 16 random bytes as a positive DER INTEGER (RFC 5280 §4.1.2.2: positive, ≤ 20 octets; CA/B
 * Forum: ≥ 64 bits of randomness). The top bit is cleared (else the INTEGER is negative) and the
 * first byte made non-zero (else DER drops it and the serial is shorter).
 */
function randomSerial(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function pkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

function dedupe(names: readonly HostName[]): HostName[] {
  const byName = new Map<string, HostName>();
  for (const n of names) if (!byName.has(n.name)) byName.set(n.name, n);
  return [...byName.values()];
}

/**
 * Writes a file whole or not at all: a temp file beside it, created with its final mode (so a
 * key is never readable by others, not even for a moment), synced, then renamed over the target.
 */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Runs fn holding `.lock` (created exclusively), so two servers starting together do not each
 * write half a CA. A lock older than LOCK_STALE_MS is taken to be left by a crashed process.
 */
async function withLock<T>(paths: Paths, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(paths.lock, 'wx', KEY_MODE)).close();
      break;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
    const held = await stat(paths.lock).catch(() => undefined);
    if (held !== undefined && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
      await rm(paths.lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${paths.lock} is held by another Berth process; delete it if none is running`);
    }
    await sleep(LOCK_POLL_MS);
  }
  try {
    return await fn();
  } finally {
    await rm(paths.lock, { force: true });
  }
}

function errorCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
