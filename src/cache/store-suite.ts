/**
 * The conformance suite every CacheStore passes (store.ts): call describeStoreContract() from a
 * store's test file with a function that opens a fresh, empty store. Also exports the small helpers
 * the suite uses, for a store's own tests.
 *
 * The suite checks only what the contract promises plus two things every store here shares: an
 * entry larger than the whole budget is refused with StoreRejected('too-large'), and eviction
 * sweeps expired entries before evicting live ones.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheStore, StoredEntry, StoredHead } from './store.js';
import { StoreRejected } from './store-errors.js';

/** A fresh store, and how to get rid of it (and of every store reopen() made). */
export type StoreFixture = {
  readonly store: CacheStore;
  /**
   * Opens another store over the same persisted state, as a restarted process would. It does not
   * close `store`: a test closes it first to mean a clean shutdown, and does not to mean a crash.
   */
  readonly reopen?: () => Promise<CacheStore>;
  cleanup(): Promise<void>;
};

/** Opens a fresh, empty store with this byte budget (and the store's default entry cap). */
export type OpenStore = (limits: { readonly maxBytes: number }) => Promise<StoreFixture>;

/** What the suite may expect of a store beyond the contract. */
export type StoreTraits = {
  /** Entries survive close() and reopen(); the fixture must provide reopen. */
  readonly persistent: boolean;
};

