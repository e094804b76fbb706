import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidFieldValue } from './field-syntax.js';
import { reasonPhrase, STATUS_REASONS } from './status.js';

test('reasonPhrase() returns the RFC 9110 phrases', () => {
  assert.equal(reasonPhrase(200), 'OK');
  assert.equal(reasonPhrase(404), 'Not Found');
  assert.equal(reasonPhrase(413), 'Content Too Large');
  assert.equal(reasonPhrase(422), 'Unprocessable Content');
  assert.equal(reasonPhrase(505), 'HTTP Version Not Supported');
});

test('reasonPhrase() covers the RFC 6585, RFC 8297 and WebDAV registrations', () => {
  assert.equal(reasonPhrase(103), 'Early Hints');
  assert.equal(reasonPhrase(428), 'Precondition Required');
  assert.equal(reasonPhrase(429), 'Too Many Requests');
  assert.equal(reasonPhrase(431), 'Request Header Fields Too Large');
  assert.equal(reasonPhrase(511), 'Network Authentication Required');
  assert.equal(reasonPhrase(207), 'Multi-Status');
  assert.equal(reasonPhrase(508), 'Loop Detected');
});

test('reasonPhrase() returns an empty phrase for unused and unregistered codes', () => {
  for (const status of [306, 418, 599, 0, 1000, 200.5, -1]) assert.equal(reasonPhrase(status), '');
});

test('STATUS_REASONS is frozen and every phrase is a valid reason-phrase', () => {
  assert.equal(Object.isFrozen(STATUS_REASONS), true);
  for (const [code, phrase] of Object.entries(STATUS_REASONS)) {
    const n = Number(code);
    assert.ok(Number.isInteger(n) && n >= 100 && n <= 599, code);
    assert.ok(phrase.length > 0 && isValidFieldValue(phrase), code);
  }
});
