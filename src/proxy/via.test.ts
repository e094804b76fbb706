import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendVia, seenVia, viaPseudonym } from './via.js';

test('viaPseudonym() names the host and port', () => {
  assert.equal(viaPseudonym('proxy.local', 8080), 'berth-proxy.local-8080');
  assert.equal(viaPseudonym('127.0.0.1', 3128), 'berth-127.0.0.1-3128');
});

test('viaPseudonym() turns the colons and brackets of an IPv6 address into dashes, lower case', () => {
  assert.equal(viaPseudonym('[::1]', 8080), 'berth---1-8080');
  assert.equal(viaPseudonym('::1', 8080), 'berth---1-8080');
  assert.equal(viaPseudonym('FE80::A', 1), 'berth-fe80--a-1');
});

test('appendVia() starts a Via or appends to one with a comma', () => {
  assert.equal(appendVia(undefined, '1.1', 'berth-x-8080'), '1.1 berth-x-8080');
  assert.equal(appendVia('', '1.1', 'berth-x-8080'), '1.1 berth-x-8080');
  assert.equal(
    appendVia('1.0 fred, 1.1 p.example.net', '1.0', 'berth-x-8080'),
    '1.0 fred, 1.1 p.example.net, 1.0 berth-x-8080',
  );
});

test('appendVia() refuses a pseudonym that is not a token', () => {
  assert.throws(() => appendVia(undefined, '1.1', 'two words'), TypeError);
  assert.throws(() => appendVia(undefined, '1.1', 'a,b'), TypeError);
});

test('seenVia() finds the pseudonym anywhere in the list, in any case, with or without a port', () => {
  assert.equal(seenVia('1.1 berth-x-8080', 'berth-x-8080'), true);
  assert.equal(seenVia('1.0 fred, 1.1 BERTH-X-8080 (Berth)', 'berth-x-8080'), true);
  assert.equal(seenVia('HTTP/1.1 berth-x-8080:99', 'berth-x-8080'), true);
  assert.equal(seenVia('1.1 a,1.1 berth-x-8080', 'berth-x-8080'), true);
});

test('seenVia() is false for other proxies, a prefix, a comment or nothing', () => {
  assert.equal(seenVia(undefined, 'berth-x-8080'), false);
  assert.equal(seenVia('', 'berth-x-8080'), false);
  assert.equal(seenVia('1.1 berth-x-80801', 'berth-x-8080'), false);
  assert.equal(seenVia('1.1 other (seen berth-x-8080, 1.1 berth-x-8080)', 'berth-x-8080'), false);
  assert.equal(seenVia('berth-x-8080', 'berth-x-8080'), false);
});
