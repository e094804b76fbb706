// The certificate the TLS scenarios serve: Berth's own local CA and leaf (dist/tls/local-ca.js),
// made once per run in a temp data folder removed at process exit. Berth's TLS server loads it
// from that folder; nginx gets the same PEM text written into its own temp dir (targets.mjs); the
// harness's response check trusts the CA, so a wrong certificate fails the check.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDirLater } from './child-processes.mjs';

let pending;

/** Resolves with `{ dataDir, cert, key, caCert }` (PEM), created on the first call of the run. */
export function benchCertificate() {
  pending ??= (async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-bench-tls-'));
    removeDirLater(dataDir);
    // Imported here, not at the top: --list and the other scenarios must not need a build.
    const { ensureLocalCertificate } = await import('../dist/tls/local-ca.js');
    const { cert, key, caCert } = await ensureLocalCertificate({ dataDir });
    return { dataDir, cert, key, caCert };
  })();
  return pending;
}
