import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestParser, ResponseParser } from './head-parser.js';
import { writeRequestHead, writeResponseHead } from './head-writer.js';

test('writeRequestHead() writes a head the request parser reads back unchanged', () => {
  const bytes = writeRequestHead('POST', '/a?b=1', [
    ['Host', 'example.com'],
    ['X-List', 'a'],
    ['X-List', 'b'],
  ]);
  assert.equal(
    bytes.toString('latin1'),
    'POST /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-List: a\r\nX-List: b\r\n\r\n',
  );
  const head = new RequestParser().push(bytes, 0, bytes.length);
  assert.equal(head?.method, 'POST');
  assert.equal(head?.target, '/a?b=1');
  assert.deepEqual(head?.rawHeaders, ['Host', 'example.com', 'X-List', 'a', 'X-List', 'b']);
});

test('writeResponseHead() uses the registered reason phrase and round-trips through the parser', () => {
  const bytes = writeResponseHead(404, [['Content-Length', '0']]);
  assert.equal(bytes.toString('latin1'), 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  const head = new ResponseParser().push(bytes, 0, bytes.length);
  assert.equal(head?.status, 404);
  assert.equal(head?.reason, 'Not Found');
});

test('writeResponseHead() keeps obs-text bytes in values as single octets', () => {
  const bytes = writeResponseHead(200, [['X-Name', 'D\u00fcsseldorf']]);
  assert.ok(bytes.includes(Buffer.from([0x44, 0xfc, 0x73])));
});

test('the head writers refuse a value that would split the head', () => {
  assert.throws(() => writeResponseHead(302, [['Location', '/x\r\nSet-Cookie: a=b']]), TypeError);
  assert.throws(() => writeRequestHead('GET', '/', [['X', 'a\nb']]), TypeError);
  assert.throws(() => writeRequestHead('GET', '/', [['X', 'a\0b']]), TypeError);
});

test('the head writers refuse names, methods, targets and statuses outside the grammar', () => {
  assert.throws(() => writeRequestHead('GET', '/', [['Bad Name', 'x']]), TypeError);
  assert.throws(() => writeRequestHead('G T', '/', []), TypeError);
  assert.throws(() => writeRequestHead('GET', '/a b', []), TypeError);
  assert.throws(() => writeResponseHead(42, []), RangeError);
  assert.throws(() => writeResponseHead(200, [], 'OK\r\nX: y'), TypeError);
});
