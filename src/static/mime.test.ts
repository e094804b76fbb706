import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentTypeFor, DEFAULT_CONTENT_TYPE, isCompressible } from './mime.js';

test('contentTypeFor() adds charset=utf-8 to text types', () => {
  const cases: [string, string][] = [
    ['index.html', 'text/html; charset=utf-8'],
    ['style.css', 'text/css; charset=utf-8'],
    ['app.js', 'text/javascript; charset=utf-8'],
    ['app.mjs', 'text/javascript; charset=utf-8'],
    ['data.json', 'application/json; charset=utf-8'],
    ['logo.svg', 'image/svg+xml; charset=utf-8'],
    ['feed.xml', 'application/xml; charset=utf-8'],
    ['site.webmanifest', 'application/manifest+json; charset=utf-8'],
    ['notes.txt', 'text/plain; charset=utf-8'],
    ['README.md', 'text/markdown; charset=utf-8'],
    ['table.csv', 'text/csv; charset=utf-8'],
    ['feed.atom', 'application/atom+xml; charset=utf-8'],
    ['shape.geojson', 'application/geo+json; charset=utf-8'],
  ];
  for (const [path, type] of cases) assert.equal(contentTypeFor(path), type, path);
});

test('contentTypeFor() never adds a charset to images, video, audio or binary types', () => {
  const cases: [string, string][] = [
    ['photo.png', 'image/png'],
    ['photo.JPG', 'image/jpeg'],
    ['anim.gif', 'image/gif'],
    ['pic.webp', 'image/webp'],
    ['clip.mp4', 'video/mp4'],
    ['song.mp3', 'audio/mpeg'],
    ['archive.zip', 'application/zip'],
    ['module.wasm', 'application/wasm'],
    ['font.woff2', 'font/woff2'],
    ['doc.pdf', 'application/pdf'],
  ];
  for (const [path, type] of cases) assert.equal(contentTypeFor(path), type, path);
});

test('contentTypeFor() knows the MPEG-DASH manifest and segment types', () => {
  assert.equal(contentTypeFor('/video/stream.mpd'), 'application/dash+xml; charset=utf-8');
  assert.equal(contentTypeFor('/video/chunk-0001.m4s'), 'video/iso.segment');
  assert.equal(contentTypeFor('CHUNK.M4S'), 'video/iso.segment');
});

test('contentTypeFor() falls back to application/octet-stream for unknown or missing extensions', () => {
  assert.equal(DEFAULT_CONTENT_TYPE, 'application/octet-stream');
  for (const path of [
    'file.unknownext',
    'Makefile',
    '/srv/www/json',
    'json',
    '.env',
    '/a/.htaccess',
    'dir.d/file',
    '',
  ]) {
    assert.equal(contentTypeFor(path), 'application/octet-stream', path);
  }
});

test('contentTypeFor() looks only at the last segment and ignores case', () => {
  assert.equal(contentTypeFor('/a.html/b.PNG'), 'image/png');
  assert.equal(contentTypeFor('/srv/site.v2/INDEX.HTML'), 'text/html; charset=utf-8');
  assert.equal(contentTypeFor('/srv/site.v2/index.html'), 'text/html; charset=utf-8');
});

test('isCompressible() says yes to text, JSON, JavaScript, XML, SVG and WebAssembly', () => {
  for (const type of [
    'text/html; charset=utf-8',
    'text/css',
    'TEXT/PLAIN;charset=UTF-8',
    'text/javascript; charset=utf-8',
    'application/javascript',
    'application/json',
    'application/ld+json',
    'application/manifest+json; charset=utf-8',
    'application/xml',
    'application/rss+xml',
    'application/dash+xml',
    'image/svg+xml; charset=utf-8',
    'application/wasm',
    'font/ttf',
  ]) {
    assert.equal(isCompressible(type), true, type);
  }
});

test('isCompressible() says no to images, video, audio, archives and unknown types', () => {
  for (const type of [
    'image/png',
    'image/jpeg',
    'image/webp',
    'video/mp4',
    'video/iso.segment',
    'audio/mpeg',
    'application/zip',
    'application/gzip',
    'application/octet-stream',
    'font/woff2',
    'application/pdf',
    '',
  ]) {
    assert.equal(isCompressible(type), false, type);
  }
});

test('isCompressible() agrees with contentTypeFor() on common files', () => {
  assert.equal(isCompressible(contentTypeFor('a.html')), true);
  assert.equal(isCompressible(contentTypeFor('a.svg')), true);
  assert.equal(isCompressible(contentTypeFor('a.wasm')), true);
  assert.equal(isCompressible(contentTypeFor('a.mpd')), true);
  assert.equal(isCompressible(contentTypeFor('a.m4s')), false);
  assert.equal(isCompressible(contentTypeFor('a.jpg')), false);
  assert.equal(isCompressible(contentTypeFor('a.bin')), false);
});
