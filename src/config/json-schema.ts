/**
 * berth.schema.json, the JSON Schema editors use to complete and check `berth.yaml`
 * (`# yaml-language-server: $schema=...`), generated from the zod schema so the two never disagree
 * on keys. It describes what may be written (zod's input side); checks that need the whole file
 * (one default site, hosts that repeat) exist only in the loader.
 */
import { z } from 'zod';
import { configFileSchema } from './schema.js';

/** Where the generated file lives, relative to the repository root. */
export const CONFIG_SCHEMA_FILE = 'berth.schema.json';

/**
 * The JSON Schema text for `berth.yaml`, as it should be committed: draft-07 (the draft YAML
 * editors know best), two-space indented, ending in a newline.
 */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configFileSchema, { io: 'input', target: 'draft-07' });
  const withTitle = { $schema: schema.$schema, title: 'berth.yaml', ...schema };
  return `${JSON.stringify(withTitle, null, 2)}\n`;
}
