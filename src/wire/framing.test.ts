/**
 * Body framing (RFC 9112 §6): requestFraming() through RequestParser, responseFraming() on heads
 * parsed by ResponseParser, and persists(). Heads go through parseEverySplit() (whole, byte by
 * byte, split at every offset). The chunked body itself is chunked-decoder.test.ts's subject.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { responseFraming } from './framing.js';
import { FRAMING_CHUNKED, FRAMING_CLOSE, FRAMING_NONE } from './head.js';
import { ParseError } from './parse-error.js';
import { fails, parseRequest, requestHead, responseHead } from './test-splits.js';

/** A POST with the given field lines (each ending in CRLF) after Host. */
function post(fields: string, version = '1.1'): string {
  return `POST / HTTP/${version}\r\nHost: a.example\r\n${fields}\r\n`;
}

const length = (n: number) => ({ kind: 'length', length: n });

// ---- Content-Length (RFC 9112 §6.2, §6.3 ¶5; RFC 9110 §8.6) ----

test('RequestParser frames a request by its Content-Length, and as bodiless without one', () => {
  assert.deepEqual(requestHead(post('Content-Length: 5\r\n')).framing, length(5));
  assert.deepEqual(requestHead(post('content-LENGTH:  42 \r\n')).framing, length(42));
  assert.deepEqual(requestHead(post('Content-Length: 007\r\n')).framing, length(7));
  assert.equal(requestHead(post('Content-Length: 0\r\n')).framing, FRAMING_NONE);
  assert.equal(requestHead(post('')).framing, FRAMING_NONE);
  assert.deepEqual(requestHead(post('Content-Length: 5\r\n', '1.0')).framing, length(5));
});

test('RequestParser rejects a Content-Length that is not 1*DIGIT', () => {
  for (const value of [
    '',
    '+5',
    '-5',
    '5.0',
    '0x5',
    '5 5',
    '4 2',
    '1e3',
    '5;',
    '"5"',
    'five',
    '5\xa0',
    '\xa05',
    '5\x0b',
  ]) {
    const input = post(`Content-Length: ${value}\r\n`);
    const expected = value === '5\x0b' ? fails(400, 'bad-field-value') : fails(400, 'bad-content-length');
    assert.deepEqual(parseRequest(input), expected, JSON.stringify(value));
  }
});

test('RequestParser takes identical duplicate Content-Length values as one and rejects differing ones', () => {
  assert.deepEqual(requestHead(post('Content-Length: 5\r\nContent-Length: 5\r\n')).framing, length(5));
  assert.deepEqual(requestHead(post('Content-Length: 5, 5\r\n')).framing, length(5));
  assert.deepEqual(requestHead(post('Content-Length: 5,5 , 5\r\n')).framing, length(5));
  for (const fields of [
    'Content-Length: 1\r\nContent-Length: 2\r\n',
    'Content-Length: 5, 6\r\n',
    'Content-Length: 5\r\nContent-Length: 5, 6\r\n',
    'Content-Length: 5, \r\n',
    'Content-Length: 5,,5\r\n',
  ]) {
    assert.deepEqual(parseRequest(post(fields)), fails(400, 'bad-content-length'), JSON.stringify(fields));
  }
});

test('RequestParser rejects a Content-Length beyond Number.MAX_SAFE_INTEGER', () => {
  const max = String(Number.MAX_SAFE_INTEGER);
  assert.deepEqual(requestHead(post(`Content-Length: ${max}\r\n`)).framing, length(Number.MAX_SAFE_INTEGER));
  for (const value of ['9007199254740992', '9999999999999999', '1000000000000000000000']) {
    assert.deepEqual(
      parseRequest(post(`Content-Length: ${value}\r\n`)),
      fails(400, 'bad-content-length'),
      value,
    );
  }
});

// ---- Transfer-Encoding (RFC 9112 §6.1, §6.3 ¶4, §7) ----

test('RequestParser frames a request whose final transfer coding is chunked as chunked', () => {
  assert.equal(requestHead(post('Transfer-Encoding: chunked\r\n')).framing, FRAMING_CHUNKED);
  assert.equal(requestHead(post('transfer-encoding: CHUNKED\r\n')).framing, FRAMING_CHUNKED);
  // Empty list elements are ignored (RFC 9110 §5.6.1).
  assert.equal(requestHead(post('Transfer-Encoding: , chunked ,\r\n')).framing, FRAMING_CHUNKED);
});

