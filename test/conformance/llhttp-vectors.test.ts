/**
 * The 166 request vectors of ../shared/conformance/llhttp-requests.json (llhttp's own fixtures, see
 * its README.md), read by RequestParser + ChunkedDecoder the way a server reads a connection
 * (request-driver.ts), and judged against llhttp's strict verdict:
 *
 * - `request` / `request-finish` vectors llhttp accepts: the same messages (method, url, version,
 *   headers, body);
 * - vectors llhttp rejects, and `request-lenient-*` vectors (accepted only with a leniency flag):
 *   rejected — a ParseError, or bytes after a message that closes the connection, which a server
 *   never reads (RFC 9112 §9.6);
 * - vectors that end mid-message: incomplete (no error, the complete messages equal), or rejected.
 *
 * Where Berth deliberately differs, DIFFERENCES says so, with the RFC rule, and the vector must
 * behave exactly as that entry says. A vector that matches neither fails the test.
 *
 * As the README says, `Host: localhost` is added after the request-line of each message that has
 * none (RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400); the expected headers get
 * it too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DrivenMessage, type DriveResult, driveRequests } from './request-driver.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VECTORS_PATH = path.resolve(repoRoot, '..', 'shared', 'conformance', 'llhttp-requests.json');

type VectorMessage = {
  readonly off: number;
  readonly method: string;
  readonly url: string;
  readonly version: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
  readonly complete: boolean;
};

type Vector = {
  readonly id: number;
  readonly name: string;
  readonly mode: string;
  readonly raw: string;
  readonly expected: {
    readonly outcome: 'ok' | 'error' | 'incomplete' | 'upgrade' | 'h2-preface';
    readonly messages: readonly VectorMessage[];
  };
};

type Verdict = 'accept' | 'reject' | 'incomplete';

type Difference = {
  /** What Berth does: accept (the vector's complete messages), reject, or wait for more input. */
  readonly ours: Verdict;
  /** When rejecting: the ParseError code, so the entry pins the reason as well as the verdict. */
  readonly code?: string;
  /** When accepting where llhttp reports other messages (or none complete): the messages Berth yields. */
  readonly messages?: readonly DrivenMessage[];
  readonly rfc: string;
};

const CONNECT_IS_A_REQUEST =
  'RFC 9110 §9.3.6: CONNECT with an authority-form target (RFC 9112 §3.2.3) is parsed as a request; ' +
  'opening the tunnel is the connection’s decision, not the parser’s';
const UPGRADE_IS_A_REQUEST =
  'RFC 9110 §7.8: "A server MAY ignore a received Upgrade header field"; the parser reports the ' +
  'request (and its body) as usual and the switch, if any, is the connection’s';
const NOT_HTTP =
  'RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT with HTTP-name = %s"HTTP"; another ' +
  'protocol name is an invalid request-line (§3: "SHOULD respond with … 400")';
const ANY_TOKEN_METHOD =
  'RFC 9110 §9.1: method = token, and any token parses; a method the server does not implement is ' +
  'answered 501 by the server, not refused by the request-line parser';
const FRAGMENT =
  'RFC 9112 §3.2: origin-form = absolute-path [ "?" query ] has no fragment; RFC 9110 §7.1: a ' +
  'fragment is not sent, so "#" makes an invalid request-line (400)';

