import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateHeadBytes, MemoryStore } from './memory-store.js';
import type { StoredEntry } from './store.js';
import { StoreRejected } from './store-errors.js';
import { describeStoreContract, putEntry, testHead } from './store-suite.js';

describeStoreContract(
  'MemoryStore',
  async ({ maxBytes }) => {
    const store = new MemoryStore({ maxBytes });
    return { store, cleanup: () => store.close() };
  },
  { persistent: false },
);

test('MemoryStore hands back the very Buffers written, not copies', async () => {
  const store = new MemoryStore({ maxBytes: 1 << 20 });
  // Buffer.alloc, not Buffer.from(string): small Buffer.from() results are views of a shared pool.
  const chunks = [Buffer.alloc(4, 'one '), Buffer.alloc(4, 'two '), Buffer.alloc(5, 'three')];
  const ended = await putEntry(store, 'GET http://example.test/', chunks);
  const [entry] = (await store.lookup('GET http://example.test/')) as [StoredEntry];
  assert.equal(entry, ended);
  assert.equal(entry.body.kind, 'memory');
  if (entry.body.kind !== 'memory') return;
  assert.equal(entry.body.chunks.length, 3);
  for (const [i, chunk] of entry.body.chunks.entries()) assert.equal(chunk, chunks[i], `chunk ${i}`);
  assert.ok(Object.isFrozen(entry.body.chunks), 'the chunk list cannot be changed by a reader');
});

test('MemoryStore copies a small view of a large buffer rather than pin the whole buffer', async () => {
  const store = new MemoryStore({ maxBytes: 1 << 20 });
  const read = Buffer.alloc(64 * 1024, 'r');
  const view = read.subarray(100, 200);
  await putEntry(store, 'GET http://example.test/view', [view]);
  const [entry] = (await store.lookup('GET http://example.test/view')) as [StoredEntry];
  if (entry.body.kind !== 'memory') throw new Error('expected a memory body');
  const [kept] = entry.body.chunks as [Buffer];
  assert.notEqual(kept.buffer, read.buffer);
  assert.deepEqual(kept, view);
});

test('MemoryStore refuses an entry over maxEntryBytes with StoreRejected, keeping what it held', async () => {
  const store = new MemoryStore({ maxBytes: 100_000, maxEntryBytes: 10_000 });
  const kept = await putEntry(store, 'GET http://example.test/small', ['small']);
  const before = store.stats();
  const writer = store.put('GET http://example.test/big', testHead());
  for (let i = 0; i < 20; i++) await writer.write(Buffer.alloc(1000));
  await assert.rejects(writer.end(), (err) => {
    assert.ok(err instanceof StoreRejected);
    assert.equal(err.reason, 'too-large');
    assert.match(err.message, /maxEntryBytes \(10000\)/);
    return true;
  });
  assert.deepEqual(await store.lookup('GET http://example.test/big'), []);
  assert.deepEqual(store.stats(), before);
  assert.deepEqual(
    (await store.lookup('GET http://example.test/small')).map((e) => e.id),
    [kept.id],
  );
});

test('MemoryStore defaults maxEntryBytes to an eighth of maxBytes', () => {
  assert.equal(new MemoryStore({ maxBytes: 256 * 1024 * 1024 }).maxEntryBytes, 32 * 1024 * 1024);
});

test('MemoryStore rejects limits that cannot work', () => {
  assert.throws(() => new MemoryStore({ maxBytes: 0 }), RangeError);
  assert.throws(() => new MemoryStore({ maxBytes: 1.5 }), RangeError);
  assert.throws(() => new MemoryStore({ maxBytes: 1000, maxEntryBytes: 2000 }), RangeError);
});

test('MemoryStore counts an estimate of the head on top of the body', async () => {
  const store = new MemoryStore({ maxBytes: 1 << 20 });
  const head = testHead();
  await putEntry(store, 'GET http://example.test/', [Buffer.alloc(500)], { head });
  assert.ok(estimateHeadBytes(head) > 100);
  assert.ok(store.stats().bytes >= 500 + estimateHeadBytes(head));
});

test('estimateHeadBytes() grows with the fields a head carries', () => {
  const bare = testHead({ headers: [], vary: {} });
  const more = testHead({ headers: [['content-type', 'text/html']], vary: { accept: 'text/html' } });
  assert.ok(estimateHeadBytes(more) > estimateHeadBytes(bare) + 'content-type'.length + 'text/html'.length);
});

test('MemoryStore.close() drops every entry, aborts open writers, and refuses calls after', async () => {
  const store = new MemoryStore({ maxBytes: 1 << 20 });
  await putEntry(store, 'GET http://example.test/', ['x']);
  const open = store.put('GET http://example.test/open', testHead());
  await open.write(Buffer.from('half'));
  await store.close();
  assert.deepEqual(store.stats(), { bytes: 0, entries: 0 });
  const closed = (err: unknown) => err instanceof StoreRejected && err.reason === 'closed';
  await assert.rejects(open.end(), closed);
  await assert.rejects(store.lookup('GET http://example.test/'), closed);
  await assert.rejects(putEntry(store, 'GET http://example.test/late', ['y']), closed);
  await store.close();
});

test('MemoryStore rejects a write after end()', async () => {
  const store = new MemoryStore({ maxBytes: 1 << 20 });
  const writer = store.put('GET http://example.test/', testHead());
  await writer.end();
  await assert.rejects(writer.write(Buffer.from('late')), /after end\(\)/);
  writer.abort();
  assert.equal(
    (await store.lookup('GET http://example.test/')).length,
    1,
    'abort() after end() changes nothing',
  );
});
