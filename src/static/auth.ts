/**
 * HTTP Basic authentication (RFC 7617) for the static server's protected paths and uploads:
 * parsing the Authorization field, two credential sources (one `user:pass` pair, an htpasswd file
 * of bcrypt hashes), and the 401 challenge.
 *
 * Passwords never reach a log or an error message: errors name the file, line and user only.
 *
 * bcrypt is slow on purpose (tens of milliseconds per check at the usual cost in plain JS), and a
 * browser sends the same Authorization on every request of a page. So, as Caddy's basicauth does,
 * htpasswd credentials remember the pairs that verified, keyed by an HMAC under a per-process random
 * key (the plain password is not kept), in a bounded set. Failures are never remembered.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import type { Request, Response } from '../handler/types.js';

/** A source of valid user/password pairs. `check` never throws for a wrong pair; it resolves false. */
export type Credentials = {
  check(user: string, pass: string): Promise<boolean>;
};

/** User/password pairs remembered as verified by one htpasswd Credentials, at most. */
const VERIFIED_CACHE_ENTRIES = 1024;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads the user and password from an `Authorization: Basic <base64>` value (RFC 7617 §2).
 * The scheme is matched case-insensitively (RFC 9110 §11.1); the base64 (padded or not) must
 * decode to valid UTF-8 (the `charset="UTF-8"` the challenge announces, §2.1) with a colon after
 * the user-id; the password may hold further colons. Both are NFC-normalized (§2.1 points at the
 * PRECIS profiles, which normalize to NFC). Returns undefined for a missing field, another scheme,
 * bad base64 or UTF-8, no colon, or a control character (§2: "MUST NOT contain any control
 * characters").
 */
export function parseBasicAuth(header: string | undefined): { user: string; pass: string } | undefined {
  if (header === undefined) return undefined;
  let i = 0;
  let end = header.length;
  while (i < end && isWhitespace(header.charCodeAt(i))) i++;
  while (end > i && isWhitespace(header.charCodeAt(end - 1))) end--;
  if (end - i < 6 || header.slice(i, i + 5).toLowerCase() !== 'basic' || header.charCodeAt(i + 5) !== 0x20) {
    return undefined;
  }
  i += 6;
  while (i < end && header.charCodeAt(i) === 0x20) i++;
  const token = header.slice(i, end);
  if (!isBase64(token)) return undefined;
  let text: string;
  try {
    text = UTF8.decode(Buffer.from(token, 'base64'));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x20 || c === 0x7f) return undefined;
  }
  return { user: text.slice(0, colon).normalize('NFC'), pass: text.slice(colon + 1).normalize('NFC') };
}

/**
 * Credentials for one `user:pass` pair (split at the first colon, NFC-normalized like the parsed
 * field). Comparison is constant-time: SHA-256 digests of both sides through timingSafeEqual, so
 * neither the lengths nor the first differing byte show in the timing; user and password are both
 * compared every time. Throws when the spec has no colon or an empty user.
 */
export function plainCredentials(spec: string): Credentials {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new Error('credentials must be given as user:password (with a non-empty user)');
  const userDigest = sha256(spec.slice(0, colon).normalize('NFC'));
  const passDigest = sha256(spec.slice(colon + 1).normalize('NFC'));
  return {
    check(user: string, pass: string): Promise<boolean> {
      const userOk = timingSafeEqual(sha256(user), userDigest);
      const passOk = timingSafeEqual(sha256(pass), passDigest);
      return Promise.resolve(userOk && passOk);
    },
  };
}

/**
 * Loads an htpasswd file (`user:hash` per line; blank lines and `#` comments skipped) into
 * Credentials. Only bcrypt hashes (`$2y$`, `$2a$`, `$2b$`, as `htpasswd -B` writes) are accepted;
 * any other kind (`$apr1$` MD5, `{SHA}`, crypt, plain text), a malformed line, a repeated user or a
 * file without users rejects with an Error naming the file and line — never the hash.
 *
 * Reads the file once; later changes need a new call. A user not in the file is still checked
 * against a dummy hash of the file's highest cost, so the time taken does not tell which users exist.
 * bcrypt looks at the first 72 bytes of a password only.
 */
