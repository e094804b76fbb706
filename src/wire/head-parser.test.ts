/**
 * RequestParser and ResponseParser: the request-line, field lines, Host, limits and the per-message
 * facts (keep-alive, 100-continue). Body framing is in framing.test.ts, request-target forms in
 * target.test.ts. Every input goes through parseEverySplit(): whole, byte by byte and split at
 * every offset, all of which must agree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HEAD_BYTES, MAX_HEADER_FIELDS, MAX_REQUEST_LINE_BYTES } from './limits.js';
import { fails, parseRequest, parseResponse, requestHead, responseHead } from './test-splits.js';

const HOST = 'Host: a.example\r\n';

/** A GET request with the given extra field lines (each ending in CRLF) after Host. */
function withFields(fields: string): string {
  return `GET / HTTP/1.1\r\n${HOST}${fields}\r\n`;
}

// ---- request-line (RFC 9112 §3) ----

test('RequestParser parses a request-line and its fields and consumes exactly the head', () => {
  const input = 'POST /upload?x=1 HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\n';
  const outcome = parseRequest(`${input}abc`);
  assert.equal(outcome.kind, 'head');
  assert.equal(outcome.kind === 'head' && outcome.consumed, input.length);
  const head = requestHead(input);
  assert.equal(head.method, 'POST');
  assert.equal(head.target, '/upload?x=1');
  assert.equal(head.form, 'origin');
  assert.equal(head.version, '1.1');
  assert.deepEqual(head.rawHeaders, ['Host', 'a.example', 'Content-Length', '3']);
  assert.equal(head.authority, 'a.example');
});

test('RequestParser skips empty lines before the request-line and counts them as consumed', () => {
  const input = `\r\n\r\nGET / HTTP/1.1\r\n${HOST}\r\n`;
  assert.deepEqual(parseRequest(input), { kind: 'head', head: requestHead(input), consumed: input.length });
  assert.equal(requestHead(input).method, 'GET');
});

test('RequestParser leaves the bytes of a pipelined second request unconsumed', () => {
  const first = `GET /one HTTP/1.1\r\n${HOST}\r\n`;
  const second = `GET /two HTTP/1.1\r\n${HOST}\r\n`;
  const outcome = parseRequest(first + second);
  assert.equal(outcome.kind === 'head' && outcome.consumed, first.length);
  assert.equal(outcome.kind === 'head' && outcome.head.target, '/one');
  const withBody = `POST /one HTTP/1.1\r\n${HOST}Content-Length: 5\r\n\r\n`;
  const bodied = parseRequest(`${withBody}hello${second}`);
  assert.equal(bodied.kind === 'head' && bodied.consumed, withBody.length);
});

test('RequestParser reports an unfinished head as incomplete and consumes every byte', () => {
  for (const partial of [
    '',
    '\r\n',
    'GET',
    'GET / HTTP/1.1',
    'GET / HTTP/1.1\r',
    `GET / HTTP/1.1\r\n${HOST}`,
  ]) {
    assert.deepEqual(parseRequest(partial), { kind: 'incomplete', consumed: partial.length }, partial);
  }
  const almost = `GET / HTTP/1.1\r\n${HOST}\r`;
  assert.deepEqual(parseRequest(almost), { kind: 'incomplete', consumed: almost.length });
});

test('RequestParser accepts any token as the method and keeps its case', () => {
  for (const method of ['GET', 'get', 'M-SEARCH', 'PROPFIND', 'QUERY', "!#$%&'*+-.^_`|~09azAZ"]) {
    assert.equal(requestHead(`${method} / HTTP/1.1\r\n${HOST}\r\n`).method, method);
  }
});

test('RequestParser rejects a method that is not a token', () => {
  for (const method of ['GE(T', 'GET:', 'G"T', 'G\x01T', 'G\xc9T', 'GE/T']) {
    assert.deepEqual(
      parseRequest(`${method} / HTTP/1.1\r\n${HOST}\r\n`),
      fails(400, 'bad-request-line'),
      JSON.stringify(method),
    );
  }
});

