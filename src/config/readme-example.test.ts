import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parseConfig } from './load.js';

test('the annotated example in README.md is a valid config', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /A shorter annotated example:\n\n```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has the example');
  const config = parseConfig(block[1]!, '/srv/berth/berth.yaml');
  assert.equal(config.listeners.length, 2);
  assert.equal(config.sites.length, 2);
  assert.equal(config.sites[0]!.routes.length, 4);
  assert.equal(config.workers, 'auto');
});
