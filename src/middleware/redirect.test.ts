/**
 * redirect() on a real Berth server through raw sockets (so odd targets and Host values arrive as
 * written): placeholders, and every way a request could try to turn it into an open redirect.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exchange, field, type ParsedResponse, withServer } from '../../test/e2e/raw-client.js';
import { type RedirectConfig, redirect } from './redirect.js';

function config(to: string, status = 308): RedirectConfig {
  return { kind: 'redirect', status, to };
}

/** Sends `GET <target>` with the Host given (none when undefined) and returns the response. */
async function ask(
  cfg: RedirectConfig,
  target: string,
  host: string | undefined = 'site.example',
  scheme: 'http' | 'https' = 'http',
): Promise<ParsedResponse> {
  let res: ParsedResponse | undefined;
  await withServer(redirect(cfg, scheme), undefined, async ({ port }) => {
    const hostLine = host === undefined ? '' : `Host: ${host}\r\n`;
    const request = `GET ${target} HTTP/1.1\r\n${hostLine}\r\n`;
    res = (await exchange({ port }, Buffer.from(request, 'latin1'), { responses: 1 })).finals[0];
  });
  return res!;
}

async function location(cfg: RedirectConfig, target: string, host?: string): Promise<string | undefined> {
  return field(await ask(cfg, target, host), 'location');
}

describe('redirect()', () => {
  it('redirect() answers with the configured status and the template filled from the request', async () => {
    const res = await ask(config('https://{host}{uri}', 301), '/a/b?x=1&y=2', 'Site.Example:8080');
    assert.equal(res.status, 301);
    assert.equal(field(res, 'location'), 'https://site.example/a/b?x=1&y=2');
    assert.equal(field(res, 'content-length'), '0');
  });

  it('redirect() fills {scheme}, {port} (the default when Host has none), {path} and {query}', async () => {
    const cfg = config('{scheme}://{host}:{port}/new{path}{query}');
    assert.equal(await location(cfg, '/p?q', 'a.example:81'), 'http://a.example:81/new/p?q');
    assert.equal(await location(cfg, '/p', 'a.example'), 'http://a.example:80/new/p');
    const https = await ask(cfg, '/p', 'a.example', 'https');
    assert.equal(field(https, 'location'), 'https://a.example:443/new/p');
    assert.equal(await location(cfg, '/p', '[::1]:8443'), 'http://[::1]:8443/new/p');
  });

  it('redirect() never lets {path} or {uri} start a scheme-relative reference', async () => {
    assert.equal(await location(config('{path}'), '//evil.example/x'), '/evil.example/x');
    assert.equal(await location(config('{uri}'), '///evil.example/x?y'), '/evil.example/x?y');
    assert.equal(await location(config('{path}'), '/\\evil.example'), '/evil.example');
    assert.equal(await location(config('{path}'), '/\\/\\evil.example'), '/evil.example');
    assert.equal(await location(config('/old{path}'), '//evil.example'), '/old/evil.example');
  });

  it('redirect() percent-encodes what a URI may not hold, keeping existing escapes', async () => {
    assert.equal(await location(config('{uri}'), '/a\\b|c%20d%zz?q=a|b'), '/a%5Cb%7Cc%20d%25zz?q=a%7Cb');
    assert.equal(await location(config('{path}'), '/a"b<c>d^e`f{g}'), '/a%22b%3Cc%3Ed%5Ee%60f%7Bg%7D');
  });

  it('redirect() takes the path and query of an absolute-form target', async () => {
    assert.equal(
      await location(config('https://{host}{uri}'), 'http://site.example//evil.example?q'),
      'https://site.example/evil.example?q',
    );
    assert.equal(await location(config('{uri}'), 'http://site.example?q'), '/?q');
  });

  it('redirect() answers 400 for a Host that is not a plain host and port', async () => {
    for (const host of [
      'evil.example/x',
      'user@evil.example',
      'a.example:99999',
      'a.example:8x',
      '[zz]',
      'a%2fb.example',
    ]) {
      const res = await ask(config('https://{host}{uri}'), '/', host);
      assert.equal(res.status, 400, host);
      assert.equal(field(res, 'location'), undefined, host);
    }
  });

  it('redirect() needs no Host when the template does not use it', async () => {
    const res = await ask(config('https://fixed.example{uri}'), '/x', undefined);
    assert.equal(field(res, 'location'), 'https://fixed.example/x');
  });

  it('redirect() refuses statuses that are not redirects and templates it cannot trust', () => {
    assert.throws(() => redirect(config('/x', 200), 'http'), /status/);
    assert.throws(() => redirect(config('/{nope}'), 'http'), /unknown placeholder/);
    assert.throws(() => redirect(config('/{path'), 'http'), /unknown placeholder/);
    assert.throws(() => redirect(config('https://{path}'), 'http'), /may not follow/);
    assert.throws(() => redirect(config('{scheme}:{uri}'), 'http'), /may not follow/);
    assert.throws(() => redirect(config('https://{query}'), 'http'), /may not follow/);
    assert.throws(() => redirect(config('/app/{path}'), 'http'), /may not follow/);
    assert.throws(() => redirect(config('/a b'), 'http'), /URI may not/);
    assert.throws(() => redirect(config('/a\r\nX: y'), 'http'), /URI may not/);
    assert.throws(() => redirect(config(''), 'http'), /empty/);
  });
});
