import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRLF, chunkHeader, encodeChunk, LAST_CHUNK, lastChunkWithTrailers } from './body-encoders.js';

const text = (parts: readonly Uint8Array[]) => Buffer.concat(parts).toString('latin1');

test('chunkHeader() writes lowercase hex and CRLF', () => {
  assert.equal(chunkHeader(0).toString(), '0\r\n');
  assert.equal(chunkHeader(1).toString(), '1\r\n');
  assert.equal(chunkHeader(255).toString(), 'ff\r\n');
  assert.equal(chunkHeader(1023).toString(), '3ff\r\n');
  assert.equal(chunkHeader(1024).toString(), '400\r\n');
  assert.equal(chunkHeader(16384).toString(), '4000\r\n');
  assert.equal(chunkHeader(65537).toString(), '10001\r\n');
  assert.equal(chunkHeader(Number.MAX_SAFE_INTEGER).toString(), '1fffffffffffff\r\n');
});

test('chunkHeader() shares the header of small sizes and powers of two', () => {
  assert.equal(chunkHeader(10), chunkHeader(10));
  assert.equal(chunkHeader(65536), chunkHeader(65536));
  assert.equal(chunkHeader(70000).toString(), chunkHeader(70000).toString());
});

test('chunkHeader() throws RangeError for negative, fractional or unsafe sizes', () => {
  for (const size of [-1, 1.5, 2000.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    assert.throws(() => chunkHeader(size), RangeError, String(size));
  }
});

test('CRLF and LAST_CHUNK hold the RFC 9112 §7.1 bytes', () => {
  assert.equal(CRLF.toString(), '\r\n');
  assert.equal(LAST_CHUNK.toString(), '0\r\n\r\n');
});

test('encodeChunk() frames data as header, data, CRLF without copying it', () => {
  const data = Buffer.from('hello world');
  const parts = encodeChunk(data);
  assert.equal(parts.length, 3);
  assert.equal(parts[1], data);
  assert.equal(text(parts), 'b\r\nhello world\r\n');
});

test('encodeChunk() wraps a plain Uint8Array view over the same memory', () => {
  const backing = new Uint8Array([0x78, 0x61, 0x62, 0x63, 0x78]);
  const view = backing.subarray(1, 4);
  const parts = encodeChunk(view);
  assert.equal(text(parts), '3\r\nabc\r\n');
  assert.ok(Buffer.isBuffer(parts[1]));
  backing[1] = 0x41;
  assert.equal(parts[1]?.toString(), 'Abc');
});

test('encodeChunk() returns nothing for empty data so it never ends the body early', () => {
  assert.deepEqual(encodeChunk(Buffer.alloc(0)), []);
  assert.deepEqual(encodeChunk(new Uint8Array(0)), []);
});

test('lastChunkWithTrailers() writes the last-chunk, the fields and the final CRLF', () => {
  assert.equal(
    lastChunkWithTrailers([
      ['Server-Timing', 'db;dur=53'],
      ['X-Checksum', 'abc\tdef'],
      ['X-Empty', ''],
    ]).toString('latin1'),
    '0\r\nServer-Timing: db;dur=53\r\nX-Checksum: abc\tdef\r\nX-Empty: \r\n\r\n',
  );
  assert.equal(lastChunkWithTrailers([['X-Latin', 'caf\u00e9']]).at(-5), 0xe9);
});

test('lastChunkWithTrailers() with no fields is the plain last chunk', () => {
  assert.equal(lastChunkWithTrailers([]).toString(), '0\r\n\r\n');
});

test('lastChunkWithTrailers() throws TypeError for a name that is not a token', () => {
  for (const name of ['', 'X Y', 'X:Y', 'X\r\nY', 'caf\u00e9', 'a\0']) {
    assert.throws(() => lastChunkWithTrailers([[name, 'v']]), TypeError, JSON.stringify(name));
  }
});

test('lastChunkWithTrailers() throws TypeError for a value with CR, LF, NUL or controls', () => {
  for (const value of ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\0b', '\x01', '\x7f', '\u2603']) {
    assert.throws(() => lastChunkWithTrailers([['X-Ok', value]]), TypeError, JSON.stringify(value));
  }
});
