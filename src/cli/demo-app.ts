/**
 * The small app `npm start` serves until the static file server lands: a page about Berth,
 * an echo endpoint and a JSON endpoint, enough to poke at the engine with a browser or curl.
 */
import type { Handler } from '../handler/types.js';

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em}</style>
<h1>Berth is running</h1>
<p>A strict, fast HTTP/1.1 server for Node.js, on raw sockets.</p>
<ul>
<li><code>curl -i http://HOST/</code> — this page</li>
<li><code>curl -d 'hello' http://HOST/echo</code> — echoes the request body</li>
<li><code>curl http://HOST/info</code> — what the server saw of your request, as JSON</li>
</ul>
`;

export const demoApp: Handler = async (req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET, HEAD');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(PAGE.replaceAll('HOST', escapeHtml(String(req.headers.host ?? 'localhost'))));
    return;
  }
  if (path === '/echo') {
    res.setHeader('Content-Type', String(req.headers['content-type'] ?? 'application/octet-stream'));
    await res.send(req);
    return;
  }
  if (path === '/info') {
    res.setHeader('Content-Type', 'application/json');
    const info = { method: req.method, url: req.url, httpVersion: req.httpVersion, headers: req.headers };
    res.end(`${JSON.stringify(info, null, 2)}\n`);
    return;
  }
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('404 Not Found\n');
};

function notAllowed(res: Parameters<Handler>[1], allow: string): void {
  res.statusCode = 405;
  res.setHeader('Allow', allow);
  res.end();
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
