/**
 * Conditional requests (RFC 9110 §13) and range requests (RFC 9110 §14) against the static file
 * server, over raw sockets so every header and byte is the server's own; and a 20 MiB file
 * fetched whole and in part with curl, compared by SHA-256.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curl, exchange, field, IMF_FIXDATE, type ParsedResponse } from './raw-client.js';
import {
  makeTempDir,
  rawRequest,
  removeTree,
  STATIC_TIMEOUT_MS,
  withStatic,
  writeTree,
} from './static-fixture.js';

const TEST_TIMEOUT_MS = 10_000;
const LARGE_TIMEOUT_MS = 20_000;
const SIZE = 10_000;
const LARGE_BYTES = 20 * 1024 * 1024;
/** Beyond the server's in-memory cache (256 KiB), so ranges come off the disk stream. */
const STREAMED_BYTES = 600 * 1024;
const MODIFIED = new Date(Date.UTC(2024, 4, 6, 7, 8, 9));
const TEXT = 'a text file for conditional requests\n';

let dir = '';
let data: Buffer = Buffer.alloc(0);
let streamed: Buffer = Buffer.alloc(0);

before(async () => {
  dir = await makeTempDir('ranges');
  data = randomBytes(SIZE);
  streamed = randomBytes(STREAMED_BYTES);
  await writeTree(dir, { 'data.bin': data, 'streamed.bin': streamed, 'note.txt': TEXT });
  await utimes(join(dir, 'note.txt'), MODIFIED, MODIFIED);
});

after(async () => {
  await removeTree(dir);
});

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * Sends a conditional GET and a plain GET pipelined on one connection: if the 304 carried any
 * body bytes, the second response would not parse where it should.
 */
async function notModifiedThenGet(
  port: number,
  headers: Readonly<Record<string, string>>,
): Promise<[ParsedResponse, ParsedResponse]> {
  let conditional = 'GET /note.txt HTTP/1.1\r\nHost: test\r\n';
  for (const [name, value] of Object.entries(headers)) conditional += `${name}: ${value}\r\n`;
  const result = await exchange(
    { port },
    `${conditional}\r\nGET /note.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`,
    { responses: 2, timeoutMs: STATIC_TIMEOUT_MS },
  );
  const [first, second] = result.finals;
  assert.ok(first && second, `two responses; received ${JSON.stringify(result.text.slice(0, 400))}`);
  assert.equal(second.status, 200);
  assert.equal(second.body.toString(), TEXT, 'the 304 had no body');
  return [first, second];
}