test('RequestParser rejects anything but single spaces between the request-line parts', () => {
  const cases: [string, string][] = [
    [' GET / HTTP/1.1', 'bad-request-line'],
    ['GET\t/ HTTP/1.1', 'bad-request-line'],
    ['GET  / HTTP/1.1', 'bad-target'],
    ['GET /\tHTTP/1.1', 'bad-target'],
    ['GET /  HTTP/1.1', 'bad-version'],
    ['GET / HTTP/1.1 ', 'bad-version'],
    ['GET / HTTP/1.1\t', 'bad-version'],
    ['GET /foo bar/ HTTP/1.1', 'bad-version'],
  ];
  for (const [line, code] of cases) {
    assert.deepEqual(parseRequest(`${line}\r\n${HOST}\r\n`), fails(400, code), JSON.stringify(line));
  }
});

test('RequestParser rejects controls, "#" and non-ASCII bytes in the target', () => {
  for (const target of ['/a\x00b', '/a\x01b', '/a\x1fb', '/a\x7fb', '/a#frag', '/#', '/caf\xe9', '/\xff']) {
    assert.deepEqual(
      parseRequest(`GET ${target} HTTP/1.1\r\n${HOST}\r\n`),
      fails(400, 'bad-target'),
      JSON.stringify(target),
    );
  }
});

test('RequestParser accepts the other visible ASCII characters in an origin-form target', () => {
  const target = '/a/b;c?d=e&f=%20|"\'<>[]{}\\^`~!$()*+,:@';
  assert.equal(requestHead(`GET ${target} HTTP/1.1\r\n${HOST}\r\n`).target, target);
});

test('RequestParser rejects an HTTP/0.9 request-line that has no version', () => {
  assert.deepEqual(parseRequest('GET /\r\n\r\n'), fails(400, 'bad-target'));
});

test('RequestParser requires the version to be exactly HTTP/DIGIT.DIGIT', () => {
  for (const version of [
    'HTTP/1',
    'HTTP/1.',
    'HTTP/11.1',
    'HTTP/1.10',
    'http/1.1',
    'HTTP/a.1',
    'HTTP/1.b',
    'HTTP/1,1',
    'HTTX/1.1',
    'ICE/1.0',
    'RTSP/1.0',
    'IHTTP/1.0',
  ]) {
    assert.deepEqual(
      parseRequest(`GET / ${version}\r\n${HOST}\r\n`),
      fails(400, 'bad-version'),
      JSON.stringify(version),
    );
  }
});

test('RequestParser treats HTTP/1.x with x above 1 as HTTP/1.1 and HTTP/1.0 as 1.0', () => {
  assert.equal(requestHead(`GET / HTTP/1.2\r\n${HOST}\r\n`).version, '1.1');
  assert.equal(requestHead(`GET / HTTP/1.9\r\n${HOST}\r\n`).version, '1.1');
  assert.equal(requestHead('GET / HTTP/1.0\r\n\r\n').version, '1.0');
});

test('RequestParser answers 505 to a major version other than 1', () => {
  for (const version of ['HTTP/0.9', 'HTTP/2.0', 'HTTP/3.0', 'HTTP/5.6', 'HTTP/9.9']) {
    assert.deepEqual(
      parseRequest(`GET / ${version}\r\n${HOST}\r\n`),
      fails(505, 'unsupported-version'),
      version,
    );
  }
});

