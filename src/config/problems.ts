/**
 * Problems found in a config file, each placed at a line and column: YAML syntax errors come with
 * an offset; zod issues come with a key path, which is walked through the YAML node tree to the
 * node it names (or the nearest one that exists, for a key that is missing).
 *
 * Union issues are unwrapped: when only one alternative fits the value's kind (the object form of
 * `static:` when a map was written), that alternative's issues are the ones worth reading.
 */

import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, visit } from 'yaml';
import type { z } from 'zod';
import type { ConfigProblem } from './config-error.js';
import { quote } from './schema-values.js';

type Issue = z.core.$ZodIssue;
type Segment = PropertyKey;

/** Everything needed to place a problem: the file's name for messages, its parsed tree and lines. */
export type Source = { readonly file: string; readonly doc: Document; readonly lines: LineCounter };

/** The per-parse zod error map: messages that say what is allowed, in the words of a YAML file. */
export function friendlyMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${noun(iss.expected)}`;
    case 'invalid_value':
      return `expected ${iss.values.map((v) => (typeof v === 'string' ? v : String(v))).join(', ')}`;
    case 'too_small':
      if (iss.origin === 'array')
        return `expected at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return 'expected a non-empty value';
      return `expected at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'array') return `expected at most ${iss.maximum} items`;
      return `expected at most ${iss.maximum}`;
    default:
      return undefined;
  }
}

/** YAML syntax errors and warnings (an unknown tag, say), one problem each, in file order. */
export function yamlProblems(source: Source): ConfigProblem[] {
  const found = [...source.doc.errors, ...source.doc.warnings].map((e) =>
    at(source, e.pos[0], '', e.message),
  );
  // `*.example.com` unquoted reads as an alias to an anchor named `.example.com`: say so there.
  visit(source.doc, {
    Alias(_, node) {
      if (node.resolve(source.doc) !== undefined) return;
      const message = `unknown alias *${node.source}; quote text that starts with * ('*${node.source}')`;
      found.push(at(source, node.range?.[0] ?? 0, '', message));
    },
  });
  return inFileOrder(found);
}

/** Zod issues as problems, in file order. */
export function zodProblems(source: Source, issues: readonly Issue[]): ConfigProblem[] {
  const flat = issues.flatMap((i) => unwrap(i, []));
  const problems = flat.map(({ path, message, atKey }) =>
    at(source, locate(source.doc, path, atKey), pathText(path), message),
  );
  // Two union branches can report the same thing; say it once.
  const unique = new Map(problems.map((p) => [`${p.line}:${p.column}:${p.path}:${p.message}`, p]));
  return inFileOrder([...unique.values()]);
}

function inFileOrder(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

type Flat = { readonly path: readonly Segment[]; readonly message: string; readonly atKey: boolean };

function unwrap(issue: Issue, base: readonly Segment[]): Flat[] {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case 'invalid_union': {
      const fitting = issue.errors.filter((branch) => !branch.every(isKindMismatch));
      const only = fitting[0];
      if (fitting.length === 1 && only !== undefined && !only.every(isShallow)) {
        return only.flatMap((i) => unwrap(i, path));
      }
      if (issue.input === undefined) return [{ path, message: `missing; ${issue.message}`, atKey: false }];
      return [{ path, message: withInput(issue.message, issue.input), atKey: false }];
    }
    case 'unrecognized_keys':
      // One problem per object, at its first unknown key; the message names them all.
      return [{ path: [...path, issue.keys[0] ?? ''], message: issue.message, atKey: true }];
    case 'invalid_key':
      return [{ path, message: issue.issues[0]?.message ?? issue.message, atKey: true }];
    case 'invalid_type':
      if (issue.input === undefined) return [{ path, message: `missing; ${issue.message}`, atKey: false }];
      return [{ path, message: withInput(issue.message, issue.input), atKey: false }];
    case 'invalid_value':
    case 'too_small':
    case 'too_big':
      return [{ path, message: withInput(issue.message, issue.input), atKey: false }];
    default:
      return [{ path, message: issue.message, atKey: false }];
  }
}

/** A branch that failed only because the value is of another kind (a string where a map goes). */
function isKindMismatch(issue: Issue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === 'invalid_type') return true;
  // A literal (`true`, `auto`) given a value of another type: `cors: { ... }` is not a bad `true`.
  if (issue.code === 'invalid_value') return !issue.values.some((v) => typeof v === typeof issue.input);
  return issue.code === 'invalid_union' && issue.errors.every((branch) => branch.every(isKindMismatch));
}

/** An issue on the value itself with nothing more to say than the union does (`expected auto`). */
function isShallow(issue: Issue): boolean {
  return issue.path.length === 0 && issue.code === 'invalid_value';
}

function withInput(message: string, input: unknown): string {
  return message.includes(', got ') ? message : `${message}, got ${describe(input)}`;
}

/** A value as the YAML showed it. */
function describe(input: unknown): string {
  if (input === null) return 'nothing';
  if (typeof input === 'string') return quote(input);
  if (Array.isArray(input)) return input.length === 0 ? 'an empty list' : 'a list';
  if (typeof input === 'object') return 'a map';
  return String(input);
}

function noun(expected: string): string {
  const nouns: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a map',
    record: 'a map',
  };
  return nouns[expected] ?? expected;
}

/** `sites[0].routes[1].proxy.to`: list indexes in brackets, keys after dots (quoted when odd). */
export function pathText(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else {
      const key = String(segment);
      const plain = /^[A-Za-z0-9_$-]+$/.test(key);
      text += plain ? `${text === '' ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return text;
}

/**
 * The offset of the node `path` names, or of the deepest one that exists on the way (the map a
 * missing key belongs in). `atKey`: point at the last key itself (an unknown or invalid key).
 */
function locate(doc: Document, path: readonly Segment[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = start(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) break;
      const keyOffset = start(pair.key) ?? offset;
      const last = i === path.length - 1;
      // An empty value (`proxy:` and nothing) has no place of its own: its key is the place.
      const empty = pair.value === null || (isScalar(pair.value) && pair.value.source === '');
      if ((last && atKey) || empty) return keyOffset;
      node = pair.value;
      offset = start(node) ?? keyOffset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      node = item;
      offset = start(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function start(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function at(source: Source, offset: number, path: string, message: string): ConfigProblem {
  const { line, col } = source.lines.linePos(offset);
  return { file: source.file, line, column: col, path, message };
}