export async function loadHtpasswd(file: string): Promise<Credentials> {
  const text = await readFile(file, 'utf8');
  const users = new Map<string, { hash: string; line: number }>();
  let maxCost = 4;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    const where = `${file} line ${index + 1}`;
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${where}: expected user:hash`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const kind = hashKind(hash);
    if (kind !== 'bcrypt') {
      throw new Error(
        `${where}: user "${user}" has ${kind}; only bcrypt ($2y$, $2a$, $2b$) is supported ` +
          `— recreate the entry with: htpasswd -B ${file} ${user}`,
      );
    }
    const earlier = users.get(user);
    if (earlier !== undefined) throw new Error(`${where}: user "${user}" is already on line ${earlier.line}`);
    users.set(user, { hash, line: index + 1 });
    maxCost = Math.max(maxCost, Number(hash.slice(4, 6)));
  }
  if (users.size === 0)
    throw new Error(`${file}: no users (expected user:hash lines, made with htpasswd -B)`);

  // A well-formed bcrypt string that no password matches: "$2b$", the cost, 22 salt + 31 hash chars.
  const dummyHash = `$2b$${String(maxCost).padStart(2, '0')}$${'.'.repeat(53)}`;
  const cacheKey = randomBytes(32);
  const verified = new Set<string>();
  return {
    async check(user: string, pass: string): Promise<boolean> {
      const entry = users.get(user);
      const key = createHmac('sha256', cacheKey).update(`${user}:${pass}`, 'utf8').digest('base64');
      if (entry !== undefined && verified.has(key)) return true;
      const ok = await bcrypt.compare(pass, entry?.hash ?? dummyHash);
      if (!ok || entry === undefined) return false;
      if (verified.size >= VERIFIED_CACHE_ENTRIES) {
        const oldest = verified.values().next();
        if (oldest.done !== true) verified.delete(oldest.value);
      }
      verified.add(key);
      return true;
    },
  };
}

/**
 * Lets the request through (resolves true) when its Basic credentials check out; otherwise answers
 * 401 with `WWW-Authenticate: Basic realm="…", charset="UTF-8"` (RFC 7617 §2, §2.1) and a short
 * text body, and resolves false — the caller must then leave `res` alone. A realm holding `"` or
 * `\` is sent as a quoted-string with quoted-pairs (RFC 9110 §5.6.4). Rejects only when
 * `credentials.check` does.
 */
export async function requireAuth(
  req: Request,
  res: Response,
  credentials: Credentials,
  realm: string,
): Promise<boolean> {
  const header = req.headers.authorization;
  // Two Authorization fields are malformed (it is a singleton field); both are ignored.
  const parsed = parseBasicAuth(typeof header === 'string' ? header : undefined);
  if (parsed !== undefined && (await credentials.check(parsed.user, parsed.pass))) return true;
  res.statusCode = 401;
  res.setHeader('WWW-Authenticate', `Basic realm="${realm.replace(/["\\]/g, '\\$&')}", charset="UTF-8"`);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('401 Unauthorized: a user name and password are needed\n');
  return false;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Base64 of RFC 4648 §4: the standard alphabet, with its `=` padding or without it. */
function isBase64(s: string): boolean {
  let n = s.length;
  if (n === 0) return false;
  let padding = 0;
  while (padding < 2 && n > 0 && s.charCodeAt(n - 1) === 0x3d) {
    n--;
    padding++;
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f;
    if (!ok) return false;
  }
  if (padding > 0) return s.length % 4 === 0;
  return n % 4 !== 1;
}

/** Names the kind of an htpasswd hash, for the error that rejects everything but bcrypt. */
function hashKind(hash: string): string {
  if (/^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  if (hash.startsWith('$apr1$')) return 'an Apache MD5 ($apr1$) hash';
  if (hash.startsWith('{SHA}')) return 'a SHA-1 ({SHA}) hash';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'a SHA-crypt ($5$/$6$) hash';
  if (hash.startsWith('$1$')) return 'an MD5-crypt ($1$) hash';
  return 'a crypt() or plain-text password';
}