/** Every vector where Berth's verdict differs from llhttp's strict one, by vector id. */
const DIFFERENCES: ReadonlyMap<number, Difference> = new Map<number, Difference>([
  [
    9,
    {
      ours: 'reject',
      code: 'bad-target',
      rfc:
        'RFC 9112 §3: request-line = method SP request-target SP HTTP-version; an HTTP/0.9 line ' +
        'without a version is invalid (400), and RFC 9112 Appendix C.1 does not expect HTTP/0.9 support',
    },
  ],
  [29, { ours: 'accept', rfc: CONNECT_IS_A_REQUEST }],
  [30, { ours: 'accept', rfc: CONNECT_IS_A_REQUEST }],
  [
    31,
    {
      ours: 'accept',
      messages: [
        {
          method: 'CONNECT',
          url: 'foo.bar.com:443',
          version: '1.0',
          headers: [
            ['Host', 'localhost'],
            ['User-agent', 'Mozilla/1.1N'],
            ['Proxy-authorization', 'basic aGVsbG86d29ybGQ='],
            ['Content-Length', '10'],
          ],
          body: 'blarfcicle',
        },
      ],
      rfc:
        `${CONNECT_IS_A_REQUEST}. RFC 9112 §6.3 rule 6: a valid Content-Length gives a request its ` +
        'length, with no exception for CONNECT, so the 10 octets are read as the body (llhttp stops at the head)',
    },
  ],
  [
    32,
    {
      ours: 'reject',
      code: 'bad-target',
      rfc:
        'RFC 9112 §3.2.4: the asterisk-form "is only used for a server-wide OPTIONS request"; ' +
        'M-SEARCH * is SSDP over UDP, not HTTP/1.1',
    },
  ],
  [39, { ours: 'reject', code: 'bad-version', rfc: NOT_HTTP }],
  [40, { ours: 'reject', code: 'bad-version', rfc: NOT_HTTP }],
  [41, { ours: 'reject', code: 'bad-version', rfc: NOT_HTTP }],
  [
    42,
    {
      ours: 'reject',
      code: 'bad-target',
      rfc:
        'RFC 9113 §3.4: the HTTP/2 preface is "PRI * HTTP/2.0" (reported as http2-preface); ' +
        '"PRI * HTTP/1.1" is an HTTP/1.1 request whose asterisk-form is only for OPTIONS (RFC 9112 §3.2.4)',
    },
  ],
  [51, { ours: 'reject', code: 'bad-target', rfc: FRAGMENT }],
  [52, { ours: 'accept', rfc: CONNECT_IS_A_REQUEST }],
  [
    53,
    {
      ours: 'reject',
      code: 'bad-target',
      rfc:
        'RFC 9110 §4.2.4: userinfo in an http(s) URI is deprecated; a recipient SHOULD treat it as ' +
        'an error (RFC 9112 §3.2.2: the absolute-form target is such a URI)',
    },
  ],
  [68, { ours: 'accept', rfc: UPGRADE_IS_A_REQUEST }],
  [72, { ours: 'accept', rfc: UPGRADE_IS_A_REQUEST }],
  [73, { ours: 'accept', rfc: UPGRADE_IS_A_REQUEST }],
  [74, { ours: 'accept', rfc: UPGRADE_IS_A_REQUEST }],
  [75, { ours: 'accept', rfc: UPGRADE_IS_A_REQUEST }],
  [
    91,
    {
      ours: 'incomplete',
      rfc:
        'RFC 9112 §6.3 ¶6: with a valid Content-Length of 123 the next 123 octets are the body, so ' +
        'the second request-line is body and more is awaited (llhttp’s fixture skips the body from a callback)',
    },
  ],
  [
    113,
    {
      ours: 'reject',
      code: 'bad-target',
      rfc:
        `${FRAGMENT}. Without it: "deflate, chunked" → 501, RFC 9112 §6.1: a server that receives a ` +
        'transfer coding it does not understand "SHOULD respond with 501 (Not Implemented)"',
    },
  ],
  [
    114,
    {
      ours: 'reject',
      code: 'bad-target',
      rfc:
        `${FRAGMENT}. Without it: "deflate" then "chunked" → 501, RFC 9112 §6.1 (transfer coding ` +
        'not understood)',
    },
  ],
  [
    128,
    {
      ours: 'accept',
      messages: [
        {
          method: 'ANNOUNCE',
          url: '/music/sweet/music',
          version: '1.0',
          headers: [['Host', 'example.com']],
          body: '',
        },
      ],
      rfc: ANY_TOKEN_METHOD,
    },
  ],
  [
    138,
    {
      ours: 'accept',
      messages: [{ method: 'MKCOLA', url: '/', version: '1.1', headers: [['Host', 'localhost']], body: '' }],
      rfc: ANY_TOKEN_METHOD,
    },
  ],
  [
    143,
    {
      ours: 'incomplete',
      rfc:
        'RFC 9112 §3: a request-line is judged once its CRLF has arrived, and the input ends before ' +
        'it ("GET / HTTP/1.1" with HTTP/5.6 then gets 505, RFC 9110 §15.6.6)',
    },
  ],
  [
    144,
    {
      ours: 'incomplete',
      rfc:
        'RFC 9112 §5.2: a field line starting with whitespace (obs-fold) is rejected with 400 once the ' +
        'line has arrived; the input ends inside it',
    },
  ],
]);

function loadVectors(): Vector[] {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vector[];
}

