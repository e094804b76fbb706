// The files the static scenarios serve: random (incompressible) bytes in a temp folder, made on
// first use and removed at process exit (normal end, error or SIGINT; see child-processes.mjs).
// Named .bin so no server picks a compressible type; the harness sends no Accept-Encoding anyway.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDirLater } from './child-processes.mjs';

/** File name → size in bytes. */
export const STATIC_FILES = {
  '1k.bin': 1024,
  '100k.bin': 100 * 1024,
  '10m.bin': 10 * 1024 * 1024,
};

let root;

/** The folder holding STATIC_FILES, created once per run. */
export function staticRoot() {
  if (root === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bench-static-'));
    removeDirLater(dir);
    // mkdtemp gives 0700; nginx started as root reads files as its worker user (nobody).
    chmodSync(dir, 0o755);
    for (const [name, size] of Object.entries(STATIC_FILES)) {
      writeFileSync(join(dir, name), randomBytes(size), { mode: 0o644 });
    }
    root = dir;
  }
  return root;
}

/** The bytes of one static file (for the harness's response check). */
export function staticFileBytes(name) {
  return readFileSync(join(staticRoot(), name));
}
