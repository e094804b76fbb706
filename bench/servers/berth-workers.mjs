// Berth from a config file with `workers: N` (the first argument, default 1): the hello answer
// from a `respond` route, through the same runtime `berth --config` uses. The primary prints the
// port the workers share; the workers (this same script, forked by node:cluster) serve.
import cluster from 'node:cluster';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConfigFile } from '../../dist/runtime/run-config.js';

const workers = Number(process.argv[2] || '1');
const file =
  process.env.BERTH_BENCH_CONFIG ?? join(mkdtempSync(join(tmpdir(), 'berth-bench-workers-')), 'berth.yaml');
if (cluster.isPrimary) {
  process.env.BERTH_BENCH_CONFIG = file;
  writeFileSync(
    file,
    `listeners: [{ port: 0 }]
log: off
status: false
workers: ${workers}
sites:
  - routes: [{ respond: { status: 200, body: "Hello, World!" } }]
`,
  );
}
await runConfigFile(file, {
  log: (line) => process.stderr.write(`berth: ${line}\n`),
  announce: (lines) => {
    const port = /:(\d+) \(/.exec(lines[0] ?? '')?.[1];
    process.stdout.write(`${port}\n`);
  },
  exit: (code) => process.exit(code),
});