const HOST_LINE = Buffer.from('Host: localhost\r\n');

/** The vector's bytes with `Host: localhost` added to each message without Host, and its messages so. */
function prepare(vector: Vector): { input: Buffer; expected: DrivenMessage[] } {
  const raw = Buffer.from(vector.raw, 'base64');
  const at: number[] = [];
  const expected: DrivenMessage[] = [];
  const offsets = vector.expected.messages.map((m) => m.off);
  vector.expected.messages.forEach((message, k) => {
    let start = message.off;
    while (raw[start] === 0x0d || raw[start] === 0x0a) start++;
    const lineEnd = raw.indexOf(0x0a, start);
    const next = offsets[k + 1] ?? raw.length;
    // Whether the message's own head (up to its empty line, or the next message) has a Host line.
    const headText = raw.toString('latin1', start, next).split('\r\n\r\n')[0]!;
    const hasHost = /\nhost[ \t]*:/i.test(headText);
    const added = !hasHost && lineEnd !== -1;
    if (added) at.push(lineEnd + 1);
    if (message.complete) {
      // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS — the trailing OWS that llhttp
      // reports is not part of the value.
      const headers = message.headers.map(
        ([name, value]) => [bytes(name), bytes(value).replace(/[ \t]+$/, '')] as const,
      );
      expected.push({
        method: message.method,
        url: bytes(message.url),
        version: message.version,
        headers: added ? [['Host', 'localhost'], ...headers] : headers,
        body: bytes(message.body),
      });
    }
  });
  const pieces: Buffer[] = [];
  let prev = 0;
  for (const offset of at) {
    pieces.push(raw.subarray(prev, offset), HOST_LINE);
    prev = offset;
  }
  pieces.push(raw.subarray(prev));
  return { input: Buffer.concat(pieces), expected };
}

/**
 * The vectors' strings are the UTF-8 reading of the bytes; the parser reads bytes as latin1 (one
 * char per byte, RFC 9110 §5.5 obs-text kept as is). This gives the latin1 form of the same bytes.
 */
function bytes(utf8: string): string {
  return Buffer.from(utf8, 'utf8').toString('latin1');
}

/** The messages our parse completed, as the vector lists them (inserted Host included). */
function messagesOf(result: DriveResult): readonly DrivenMessage[] {
  return result.messages;
}

function verdictOf(result: DriveResult): Verdict {
  if (result.kind === 'error') return 'reject';
  // Bytes after a message that closes the connection are never read (RFC 9112 §9.6): refused.
  if (result.end === 'closed') return 'reject';
  return result.end === 'clean' ? 'accept' : 'incomplete';
}

function describe(result: DriveResult): string {
  const head = `${result.messages.length} message(s)`;
  return result.kind === 'error'
    ? `${head}, then ${result.status} ${result.code}`
    : `${head}, end ${result.end}`;
}

/** Reads the vector whole; the first test checks every other way of feeding it agrees. */
function run(vector: Vector): { result: DriveResult; expected: DrivenMessage[] } {
  const { input, expected } = prepare(vector);
  return { result: driveRequests(input), expected };
}

const vectors = loadVectors();
const isLenient = (v: Vector) => v.mode.startsWith('request-lenient-');
const undeclared = (v: Vector) => !DIFFERENCES.has(v.id);

test('the llhttp vector file holds the 166 vectors and DIFFERENCES names only vectors in it', () => {
  assert.equal(vectors.length, 166);
  assert.deepEqual(
    vectors.map((v) => v.id),
    Array.from({ length: 166 }, (_, k) => k),
  );
  for (const id of DIFFERENCES.keys()) assert.ok(id >= 0 && id < vectors.length, `vector ${id}`);
});

test('Berth reads every llhttp vector the same whole, byte by byte and split at every offset', () => {
  for (const vector of vectors) {
    const { input } = prepare(vector);
    const whole = driveRequests(input);
    const bytewise = Array.from({ length: Math.max(0, input.length - 1) }, (_, k) => k + 1);
    assert.deepEqual(driveRequests(input, bytewise), whole, `vector ${vector.id}, byte by byte`);
    for (let k = 0; k <= input.length; k++) {
      assert.deepEqual(driveRequests(input, [k]), whole, `vector ${vector.id}, split at ${k}`);
    }
  }
});

