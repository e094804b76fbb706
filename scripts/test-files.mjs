// Prints the test files for `node --test`: Node 20's runner takes no globs, so we list them here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'test'];
const found = [];
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
}
for (const root of roots) walk(root);
process.stdout.write(found.sort().join(' '));
