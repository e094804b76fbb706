/**
 * Runs scripts/testssl.sh: testssl.sh scans `berth --tls` (protocols, cipher categories, server
 * preference, forward secrecy) and the script fails on a HIGH/CRITICAL finding or an old protocol
 * offered. testssl.sh is required, as Chromium is for the browser tests: CI installs it
 * (apt-get install testssl.sh), so a missing binary fails here rather than skipping.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'testssl.sh');
const TIMEOUT_MS = 240_000;

describe('testssl.sh against berth --tls', () => {
  it('finds nothing HIGH or CRITICAL, and only TLS 1.2 and 1.3 offered', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          '/bin/bash',
          [SCRIPT],
          {
            // The script's own bound (for the scan) ends first, so it cleans up after itself.
            env: { ...process.env, TESTSSL_TIMEOUT: '200' },
            timeout: TIMEOUT_MS - 5_000,
            maxBuffer: 16 * 1024 * 1024,
          },
          (err, out, errOut) => {
            const exit = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
            resolve({ code: exit, stdout: out, stderr: errOut });
          },
        );
      },
    );
    assert.equal(code, 0, `scripts/testssl.sh failed:\n${stdout}\n${stderr}`);
    assert.match(stdout, /^testssl: protocols offered: TLS1_2, TLS1_3;/m);
    assert.match(stdout, /^testssl: OK \(scan \d+ s, total \d+ s\)$/m);
  });
});
