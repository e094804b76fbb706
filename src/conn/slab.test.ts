import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slabWriter } from './slab.js';

test('slabWriter keeps a region whole and counts its bytes when the slab fills up mid-region', () => {
  const w = slabWriter;
  let moves = 0;
  for (let i = 0; i < 400; i++) {
    const head = `HTTP/1.1 200 OK\r\nX-I: ${i}\r\n\r\n`;
    const body = Buffer.alloc(1100 + ((i * 997) % 6000), 0x61 + (i % 26));
    w.begin(1024);
    w.latin1(head);
    const before = w.buf;
    // The count must come from the write itself: w.pos restarts when the region moves.
    assert.equal(w.bytes(body), body.length);
    if (w.buf !== before) moves++;
    const region = w.finish();
    assert.equal(region.length, head.length + body.length);
    assert.equal(region.subarray(0, head.length).toString('latin1'), head);
    assert.deepEqual(region.subarray(head.length), body);
  }
  assert.ok(moves > 0, 'the test must make the slab fill up mid-region at least once');
});

test('slabWriter.utf8() returns the UTF-8 byte count, not the string length', () => {
  slabWriter.begin(64);
  assert.equal(slabWriter.utf8('é€'), 5);
  assert.equal(slabWriter.finish().toString('utf8'), 'é€');
});

test('slabWriter.decimal() writes integers without a string', () => {
  for (const n of [0, 7, 10, 99, 1024, 9007199254740991]) {
    slabWriter.begin(32);
    slabWriter.decimal(n);
    assert.equal(slabWriter.finish().toString('latin1'), String(n));
  }
});
