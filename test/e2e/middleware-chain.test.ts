/**
 * The middleware together, in front of the real static file server, the way a route's chain is
 * built from config (outermost first): headers → cors → rate-limit → compress → error pages →
 * static. Real clients: curl --compressed over HTTP/1.1 and over h2c (HTTP/2 with prior knowledge,
 * where the Response underneath is the HTTP/2 one), and Node's fetch.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Handler } from '../../src/handler/types.js';
import { compress } from '../../src/middleware/compress.js';
import { cors } from '../../src/middleware/cors.js';
import { errorPages } from '../../src/middleware/error-pages.js';
import { headers } from '../../src/middleware/headers.js';
import { rateLimit } from '../../src/middleware/rate-limit.js';
import type { Middleware } from '../../src/middleware/types.js';
import { createStaticHandler } from '../../src/static/serve.js';
import { closeServer, curl, type Running, startServer } from './raw-client.js';

const ORIGIN = 'https://app.example';
const APP_JS = 'export const greet = (name) => "hello, " + name;\n'.repeat(300);
const NOT_FOUND_PAGE = `<!doctype html><title>Not found</title>${'<p>Nothing here, sorry.</p>\n'.repeat(20)}`;

let dir = '';
const servers: Running[] = [];
let h1: Running;
let h2c: Running;

/** Applies middleware outermost first, as RouteConfig.middleware says. */
function chain(middleware: readonly Middleware[], handler: Handler): Handler {
  return middleware.reduceRight((next, m) => m(next), handler);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-middleware-chain-'));
  await writeFile(join(dir, 'app.js'), APP_JS);
  await writeFile(join(dir, 'tiny.txt'), 'tiny\n');
  await writeFile(join(dir, '404.html'), NOT_FOUND_PAGE);
  const build = async (): Promise<Handler> =>
    chain(
      [
        headers({ kind: 'headers', set: { 'X-Content-Type-Options': 'nosniff' }, add: {}, remove: [] }),
        cors({
          kind: 'cors',
          origins: [ORIGIN],
          methods: ['GET'],
          headers: [],
          credentials: false,
          maxAgeSeconds: 60,
        }),
        rateLimit({ kind: 'rate-limit', perSecond: 1000, burst: 1000 }),
        compress({ kind: 'compress', minBytes: 256 }),
        await errorPages({ 404: join(dir, '404.html') }),
      ],
      await createStaticHandler({ root: dir, compress: false, listing: false }),
    );
  h1 = await startServer(await build());
  h2c = await startServer(await build(), { h2c: true });
  servers.push(h1, h2c);
});

after(async () => {
  for (const running of servers) await closeServer(running.server);
  await rm(dir, { recursive: true, force: true });
});

/** curl's response: the head lines (lower-cased names) and the decoded body. */
async function get(
  running: Running,
  path: string,
  extra: readonly string[] = [],
): Promise<{ status: number; fields: Map<string, string>; body: string }> {
  const result = await curl([
    '-sS',
    '--compressed',
    '-D',
    '-',
    '-H',
    `Origin: ${ORIGIN}`,
    ...extra,
    running.url + path,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const split = result.stdout.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = result.stdout.slice(0, split).split('\r\n');
  const fields = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields.set(name, fields.has(name) ? `${fields.get(name)}, ${value}` : value);
  }
  return { status: Number(statusLine!.split(' ')[1]), fields, body: result.stdout.slice(split + 4) };
}

describe('middleware chain in front of static files', () => {
  for (const [name, args] of [
    ['HTTP/1.1', ['--http1.1']],
    ['h2c', ['--http2-prior-knowledge']],
  ] as const) {
    it(`a static file reaches curl over ${name} compressed, with the configured and CORS fields`, async () => {
      const running = name === 'h2c' ? h2c : h1;
      const res = await get(running, '/app.js', args);
      assert.equal(res.status, 200);
      assert.equal(res.body, APP_JS);
      assert.equal(res.fields.get('content-encoding'), 'br');
      assert.match(res.fields.get('etag') ?? '', /^W\//);
      assert.equal(res.fields.get('x-content-type-options'), 'nosniff');
      assert.equal(res.fields.get('access-control-allow-origin'), ORIGIN);
      const vary = (res.fields.get('vary') ?? '').toLowerCase();
      assert.match(vary, /origin/);
      assert.match(vary, /accept-encoding/);
    });

    it(`a missing file gets the 404 page over ${name}, compressed, with the chain's fields`, async () => {
      const running = name === 'h2c' ? h2c : h1;
      const res = await get(running, '/nope.js', args);
      assert.equal(res.status, 404);
      assert.equal(res.body, NOT_FOUND_PAGE);
      assert.equal(res.fields.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.fields.get('content-encoding'), 'br');
      assert.equal(res.fields.get('x-content-type-options'), 'nosniff');
      assert.equal(res.fields.get('access-control-allow-origin'), ORIGIN);
    });
  }

  it('a small file goes out as it is, with its Content-Length', async () => {
    const res = await get(h1, '/tiny.txt');
    assert.equal(res.body, 'tiny\n');
    assert.equal(res.fields.get('content-encoding'), undefined);
    assert.equal(res.fields.get('content-length'), '5');
  });

  it('a weak ETag from the chain revalidates: If-None-Match gets a 304 with the same weak tag', async () => {
    const first = await get(h1, '/app.js');
    const etag = first.fields.get('etag')!;
    const again = await get(h1, '/app.js', ['-H', `If-None-Match: ${etag}`]);
    assert.equal(again.status, 304);
    assert.equal(again.fields.get('etag'), etag);
  });

  it('a Range request gets identity bytes of the file', async () => {
    const res = await get(h1, '/app.js', ['-H', 'Range: bytes=0-9']);
    assert.equal(res.status, 206);
    assert.equal(res.body, APP_JS.slice(0, 10));
    assert.equal(res.fields.get('content-encoding'), undefined);
  });

  it('a crash behind the chain gets the 500 page, compressed, and is still reported', async () => {
    await writeFile(join(dir, '500.html'), NOT_FOUND_PAGE.replace('Not found', 'Broken'));
    const reported: unknown[] = [];
    const handler = chain(
      [
        headers({ kind: 'headers', set: { 'X-Content-Type-Options': 'nosniff' }, add: {}, remove: [] }),
        compress({ kind: 'compress', minBytes: 256 }),
        await errorPages({ 500: join(dir, '500.html') }),
      ],
      () => {
        throw new Error('crash');
      },
    );
    const running = await startServer(handler, { onError: (err) => reported.push(err) });
    servers.push(running);
    const res = await get(running, '/');
    assert.equal(res.status, 500);
    assert.equal(res.body, NOT_FOUND_PAGE.replace('Not found', 'Broken'));
    assert.equal(res.fields.get('content-encoding'), 'br');
    assert.equal(res.fields.get('x-content-type-options'), 'nosniff');
    assert.equal(reported.length, 1);
  });

  it("Node's fetch decodes what the chain sends, and reads the CORS answer to a preflight", async () => {
    const response = await fetch(`${h1.url}/app.js`, { headers: { Origin: ORIGIN } });
    assert.equal(await response.text(), APP_JS);
    const preflight = await fetch(`${h1.url}/app.js`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET');
    assert.equal(preflight.headers.get('x-content-type-options'), 'nosniff');
  });
});
