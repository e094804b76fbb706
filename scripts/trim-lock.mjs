// Drops optional dependencies that package-lock.json names but holds no entry for. The registry
// this project installs from lacks some platform builds (e.g. @biomejs/cli-win32-x64); `npm install`
// skips them silently but `npm ci` then refuses the lock. Run after `npm install` changes the lock.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let dropped = 0;
for (const entry of Object.values(lock.packages)) {
  const optional = entry.optionalDependencies;
  if (optional === undefined) continue;
  for (const name of Object.keys(optional)) {
    if (lock.packages[`node_modules/${name}`] === undefined) {
      delete optional[name];
      dropped++;
    }
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`trim-lock: dropped ${dropped} optional dependencies the lock has no entry for`);
