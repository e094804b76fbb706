import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheStatusMember, cacheStatusValue } from '../cache/cache-status.js';
import { cacheResult } from './cache-result.js';

describe('cacheResult()', () => {
  it('reads a hit, stale or not, from this cache’s member', () => {
    assert.equal(cacheResult('berth; hit; ttl=30', 'berth'), 'hit');
    assert.equal(cacheResult('berth; hit; ttl=-3; stale', 'berth'), 'hit');
    assert.equal(cacheResult('berth;hit=?1', 'berth'), 'hit');
  });

  it('reads fwd reasons that mean the cache could have answered as misses', () => {
    for (const reason of ['uri-miss', 'vary-miss', 'miss', 'request', 'stale']) {
      assert.equal(cacheResult(`berth; fwd=${reason}; stored=?1`, 'berth'), 'miss', reason);
    }
  });

  it('counts fwd=bypass and fwd=method as neither', () => {
    assert.equal(cacheResult('berth; fwd=bypass', 'berth'), 'none');
    assert.equal(cacheResult('berth; fwd=method', 'berth'), 'none');
  });

  it('reads only the last member, and only under this cache’s name', () => {
    assert.equal(cacheResult('cdn; fwd=miss, berth; hit; ttl=5', 'berth'), 'hit');
    assert.equal(cacheResult('berth; hit; ttl=5, cdn; fwd=miss', 'berth'), 'none');
    assert.equal(cacheResult('berthold; hit', 'berth'), 'none');
    assert.equal(cacheResult('other; hit', 'berth'), 'none');
  });

  it('is not fooled by commas or keywords inside a quoted detail', () => {
    assert.equal(cacheResult('berth; fwd=miss; detail="hit, berth; hit"', 'berth'), 'miss');
    assert.equal(cacheResult('berth; detail="x; hit"; fwd=uri-miss', 'berth'), 'miss');
  });

  it('answers none for empty or malformed values', () => {
    for (const value of ['', 'berth', ',', 'berth x; hit', '"berth"; hit']) {
      assert.equal(cacheResult(value, 'berth'), 'none', value);
    }
  });

  it('agrees with what the cache writes (cache-status.ts)', () => {
    const hit = cacheStatusMember('berth', { kind: 'hit', ttl: 10, collapsed: true });
    const miss = cacheStatusMember('berth', { kind: 'forward', reason: 'uri-miss', stored: true, ttl: 60 });
    const onlyIfCached = cacheStatusMember('berth', {
      kind: 'forward',
      reason: 'miss',
      detail: 'only-if-cached',
    });
    assert.equal(cacheResult(cacheStatusValue('upstream; hit', hit), 'berth'), 'hit');
    assert.equal(cacheResult(cacheStatusValue(undefined, miss), 'berth'), 'miss');
    assert.equal(cacheResult(onlyIfCached, 'berth'), 'miss');
  });
});
