import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIELD_VALUE_BYTE, isToken, isValidFieldValue, TOKEN_CHARS } from './field-syntax.js';

const TCHAR_SPECIALS = "!#$%&'*+-.^_`|~";

test('TOKEN_CHARS marks exactly ALPHA, DIGIT and the tchar specials', () => {
  assert.equal(TOKEN_CHARS.length, 256);
  let count = 0;
  for (let c = 0; c < 256; c++) {
    const ch = String.fromCharCode(c);
    const expected = /^[A-Za-z0-9]$/.test(ch) || TCHAR_SPECIALS.includes(ch);
    assert.equal(TOKEN_CHARS[c], expected ? 1 : 0, `byte 0x${c.toString(16)}`);
    if (expected) count++;
  }
  assert.equal(count, 26 * 2 + 10 + TCHAR_SPECIALS.length);
});

test('FIELD_VALUE_BYTE allows HTAB, SP, VCHAR and obs-text only', () => {
  for (let c = 0; c < 256; c++) {
    const expected = c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80;
    assert.equal(FIELD_VALUE_BYTE[c], expected ? 1 : 0, `byte 0x${c.toString(16)}`);
  }
});

test('isToken() accepts field names and methods', () => {
  for (const s of ['Content-Type', 'GET', 'x-a_b.c~d', TCHAR_SPECIALS, 'a', '0']) {
    assert.equal(isToken(s), true, s);
  }
});

test('isToken() rejects the empty string, separators, whitespace, controls and non-ASCII', () => {
  for (const s of ['', 'a b', 'a:b', 'a\tb', '(a)', 'a"', 'a/b', 'a\0', 'a\r', 'é', 'a\u0100', '\x7f']) {
    assert.equal(isToken(s), false, JSON.stringify(s));
  }
});

test('isValidFieldValue() accepts text, HTAB, obs-text and the empty string', () => {
  for (const s of ['', 'text/html; charset=utf-8', 'a\tb', '"quoted"', 'caf\u00e9', '\u00ff', ' padded ']) {
    assert.equal(isValidFieldValue(s), true, JSON.stringify(s));
  }
});

test('isValidFieldValue() rejects NUL, CR, LF, other controls, DEL and chars above 0xFF', () => {
  for (const s of ['a\0b', 'a\rb', 'a\nb', 'a\r\nX-Injected: 1', '\x01', '\x1f', '\x7f', 'snow\u2603']) {
    assert.equal(isValidFieldValue(s), false, JSON.stringify(s));
  }
});
