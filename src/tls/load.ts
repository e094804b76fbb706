/**
 * Loads a certificate and its private key from PEM files, as named in the configuration, and
 * checks them once at start so a bad pair fails with one line naming the file, not with an
 * OpenSSL error on the first handshake. Uses only node:crypto (no @peculiar/x509), so loading
 * user certificates costs nothing extra at start.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { canonicalIp } from './host-name.js';

/** Where the certificate, key and (for an encrypted key) the passphrase live. */
export type CertificateFiles = {
  /** PEM: the certificate first, then any intermediates (served as the chain). */
  readonly cert: string;
  /** PEM private key (PKCS#8, SEC1 or PKCS#1; encrypted or not). */
  readonly key: string;
  /** A file holding the key's passphrase; one trailing newline is ignored. */
  readonly keyPassFile?: string;
  /** The time to check expiry against (default: now); for tests. */
  readonly now?: Date;
};

/** A checked pair, ready for tls.createSecureContext(). */
export type LoadedCertificate = {
  readonly cert: string;
  readonly key: string;
  readonly passphrase?: string;
  /** The certificate's DNS and IP subject alternative names (its CN when it has none). */
  readonly names: string[];
};

/**
 * Reads and checks a certificate and key: both PEM, the key decrypts with the passphrase, the key
 * belongs to the certificate, and the certificate has not expired. Rejects with an Error whose
 * message is one line naming the file at fault; resolves with the file contents as read (the key
 * stays encrypted; the passphrase travels beside it).
 */
export async function loadCertificateFiles(files: CertificateFiles): Promise<LoadedCertificate> {
  const certPem = await readText(files.cert, 'certificate');
  if (!certPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`certificate ${files.cert}: not PEM (no "-----BEGIN CERTIFICATE-----" line)`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`certificate ${files.cert}: cannot be parsed (${reason(err)})`);
  }

  const keyPem = await readText(files.key, 'key');
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(keyPem)) {
    throw new Error(`key ${files.key}: not PEM (no "-----BEGIN ... PRIVATE KEY-----" line)`);
  }
  const passphrase =
    files.keyPassFile === undefined
      ? undefined
      : withoutTrailingNewline(await readText(files.keyPassFile, 'key passphrase file'));
  const key = privateKey(files, keyPem, passphrase);

  if (!certificate.checkPrivateKey(key)) {
    throw new Error(`key ${files.key}: does not match certificate ${files.cert}`);
  }
  const notAfter = new Date(certificate.validTo);
  if (!(notAfter.getTime() > (files.now ?? new Date()).getTime())) {
    throw new Error(`certificate ${files.cert}: expired on ${isoSeconds(notAfter)}`);
  }
  return {
    cert: certPem,
    key: keyPem,
    ...(passphrase === undefined ? {} : { passphrase }),
    names: certificateNames(certPem),
  };
}

/**
 * The host names a PEM certificate (its first, when a chain is given) serves: its DNS and IP
 * subject alternative names, DNS names in lower case and IPs in canonical form (`::1`), in
 * certificate order without duplicates; the subject CN when there are none. Throws when the PEM
 * does not parse.
 */
export function certificateNames(certPem: string): string[] {
  const certificate = new X509Certificate(certPem);
  const names = new Set<string>();
  for (const [type, value] of subjectAltNames(certificate.subjectAltName ?? '')) {
    if (type === 'DNS') names.add(value.toLowerCase());
    else if (type === 'IP Address') names.add(canonicalIp(value) ?? value);
  }
  if (names.size === 0) {
    // RFC 6125 §6.4.4: the CN counts only when there is no subjectAltName of a DNS or IP type.
    const cn = certificate.subject.split('\n').find((line) => line.startsWith('CN='));
    if (cn !== undefined) names.add(unquote(cn.slice(3)).toLowerCase());
  }
  return [...names];
}

/**
 * Splits Node's `subjectAltName` text (`DNS:a, IP Address:127.0.0.1`) into [type, value] pairs.
 * Node JSON-quotes values that hold separators (`DNS:"a\u002cb"`, CVE-2021-44532), so a quoted
 * value is read as a JSON string and a bare one runs to the next `, `.
 */
function subjectAltNames(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let end: number;
    let value: string;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end += 1;
      value = unquote(text.slice(colon + 1, end));
    } else {
      const comma = text.indexOf(', ', colon + 1);
      end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    out.push([type, value]);
    i = end + 2;
  }
  return out;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return String(JSON.parse(value));
  } catch {
    return value;
  }
}

function privateKey(files: CertificateFiles, pem: string, passphrase: string | undefined): KeyObject {
  // Checked from the PEM itself: without a passphrase OpenSSL only says "interrupted or cancelled".
  const isEncrypted =
    pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /^Proc-Type: 4,ENCRYPTED/m.test(pem);
  if (isEncrypted && passphrase === undefined) {
    throw new Error(`key ${files.key}: encrypted, and no passphrase file was given`);
  }
  try {
    return createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
  } catch (err) {
    // A wrong passphrase usually fails the padding check ("bad decrypt"), but about one time in
    // 250 the padding happens to look right and the decoder fails on the garbage instead.
    if (isEncrypted) {
      throw new Error(
        `key ${files.key}: wrong passphrase (from ${files.keyPassFile}), or the key is damaged`,
      );
    }
    throw new Error(`key ${files.key}: cannot be read as a private key (${reason(err)})`);
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const problem =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : reason(err);
    throw new Error(`${what} ${path}: ${problem}`);
  }
}

/** A passphrase file usually ends with the newline an editor or `echo` adds; it is not part of it. */
function withoutTrailingNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

function isoSeconds(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'an unreadable date' : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