describe('conditional requests', { timeout: TEST_TIMEOUT_MS }, () => {
  it('sends a strong ETag and Last-Modified on every file', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      for (const name of ['/data.bin', '/note.txt', '/streamed.bin']) {
        const res = await rawRequest(port, 'GET', name);
        assert.equal(res.status, 200, name);
        assert.match(field(res, 'etag') ?? '', /^"[\x21\x23-\x7e]+"$/, `${name}: strong (no W/)`);
        assert.match(field(res, 'last-modified') ?? '', IMF_FIXDATE, name);
      }
      const note = await rawRequest(port, 'GET', '/note.txt');
      assert.equal(field(note, 'last-modified'), httpDate(MODIFIED.getTime()));
    });
  });

  it('answers If-None-Match (exact, weak, in a list, *) with 304, validators, Cache-Control, Vary and no body', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const first = await rawRequest(port, 'GET', '/note.txt');
      const etag = field(first, 'etag')!;
      for (const value of [etag, `W/${etag}`, `"nope", ${etag}`, `"a",W/${etag} , "b"`, '*']) {
        const [res] = await notModifiedThenGet(port, { 'If-None-Match': value });
        assert.equal(res.status, 304, value);
        assert.equal(field(res, 'etag'), etag, value);
        assert.equal(field(res, 'cache-control'), 'no-cache', value);
        assert.match(field(res, 'vary') ?? '', /Accept-Encoding/, value);
        assert.equal(field(res, 'last-modified'), field(first, 'last-modified'), value);
      }
      const head = await rawRequest(port, 'HEAD', '/note.txt', { 'If-None-Match': etag });
      assert.equal(head.status, 304);
      const other = await rawRequest(port, 'GET', '/note.txt', { 'If-None-Match': '"nope", W/"other"' });
      assert.equal(other.status, 200);
      assert.equal(other.body.toString(), TEXT);
    });
  });

  it('answers If-Modified-Since at or after Last-Modified with 304, and an older date with 200', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const [same] = await notModifiedThenGet(port, { 'If-Modified-Since': httpDate(MODIFIED.getTime()) });
      assert.equal(same.status, 304);
      assert.ok(field(same, 'etag'));
      const later = await rawRequest(port, 'GET', '/note.txt', {
        'If-Modified-Since': httpDate(MODIFIED.getTime() + 60_000),
      });
      assert.equal(later.status, 304);
      const older = await rawRequest(port, 'GET', '/note.txt', {
        'If-Modified-Since': httpDate(MODIFIED.getTime() - 1_000),
      });
      assert.equal(older.status, 200);
      assert.equal(older.body.toString(), TEXT);
      const garbage = await rawRequest(port, 'GET', '/note.txt', { 'If-Modified-Since': 'yesterday' });
      assert.equal(garbage.status, 200, 'an invalid date is ignored');
    });
  });

  it('answers If-Match that does not match with 412, and one that does with 200', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const etag = field(await rawRequest(port, 'GET', '/note.txt'), 'etag')!;
      const failed = await rawRequest(port, 'GET', '/note.txt', { 'If-Match': '"not-the-tag"' });
      assert.equal(failed.status, 412);
      assert.doesNotMatch(failed.body.toString(), /conditional requests/);
      const weak = await rawRequest(port, 'GET', '/note.txt', { 'If-Match': `W/${etag}` });
      assert.equal(weak.status, 412, 'If-Match uses the strong comparison');
      const ok = await rawRequest(port, 'GET', '/note.txt', { 'If-Match': `"x", ${etag}` });
      assert.equal(ok.status, 200);
      assert.equal((await rawRequest(port, 'GET', '/note.txt', { 'If-Match': '*' })).status, 200);
    });
  });

  it('answers If-Unmodified-Since before Last-Modified with 412, and after it with 200', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const past = await rawRequest(port, 'GET', '/note.txt', {
        'If-Unmodified-Since': httpDate(MODIFIED.getTime() - 86_400_000),
      });
      assert.equal(past.status, 412);
      const future = await rawRequest(port, 'GET', '/note.txt', {
        'If-Unmodified-Since': httpDate(MODIFIED.getTime() + 86_400_000),
      });
      assert.equal(future.status, 200);
    });
  });

  it('lets If-None-Match win over If-Modified-Since (RFC 9110 §13.2.2)', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const etag = field(await rawRequest(port, 'GET', '/note.txt'), 'etag')!;
      // A non-matching tag means "changed" even though the date says "not modified since".
      const changed = await rawRequest(port, 'GET', '/note.txt', {
        'If-None-Match': '"some-older-tag"',
        'If-Modified-Since': httpDate(MODIFIED.getTime() + 60_000),
      });
      assert.equal(changed.status, 200);
      assert.equal(changed.body.toString(), TEXT);
      // A matching tag means "not modified" even though the date is older than the file.
      const same = await rawRequest(port, 'GET', '/note.txt', {
        'If-None-Match': etag,
        'If-Modified-Since': httpDate(MODIFIED.getTime() - 86_400_000),
      });
      assert.equal(same.status, 304);
      // If-Match is evaluated first of all: a failing one is 412 even when If-None-Match matches.
      const first = await rawRequest(port, 'GET', '/note.txt', { 'If-Match': '"x"', 'If-None-Match': etag });
      assert.equal(first.status, 412);
    });
  });

  it('revalidates through curl with the ETag it was given', async () => {
    await withStatic({ root: dir }, async ({ url }) => {
      const etagFile = join(dir, 'curl-etag.txt');
      const first = await curl([
        '-sS',
        '--etag-save',
        etagFile,
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `${url}/note.txt`,
      ]);
      assert.equal(first.stdout, '200', first.stderr);
      const second = await curl(['-sS', '--etag-compare', etagFile, '-w', '%{http_code}', `${url}/note.txt`]);
      assert.equal(second.stdout, '304', second.stderr);
    });
  });
});

