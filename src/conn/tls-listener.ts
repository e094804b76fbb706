/**
 * The TLS side of a listener: secure defaults, certificates chosen by SNI, and ALPN, which sends
 * `h2` connections to HTTP/2 and `http/1.1` ones to Berth's own engine on the same port.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

/** One certificate and its key (PEM). The first one given is served when SNI names no other. */
export type CertificateOptions = {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly passphrase?: string;
  /** Host names it serves; by default its DNS and IP subject alternative names. */
  readonly names?: readonly string[];
};

export type TlsOptions = {
  readonly certificates: readonly CertificateOptions[];
  /** Offer HTTP/2 through ALPN (default true). */
  readonly http2?: boolean;
};

/**
 * TLS 1.2 ciphers: ECDHE key exchange with AEAD only (no CBC, RC4, 3DES, NULL, EXPORT, no static
 * RSA), strongest first; TLS 1.3 suites are all AEAD and keep OpenSSL's order.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

type Entry = { readonly names: readonly string[]; readonly context: tls.SecureContext };

/** Builds the options for tls.createServer(): secure defaults, SNI selection and ALPN. */
export function secureServerOptions(options: TlsOptions): tls.TlsOptions {
  if (options.certificates.length === 0) throw new TypeError('TLS needs at least one certificate');
  const entries: Entry[] = options.certificates.map((c) => ({
    names: (c.names ?? certificateNames(c.cert)).map((n) => n.toLowerCase()),
    context: tls.createSecureContext({ ...contextDefaults(), cert: c.cert, key: c.key, ...passphrase(c) }),
  }));
  const first = options.certificates[0]!;
  return {
    ...contextDefaults(),
    cert: first.cert,
    key: first.key,
    ...passphrase(first),
    ALPNProtocols: options.http2 === false ? ['http/1.1'] : ['h2', 'http/1.1'],
    SNICallback: (servername, done) => done(null, chooseContext(entries, servername)),
  };
}

function contextDefaults(): tls.SecureContextOptions {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
    ecdhCurve: 'X25519:P-256:P-384',
    // Session tickets stay on (Node's default): resumption without server-side state.
    sessionTimeout: 300,
  };
}

function passphrase(c: CertificateOptions): { passphrase?: string } {
  return c.passphrase === undefined ? {} : { passphrase: c.passphrase };
}

/**
 * The context for an SNI server name: an exact name first, then a wildcard (`*.example.com`
 * covers one label, RFC 6125 §6.4.3), else the first certificate's.
 */
export function chooseContext(entries: readonly Entry[], servername: string): tls.SecureContext | undefined {
  const name = servername.toLowerCase();
  for (const entry of entries) if (entry.names.includes(name)) return entry.context;
  const dot = name.indexOf('.');
  if (dot > 0) {
    const wildcard = `*${name.slice(dot)}`;
    for (const entry of entries) if (entry.names.includes(wildcard)) return entry.context;
  }
  return entries[0]?.context;
}

/** The DNS and IP subject alternative names of a PEM certificate. */
export function certificateNames(cert: string | Buffer): string[] {
  const san = new X509Certificate(cert).subjectAltName ?? '';
  const names: string[] = [];
  for (const part of san.split(', ')) {
    if (part.startsWith('DNS:')) names.push(part.slice(4));
    else if (part.startsWith('IP Address:')) names.push(part.slice(11));
  }
  return names;
}
