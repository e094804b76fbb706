/**
 * The text `berth ca` prints: where the local CA certificate is and how to make clients trust
 * it. Pure (no file access), so the wording is tested without a CA.
 */

/**
 * Describes the local CA at caCertPath and how to trust it: curl, Node, the Debian/Ubuntu and
 * macOS system stores, and Firefox/Chrome. Lines end without a trailing newline; the path is
 * shell-quoted in commands when it needs to be.
 */
export function describeLocalCa(caCertPath: string): string {
  const path = shellQuote(caCertPath);
  return [
    `Berth local CA certificate: ${caCertPath}`,
    '',
    'Trust it once; every certificate Berth issues for localhost is then trusted too.',
    '',
    `  curl              curl --cacert ${path} https://localhost:PORT/`,
    `  Node.js           NODE_EXTRA_CA_CERTS=${path} node app.js`,
    `  Debian/Ubuntu     sudo cp ${path} /usr/local/share/ca-certificates/berth-local-ca.crt && sudo update-ca-certificates`,
    `  macOS             sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${path}`,
    `  Firefox, Chrome   certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n 'Berth Local CA' -i ${path}`,
    '                    (Chrome on Linux; for Firefox use its profile folder, or: Settings → Certificates →',
    '                    Authorities → Import, and tick "Trust this CA to identify websites")',
    '',
    'Keep ca.key beside it private: whoever has it can issue certificates your machine trusts.',
    'To start over, remove the CA from those stores and delete its folder.',
  ].join('\n');
}

/** POSIX sh single quotes, only when needed: `'it'\''s'`. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