test('Berth yields llhttp’s messages for every strict vector llhttp accepts', () => {
  const mismatches: string[] = [];
  for (const vector of vectors.filter((v) => !isLenient(v) && v.expected.outcome === 'ok' && undeclared(v))) {
    const { result, expected } = run(vector);
    if (verdictOf(result) !== 'accept') {
      mismatches.push(`${vector.id} (${vector.name}): ${describe(result)}`);
      continue;
    }
    try {
      assert.deepEqual(messagesOf(result), expected);
    } catch (err) {
      mismatches.push(`${vector.id} (${vector.name}): ${(err as Error).message}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

test('Berth rejects every vector llhttp rejects', () => {
  const accepted = vectors
    .filter((v) => v.expected.outcome === 'error' && undeclared(v))
    .map((v) => ({ v, result: run(v).result }))
    .filter(({ result }) => verdictOf(result) !== 'reject')
    .map(({ v, result }) => `${v.id} (${v.name}): ${describe(result)}`);
  assert.deepEqual(accepted, []);
});

test('Berth rejects every vector llhttp accepts only with a leniency flag', () => {
  const accepted = vectors
    .filter((v) => isLenient(v) && v.expected.outcome !== 'error' && undeclared(v))
    .map((v) => ({ v, result: run(v).result }))
    .filter(({ result }) => verdictOf(result) !== 'reject')
    .map(({ v, result }) => `${v.id} ${v.mode} (${v.name}): ${describe(result)}`);
  assert.deepEqual(accepted, []);
});

test('Berth reports incomplete, or rejects, every strict vector that ends inside a message', () => {
  const mismatches: string[] = [];
  for (const vector of vectors.filter(
    (v) => !isLenient(v) && v.expected.outcome === 'incomplete' && undeclared(v),
  )) {
    const { result, expected } = run(vector);
    const verdict = verdictOf(result);
    if (verdict === 'reject') continue;
    if (verdict !== 'incomplete') mismatches.push(`${vector.id} (${vector.name}): ${describe(result)}`);
    else if (!isDeepEqual(messagesOf(result), expected)) {
      mismatches.push(`${vector.id} (${vector.name}): complete messages differ`);
    }
  }
  assert.deepEqual(mismatches, []);
});

test('every vector outside DIFFERENCES has a strict expectation to meet', () => {
  const uncovered = vectors
    .filter(undeclared)
    .filter((v) => !isLenient(v) && !['ok', 'error', 'incomplete'].includes(v.expected.outcome))
    .map((v) => `${v.id} ${v.expected.outcome} (${v.name})`);
  assert.deepEqual(uncovered, []);
});

test('Berth behaves as DIFFERENCES says for each deliberate difference from llhttp', () => {
  const mismatches: string[] = [];
  for (const [id, difference] of DIFFERENCES) {
    const vector = vectors[id]!;
    const { result, expected } = run(vector);
    const verdict = verdictOf(result);
    const label = `${id} (${vector.name}): expected ${difference.ours}${difference.code ? ` ${difference.code}` : ''}, got ${describe(result)}`;
    if (verdict !== difference.ours) {
      // An upgrade or CONNECT vector may go on with bytes that are no longer HTTP: accepting means
      // the messages before them came out whole and unharmed, whatever the parser makes of the rest.
      const acceptedBeforeSwitch =
        difference.ours === 'accept' && result.kind === 'messages' && vector.expected.outcome === 'upgrade';
      if (!acceptedBeforeSwitch) {
        mismatches.push(label);
        continue;
      }
    }
    if (difference.code !== undefined && (result.kind !== 'error' || result.code !== difference.code)) {
      mismatches.push(label);
    } else if (
      difference.ours === 'accept' &&
      !isDeepEqual(messagesOf(result), difference.messages ?? expected)
    ) {
      mismatches.push(`${label}: messages differ`);
    }
  }
  assert.deepEqual(mismatches, []);
});

test('Berth answers 501 to vectors 113 and 114 once the fragment that makes them 400 is removed', () => {
  for (const id of [113, 114]) {
    const { input } = prepare(vectors[id]!);
    const withoutFragment = Buffer.from(input.toString('latin1').replace('#hey', ''), 'latin1');
    const result = driveRequests(withoutFragment);
    assert.equal(
      result.kind === 'error' && `${result.status} ${result.code}`,
      '501 unknown-transfer-coding',
      `vector ${id}`,
    );
  }
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
