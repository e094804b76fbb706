/**
 * What is wrong with a config file, each problem at a place in it. One error carries every
 * problem found, so a person fixes them in one pass rather than one per run.
 */

/** One problem: where (1-based line and column), which key, and what is allowed there. */
export type ConfigProblem = {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The key path as the file spells it (`sites[0].routes[1].proxy.to`); empty for the whole file. */
  readonly path: string;
  readonly message: string;
};

/**
 * Thrown by loadConfig() and parseConfig(). Its message has one line per problem, in file order:
 * `berth.yaml:12:7: sites[0].routes[1].handler: expected exactly one of static, proxy, redirect, respond`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  /** `problems`: at least one; a file-level failure (unreadable file) is one at line 1, column 1. */
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = Object.freeze([...problems]);
  }
}

/** `file:line:column: path: message`, the form compilers use, so editors and terminals link it. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`;
}