/** Splits a multipart/byteranges body into parts: their Content-Range and bytes. */
function parseByteranges(body: Buffer, boundary: string): { range: string; type: string; bytes: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: { range: string; type: string; bytes: Buffer }[] = [];
  let pos = body.indexOf(delimiter);
  assert.equal(pos, 0, 'the body starts with the first delimiter');
  for (;;) {
    pos += delimiter.length;
    if (body.toString('latin1', pos, pos + 2) === '--') {
      assert.equal(body.toString('latin1', pos + 2), '\r\n', 'nothing but CRLF after the close delimiter');
      return parts;
    }
    assert.equal(body.toString('latin1', pos, pos + 2), '\r\n');
    const headEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    assert.ok(headEnd > 0, 'part head ends');
    const fields = new Map<string, string>();
    for (const line of body.toString('latin1', pos + 2, headEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`, 'latin1'), headEnd + 4);
    assert.ok(next > 0, 'part ends with CRLF and a delimiter');
    parts.push({
      range: fields.get('content-range') ?? '',
      type: fields.get('content-type') ?? '',
      bytes: body.subarray(headEnd + 4, next),
    });
    pos = next + 2;
  }
}

describe('range requests', { timeout: TEST_TIMEOUT_MS }, () => {
  it('advertises Accept-Ranges: bytes and answers a single range with 206 and the right bytes', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const whole = await rawRequest(port, 'GET', '/data.bin');
      assert.equal(field(whole, 'accept-ranges'), 'bytes');
      const res = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=100-199' });
      assert.equal(res.status, 206);
      assert.equal(field(res, 'content-range'), `bytes 100-199/${SIZE}`);
      assert.equal(field(res, 'content-length'), '100');
      assert.deepEqual(res.body, data.subarray(100, 200));
      assert.equal(field(res, 'etag'), field(whole, 'etag'));
    });
  });

  it('answers a suffix range -500 and an open range 1000-', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const suffix = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=-500' });
      assert.equal(suffix.status, 206);
      assert.equal(field(suffix, 'content-range'), `bytes ${SIZE - 500}-${SIZE - 1}/${SIZE}`);
      assert.deepEqual(suffix.body, data.subarray(SIZE - 500));
      const open = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=1000-' });
      assert.equal(open.status, 206);
      assert.equal(field(open, 'content-range'), `bytes 1000-${SIZE - 1}/${SIZE}`);
      assert.deepEqual(open.body, data.subarray(1000));
      const beyond = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=9990-20000' });
      assert.equal(field(beyond, 'content-range'), `bytes 9990-9999/${SIZE}`, 'the end is clamped');
      assert.deepEqual(beyond.body, data.subarray(9990));
    });
  });

  it('answers several ranges with a multipart/byteranges body whose parts carry the right bytes', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      for (const name of ['/data.bin', '/streamed.bin']) {
        const source = name === '/data.bin' ? data : streamed;
        const size = source.length;
        const res = await rawRequest(port, 'GET', name, { Range: 'bytes=0-9, 5000-5099, -20' });
        assert.equal(res.status, 206, name);
        assert.equal(field(res, 'content-range'), undefined, 'no Content-Range on a multipart response');
        const type = field(res, 'content-type') ?? '';
        const boundary = /^multipart\/byteranges; ?boundary=("?)([^";]+)\1$/.exec(type)?.[2];
        assert.ok(boundary, type);
        assert.equal(Number(field(res, 'content-length')), res.body.length);
        const parts = parseByteranges(res.body, boundary);
        assert.deepEqual(
          parts.map((p) => [p.range, p.type]),
          [
            [`bytes 0-9/${size}`, 'application/octet-stream'],
            [`bytes 5000-5099/${size}`, 'application/octet-stream'],
            [`bytes ${size - 20}-${size - 1}/${size}`, 'application/octet-stream'],
          ],
        );
        assert.deepEqual(parts[0]!.bytes, source.subarray(0, 10));
        assert.deepEqual(parts[1]!.bytes, source.subarray(5000, 5100));
        assert.deepEqual(parts[2]!.bytes, source.subarray(size - 20));
      }
    });
  });

  it('coalesces overlapping ranges, never sending a byte twice', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const one = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=0-99, 50-149' });
      assert.equal(one.status, 206);
      assert.equal(field(one, 'content-range'), `bytes 0-149/${SIZE}`);
      assert.deepEqual(one.body, data.subarray(0, 150));

      const two = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=300-399, 0-9, 5-19, 390-420' });
      assert.equal(two.status, 206);
      const boundary = /boundary=([^;]+)$/.exec(field(two, 'content-type') ?? '')?.[1];
      assert.ok(boundary);
      const parts = parseByteranges(two.body, boundary);
      assert.deepEqual(
        parts.map((p) => p.range),
        [`bytes 0-19/${SIZE}`, `bytes 300-420/${SIZE}`],
      );
      assert.deepEqual(parts[0]!.bytes, data.subarray(0, 20));
      assert.deepEqual(parts[1]!.bytes, data.subarray(300, 421));
    });
  });

  it('answers an unsatisfiable range with 416 and Content-Range: bytes */SIZE', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      for (const range of [`bytes=${SIZE}-`, 'bytes=20000-30000', 'bytes=-0']) {
        const res = await rawRequest(port, 'GET', '/data.bin', { Range: range });
        assert.equal(res.status, 416, range);
        assert.equal(field(res, 'content-range'), `bytes */${SIZE}`, range);
        assert.ok(!res.body.includes(data.subarray(0, 16)), 'no file bytes');
      }
      const ignored = await rawRequest(port, 'GET', '/data.bin', { Range: 'lines=1-2' });
      assert.equal(ignored.status, 200, 'an unknown unit is ignored');
      assert.equal(ignored.body.length, SIZE);
    });
  });

  it('honours If-Range with the current ETag or date (206) and sends the whole file for old ones (200)', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const etag = field(await rawRequest(port, 'GET', '/data.bin'), 'etag')!;
      const current = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=0-9', 'If-Range': etag });
      assert.equal(current.status, 206);
      assert.deepEqual(current.body, data.subarray(0, 10));
      const old = await rawRequest(port, 'GET', '/data.bin', { Range: 'bytes=0-9', 'If-Range': '"1-1"' });
      assert.equal(old.status, 200);
      assert.equal(field(old, 'content-range'), undefined);
      assert.deepEqual(old.body, data);
      const weak = await rawRequest(port, 'GET', '/data.bin', {
        Range: 'bytes=0-9',
        'If-Range': `W/${etag}`,
      });
      assert.equal(weak.status, 200, 'a weak validator never satisfies If-Range');
      // note.txt was last modified long ago, so its Last-Modified is a strong validator (§8.8.2.2).
      const sameDate = await rawRequest(port, 'GET', '/note.txt', {
        Range: 'bytes=0-3',
        'If-Range': httpDate(MODIFIED.getTime()),
      });
      assert.equal(sameDate.status, 206, 'If-Range with the Last-Modified date');
      assert.equal(sameDate.body.toString(), TEXT.slice(0, 4));
      const oldDate = await rawRequest(port, 'GET', '/note.txt', {
        Range: 'bytes=0-3',
        'If-Range': httpDate(MODIFIED.getTime() - 86_400_000),
      });
      assert.equal(oldDate.status, 200, 'If-Range with an older date');
      assert.equal(oldDate.body.toString(), TEXT);
    });
  });

  it('answers HEAD with a range like GET, with no body', async () => {
    await withStatic({ root: dir }, async ({ port }) => {
      const res = await rawRequest(port, 'HEAD', '/data.bin');
      assert.equal(res.status, 200);
      assert.equal(field(res, 'content-length'), String(SIZE));
      assert.equal(res.body.length, 0);
    });
  });
});

describe('a large file', { timeout: LARGE_TIMEOUT_MS }, () => {
  it('streams 20 MiB intact to curl, whole and as a range', async () => {
    const large = randomBytes(LARGE_BYTES);
    const source = join(dir, 'large.bin');
    await writeFile(source, large);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    await withStatic({ root: dir }, async ({ url }) => {
      const out = join(dir, 'large.out');
      const whole = await curl(
        ['-sS', '-o', out, '-w', '%{http_code} %{size_download}', `${url}/large.bin`],
        15_000,
      );
      assert.equal(whole.code, 0, whole.stderr);
      assert.equal(whole.stdout, `200 ${LARGE_BYTES}`);
      assert.equal(sha(await readFile(out)), sha(large));

      const part = await curl([
        '-sS',
        '-r',
        '1000000-5999999',
        '-o',
        out,
        '-w',
        '%{http_code}',
        `${url}/large.bin`,
      ]);
      assert.equal(part.stdout, '206', part.stderr);
      assert.equal(sha(await readFile(out)), sha(large.subarray(1_000_000, 6_000_000)));
    });
  });
});
