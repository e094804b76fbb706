/**
 * Runs each example as its own process, as a reader would (`node --import tsx examples/x.ts`),
 * on a free port (PORT=0), and talks to it with Node's fetch.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 20_000;

type Running = { child: ChildProcess; url: string; stderr: () => string };

/** Starts an example and resolves with the URL it prints; rejects if it exits or stays silent. */
async function startExample(name: string, env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('examples', name)], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} printed no URL in time; stderr: ${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const match = /http:\/\/\S+/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before printing its URL; stderr: ${stderr}`));
    });
  });
  return { child, url, stderr: () => stderr };
}

async function stop(running: Running | undefined): Promise<void> {
  const child = running?.child;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** The `name=value` part of a Set-Cookie field, as a client sends it back in Cookie. */
function cookiePair(res: globalThis.Response, name: string): string {
  const field = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  assert.ok(field, `no Set-Cookie for ${name}`);
  return field.split(';', 1)[0]!;
}

function visits(html: string): number {
  const match = /Visits: (\d+)/.exec(html);
  assert.ok(match, 'the page shows no visit count');
  return Number(match[1]);
}

describe('examples/hello.ts', () => {
  let running: Running | undefined;
  before(async () => {
    running = await startExample('hello.ts');
  });
  after(() => stop(running));

  it('prints a 127.0.0.1 URL and answers with text', async () => {
    assert.match(running!.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(running!.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await res.text(), 'Hello from Berth!\n');
  });
});

describe('examples/echo.ts', () => {
  let running: Running | undefined;
  before(async () => {
    running = await startExample('echo.ts');
  });
  after(() => stop(running));

  it('echoes the method, target, fields and body', async () => {
    const res = await fetch(new URL('/some/path?x=1', running!.url), {
      method: 'PUT',
      headers: { 'X-Echo-Test': 'yes please', 'content-type': 'text/plain' },
      body: 'the body\nsecond line',
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(text.startsWith('PUT /some/path?x=1 HTTP/1.1\r\n'), text);
    assert.match(text, /\r\nx-echo-test: yes please\r\n/i);
    assert.ok(text.endsWith('\r\n\r\nthe body\nsecond line'), text);
  });

  it('streams a large body back intact', async () => {
    const payload = Buffer.alloc(2 * 1024 * 1024, 'berth ');
    const res = await fetch(running!.url, { method: 'POST', body: payload });
    const echoed = Buffer.from(await res.arrayBuffer());
    const bodyStart = echoed.indexOf('\r\n\r\n') + 4;
    assert.ok(echoed.subarray(bodyStart).equals(payload));
  });
});

describe('examples/cookie-session.ts', () => {
  let running: Running | undefined;
  before(async () => {
    running = await startExample('cookie-session.ts', { BERTH_SECRET: 'test secret' });
  });
  after(() => stop(running));

  it('sets an HttpOnly, SameSite=Lax, Path=/ session cookie', async () => {
    const res = await fetch(running!.url);
    assert.equal(res.status, 200);
    const [field] = res.headers.getSetCookie();
    assert.ok(field);
    assert.match(field, /^berth_session=[\w-]+\.[\w-]+;/);
    assert.match(field, /; HttpOnly/);
    assert.match(field, /; SameSite=Lax/);
    assert.match(field, /; Path=\//);
  });

  it('counts visits across requests that carry the cookie', async () => {
    const first = await fetch(running!.url);
    assert.equal(visits(await first.text()), 1);
    let cookie = cookiePair(first, 'berth_session');
    for (const expected of [2, 3, 4]) {
      const res = await fetch(running!.url, { headers: { cookie } });
      assert.equal(visits(await res.text()), expected);
      cookie = cookiePair(res, 'berth_session');
    }
  });

  it('adds to the cart with a form POST and redirects back with 303', async () => {
    const first = await fetch(running!.url);
    await first.text();
    let cookie = cookiePair(first, 'berth_session');
    for (const item of ['apple', 'apple', 'coffee']) {
      const res = await fetch(new URL('/add', running!.url), {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ item }).toString(),
        redirect: 'manual',
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/');
      await res.arrayBuffer();
      cookie = cookiePair(res, 'berth_session');
    }
    const page = await (await fetch(running!.url, { headers: { cookie } })).text();
    assert.match(page, /Apple × 2/);
    assert.match(page, /Coffee × 1/);
    assert.match(page, /Bread × 0/);
  });

  it('resets a session whose cookie was tampered with', async () => {
    let cookie = '';
    for (let i = 0; i < 3; i++) {
      const res = await fetch(running!.url, cookie === '' ? {} : { headers: { cookie } });
      await res.text();
      cookie = cookiePair(res, 'berth_session');
    }
    // Forge the payload (claim 1000 visits) and keep the old signature.
    const value = cookie.slice('berth_session='.length);
    const signature = value.slice(value.lastIndexOf('.') + 1);
    const forged = Buffer.from(JSON.stringify({ visits: 1000, cart: { apple: 5 } })).toString('base64url');
    const res = await fetch(running!.url, { headers: { cookie: `berth_session=${forged}.${signature}` } });
    const page = await res.text();
    assert.equal(visits(page), 1);
    assert.match(page, /Apple × 0/);

    // A flipped signature character is rejected too.
    const flipped = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    const again = await fetch(running!.url, { headers: { cookie: `berth_session=${flipped}` } });
    assert.equal(visits(await again.text()), 1);
  });

  it('rejects a POST that is not a form with 415', async () => {
    const res = await fetch(new URL('/add', running!.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"item":"apple"}',
    });
    assert.equal(res.status, 415);
    await res.arrayBuffer();
  });
});