test('RequestParser reports the HTTP/2 connection preface as http2-preface', () => {
  assert.deepEqual(parseRequest('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), fails(505, 'http2-preface'));
  // Only the exact preface line: PRI with HTTP/1.1 is an ordinary method, and "*" is for OPTIONS.
  assert.deepEqual(parseRequest(`PRI * HTTP/1.1\r\n${HOST}\r\n`), fails(400, 'bad-target'));
  assert.deepEqual(parseRequest(`PRI / HTTP/2.0\r\n${HOST}\r\n`), fails(505, 'unsupported-version'));
});

test('RequestParser answers 414 to a request-line longer than 8 KiB, whole or unfinished', () => {
  const fill = (lineLength: number) => `GET /${'a'.repeat(lineLength - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
  assert.equal(fill(MAX_REQUEST_LINE_BYTES).length, MAX_REQUEST_LINE_BYTES);
  assert.equal(requestHead(`${fill(MAX_REQUEST_LINE_BYTES)}\r\n${HOST}\r\n`).method, 'GET');
  const tooLong = fill(MAX_REQUEST_LINE_BYTES + 1);
  assert.deepEqual(parseRequest(`${tooLong}\r\n${HOST}\r\n`), fails(414, 'request-line-too-long'));
  // Without its CRLF yet: refused once it cannot fit any more.
  assert.deepEqual(parseRequest(`${tooLong}${tooLong}`), fails(414, 'request-line-too-long'));
  // A line longer than the whole head limit is still a request-line problem.
  const huge = fill(MAX_HEAD_BYTES + 100);
  assert.deepEqual(parseRequest(`${huge}\r\n${HOST}\r\n`), fails(414, 'request-line-too-long'));
});

test('RequestParser takes the request-line limit from the Limits it is given', () => {
  const limits = { maxRequestLineBytes: 20 };
  assert.equal(requestHead(`GET /123456 HTTP/1.1\r\n${HOST}\r\n`, limits).target, '/123456');
  assert.deepEqual(
    parseRequest(`GET /1234567 HTTP/1.1\r\n${HOST}\r\n`, limits),
    fails(414, 'request-line-too-long'),
  );
  assert.deepEqual(
    parseRequest('GET /123456789012345678901234', limits),
    fails(414, 'request-line-too-long'),
  );
});

// ---- field lines (RFC 9112 §5, RFC 9110 §5.5) ----

test('RequestParser keeps field names in their case and fields in their order, duplicates included', () => {
  const head = requestHead(withFields('X-Custom: 1\r\naccept: */*\r\nX-CUSTOM: 2\r\nSet-Cookie: a\r\n'));
  assert.deepEqual(head.rawHeaders, [
    'Host',
    'a.example',
    'X-Custom',
    '1',
    'accept',
    '*/*',
    'X-CUSTOM',
    '2',
    'Set-Cookie',
    'a',
  ]);
});

test('RequestParser trims OWS around a field value and keeps the whitespace inside it', () => {
  const head = requestHead(withFields('A:  \t a \t b \t \r\nB:\r\nC: \t \r\nD:x\r\n'));
  assert.deepEqual(head.rawHeaders.slice(2), ['A', 'a \t b', 'B', '', 'C', '', 'D', 'x']);
});

test('RequestParser rejects a field name that is not a token', () => {
  for (const line of ['Fo@: x', 'Fo o: x', ': x', 'F\x01o: x', 'F\xe9: x', 'Foo', '"Foo": x', 'Fo/o: x']) {
    assert.deepEqual(
      parseRequest(withFields(`${line}\r\n`)),
      fails(400, 'bad-field-name'),
      JSON.stringify(line),
    );
  }
});

test('RequestParser rejects whitespace between field name and colon', () => {
  for (const line of ['Host : a.example', 'X-A\t: 1', 'Content-Length : 4']) {
    assert.deepEqual(
      parseRequest(`GET / HTTP/1.1\r\n${line}\r\n\r\n`),
      fails(400, 'bad-field-name'),
      JSON.stringify(line),
    );
  }
});

test('RequestParser rejects obs-fold and whitespace before the first field line', () => {
  assert.deepEqual(parseRequest(withFields('X: a\r\n b\r\n')), fails(400, 'obs-fold'));
  assert.deepEqual(parseRequest(withFields('X: a\r\n\tb\r\n')), fails(400, 'obs-fold'));
  // RFC 9112 §2.2: whitespace between the start-line and the first field line — rejected likewise.
  assert.deepEqual(parseRequest(`GET / HTTP/1.1\r\n ${HOST}\r\n`), fails(400, 'obs-fold'));
});

test('RequestParser rejects NUL, CR and LF inside a field value', () => {
  assert.deepEqual(parseRequest(withFields('X: a\x00b\r\n')), fails(400, 'bad-field-value'));
  assert.deepEqual(parseRequest(withFields('X: a\rb\r\n')), fails(400, 'bad-field-value'));
  assert.deepEqual(parseRequest(withFields('X: a\r\r\n')), fails(400, 'bad-field-value'));
  assert.deepEqual(parseRequest(withFields('X: a\nb\r\n')), fails(400, 'bare-lf'));
});

test('RequestParser rejects control characters other than HTAB in a field value', () => {
  for (let c = 0; c < 0x20; c++) {
    if (c === 0x09 || c === 0x0a) continue;
    assert.deepEqual(
      parseRequest(withFields(`X: a${String.fromCharCode(c)}b\r\n`)),
      fails(400, 'bad-field-value'),
      `byte 0x${c.toString(16)}`,
    );
  }
  assert.deepEqual(parseRequest(withFields('X: a\x7fb\r\n')), fails(400, 'bad-field-value'));
  assert.deepEqual(requestHead(withFields('X: a\tb\r\n')).rawHeaders.slice(2), ['X', 'a\tb']);
});

test('RequestParser accepts bytes 0x80 to 0xFF in field values', () => {
  let obsText = '';
  for (let c = 0x80; c <= 0xff; c++) obsText += String.fromCharCode(c);
  const head = requestHead(withFields(`X: ${obsText}\r\nCity: D\xfcsseldorf\r\n`));
  assert.deepEqual(head.rawHeaders.slice(2), ['X', obsText, 'City', 'D\xfcsseldorf']);
});

test('RequestParser rejects a bare LF anywhere in the head', () => {
  for (const input of [
    `GET / HTTP/1.1\n${HOST}\r\n`,
    `GET / HTTP/1.1\r\nHost: a.example\n\r\n`,
    `GET / HTTP/1.1\r\n${HOST}\n`,
    `\nGET / HTTP/1.1\r\n${HOST}\r\n`,
    `\r\n\nGET / HTTP/1.1\r\n${HOST}\r\n`,
  ]) {
    assert.deepEqual(parseRequest(input), fails(400, 'bare-lf'), JSON.stringify(input));
  }
});

test('RequestParser rejects a CR that is not followed by LF in the head', () => {
  assert.deepEqual(parseRequest(`GET / HTTP/1.1\r${HOST}\r\n`), fails(400, 'bad-version'));
  assert.deepEqual(parseRequest(`GET / HTTP/1.1\r\n${HOST}\rX: 1\r\n\r\n`), fails(400, 'bad-field-name'));
  // Refused without waiting for an LF that may never come (RFC 9112 §2.2: a bare CR is invalid).
  assert.deepEqual(parseRequest(`GET / HTTP/1.1\r\n${HOST}\rabc`), fails(400, 'bad-field-name'));
  assert.deepEqual(parseRequest(`GET / HTTP/1.1\r\n${HOST}X: a\rb`), fails(400, 'bad-field-value'));
  assert.deepEqual(parseRequest('GET /a\rb'), fails(400, 'bad-target'));
});

// ---- Host (RFC 9112 §3.2) ----

test('RequestParser requires exactly one Host field in an HTTP/1.1 request', () => {
  assert.deepEqual(parseRequest('GET / HTTP/1.1\r\n\r\n'), fails(400, 'bad-host'));
  assert.deepEqual(parseRequest(withFields('Host: a.example\r\n')), fails(400, 'bad-host'));
  assert.deepEqual(parseRequest(withFields('host: b.example\r\n')), fails(400, 'bad-host'));
  assert.deepEqual(parseRequest('GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n'), fails(400, 'bad-host'));
});

test('RequestParser accepts an HTTP/1.0 request without Host, with an empty authority', () => {
  const head = requestHead('GET / HTTP/1.0\r\n\r\n');
  assert.equal(head.authority, '');
});

test('RequestParser accepts a Host of uri-host with an optional port', () => {
  for (const host of [
    'a.example',
    'a.example:8080',
    'a.example:',
    'A.EXAMPLE',
    '127.0.0.1',
    '[::1]',
    '[::1]:443',
    '[v1.x]',
    'xn--bcher-kva.example',
    'a%20b',
    "!$&'()*+;=._~-",
    '0.0.0.0=5000',
    '',
  ]) {
    const head = requestHead(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assert.equal(head.authority, host, JSON.stringify(host));
  }
});

test('RequestParser rejects a Host with a path, userinfo, a list or bad syntax', () => {
  for (const host of [
    'a.example/',
    'a.example/path',
    'user@a.example',
    'u:p@a.example',
    'a.example, b.example',
    'a.example,b.example',
    'a example',
    'a.example:http',
    'a.example:123456',
    'a.example:-1',
    '[::1',
    '::1',
    'a?b',
    'a#b',
    'a%2',
    'caf\xe9',
  ]) {
    assert.deepEqual(
      parseRequest(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
      fails(400, 'bad-host'),
      JSON.stringify(host),
    );
  }
});

// ---- keep-alive and Expect ----

test('RequestParser derives keepAlive from the version and Connection', () => {
  const keepAlive = (version: string, fields: string) =>
    requestHead(`GET / HTTP/${version}\r\n${HOST}${fields}\r\n`).keepAlive;
  assert.equal(keepAlive('1.1', ''), true);
  assert.equal(keepAlive('1.1', 'Connection: close\r\n'), false);
  assert.equal(keepAlive('1.1', 'Connection: Close\r\n'), false);
  assert.equal(keepAlive('1.1', 'Connection: keep-alive\r\n'), true);
  assert.equal(keepAlive('1.1', 'Connection: upgrade, close\r\n'), false);
  assert.equal(keepAlive('1.1', 'Connection: foo\r\nConnection: close\r\n'), false);
  assert.equal(keepAlive('1.1', 'Connection: closed\r\n'), true);
  assert.equal(keepAlive('1.0', ''), false);
  assert.equal(keepAlive('1.0', 'Connection: keep-alive\r\n'), true);
  assert.equal(keepAlive('1.0', 'Connection: Keep-Alive, Upgrade\r\n'), true);
  assert.equal(keepAlive('1.0', 'Connection: keep-alive, close\r\n'), false);
  // Only the list elements count, separated by commas with OWS around them (RFC 9110 §7.6.1).
  assert.equal(keepAlive('1.1', 'Connection: close\xa0\r\n'), true);
});

test('RequestParser sets expectContinue for "Expect: 100-continue" in HTTP/1.1 only', () => {
  assert.equal(requestHead(withFields('Expect: 100-continue\r\n')).expectContinue, true);
  assert.equal(requestHead(withFields('Expect: 100-Continue\r\n')).expectContinue, true);
  assert.equal(requestHead(withFields('')).expectContinue, false);
  assert.equal(requestHead(withFields('Expect: something-else\r\n')).expectContinue, false);
  assert.equal(requestHead('GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n').expectContinue, false);
});

// ---- limits (RFC 6585 §5, RFC 9112 §3) ----

/** `count` field lines X-0000: vvv… each `lineBytes` long including CRLF. */
function fieldLines(count: number, lineBytes: number): string {
  let out = '';
  for (let k = 0; k < count; k++) {
    const name = `X-${String(k).padStart(4, '0')}: `;
    out += `${name}${'v'.repeat(lineBytes - name.length - 2)}\r\n`;
  }
  return out;
}

test('RequestParser answers 431 to a head larger than 64 KiB', () => {
  const start = `GET / HTTP/1.1\r\n${HOST}`;
  const room = MAX_HEAD_BYTES - start.length - 2;
  const exact = `${start}${fieldLines(63, 1000)}${fieldLines(1, room - 63 * 1000)}\r\n`;
  assert.equal(exact.length, MAX_HEAD_BYTES);
  assert.equal(requestHead(exact).rawHeaders.length, 2 * 65);
  const over = `${start}${fieldLines(63, 1000)}${fieldLines(1, room - 63 * 1000 + 1)}\r\n`;
  assert.deepEqual(parseRequest(over), fails(431, 'head-too-large'));
  // An endless field line is refused without waiting for its end.
  assert.deepEqual(parseRequest(`${start}X: ${'v'.repeat(MAX_HEAD_BYTES)}`), fails(431, 'head-too-large'));
});

test('RequestParser answers 431 to more than 100 header fields', () => {
  const start = 'GET / HTTP/1.1\r\nHost: a\r\n';
  const max = requestHead(`${start}${fieldLines(MAX_HEADER_FIELDS - 1, 12)}\r\n`);
  assert.equal(max.rawHeaders.length, 2 * MAX_HEADER_FIELDS);
  assert.deepEqual(
    parseRequest(`${start}${fieldLines(MAX_HEADER_FIELDS, 12)}\r\n`),
    fails(431, 'too-many-fields'),
  );
});

test('RequestParser takes the head size and field count limits from the Limits it is given', () => {
  const input = `GET / HTTP/1.1\r\n${HOST}X: 1\r\nY: 2\r\n\r\n`;
  assert.equal(input.length, 47);
  assert.equal(requestHead(input, { maxHeadBytes: 47 }).rawHeaders.length, 6);
  assert.deepEqual(parseRequest(input, { maxHeadBytes: 46 }), fails(431, 'head-too-large'));
  assert.equal(requestHead(input, { maxHeaderFields: 3 }).rawHeaders.length, 6);
  assert.deepEqual(parseRequest(input, { maxHeaderFields: 2 }), fails(431, 'too-many-fields'));
  // Empty lines before the request-line count towards the head.
  assert.deepEqual(parseRequest(`\r\n${input}`, { maxHeadBytes: 48 }), fails(431, 'head-too-large'));
});

// ---- responses (RFC 9112 §4) ----

test('ResponseParser parses a status-line with or without a reason phrase', () => {
  const ok = responseHead('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
  assert.equal(ok.status, 200);
  assert.equal(ok.reason, 'OK');
  assert.equal(ok.version, '1.1');
  assert.deepEqual(ok.rawHeaders, ['Content-Length', '2']);
  assert.equal(responseHead('HTTP/1.1 204 \r\n\r\n').reason, '');
  assert.equal(responseHead('HTTP/1.1 204\r\n\r\n').status, 204);
  assert.equal(responseHead('HTTP/1.1 404 Not\tFound \xe9\r\n\r\n').reason, 'Not\tFound \xe9');
  assert.equal(responseHead('HTTP/1.1 599 Custom\r\n\r\n').status, 599);
  assert.equal(responseHead('HTTP/1.2 200 OK\r\n\r\n').version, '1.1');
});

test('ResponseParser derives keepAlive from the version and Connection', () => {
  assert.equal(responseHead('HTTP/1.1 200 OK\r\n\r\n').keepAlive, true);
  assert.equal(responseHead('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n').keepAlive, false);
  assert.equal(responseHead('HTTP/1.0 200 OK\r\n\r\n').keepAlive, false);
  assert.equal(responseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
});

test('ResponseParser leaves the body and a next response unconsumed', () => {
  const head = 'HTTP/1.1 100 Continue\r\n\r\n';
  const outcome = parseResponse(`${head}HTTP/1.1 200 OK\r\n\r\n`);
  assert.equal(outcome.kind === 'head' && outcome.consumed, head.length);
  assert.equal(outcome.kind === 'head' && outcome.head.status, 100);
});

test('ResponseParser rejects a malformed status-line with 502', () => {
  for (const line of [
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 2x0 OK',
    'HTTP/1.1  200 OK',
    'HTTP/1.1 099 Low',
    'HTTP/1.1 200OK',
    'HTTP/1.1 200 O\x01K',
    'HTTP/1.1 200 O\x7fK',
    'HTTP/1.1',
    'HTTP/1.1\t200 OK',
  ]) {
    assert.deepEqual(parseResponse(`${line}\r\n\r\n`), fails(502, 'bad-status-line'), JSON.stringify(line));
  }
});

test('ResponseParser rejects a malformed version, bare LF and bad field lines', () => {
  assert.deepEqual(parseResponse('HTTX/1.1 200 OK\r\n\r\n'), fails(400, 'bad-version'));
  assert.deepEqual(parseResponse('HTTP/2.0 200 OK\r\n\r\n'), fails(505, 'unsupported-version'));
  assert.deepEqual(parseResponse('HTTP/1.1 200 OK\n\r\n'), fails(400, 'bare-lf'));
  assert.deepEqual(parseResponse('HTTP/1.1 200 OK\r\nX : 1\r\n\r\n'), fails(400, 'bad-field-name'));
  assert.deepEqual(parseResponse('HTTP/1.1 200 OK\r\nX: 1\r\n 2\r\n\r\n'), fails(400, 'obs-fold'));
});

test('ResponseParser refuses a status-line longer than the request-line limit, whole or unfinished', () => {
  const limits = { maxRequestLineBytes: 20 };
  assert.equal(responseHead('HTTP/1.1 200 Fine!!!\r\n\r\n', limits).reason, 'Fine!!!');
  assert.deepEqual(parseResponse('HTTP/1.1 200 Fine!!!!\r\n\r\n', limits), fails(502, 'bad-status-line'));
  assert.deepEqual(parseResponse('HTTP/1.1 200 Fine!!!!!!!!!!!!!!', limits), fails(502, 'bad-status-line'));
});
