import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { test } from 'node:test';
import { DiskStore } from './disk-store.js';
import type { StoredEntry } from './store.js';
import { StoreRejected } from './store-errors.js';
import { bodyBytes, describeStoreContract, putEntry, testHead } from './store-suite.js';

describeStoreContract(
  'DiskStore',
  async ({ maxBytes }) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-disk-store-'));
    const stores = [await DiskStore.open({ dir, maxBytes })];
    return {
      store: stores[0]!,
      reopen: async () => {
        const store = await DiskStore.open({ dir, maxBytes });
        stores.push(store);
        return store;
      },
      cleanup: async () => {
        for (const store of stores) await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { persistent: true },
);

const MAX_BYTES = 1 << 20;
const KEY = 'GET http://example.test/a';

/** Runs body with a fresh directory (removed after) and opens stores in it, closing them after. */
async function withDir(
  body: (dir: string, open: (maxBytes?: number) => Promise<DiskStore>) => Promise<void>,
) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-disk-store-'));
  const stores: DiskStore[] = [];
  const open = async (maxBytes = MAX_BYTES) => {
    const store = await DiskStore.open({ dir, maxBytes });
    stores.push(store);
    return store;
  };
  try {
    await body(dir, open);
  } finally {
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const filePath = (entry: StoredEntry) => {
  assert.equal(entry.body.kind, 'file');
  return entry.body.kind === 'file' ? entry.body.path : '';
};
const metaPath = (entry: StoredEntry) => filePath(entry).replace(/\.body$/, '.json');

test('DiskStore names files by the sha256 of the key and the id, never by the key itself', () =>
  withDir(async (dir, open) => {
    const store = await open();
    const key = 'GET http://example.test/../../etc/passwd?x=/\u00e9\0';
    const entry = await putEntry(store, key, ['x']);
    const path = filePath(entry);
    assert.ok(isAbsolute(path));
    assert.equal(dirname(path), dir);
    const hash = createHash('sha256').update(key).digest('hex');
    assert.equal(basename(path), `${hash}-${entry.id}.body`);
    assert.match(entry.id, /^[0-9a-f]{32}$/);
    assert.deepEqual((await readdir(dir)).sort(), [`${hash}-${entry.id}.body`, `${hash}-${entry.id}.json`]);
  }));

test('DiskStore.open() creates a missing directory', () =>
  withDir(async (dir) => {
    const store = await DiskStore.open({ dir: join(dir, 'a', 'b'), maxBytes: MAX_BYTES });
    await putEntry(store, KEY, ['x']);
    await store.close();
    assert.equal((await readdir(join(dir, 'a', 'b'))).length, 2);
  }));

test('DiskStore drops an entry whose metadata is corrupted, with its body', () =>
  withDir(async (dir, open) => {
    const store = await open();
    const bad = await putEntry(store, KEY, ['bad']);
    const good = await putEntry(store, 'GET http://example.test/good', ['good']);
    await store.close();
    await writeFile(metaPath(bad), '{"v":1,"key":');
    const reopened = await open();
    assert.deepEqual(await reopened.lookup(KEY), []);
    assert.equal((await reopened.lookup('GET http://example.test/good'))[0]?.id, good.id);
    const names = await readdir(dir);
    assert.ok(!names.includes(basename(filePath(bad))) && !names.includes(basename(metaPath(bad))));
    assert.equal(names.length, 2);
  }));

test('DiskStore drops an entry whose metadata names a key its file name does not hash', () =>
  withDir(async (dir, open) => {
    const store = await open();
    const entry = await putEntry(store, KEY, ['x']);
    await store.close();
    const meta = JSON.parse(await readFile(metaPath(entry), 'utf8'));
    await writeFile(metaPath(entry), JSON.stringify({ ...meta, key: 'GET http://example.test/other' }));
    const reopened = await open();
    assert.deepEqual(await reopened.lookup(KEY), []);
    assert.deepEqual(await reopened.lookup('GET http://example.test/other'), []);
    assert.deepEqual(await readdir(dir), []);
  }));

test('DiskStore drops an entry whose body file is truncated, with its metadata', () =>
  withDir(async (dir, open) => {
    const store = await open();
    const entry = await putEntry(store, KEY, [Buffer.alloc(5000, 1)]);
    await store.close();
    await truncate(filePath(entry), 4096);
    const reopened = await open();
    assert.deepEqual(await reopened.lookup(KEY), []);
    assert.deepEqual(reopened.stats(), { bytes: 0, entries: 0 });
    assert.deepEqual(await readdir(dir), []);
  }));

test('DiskStore drops an entry whose body file is missing, and a body whose metadata is', () =>
  withDir(async (dir, open) => {
    const store = await open();
    const noBody = await putEntry(store, KEY, ['a']);
    const noMeta = await putEntry(store, 'GET http://example.test/b', ['b']);
    await store.close();
    await rm(filePath(noBody));
    await rm(metaPath(noMeta));
    const reopened = await open();
    assert.deepEqual(reopened.stats(), { bytes: 0, entries: 0 });
    assert.deepEqual(await readdir(dir), []);
  }));

test('DiskStore removes temporary files left by a crash on open, and leaves files not its own', () =>
  withDir(async (dir, open) => {
    await writeFile(join(dir, 'tmp-0b7c.body'), 'half a body');
    await writeFile(join(dir, 'tmp-0b7c.json'), '{"v":1');
    await writeFile(join(dir, 'README'), "not the store's");
    const store = await open();
    assert.deepEqual(await readdir(dir), ['README']);
    assert.deepEqual(store.stats(), { bytes: 0, entries: 0 });
  }));

test('DiskStore removes expired entries from disk on open', () =>
  withDir(async (dir, open) => {
    const store = await open();
    await putEntry(store, KEY, ['x'], { head: testHead({ deleteAt: Date.now() + 30 }) });
    await store.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reopened = await open();
    assert.deepEqual(reopened.stats(), { bytes: 0, entries: 0 });
    assert.deepEqual(await readdir(dir), []);
  }));

test('DiskStore stops writing an oversized entry at the cap, and end() rejects with StoreRejected', () =>
  withDir(async (dir) => {
    const store = await DiskStore.open({ dir, maxBytes: 100_000, maxEntryBytes: 10_000 });
    const writer = store.put(KEY, testHead());
    await writer.write(Buffer.alloc(8000));
    assert.equal((await readdir(dir)).length, 1, 'the temporary body file');
    await writer.write(Buffer.alloc(8000));
    await writer.write(Buffer.alloc(8000));
    await assert.rejects(writer.end(), (err) => err instanceof StoreRejected && err.reason === 'too-large');
    assert.deepEqual(await readdir(dir), [], 'no temporary file is left');
    assert.deepEqual(await store.lookup(KEY), []);
    await store.close();
  }));

test('DiskStore deletes the files of entries evicted, replaced or deleted', () =>
  withDir(async (dir, open) => {
    const store = await open(40_000);
    const entries: StoredEntry[] = [];
    for (let i = 0; i < 20; i++) entries.push(await putEntry(store, `${KEY}/${i}`, [Buffer.alloc(3000)]));
    const replaced = entries.at(-1)!;
    await putEntry(store, `${KEY}/19`, ['new'], { replaces: replaced.id });
    await store.delete(`${KEY}/18`);
    await store.close();
    const { entries: count, bytes } = store.stats();
    assert.ok(count < 20 && bytes <= 40_000);
    const names = await readdir(dir);
    assert.equal(names.length, 2 * count, 'a body and a metadata file per entry, nothing else');
    assert.ok(!names.includes(basename(filePath(replaced))));
    assert.ok(!names.includes(basename(filePath(entries[0]!))), 'the oldest was evicted');
  }));

test('DiskStore evicts down to a smaller budget on open', () =>
  withDir(async (_dir, open) => {
    const store = await open();
    for (let i = 0; i < 10; i++) await putEntry(store, `${KEY}/${i}`, [Buffer.alloc(5000)]);
    await store.close();
    const smaller = await open(20_000);
    assert.ok(smaller.stats().bytes <= 20_000);
    assert.equal((await smaller.lookup(`${KEY}/9`)).length, 1, 'the most recently stored stays');
    assert.deepEqual(await smaller.lookup(`${KEY}/0`), [], 'the least recently stored goes');
  }));

test('DiskStore.close() waits for an end() in flight, and refuses calls after', () =>
  withDir(async (_dir, open) => {
    const store = await open();
    const writer = store.put(KEY, testHead());
    void writer.write(Buffer.alloc(50_000, 7));
    const ended = writer.end();
    await store.close();
    const entry = await ended;
    assert.equal((await bodyBytes(entry)).length, 50_000);
    await assert.rejects(store.lookup(KEY), (err) => err instanceof StoreRejected && err.reason === 'closed');
    await assert.rejects(putEntry(store, KEY, ['late']), (err) => err instanceof StoreRejected);
    const reopened = await open();
    assert.deepEqual(
      (await reopened.lookup(KEY)).map((e) => e.id),
      [entry.id],
    );
  }));

test('DiskStore.close() aborts a writer that has not ended, removing its temporary file', () =>
  withDir(async (dir, open) => {
    const store = await open();
    const writer = store.put(KEY, testHead());
    await writer.write(Buffer.from('half'));
    await writer.write(Buffer.from(' more'));
    await store.close();
    assert.deepEqual(await readdir(dir), []);
    await writer.write(Buffer.from('ignored'));
    await assert.rejects(writer.end(), (err) => err instanceof StoreRejected && err.reason === 'closed');
  }));

test('DiskStore.updateHead() leaves no temporary file and resolves false once the entry is gone', () =>
  withDir(async (dir, open) => {
    const store = await open();
    const entry = await putEntry(store, KEY, ['x']);
    const updates = [1, 2, 3].map((n) => store.updateHead(KEY, entry.id, testHead({ status: 200 + n })));
    assert.deepEqual(await Promise.all(updates), [true, true, true]);
    assert.equal((await store.lookup(KEY))[0]?.status, 203);
    assert.equal(JSON.parse(await readFile(metaPath(entry), 'utf8')).status, 203);
    assert.equal((await readdir(dir)).length, 2);
    const late = store.updateHead(KEY, entry.id, testHead());
    await store.deleteVariant(KEY, entry.id);
    assert.equal(await late, false);
    await store.close();
    assert.deepEqual(await readdir(dir), [], 'a rewrite racing the removal leaves no metadata behind');
  }));

test('DiskStore keeps files and index in step under concurrent writes, updates and evictions', () =>
  withDir(async (dir, open) => {
    const store = await open(60_000);
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const key = `${KEY}/${i % 7}`;
      work.push(
        (async () => {
          const [current] = await store.lookup(key);
          const chunks = [Buffer.alloc(1000 + i * 37, i), Buffer.alloc(500, i)];
          const entry = await putEntry(store, key, chunks, current ? { replaces: current.id } : {});
          if (i % 3 === 0) await store.updateHead(key, entry.id, testHead({ status: 203 }));
          if (i % 11 === 0) await store.deleteVariant(key, entry.id);
        })(),
      );
      if (i % 13 === 0) {
        const writer = store.put(key, testHead());
        work.push(writer.write(Buffer.alloc(800)).then(() => writer.abort()));
      }
    }
    await Promise.all(work);
    const { entries, bytes } = store.stats();
    assert.ok(bytes <= 60_000);
    await store.close();
    const names = await readdir(dir);
    assert.equal(names.length, 2 * entries, 'a body and a metadata file per entry, nothing else');
    const reopened = await open(60_000);
    assert.deepEqual(reopened.stats(), { entries, bytes });
  }));
