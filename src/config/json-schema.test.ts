import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from './json-schema.js';

const committed = new URL(`../../${CONFIG_SCHEMA_FILE}`, import.meta.url);

test('berth.schema.json is what the zod schema generates (regenerate: npx tsx scripts/config-schema.ts)', async () => {
  // Content, not layout: Biome formats the file after it is written.
  const onDisk: unknown = JSON.parse(await readFile(committed, 'utf8'));
  const fresh: unknown = JSON.parse(configJsonSchema());
  assert.ok(
    isDeepStrictEqual(onDisk, fresh),
    'berth.schema.json is stale: run `npx tsx scripts/config-schema.ts`',
  );
});

test('berth.schema.json is strict and marks exactly one handler per route for editors', () => {
  const schema = JSON.parse(configJsonSchema());
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required, ['sites']);
  const route = schema.properties.sites.items.properties.routes.items;
  assert.equal(route.additionalProperties, false);
  assert.deepEqual(
    route.oneOf.map((o: { required: string[] }) => o.required[0]),
    ['static', 'proxy', 'redirect', 'respond'],
  );
});
