/**
 * The cache end to end: a Berth server running createCache() over a MemoryStore, in front of an
 * origin handler the test scripts (status, fields, body, delay), with Node's fetch and raw
 * sockets as clients. The cache's clock is the real one plus a skew the test moves, so
 * "ten minutes later" takes no time.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache } from '../../src/cache/handler.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import type { Handler, Request, Response } from '../../src/handler/types.js';
import { formatHttpDate } from '../../src/http/date.js';
import { closeServer, startServer } from './raw-client.js';

type Script = (req: Request, res: Response, n: number) => void | Promise<void>;

type Seen = { method: string; url: string; headers: Request['headers'] };

/** A cache in front of `script`; `seen` lists what reached the origin. */
async function withCache(script: Script, body: (c: Ctx) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const clock = { skewMs: 0 };
  const origin: Handler = async (req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    await script(req, res, seen.length);
  };
  const errors: unknown[] = [];
  const cache = createCache(origin, {
    store: new MemoryStore({ maxBytes: 16 * 1024 * 1024 }),
    now: () => Date.now() + clock.skewMs,
    onError: (e) => errors.push(e),
  });
  const running = await startServer(cache);
  try {
    await body({
      url: running.url,
      seen,
      errors,
      later: (seconds) => {
        clock.skewMs += seconds * 1000;
      },
      get: (path, headers = {}, method = 'GET') => fetch(`${running.url}${path}`, { method, headers }),
    });
  } finally {
    await closeServer(running.server);
    await cache.close();
  }
}

type Ctx = {
  url: string;
  seen: Seen[];
  errors: unknown[];
  later(seconds: number): void;
  get(path: string, headers?: Record<string, string>, method?: string): Promise<globalThis.Response>;
};