/** A head with a bit of everything: repeated fields, a Vary name the request lacked. */
export function testHead(overrides: Partial<StoredHead> = {}): StoredHead {
  const now = Date.now();
  return {
    status: 200,
    statusMessage: 'OK',
    headers: [
      ['content-type', 'text/plain; charset=utf-8'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ],
    vary: { 'accept-encoding': 'gzip', 'accept-language': undefined },
    requestTime: now - 20,
    responseTime: now - 10,
    staleAt: now + 60_000,
    deleteAt: now + 3_600_000,
    ...overrides,
  };
}

/** Stores `chunks` under key through one writer and resolves with what end() resolved with. */
export async function putEntry(
  store: CacheStore,
  key: string,
  chunks: readonly (Buffer | string)[],
  options: { head?: StoredHead; replaces?: string } = {},
): Promise<StoredEntry> {
  const writer = store.put(key, options.head ?? testHead(), options.replaces);
  for (const chunk of chunks) await writer.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return writer.end();
}

/** The body of a stored entry, read whole. */
export async function bodyBytes(entry: StoredEntry): Promise<Buffer> {
  const { body } = entry;
  return body.kind === 'memory' ? Buffer.concat(body.chunks) : readFile(body.path);
}

/** Only the StoredHead fields of an entry, to compare with the head it was stored with. */
export function headOf(entry: StoredEntry): StoredHead {
  const { status, statusMessage, headers, vary, requestTime, responseTime, staleAt, deleteAt } = entry;
  return { status, statusMessage, headers, vary, requestTime, responseTime, staleAt, deleteAt };
}

/** testHead() for the variant selected by this Accept-Encoding. */
const encoded = (value: string | undefined) => testHead({ vary: { 'accept-encoding': value } });

const MAX_BYTES = 1 << 20;

/** Defines the contract's tests for one store, as node:test tests under a describe() named `name`. */
export function describeStoreContract(name: string, open: OpenStore, traits: StoreTraits): void {
  const withStore = async (maxBytes: number, body: (fixture: StoreFixture) => Promise<void>) => {
    const fixture = await open({ maxBytes });
    try {
      await body(fixture);
    } finally {
      await fixture.cleanup();
    }
  };
  const it = (title: string, body: (store: CacheStore, fixture: StoreFixture) => Promise<void>) =>
    test(title, () => withStore(MAX_BYTES, (fixture) => body(fixture.store, fixture)));
  const ids = (entries: readonly StoredEntry[]) => entries.map((entry) => entry.id);

  describe(`${name} (store contract)`, () => {
    it('lookup() of a key never stored resolves with no entries', async (store) => {
      assert.deepEqual(await store.lookup('GET http://example.test/none'), []);
    });

    it('an ended entry comes back from lookup() with its head and body intact', async (store) => {
      const head = testHead({ status: 404, statusMessage: 'Not Here', staleAt: Date.now() + 5_000 });
      const chunks = ['hello, ', '', 'world', Buffer.alloc(70_000, 0x7a)];
      const ended = await putEntry(store, 'GET http://example.test/a', chunks, { head });
      const found = await store.lookup('GET http://example.test/a');
      assert.equal(found.length, 1);
      const [entry] = found as [StoredEntry];
      assert.equal(entry.id, ended.id);
      assert.deepEqual(headOf(entry), head);
      assert.ok('accept-language' in entry.vary, 'a Vary name with no value is kept');
      const expected = Buffer.concat(chunks.map((c) => Buffer.from(c)));
      assert.equal(entry.body.size, expected.length);
      assert.deepEqual(await bodyBytes(entry), expected);
      assert.deepEqual(await bodyBytes(ended), expected);
    });

    it('an entry with an empty body is stored and read back as zero bytes', async (store) => {
      await putEntry(store, 'GET http://example.test/empty', [], { head: testHead({ status: 204 }) });
      const [entry] = (await store.lookup('GET http://example.test/empty')) as [StoredEntry];
      assert.equal(entry.body.size, 0);
      assert.equal((await bodyBytes(entry)).length, 0);
    });

    it('nothing written is visible before end() resolves', async (store) => {
      const writer = store.put('GET http://example.test/a', testHead());
      await writer.write(Buffer.from('partial'));
      assert.deepEqual(await store.lookup('GET http://example.test/a'), []);
      assert.equal(store.stats().entries, 0);
      await writer.end();
      assert.equal((await store.lookup('GET http://example.test/a')).length, 1);
    });

    it('abort() discards the entry, and is safe to call twice', async (store) => {
      const writer = store.put('GET http://example.test/a', testHead());
      await writer.write(Buffer.from('cut short'));
      writer.abort();
      writer.abort();
      assert.deepEqual(await store.lookup('GET http://example.test/a'), []);
      await assert.rejects(writer.end());
      assert.deepEqual(store.stats(), { bytes: 0, entries: 0 });
    });

    it('a replacement removes the variant it replaces when it commits, not before', async (store) => {
      const key = 'GET http://example.test/r';
      const old = await putEntry(store, key, ['old']);
      const writer = store.put(key, testHead(), old.id);
      await writer.write(Buffer.from('new'));
      assert.deepEqual(ids(await store.lookup(key)), [old.id]);
      const replacement = await writer.end();
      assert.notEqual(replacement.id, old.id);
      const found = await store.lookup(key);
      assert.deepEqual(ids(found), [replacement.id]);
      assert.equal((await bodyBytes(found[0]!)).toString(), 'new');
    });

    it('an aborted replacement leaves the old variant in place', async (store) => {
      const key = 'GET http://example.test/r';
      const old = await putEntry(store, key, ['old']);
      const writer = store.put(key, testHead(), old.id);
      await writer.write(Buffer.from('new'));
      writer.abort();
      assert.deepEqual(ids(await store.lookup(key)), [old.id]);
    });

    it('a key holds several variants, most recently stored first', async (store) => {
      const key = 'GET http://example.test/v';
      const gzip = await putEntry(store, key, ['g'], { head: encoded('gzip') });
      const br = await putEntry(store, key, ['b'], { head: encoded('br') });
      const none = await putEntry(store, key, ['n'], { head: encoded(undefined) });
      assert.deepEqual(ids(await store.lookup(key)), [none.id, br.id, gzip.id]);
      const gzip2 = await putEntry(store, key, ['g2'], { replaces: gzip.id });
      assert.deepEqual(ids(await store.lookup(key)), [gzip2.id, none.id, br.id]);
    });

    it('updateHead() replaces the head and keeps the body and the id', async (store) => {
      const key = 'GET http://example.test/u';
      const stored = await putEntry(store, key, ['body bytes']);
      const head = testHead({ headers: [['etag', '"v2"']], staleAt: Date.now() + 99_000 });
      assert.equal(await store.updateHead(key, stored.id, head), true);
      const [entry] = (await store.lookup(key)) as [StoredEntry];
      assert.equal(entry.id, stored.id);
      assert.deepEqual(headOf(entry), head);
      assert.equal((await bodyBytes(entry)).toString(), 'body bytes');
    });

    it('updateHead() resolves false for a variant that is gone', async (store) => {
      const key = 'GET http://example.test/u';
      assert.equal(await store.updateHead(key, 'no-such-id', testHead()), false);
      const stored = await putEntry(store, key, ['x']);
      assert.equal(await store.updateHead('GET http://example.test/other', stored.id, testHead()), false);
      await store.deleteVariant(key, stored.id);
      assert.equal(await store.updateHead(key, stored.id, testHead()), false);
    });

    it('delete() removes every variant of a key and resolves with how many there were', async (store) => {
      const key = 'GET http://example.test/d';
      for (const value of ['gzip', 'br', 'zstd']) {
        await putEntry(store, key, [value], { head: encoded(value) });
      }
      const other = await putEntry(store, 'GET http://example.test/keep', ['keep']);
      assert.equal(await store.delete(key), 3);
      assert.deepEqual(await store.lookup(key), []);
      assert.equal(await store.delete(key), 0);
      assert.deepEqual(ids(await store.lookup('GET http://example.test/keep')), [other.id]);
      assert.equal(store.stats().entries, 1);
    });

    it('deleteVariant() removes that variant only', async (store) => {
      const key = 'GET http://example.test/d';
      const a = await putEntry(store, key, ['a'], { head: encoded('gzip') });
      const b = await putEntry(store, key, ['b'], { head: encoded('br') });
      await store.deleteVariant(key, a.id);
      await store.deleteVariant(key, 'no-such-id');
      assert.deepEqual(ids(await store.lookup(key)), [b.id]);
    });

    it('an entry whose deleteAt has passed is not returned, and is dropped', async (store) => {
      const key = 'GET http://example.test/e';
      await putEntry(store, key, ['old news'], { head: testHead({ deleteAt: Date.now() - 1 }) });
      assert.deepEqual(await store.lookup(key), []);
      assert.deepEqual(store.stats(), { bytes: 0, entries: 0 });
    });

    it('an entry stops being returned once its deleteAt passes', async (store) => {
      const key = 'GET http://example.test/e';
      await putEntry(store, key, ['brief'], { head: testHead({ deleteAt: Date.now() + 40 }) });
      assert.equal((await store.lookup(key)).length, 1);
      await sleep(60);
      assert.deepEqual(await store.lookup(key), []);
      assert.equal(store.stats().entries, 0);
    });

    it('stats() counts the entries and at least their body bytes', async (store) => {
      assert.deepEqual(store.stats(), { bytes: 0, entries: 0 });
      await putEntry(store, 'GET http://example.test/1', [Buffer.alloc(1000)]);
      await putEntry(store, 'GET http://example.test/2', [Buffer.alloc(2000)]);
      const { bytes, entries } = store.stats();
      assert.equal(entries, 2);
      assert.ok(bytes >= 3000, `bytes ${bytes} counts the bodies`);
      await store.delete('GET http://example.test/1');
      await store.delete('GET http://example.test/2');
      assert.deepEqual(store.stats(), { bytes: 0, entries: 0 });
    });

    it('end() rejects with StoreRejected an entry larger than the whole budget, and stores nothing', async (store) => {
      const writer = store.put('GET http://example.test/big', testHead());
      for (let written = 0; written <= MAX_BYTES; written += 65_536) await writer.write(Buffer.alloc(65_536));
      await assert.rejects(writer.end(), (err) => err instanceof StoreRejected && err.reason === 'too-large');
      writer.abort();
      assert.deepEqual(await store.lookup('GET http://example.test/big'), []);
      assert.deepEqual(store.stats(), { bytes: 0, entries: 0 });
    });

    test('eviction keeps the bytes held within maxBytes, least recently looked-up entries first', () =>
      withStore(32_000, async ({ store }) => {
        const key = (i: number) => `GET http://example.test/evict/${i}`;
        for (let i = 0; i < 6; i++) await putEntry(store, key(i), [Buffer.alloc(3000, i)]);
        assert.equal(store.stats().entries, 6, 'six entries fit in the budget');
        await store.lookup(key(0));
        for (let i = 6; i < 12; i++) {
          await putEntry(store, key(i), [Buffer.alloc(3000, i)]);
          assert.ok(store.stats().bytes <= 32_000, `bytes ${store.stats().bytes} within maxBytes`);
        }
        const useOrder = [1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 11];
        const kept: number[] = [];
        for (const i of useOrder) if ((await store.lookup(key(i))).length > 0) kept.push(i);
        assert.ok(kept.length < 12, 'something was evicted');
        assert.deepEqual(kept, useOrder.slice(12 - kept.length), 'the least recently used went first');
        assert.ok(kept.includes(0), 'the entry looked up survived');
        assert.equal(store.stats().entries, kept.length);
      }));

    test('eviction drops expired entries before live ones', () =>
      withStore(32_000, async ({ store }) => {
        const key = (i: number) => `GET http://example.test/evict/${i}`;
        await putEntry(store, key(0), [Buffer.alloc(3000)]);
        await putEntry(store, key(1), [Buffer.alloc(3000)], { head: testHead({ deleteAt: Date.now() - 1 }) });
        let stored = 2;
        for (let i = 2; store.stats().entries === stored && i < 20; i++, stored++) {
          await putEntry(store, key(i), [Buffer.alloc(3000)]);
        }
        assert.equal(store.stats().entries, stored - 1, 'one entry went');
        assert.equal((await store.lookup(key(0))).length, 1, 'the least recently used live entry stayed');
      }));

    if (!traits.persistent) return;

    const withReopen = async (fixture: StoreFixture) => {
      assert.ok(fixture.reopen !== undefined, 'a persistent store fixture provides reopen()');
      return fixture.reopen();
    };

    it('entries survive a reopen with their heads, bodies and order intact', async (store, fixture) => {
      const key = 'GET http://example.test/p';
      const heads = [encoded('gzip'), testHead({ deleteAt: Infinity })];
      const a = await putEntry(store, key, ['first ', 'variant'], { head: heads[0]! });
      const b = await putEntry(store, key, [Buffer.alloc(100_000, 0x62)], { head: heads[1]! });
      const updated = testHead({ headers: [['etag', '"2"']] });
      assert.equal(await store.updateHead(key, a.id, updated), true);
      const before = await store.lookup(key);
      await store.close();
      const reopened = await withReopen(fixture);
      const after = await reopened.lookup(key);
      assert.deepEqual(ids(after), [b.id, a.id]);
      assert.deepEqual(after.map(headOf), [heads[1], updated]);
      for (let i = 0; i < 2; i++) assert.deepEqual(await bodyBytes(after[i]!), await bodyBytes(before[i]!));
      assert.deepEqual(reopened.stats(), store.stats());
    });

    it('a deletion survives a reopen', async (store, fixture) => {
      const key = 'GET http://example.test/p';
      const a = await putEntry(store, key, ['a'], { head: encoded('gzip') });
      const b = await putEntry(store, key, ['b'], { head: encoded('br') });
      await putEntry(store, 'GET http://example.test/q', ['q']);
      await store.deleteVariant(key, a.id);
      await store.delete('GET http://example.test/q');
      await store.close();
      const reopened = await withReopen(fixture);
      assert.deepEqual(ids(await reopened.lookup(key)), [b.id]);
      assert.deepEqual(await reopened.lookup('GET http://example.test/q'), []);
    });

    it('an aborted write does not survive a reopen', async (store, fixture) => {
      const kept = await putEntry(store, 'GET http://example.test/kept', ['kept']);
      const writer = store.put('GET http://example.test/cut', testHead());
      await writer.write(Buffer.from('cut short'));
      writer.abort();
      await store.close();
      const reopened = await withReopen(fixture);
      assert.deepEqual(await reopened.lookup('GET http://example.test/cut'), []);
      assert.deepEqual(ids(await reopened.lookup('GET http://example.test/kept')), [kept.id]);
      assert.equal(reopened.stats().entries, 1);
    });

    it('a write never ended before a crash is not visible after it', async (store, fixture) => {
      const kept = await putEntry(store, 'GET http://example.test/kept', ['kept']);
      const writer = store.put('GET http://example.test/cut', testHead());
      await writer.write(Buffer.from('the process died here'));
      // No close(): the new store opens over whatever the old one left behind.
      const reopened = await withReopen(fixture);
      assert.deepEqual(await reopened.lookup('GET http://example.test/cut'), []);
      assert.deepEqual(ids(await reopened.lookup('GET http://example.test/kept')), [kept.id]);
      assert.equal(reopened.stats().entries, 1);
    });
  });
}
