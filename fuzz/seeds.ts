/**
 * The seed inputs of each fuzz target: the committed, minimised corpus (testdata/fuzz/corpus/),
 * the llhttp request vectors (../shared/conformance/llhttp-requests.json, when present), the
 * string literals of the wire/ unit tests that hold a line break, and a few hand-written ones.
 * Seeds that add no coverage are dropped by the fuzzer as it loads them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** testdata/fuzz/: the crashing inputs per target, and corpus/ with the kept inputs per target. */
export const FUZZ_DATA_DIR = path.join(REPO_ROOT, 'testdata', 'fuzz');
export const CORPUS_DIR = path.join(FUZZ_DATA_DIR, 'corpus');
const LLHTTP_VECTORS = path.resolve(REPO_ROOT, '..', 'shared', 'conformance', 'llhttp-requests.json');
const WIRE_DIR = path.join(REPO_ROOT, 'src', 'wire');

const HANDWRITTEN: Record<string, string[]> = {
  request: [
    'GET / HTTP/1.1\r\nHost: a.example\r\n\r\n',
    'POST /u HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX: y\r\n\r\n',
    'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n',
    'OPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    'GET http://a.example:8080/p?q HTTP/1.1\r\nHost: b\r\nExpect: 100-continue\r\n\r\n',
  ],
  response: [
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil close',
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00',
    'HTTP/1.1 204\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw',
  ],
  chunked: [
    '5\r\nhello\r\n0\r\n\r\n',
    '3;a=b;c="d\\"e"\r\nabc\r\n000\r\nTrailer: v\r\nOther:\r\n\r\n',
    'A \t;x\r\n0123456789\r\n0\r\n\r\n1\r\nz\r\n0\r\n\r\n',
  ],
};

/** The seeds of `target`, deduplicated. */
export function seedsFor(target: string): Buffer[] {
  const seen = new Set<string>();
  const seeds: Buffer[] = [];
  const add = (b: Buffer) => {
    const key = b.toString('latin1');
    if (!seen.has(key)) {
      seen.add(key);
      seeds.push(b);
    }
  };
  for (const b of readCorpus(target)) add(b);
  for (const s of HANDWRITTEN[target] ?? []) add(Buffer.from(s, 'latin1'));
  for (const s of testLiterals()) add(Buffer.from(s, 'latin1'));
  if (target === 'request') for (const b of llhttpRequests()) add(b);
  return seeds;
}

/** The committed corpus of `target` (testdata/fuzz/corpus/<target>/*). */
export function readCorpus(target: string): Buffer[] {
  return readDir(path.join(CORPUS_DIR, target));
}

/** Every file in `dir` (none if it is missing), in name order. */
export function readDir(dir: string): Buffer[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name))
    .map((file) => readFileSync(file));
}

/** The llhttp vectors' raw bytes, and each again with a Host field (most have none). */
function llhttpRequests(): Buffer[] {
  if (!existsSync(LLHTTP_VECTORS)) return [];
  const vectors = JSON.parse(readFileSync(LLHTTP_VECTORS, 'utf8')) as { raw: string }[];
  const out: Buffer[] = [];
  for (const { raw } of vectors) {
    const bytes = Buffer.from(raw, 'base64');
    out.push(bytes);
    const lf = bytes.indexOf(0x0a);
    if (lf !== -1) {
      out.push(
        Buffer.concat([
          bytes.subarray(0, lf + 1),
          Buffer.from('Host: a.example\r\n'),
          bytes.subarray(lf + 1),
        ]),
      );
    }
  }
  return out;
}

/** Quoted and template string literals (without substitutions) of the wire/ tests that hold CR or LF. */
function testLiterals(): string[] {
  const out: string[] = [];
  const literal = /'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\$]|\\.|\$(?!\{))*)`/g;
  for (const name of readdirSync(WIRE_DIR)) {
    if (!name.endsWith('.test.ts') || name.endsWith('.property.test.ts')) continue;
    const source = readFileSync(path.join(WIRE_DIR, name), 'utf8');
    for (const match of source.matchAll(literal)) {
      const text = unescapeLiteral(match[1] ?? match[2] ?? '');
      if (/[\r\n]/.test(text)) out.push(text);
    }
  }
  return out;
}

function unescapeLiteral(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length > 1) return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return { r: '\r', n: '\n', t: '\t', '0': '\0' }[e] ?? e;
  });
}