test('RequestParser rejects Content-Length together with Transfer-Encoding', () => {
  for (const fields of [
    'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n',
    'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n',
    'Transfer-Encoding: chunked\r\nContent-Length: 0\r\n',
    'Content-Length: 1\r\nTransfer-Encoding: identity\r\n',
    'Content-Length: 10\r\nTransfer-Encoding:\r\n',
  ]) {
    assert.deepEqual(parseRequest(post(fields)), fails(400, 'length-and-chunked'), JSON.stringify(fields));
  }
});

test('RequestParser rejects a Transfer-Encoding whose final coding is not chunked', () => {
  for (const value of [
    'gzip',
    'identity',
    'pigeons',
    'chunked, gzip',
    'chunkedchunked',
    'chunked\xa0',
    '',
    ' , ',
  ]) {
    assert.deepEqual(
      parseRequest(post(`Transfer-Encoding: ${value}\r\n`)),
      fails(400, 'bad-transfer-encoding'),
      JSON.stringify(value),
    );
  }
  assert.deepEqual(
    parseRequest(post('Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n')),
    fails(400, 'bad-transfer-encoding'),
  );
});

test('RequestParser answers 501 to a transfer coding before chunked that it does not decode', () => {
  for (const value of ['gzip, chunked', 'deflate, chunked', 'pigeons, chunked', 'identity, chunked']) {
    assert.deepEqual(
      parseRequest(post(`Transfer-Encoding: ${value}\r\n`)),
      fails(501, 'unknown-transfer-coding'),
      value,
    );
  }
  assert.deepEqual(
    parseRequest(post('Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n')),
    fails(501, 'unknown-transfer-coding'),
  );
});

test('RequestParser rejects chunked applied twice', () => {
  assert.deepEqual(
    parseRequest(post('Transfer-Encoding: chunked, chunked\r\n')),
    fails(400, 'bad-transfer-encoding'),
  );
  assert.deepEqual(
    parseRequest(post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n')),
    fails(400, 'bad-transfer-encoding'),
  );
});

test('RequestParser rejects Transfer-Encoding in an HTTP/1.0 request', () => {
  assert.deepEqual(
    parseRequest(post('Transfer-Encoding: chunked\r\n', '1.0')),
    fails(400, 'bad-transfer-encoding'),
  );
});

// ---- responses (RFC 9112 §6.3) ----

/** Parses a response head (every split agreeing) and frames it as the answer to `method`. */
function frameResponse(head: string, method = 'GET') {
  const parsed = responseHead(`${head}\r\n`);
  return responseFraming(parsed.facts, parsed.status, method);
}

test('responseFraming() gives no body to HEAD responses, 1xx, 204 and 304', () => {
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n', 'HEAD'), FRAMING_NONE);
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n', 'HEAD'), FRAMING_NONE);
  assert.equal(frameResponse('HTTP/1.1 100 Continue\r\n'), FRAMING_NONE);
  assert.equal(frameResponse('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n'), FRAMING_NONE);
  assert.equal(frameResponse('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n'), FRAMING_NONE);
  assert.equal(frameResponse('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n'), FRAMING_NONE);
});

test('responseFraming() treats a 2xx to CONNECT as a tunnel and other CONNECT answers as messages', () => {
  assert.equal(frameResponse('HTTP/1.1 200 Connection Established\r\n', 'CONNECT'), FRAMING_NONE);
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n', 'CONNECT'), FRAMING_NONE);
  assert.deepEqual(frameResponse('HTTP/1.1 407 Auth\r\nContent-Length: 5\r\n', 'CONNECT'), length(5));
});

test('responseFraming() frames by chunked, then Content-Length, else until close', () => {
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n'), FRAMING_CHUNKED);
  // An upstream's other codings are passed on undecoded, so they are not an error here.
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n'), FRAMING_CHUNKED);
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n'), FRAMING_CLOSE);
  assert.deepEqual(frameResponse('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n'), length(12));
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n'), FRAMING_NONE);
  assert.equal(frameResponse('HTTP/1.1 200 OK\r\n'), FRAMING_CLOSE);
  assert.equal(frameResponse('HTTP/1.0 200 OK\r\n'), FRAMING_CLOSE);
});

test('responseFraming() refuses Content-Length with Transfer-Encoding and chunked twice', () => {
  const throwsCode = (head: string, code: string) =>
    assert.throws(
      () => frameResponse(head),
      (err: unknown) => err instanceof ParseError && err.code === code,
    );
  throwsCode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n', 'length-and-chunked');
  throwsCode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n', 'bad-transfer-encoding');
});
