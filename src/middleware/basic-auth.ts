/**
 * The `basic-auth` middleware: an adapter from the config model to the static server's HTTP Basic
 * authentication (static/auth.ts: parsing, constant-time plain pairs, bcrypt htpasswd with its
 * verified-pair cache, the 401 challenge; static/auth-wrap.ts: withBasicAuth). Nothing about
 * credentials is implemented twice.
 *
 * `methods` narrows which requests need credentials: 'unsafe' (writes: all but GET, HEAD,
 * OPTIONS, fail-closed) or 'safe' (those three), as the command's --upload-auth and --auth split
 * them; or a list compared case-insensitively so a lower-case
 * entry in config cannot leave the real method open (fail-closed, although methods are
 * case-sensitive tokens, RFC 9110 §9.1); GET brings HEAD along, which would otherwise show a GET
 * response's fields without credentials (RFC 9110 §9.3.2). Empty: every request.
 */
import type { MiddlewareConfig } from '../config/model.js';
import { isValidFieldValue } from '../http/field-syntax.js';
import { type Credentials, loadHtpasswd, plainCredentials } from '../static/auth.js';
import { withBasicAuth } from '../static/auth-wrap.js';
import type { Middleware } from './types.js';

export type BasicAuthConfig = Extract<MiddlewareConfig, { readonly kind: 'basic-auth' }>;

/** The methods that read (RFC 9110 §9.2.1), as withBasicAuth() counts them. */
const SAFE: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Builds the `basic-auth` middleware; reads an htpasswd file once, now. Rejects when the realm
 * holds a control character, when there are no users or one appears twice, and as loadHtpasswd()
 * does for a bad file (the message names the file and line, never a password or hash).
 */
export async function basicAuth(config: BasicAuthConfig): Promise<Middleware> {
  if (!isValidFieldValue(config.realm)) throw new Error('basic-auth.realm holds a control character');
  const users = config.users;
  const credentials = users.kind === 'plain' ? plainPairs(users.pairs) : await loadHtpasswd(users.file);
  const rules = { all: credentials, realm: config.realm };
  // withBasicAuth's own split: its `writes` are every method but GET, HEAD and OPTIONS.
  if (config.methods === 'unsafe')
    return (next) => withBasicAuth(next, { writes: credentials, realm: config.realm });
  if (config.methods === 'safe') {
    return (next) => {
      const guarded = withBasicAuth(next, rules);
      return (req, res) => (SAFE.has(req.method) ? guarded(req, res) : next(req, res));
    };
  }
  const methods = new Set(config.methods.map((m) => m.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD');
  if (methods.size === 0) return (next) => withBasicAuth(next, rules);
  return (next) => {
    const guarded = withBasicAuth(next, rules);
    return (req, res) => (methods.has(req.method.toUpperCase()) ? guarded(req, res) : next(req, res));
  };
}

/**
 * Credentials for several `user:pass` pairs. Every pair is checked on every attempt (each in
 * constant time), so the time taken does not tell which user matched, or whether one exists.
 */
function plainPairs(pairs: readonly string[]): Credentials {
  if (pairs.length === 0) throw new Error('basic-auth.users: no user:password pairs given');
  const seen = new Set<string>();
  const all = pairs.map((pair, i) => {
    const user = pair.slice(0, Math.max(0, pair.indexOf(':')));
    if (seen.has(user)) throw new Error(`basic-auth.users: user "${user}" appears twice`);
    seen.add(user);
    try {
      return plainCredentials(pair);
    } catch (err) {
      throw new Error(`basic-auth.users entry ${i + 1}: ${(err as Error).message}`);
    }
  });
  if (all.length === 1) return all[0]!;
  return {
    async check(user: string, pass: string): Promise<boolean> {
      const results = await Promise.all(all.map((c) => c.check(user, pass)));
      return results.includes(true);
    },
  };
}
