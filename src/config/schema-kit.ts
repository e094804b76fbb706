/**
 * The few ways schema.ts builds objects, kept in one place so every part of `berth.yaml` behaves
 * alike: strict objects whose unknown-key error lists what is allowed (and the key likely meant),
 * "exactly one of these keys", and short forms (`static: ./public`) expanded through the full
 * object so defaults are written once.
 */
import { z } from 'zod';
import { quote } from './schema-values.js';

/** A strict object whose unknown-key error names the keys allowed there (and the likely one meant). */
export function strict<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return unknownKeys(iss.keys, allowed);
      if (iss.code === 'invalid_type' && iss.input !== undefined)
        return `expected a map with ${allowed.join(', ')}`;
      return undefined;
    },
  });
}

function unknownKeys(keys: readonly string[], allowed: readonly string[]): string {
  const first = keys[0] ?? '';
  const near = closest(first, allowed);
  const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
  const which =
    keys.length === 1 ? `unknown key ${quote(first)}` : `unknown keys ${keys.map(quote).join(', ')}`;
  return `${which}${hint}; allowed here: ${allowed.join(', ')}`;
}

/**
 * A check that exactly one of `keys` is set; the issue goes on the object, or on the virtual key
 * `at` (`handler` for routes). Its JSON Schema twin is `oneOfKeys(keys)`.
 */
export function exactlyOne(keys: readonly string[], at?: string) {
  return (value: Readonly<Record<string, unknown>>, ctx: z.RefinementCtx) => {
    const set = keys.filter((k) => value[k] !== undefined);
    if (set.length === 1) return;
    const got = set.length > 1 ? `; got ${set.join(' and ')}` : '';
    const message = `expected exactly one of ${keys.join(', ')}${got}`;
    ctx.addIssue({ code: 'custom', message, path: at === undefined ? [] : [at] });
  };
}

/** For editors: a JSON Schema `oneOf` that requires exactly one of these keys. */
export function oneOfKeys(keys: readonly string[]) {
  return { oneOf: keys.map((k) => ({ required: [k] })) };
}

/**
 * A short form for a common case (`static: ./public`, `cors: true`) or the full object; the short
 * form is expanded through the full schema, so its defaults are the object's, written once.
 */
export function shorthand<S extends z.ZodType, F extends z.ZodType>(
  short: S,
  full: F,
  expand: (value: z.output<S>) => z.input<F>,
  error: string,
) {
  return z.union([short, full], { error }).transform((v): z.output<F> => {
    const isFull = typeof v === 'object' && v !== null && !Array.isArray(v);
    return isFull ? (v as z.output<F>) : full.parse(expand(v as z.output<S>));
  });
}

/** A boolean with a default. */
export const bool = (fallback: boolean) => z.boolean({ error: 'expected true or false' }).default(fallback);

/** `x` or `[x, y]`: a single value is a list of one. `what`: the item, for the error (`a host`). */
export function oneOrMany<T extends z.ZodType>(item: T, what: string) {
  return z
    .union([item, z.array(item).min(1)], { error: `expected ${what} or a list of them` })
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

/**
 * The allowed key most like `key`: the same but for case and dashes (`max-age` → `maxAge`), or
 * at most two edits away (`prox` → `proxy`).
 */
function closest(key: string, allowed: readonly string[]): string | undefined {
  const fold = (k: string) => k.toLowerCase().replace(/[-_]/g, '');
  const same = allowed.find((k) => fold(k) === fold(key));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of allowed) {
    const d = editDistance(fold(k), fold(key));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Levenshtein distance, one row at a time (keys are short). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, substitution));
    }
    row = next;
  }
  return row[b.length]!;
}
