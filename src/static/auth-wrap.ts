/**
 * Puts HTTP Basic auth in front of a handler: credentials for every request (`--auth`,
 * `--auth-file`) and/or credentials for the requests that change files (`--upload-auth`).
 *
 * "Changes files" is decided fail-closed: every method except GET, HEAD and OPTIONS counts as a
 * write (RFC 9110 §9.2.1 safe methods), so a method the file server learns later (MKCOL, POST, …)
 * is covered without touching this file. OPTIONS stays free of upload credentials because CORS
 * preflights never carry credentials (Fetch §4.8) and change nothing.
 *
 * A request needs exactly one pair: a write needs the upload pair when there is one (else the
 * every-request pair); anything else needs the every-request pair when there is one (else nothing).
 */
import type { Handler } from '../handler/types.js';
import { type Credentials, requireAuth } from './auth.js';

export type AuthRules = {
  /** Required for every request. */
  readonly all?: Credentials | undefined;
  /** Required for writing methods (anything but GET, HEAD, OPTIONS); takes precedence over `all`. */
  readonly writes?: Credentials | undefined;
  /** The realm named in the 401 challenge. */
  readonly realm: string;
};

/** Returns `handler` behind the rules; `handler` itself when the rules require nothing. */
export function withBasicAuth(handler: Handler, rules: AuthRules): Handler {
  const { all, writes, realm } = rules;
  if (all === undefined && writes === undefined) return handler;
  return async (req, res) => {
    const method = req.method;
    const isWrite = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
    const needed = isWrite ? (writes ?? all) : all;
    if (needed !== undefined && !(await requireAuth(req, res, needed, realm))) return;
    await handler(req, res);
  };
}
