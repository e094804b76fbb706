import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from '../conn/server.js';
import type { Request, Response } from '../handler/types.js';
import {
  AccessLog,
  type AccessRecord,
  escapeLogField,
  FLUSH_INTERVAL_MS,
  formatAccessLine,
  formatClfTime,
} from './access-log.js';

const RECORD: AccessRecord = {
  remoteAddress: '127.0.0.1',
  startMs: Date.UTC(2000, 9, 10, 13, 55, 36, 250),
  durationMs: 1.23456,
  method: 'GET',
  url: '/apache_pb.gif',
  httpVersion: '1.1',
  status: 200,
  bytes: 2326,
  referer: 'http://www.example.com/start.html',
  userAgent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
};

/** A stream that records each write it gets. */
function recorder(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      callback();
    },
  });
  return { stream, writes };
}

/** The parts of a Request and Response that wrap() touches, with a close() that plays the engine. */
function fakeExchange(
  method: string,
  url: string,
  headers: Record<string, string> = {},
): { req: Request; res: Response; close: () => void } {
  const listeners: (() => void)[] = [];
  let ended = false;
  const req = { method, url, httpVersion: '1.1', headers, remoteAddress: '192.0.2.7' } as unknown as Request;
  const res = {
    statusCode: 200,
    get writableEnded() {
      return ended;
    },
    write: () => true,
    end: () => {
      ended = true;
    },
    once(_event: string, fn: () => void) {
      listeners.push(fn);
      return this;
    },
  } as unknown as Response;
  return {
    req,
    res,
    close: () => {
      for (const fn of listeners) fn();
    },
  };
}

describe('formatAccessLine()', () => {
  it('formatAccessLine() writes the Common Log Format', () => {
    assert.equal(
      formatAccessLine('common', RECORD),
      '127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /apache_pb.gif HTTP/1.1" 200 2326\n',
    );
  });

  it('formatAccessLine() writes the Combined Log Format with referer and user-agent', () => {
    assert.equal(
      formatAccessLine('combined', RECORD),
      '127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /apache_pb.gif HTTP/1.1" 200 2326 ' +
        '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"\n',
    );
  });

  it('formatAccessLine() writes `-` for an empty body and absent headers', () => {
    const line = formatAccessLine('combined', {
      ...RECORD,
      bytes: 0,
      referer: undefined,
      userAgent: undefined,
    });
    assert.match(line, /" 200 - "-" "-"\n$/);
  });

  it('formatAccessLine() writes one JSON object per line with ISO time and durationMs', () => {
    const line = formatAccessLine('json', RECORD);
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(JSON.parse(line), {
      time: '2000-10-10T13:55:36.250Z',
      remote: '127.0.0.1',
      method: 'GET',
      url: '/apache_pb.gif',
      httpVersion: '1.1',
      status: 200,
      bytes: 2326,
      referer: 'http://www.example.com/start.html',
      userAgent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
      durationMs: 1.235,
    });
  });

  it('formatAccessLine() escapes quotes, backslashes and control characters (log injection)', () => {
    const line = formatAccessLine('combined', {
      ...RECORD,
      url: '/a"b\\c',
      referer: 'x"\n127.0.0.1 - - [forged]',
      userAgent: '\x1b[31mred\x9b\x7f',
    });
    assert.equal(line.split('\n').length, 2, 'exactly one line');
    assert.ok(line.includes('"GET /a\\"b\\\\c HTTP/1.1"'));
    assert.ok(line.includes('"x\\"\\x0a127.0.0.1 - - [forged]"'));
    assert.ok(line.includes('"\\x1b[31mred\\x9b\\x7f"'));
  });

  it('formatAccessLine() keeps JSON lines valid and free of raw control characters', () => {
    const line = formatAccessLine('json', { ...RECORD, userAgent: 'a\nb\x1b\x9b"' });
    assert.equal(line.split('\n').length, 2);
    assert.doesNotMatch(line.slice(0, -1), /[\x00-\x1f\x7f-\x9f]/);
    assert.equal((JSON.parse(line) as { userAgent: string }).userAgent, 'a\nb\x1b\x9b"');
  });

  it('formatClfTime() pads day and time fields and always says +0000', () => {
    assert.equal(formatClfTime(Date.UTC(2026, 0, 2, 3, 4, 5)), '[02/Jan/2026:03:04:05 +0000]');
  });

  it('escapeLogField() writes `-` for an empty or absent value', () => {
    assert.equal(escapeLogField(undefined), '-');
    assert.equal(escapeLogField(''), '-');
  });
});

describe('AccessLog buffering', () => {
  it('AccessLog makes far fewer writes than it logs lines', async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'combined', stream });
    for (let i = 0; i < 2000; i++) log.log({ ...RECORD, url: `/file-${i}` });
    await log.close();
    const text = writes.join('');
    assert.equal(text.split('\n').length - 1, 2000);
    assert.ok(writes.length <= 10, `${writes.length} writes for 2000 lines`);
    assert.ok(text.includes('/file-0 ') && text.includes('/file-1999 '));
  });

  it('AccessLog holds a line back, then writes it within the flush interval', async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'common', stream });
    log.log(RECORD);
    log.log(RECORD);
    assert.equal(writes.length, 0);
    await sleep(FLUSH_INTERVAL_MS * 3);
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.split('\n').length - 1, 2);
    await log.close();
  });

  it("AccessLog with format 'off' writes nothing and wrap() returns the handler itself", async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'off', stream });
    const handler = (): void => {};
    assert.equal(log.wrap(handler), handler);
    log.log(RECORD);
    await log.close();
    assert.equal(writes.length, 0);
  });
});

