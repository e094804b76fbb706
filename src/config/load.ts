/**
 * `berth.yaml` → the frozen Config: read the YAML keeping node positions, validate it with the
 * zod schema, map it onto the model (to-model.ts) and deep-freeze the result. Every problem
 * becomes one line of a ConfigError: `berth.yaml:12:7: sites[0].routes[1].proxy.to: expected ...`.
 *
 * Validation happens here, once, before anything listens; nothing downstream re-checks the
 * config per request (Caddy's provision-then-serve split).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './config-error.js';
import type { Config } from './model.js';
import { friendlyMessage, type Source, yamlProblems, zodProblems } from './problems.js';
import { configFileSchema } from './schema.js';
import { toModel } from './to-model.js';

export { ConfigError, type ConfigProblem } from './config-error.js';

/** Anchors and aliases are allowed, but not a "billion laughs": at most this many alias expansions. */
const MAX_ALIAS_COUNT = 100;

/**
 * Reads and validates the config file at `path`. Relative paths inside it resolve against its
 * folder. Throws ConfigError for an unreadable file (at 1:1) or any problem in it; the Config
 * returned is deep-frozen.
 */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError([{ file: path, line: 1, column: 1, path: '', message: `cannot read: ${why}` }]);
  }
  return parseConfig(text, path);
}

/**
 * Validates config text as if read from `path` (named in messages; its folder is the base for
 * relative paths, resolved against the working directory when relative itself). Throws ConfigError
 * listing every problem; returns a deep-frozen Config.
 */
export function parseConfig(text: string, path: string): Config {
  const lines = new LineCounter();
  // YAML 1.2 core schema: `on`, `yes` and `no` are text, not booleans; duplicate keys are errors.
  // `<<: *defaults` merge keys are allowed, for routes that share most of their settings.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const source: Source = { file: path, doc, lines };
  const syntax = yamlProblems(source);
  if (syntax.length > 0) throw new ConfigError(syntax);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new ConfigError([{ file: path, line: 1, column: 1, path: '', message: (err as Error).message }]);
  }
  // An empty file is an empty map: the error then names what is missing.
  const parsed = configFileSchema.safeParse(data ?? {}, { error: friendlyMessage, reportInput: true });
  if (!parsed.success) throw new ConfigError(zodProblems(source, parsed.error.issues));
  return deepFreeze(toModel(parsed.data, dirname(resolve(path))));
}

/** The outcome of `berth check FILE`: a one-line summary, or every problem found. */
export type CheckResult =
  | { readonly ok: true; readonly summary: string }
  | { readonly ok: false; readonly message: string };

/**
 * Loads `path` as `berth check` does: never throws for a bad file. The summary reads
 * `berth.yaml: 2 listeners, 3 sites, 7 routes`; the message is the ConfigError's, one problem per
 * line. Errors other than ConfigError (bugs) are rethrown.
 */
export async function checkConfig(path: string): Promise<CheckResult> {
  try {
    const config = await loadConfig(path);
    const routes = config.sites.reduce((n, site) => n + site.routes.length, 0);
    const counts = [
      count(config.listeners.length, 'listener'),
      count(config.sites.length, 'site'),
      count(routes, 'route'),
    ];
    return { ok: true, summary: `${path}: ${counts.join(', ')}` };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, message: err.message };
    throw err;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Freezes `value` and everything reachable from it; returns it, now readonly all the way down. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