/** A GET through node:http, which sends exactly the fields given (plus Host). */
function plainGet(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, { headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function answer(fields: Record<string, string>, body = 'hello'): Script {
  return (_req, res, n) => {
    for (const [name, value] of Object.entries(fields)) res.setHeader(name, value);
    res.setHeader('x-n', n);
    res.end(body);
  };
}

test('a fresh response is served from the cache with Age and Cache-Status hit', async () => {
  await withCache(answer({ 'cache-control': 'max-age=60' }), async (c) => {
    const first = await c.get('/a');
    assert.equal(await first.text(), 'hello');
    assert.match(first.headers.get('cache-status') ?? '', /^berth; fwd=uri-miss; stored=\?1/);
    c.later(10);
    const second = await c.get('/a');
    assert.equal(await second.text(), 'hello');
    assert.equal(second.headers.get('x-n'), '1');
    assert.equal(second.headers.get('age'), '10');
    assert.match(second.headers.get('cache-status') ?? '', /^berth; hit; ttl=50$/);
    assert.equal(c.seen.length, 1);
  });
});

test('a stale response is revalidated with If-None-Match and a 304 refreshes it', async () => {
  const script: Script = (req, res, n) => {
    res.setHeader('cache-control', 'max-age=5');
    res.setHeader('etag', '"v1"');
    res.setHeader('x-n', n);
    if (req.headers['if-none-match'] === '"v1"') {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.end('body v1');
  };
  await withCache(script, async (c) => {
    await (await c.get('/r')).text();
    c.later(10);
    const second = await c.get('/r');
    assert.equal(second.status, 200);
    assert.equal(await second.text(), 'body v1');
    assert.equal(second.headers.get('x-n'), '2', 'the 304 fields replace the stored ones');
    assert.match(second.headers.get('cache-status') ?? '', /fwd=stale; fwd-status=304/);
    assert.equal(c.seen[1]?.headers['if-none-match'], '"v1"');
    const third = await c.get('/r');
    assert.equal(await third.text(), 'body v1');
    assert.match(third.headers.get('cache-status') ?? '', /hit/);
    assert.equal(c.seen.length, 2);
  });
});

test('no-store, private and Authorization responses are not stored', async () => {
  await withCache(
    (req, res, n) => {
      if (req.url === '/no-store') res.setHeader('cache-control', 'max-age=60, no-store');
      if (req.url === '/private') res.setHeader('cache-control', 'max-age=60, private');
      if (req.url === '/auth') res.setHeader('cache-control', 'max-age=60');
      if (req.url === '/auth-public') res.setHeader('cache-control', 'max-age=60, public');
      res.end(`n=${n}`);
    },
    async (c) => {
      for (const path of ['/no-store', '/private']) {
        await (await c.get(path)).text();
        await (await c.get(path)).text();
      }
      await (await c.get('/auth', { authorization: 'Basic YTpi' })).text();
      assert.equal(await (await c.get('/auth')).text(), 'n=6', 'not stored from an authorized request');
      await (await c.get('/auth-public', { authorization: 'Basic YTpi' })).text();
      const reused = await c.get('/auth-public');
      assert.equal(await reused.text(), 'n=7', 'public lets it be stored');
      assert.equal(c.seen.length, 7);
    },
  );
});

test('Vary keeps one variant per selecting value, and Vary: * is never reused', async () => {
  await withCache(
    (req, res, n) => {
      res.setHeader('cache-control', 'max-age=60');
      res.setHeader('vary', req.url === '/star' ? '*' : 'Accept-Language');
      res.end(`${req.headers['accept-language'] ?? 'none'} ${n}`);
    },
    async (c) => {
      assert.equal(await (await c.get('/v', { 'accept-language': 'fr' })).text(), 'fr 1');
      assert.equal(await (await c.get('/v', { 'accept-language': 'de' })).text(), 'de 2');
      assert.equal(await (await c.get('/v', { 'accept-language': 'fr' })).text(), 'fr 1');
      const de = await c.get('/v', { 'accept-language': 'de' });
      assert.equal(await de.text(), 'de 2');
      assert.match(de.headers.get('cache-status') ?? '', /hit/);
      await (await c.get('/star')).text();
      assert.match(await (await c.get('/star')).text(), / 4$/);
    },
  );
});

test('only-if-cached answers 504 when nothing is stored', async () => {
  await withCache(answer({ 'cache-control': 'max-age=60' }), async (c) => {
    const res = await c.get('/x', { 'cache-control': 'only-if-cached' });
    assert.equal(res.status, 504);
    await res.text();
    assert.equal(c.seen.length, 0);
  });
});

test('a POST invalidates the stored response for its URI and its Location', async () => {
  await withCache(
    (req, res, n) => {
      if (req.method === 'POST') {
        res.statusCode = 201;
        res.setHeader('location', '/other');
        res.end('made');
        return;
      }
      res.setHeader('cache-control', 'max-age=60');
      res.end(`n=${n}`);
    },
    async (c) => {
      await (await c.get('/p')).text();
      await (await c.get('/other')).text();
      assert.equal(await (await c.get('/p')).text(), 'n=1');
      await (await c.get('/p', {}, 'POST')).text();
      assert.equal(await (await c.get('/p')).text(), 'n=4');
      assert.equal(await (await c.get('/other')).text(), 'n=5');
    },
  );
});

test('a stored 200 answers a Range request with 206, and a conditional request with 304', async () => {
  await withCache(answer({ 'cache-control': 'max-age=60', etag: '"e"' }, '0123456789'), async (c) => {
    await (await c.get('/f')).text();
    const part = await c.get('/f', { range: 'bytes=2-5' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(await part.text(), '2345');
    // Not fetch: it adds Cache-Control: no-cache to conditional requests (Fetch standard, cache mode).
    const notModified = await plainGet(c.url, '/f', { 'if-none-match': '"e"' });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, '"e"');
    const head = await c.get('/f', {}, 'HEAD');
    assert.equal(head.headers.get('content-length'), '10');
    assert.equal(c.seen.length, 1);
  });
});

test('concurrent misses for one URL make one request to the origin', async () => {
  await withCache(
    async (_req, res) => {
      await sleep(100);
      res.setHeader('cache-control', 'max-age=60');
      res.end('slow');
    },
    async (c) => {
      const bodies = await Promise.all(Array.from({ length: 5 }, async () => (await c.get('/slow')).text()));
      assert.deepEqual(bodies, ['slow', 'slow', 'slow', 'slow', 'slow']);
      assert.equal(c.seen.length, 1);
    },
  );
});

test('stale-while-revalidate serves the stale response and revalidates once in the background', async () => {
  await withCache(answer({ 'cache-control': 'max-age=1, stale-while-revalidate=60' }), async (c) => {
    await (await c.get('/s')).text();
    c.later(5);
    const stale = await c.get('/s');
    assert.equal(stale.headers.get('x-n'), '1');
    assert.match(stale.headers.get('cache-status') ?? '', /hit.*stale-while-revalidate/);
    await stale.text();
    for (let i = 0; i < 50 && c.seen.length < 2; i++) await sleep(10);
    assert.equal(c.seen.length, 2);
    const fresh = await c.get('/s');
    assert.equal(fresh.headers.get('x-n'), '2');
  });
});

test('stale-if-error answers an origin error with the stale response', async () => {
  await withCache(
    (_req, res, n) => {
      if (n > 1) {
        res.statusCode = 503;
        res.end('down');
        return;
      }
      res.setHeader('cache-control', 'max-age=1, stale-if-error=600');
      res.end('kept');
    },
    async (c) => {
      await (await c.get('/e')).text();
      c.later(30);
      const res = await c.get('/e');
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'kept');
      assert.equal(c.seen.length, 2);
    },
  );
});

test('a body cut short by the origin is never stored', async () => {
  await withCache(
    async (_req, res, n) => {
      res.setHeader('cache-control', 'max-age=60');
      res.setHeader('content-length', 10);
      res.write('01234');
      if (n === 1) throw new Error('origin died mid-body');
      res.end('56789');
    },
    async (c) => {
      await assert.rejects(async () => (await c.get('/cut')).text());
      const second = await c.get('/cut');
      assert.equal(await second.text(), '0123456789');
      assert.match(second.headers.get('cache-status') ?? '', /fwd=uri-miss/);
    },
  );
});

test('PURGE from loopback removes a stored response', async () => {
  await withCache(answer({ 'cache-control': 'max-age=60' }), async (c) => {
    await (await c.get('/purge-me')).text();
    const purged = await c.get('/purge-me', {}, 'PURGE');
    assert.equal(purged.status, 200);
    await purged.text();
    const again = await c.get('/purge-me');
    assert.equal(again.headers.get('x-n'), '2');
    const none = await c.get('/never', {}, 'PURGE');
    assert.equal(none.status, 404);
  });
});

test('a response with only Last-Modified is fresh for 10% of its age (heuristic freshness)', async () => {
  const lastModified = formatHttpDate(new Date(Date.now() - 1000 * 1000));
  await withCache(answer({ 'last-modified': lastModified }), async (c) => {
    await (await c.get('/h')).text();
    c.later(50);
    const hit = await c.get('/h');
    assert.match(hit.headers.get('cache-status') ?? '', /hit/);
    c.later(100);
    await (await c.get('/h')).text();
    assert.equal(c.seen.length, 2);
    assert.equal(c.seen[1]?.headers['if-modified-since'], lastModified);
  });
});

test('an interim 103 from the origin reaches the client before the final response', async () => {
  await withCache(
    (_req, res) => {
      res.writeInformational(103, { link: '</style.css>; rel=preload' });
      res.setHeader('cache-control', 'max-age=60');
      res.end('final');
    },
    async (c) => {
      const interim: { status: number; link: unknown }[] = [];
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.get(`${c.url}/early`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve(text));
        });
        req.on('information', (info) => interim.push({ status: info.statusCode, link: info.headers.link }));
        req.on('error', reject);
      });
      assert.equal(body, 'final');
      assert.deepEqual(interim, [{ status: 103, link: '</style.css>; rel=preload' }]);
    },
  );
});

test('a PUT goes to the origin and invalidates what was stored for its URI', async () => {
  await withCache(
    async (req, res, n) => {
      if (req.method === 'PUT') {
        const body = await req.text();
        res.statusCode = 204;
        res.setHeader('x-put', body);
        res.end();
        return;
      }
      res.setHeader('cache-control', 'max-age=60');
      res.end(`n=${n}`);
    },
    async (c) => {
      assert.equal(await (await c.get('/doc')).text(), 'n=1');
      const put = await fetch(`${c.url}/doc`, { method: 'PUT', body: 'new text' });
      assert.equal(put.status, 204);
      assert.equal(put.headers.get('x-put'), 'new text');
      assert.equal(await (await c.get('/doc')).text(), 'n=3');
    },
  );
});