describe('AccessLog files', () => {
  it('AccessLog.open() rejects when the file cannot be opened', async () => {
    await assert.rejects(AccessLog.open({ format: 'common', file: '/nonexistent-dir/x/access.log' }), {
      code: 'ENOENT',
    });
  });

  it('AccessLog.reopen() sends later lines to a new file after the old one was renamed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-log-'));
    try {
      const file = join(dir, 'access.log');
      const log = await AccessLog.open({ format: 'common', file });
      log.log({ ...RECORD, url: '/before' });
      await rename(file, `${file}.1`);
      await log.reopen();
      log.log({ ...RECORD, url: '/after' });
      await log.close();
      const [rotated, fresh] = await Promise.all([readFile(`${file}.1`, 'utf8'), readFile(file, 'utf8')]);
      assert.match(rotated, /"GET \/before HTTP\/1.1"/);
      assert.doesNotMatch(rotated, /after/);
      assert.match(fresh, /^127\.0\.0\.1 - - \[.+\] "GET \/after HTTP\/1.1" 200 2326\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('AccessLog appends to an existing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-log-'));
    try {
      const file = join(dir, 'access.log');
      for (const url of ['/one', '/two']) {
        const log = await AccessLog.open({ format: 'common', file });
        log.log({ ...RECORD, url });
        await log.close();
      }
      const text = await readFile(file, 'utf8');
      assert.equal(text.split('\n').length - 1, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('AccessLog.wrap()', () => {
  it('wrap() logs when the response closes, with status and body bytes', async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'combined', stream });
    const { req, res, close } = fakeExchange('GET', '/x', { referer: 'http://r/', 'user-agent': 'ua' });
    await log.wrap((_req, res) => {
      res.statusCode = 201;
      res.write('héllo');
      res.write(new Uint8Array(4));
      res.end('!');
    })(req, res);
    assert.equal(writes.length, 0);
    close();
    await log.close();
    assert.match(
      writes.join(''),
      /^192\.0\.2\.7 - - \[.+\] "GET \/x HTTP\/1.1" 201 11 "http:\/\/r\/" "ua"\n$/,
    );
  });

  it('wrap() never logs Authorization or Cookie values', async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'json', stream });
    const { req, res, close } = fakeExchange('GET', '/', {
      authorization: 'Basic c2VjcmV0OnNlY3JldA==',
      cookie: 'session=topsecret',
    });
    await log.wrap((_req, res) => res.end())(req, res);
    close();
    await log.close();
    const text = writes.join('');
    assert.doesNotMatch(text, /c2VjcmV0|topsecret|authorization|cookie/i);
  });

  it('wrap() counts no body bytes for HEAD and 304', async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'common', stream });
    const head = fakeExchange('HEAD', '/');
    await log.wrap((_req, res) => res.end('body'))(head.req, head.res);
    head.close();
    const cached = fakeExchange('GET', '/');
    await log.wrap((_req, res) => {
      res.statusCode = 304;
      res.end();
    })(cached.req, cached.res);
    cached.close();
    await log.close();
    const lines = writes.join('').trimEnd().split('\n');
    assert.match(lines[0]!, /"HEAD \/ HTTP\/1.1" 200 -$/);
    assert.match(lines[1]!, /"GET \/ HTTP\/1.1" 304 -$/);
  });

  it('wrap() counts the chunk given to end() even when end() closes the exchange at once', async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'common', stream });
    const server = createServer(log.wrap((_req, res) => res.end('hello')));
    await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = server.address() as { port: number };
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'hello');
    } finally {
      await server.close();
    }
    await log.close();
    assert.match(writes.join(''), /"GET \/ HTTP\/1.1" 200 5\n$/);
  });

  it('wrap() counts bytes sent through res.send() on a real server', async () => {
    const { stream, writes } = recorder();
    const log = await AccessLog.open({ format: 'json', stream });
    const server = createServer(
      log.wrap(async (_req, res) => {
        res.statusCode = 203;
        await res.send(
          (async function* () {
            yield 'abc';
            yield Buffer.alloc(1000);
          })(),
        );
      }),
    );
    await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/stream?q=1`, { headers: { 'user-agent': 't' } });
      assert.equal((await response.arrayBuffer()).byteLength, 1003);
    } finally {
      await server.close();
    }
    await log.close();
    const entry = JSON.parse(writes.join('')) as Record<string, unknown>;
    assert.equal(entry.status, 203);
    assert.equal(entry.bytes, 1003);
    assert.equal(entry.url, '/stream?q=1');
    assert.equal(entry.remote, '127.0.0.1');
    assert.equal(entry.userAgent, 't');
    assert.equal(typeof entry.durationMs, 'number');
  });
});
