import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardableFields, forwardableResponseFields } from './hop-by-hop.js';

test('forwardableFields() removes every hop-by-hop field, Host and Content-Length', () => {
  const raw = [
    'Host',
    'example.test',
    'Connection',
    'keep-alive',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Connection',
    'keep-alive',
    'Proxy-Authorization',
    'Basic dTpw',
    'Proxy-Authenticate',
    'Basic',
    'TE',
    'trailers',
    'Trailer',
    'X-Sum',
    'Transfer-Encoding',
    'chunked',
    'Upgrade',
    'websocket',
    'Content-Length',
    '5',
    'Accept',
    '*/*',
    'User-Agent',
    'test',
  ];
  assert.deepEqual(forwardableFields(raw), [
    ['Accept', '*/*'],
    ['User-Agent', 'test'],
  ]);
});

test('forwardableFields() removes the fields Connection names, in any case, across repeated Connection fields', () => {
  const raw = [
    'connection',
    'X-Secret , close',
    'X-SECRET',
    'a',
    'CONNECTION',
    ',,x-other',
    'x-other',
    'b',
    'X-Kept',
    'c',
  ];
  assert.deepEqual(forwardableFields(raw), [['X-Kept', 'c']]);
});

test('forwardableFields() keeps names as received, repeated fields and their order', () => {
  const raw = ['accept', 'a', 'X-Thing', '1', 'x-thing', '2', 'cookie', 'c=1'];
  assert.deepEqual(forwardableFields(raw), [
    ['accept', 'a'],
    ['X-Thing', '1'],
    ['x-thing', '2'],
    ['cookie', 'c=1'],
  ]);
});

test('forwardableFields() keeps Upgrade with keepUpgrade, even when Connection names it', () => {
  const raw = ['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
  assert.deepEqual(forwardableFields(raw, { keepUpgrade: true }), [
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Key', 'k'],
  ]);
  assert.deepEqual(forwardableFields(raw), [['Sec-WebSocket-Key', 'k']]);
});

test('forwardableFields() returns nothing for no fields', () => {
  assert.deepEqual(forwardableFields([]), []);
});

test('forwardableResponseFields() drops the hop-by-hop fields and reports Content-Length apart', () => {
  const result = forwardableResponseFields([
    ['Content-Type', 'text/plain'],
    ['Content-Length', '12'],
    ['Connection', 'keep-alive, X-Hop'],
    ['X-Hop', '1'],
    ['Keep-Alive', 'timeout=4'],
    ['Proxy-Authenticate', 'Basic realm="x"'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
  ]);
  assert.deepEqual(result, {
    fields: [
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ],
    contentLength: '12',
  });
});

test('forwardableResponseFields() ignores Content-Length beside Transfer-Encoding', () => {
  const result = forwardableResponseFields([
    ['Transfer-Encoding', 'chunked'],
    ['Content-Length', '12'],
  ]);
  assert.deepEqual(result, { fields: [], contentLength: undefined });
});

test('forwardableResponseFields() keeps Upgrade for a 101 relayed with keepUpgrade', () => {
  const result = forwardableResponseFields(
    [
      ['Connection', 'upgrade'],
      ['Upgrade', 'websocket'],
      ['Sec-WebSocket-Accept', 'x'],
    ],
    { keepUpgrade: true },
  );
  assert.deepEqual(result.fields, [
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Accept', 'x'],
  ]);
});
