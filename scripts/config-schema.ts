// Regenerates berth.schema.json from src/config/schema.ts: `npx tsx scripts/config-schema.ts`.
// `--stdout` prints it instead. The file is then formatted by Biome, like every other JSON file
// here; src/config/json-schema.test.ts compares its content (not its layout) and fails when stale.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../src/config/json-schema.js';

const text = configJsonSchema();
if (process.argv.includes('--stdout')) {
  process.stdout.write(text);
} else {
  const target = fileURLToPath(new URL(`../${CONFIG_SCHEMA_FILE}`, import.meta.url));
  writeFileSync(target, text);
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
  const formatted = spawnSync(biome, ['format', '--write', target], { encoding: 'utf8' });
  if (formatted.status !== 0) {
    process.stderr.write(
      `${formatted.stdout}${formatted.stderr}note: biome format failed; the file is unformatted\n`,
    );
  }
  process.stdout.write(`wrote ${target}\n`);
}
