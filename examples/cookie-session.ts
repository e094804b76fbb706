/**
 * A visit counter and shopping cart kept entirely in a signed cookie — no server-side store.
 *
 * The cookie is `<payload>.<signature>`: the session as base64url JSON, then its HMAC-SHA256
 * under a server secret. The client can read the payload but not change it: a cookie whose
 * signature does not match is ignored and the visitor starts a fresh session. (Signing gives
 * integrity, not secrecy; do not put secrets in such a cookie.)
 *
 * The cookie is HttpOnly (page scripts cannot read it) and SameSite=Lax, so a cross-site form
 * POST arrives without it, which is what keeps other sites from adding to the cart (RFC 6265bis §8.8).
 *
 * Run: `BERTH_SECRET=… node --import tsx examples/cookie-session.ts`, open the printed URL.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from '../src/handler/types.js';
import { createServer } from '../src/index.js';

const COOKIE_NAME = 'berth_session';
const SESSION_MAX_AGE_S = 30 * 24 * 60 * 60;
/** Keeps the cookie far below the ~4096 bytes browsers store per cookie (RFC 6265 §6.1). */
const MAX_QUANTITY = 99;
const CATALOG: Readonly<Record<string, string>> = { apple: 'Apple', bread: 'Bread', coffee: 'Coffee' };

type Session = { visits: number; cart: Record<string, number> };

const secret = process.env.BERTH_SECRET ?? randomBytes(32).toString('hex');
if (process.env.BERTH_SECRET === undefined) {
  console.error(
    'note: BERTH_SECRET is not set; using a random secret, so sessions end when the server stops',
  );
}

function sign(payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

function encodeSession(session: Session): string {
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
  return `${payload}.${sign(payload)}`;
}

/** The session in a cookie value, or a fresh one when the value is absent, malformed or forged. */
function decodeSession(value: string | undefined): Session {
  const fresh: Session = { visits: 0, cart: {} };
  if (value === undefined) return fresh;
  const dot = value.lastIndexOf('.');
  if (dot === -1) return fresh;
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(sign(payload));
  // Constant-time comparison, so response timing does not reveal how much of a forged signature
  // was right; the length check first is safe because every valid signature has the same length.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fresh;
  try {
    const data: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString());
    return isSession(data) ? data : fresh;
  } catch {
    return fresh;
  }
}

function isSession(data: unknown): data is Session {
  if (typeof data !== 'object' || data === null) return false;
  const { visits, cart } = data as Record<string, unknown>;
  if (!Number.isSafeInteger(visits) || typeof cart !== 'object' || cart === null) return false;
  return Object.entries(cart).every(([item, n]) => Object.hasOwn(CATALOG, item) && Number.isSafeInteger(n));
}

function saveSession(res: Response, session: Session): void {
  res.setCookie(COOKIE_NAME, encodeSession(session), {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: SESSION_MAX_AGE_S,
  });
}

function renderPage(session: Session): string {
  const rows = Object.entries(CATALOG).map(
    ([item, name]) =>
      `<li>${name} × ${session.cart[item] ?? 0} ` +
      `<form method="post" action="/add"><input type="hidden" name="item" value="${item}">` +
      `<button>Add ${name.toLowerCase()}</button></form></li>`,
  );
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Berth cookie session</title>
<style>body{font:16px system-ui;margin:2rem} form{display:inline} li{margin:.4rem 0}</style>
<h1>Cart</h1>
<p id="visits">Visits: ${session.visits}</p>
<ul>${rows.join('')}</ul>
<form method="post" action="/clear"><button>Empty the cart</button></form>
</html>
`;
}

/** Reads an `application/x-www-form-urlencoded` body (the default for HTML forms). */
async function readForm(req: Request): Promise<URLSearchParams | undefined> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';', 1)[0]
    ?.trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  return new URLSearchParams(await req.text());
}

const server = createServer(async (req, res) => {
  const path = req.url.split('?', 1)[0];
  const session = decodeSession(req.cookies[COOKIE_NAME]);

  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    if (req.method === 'GET') session.visits++;
    saveSession(res, session);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    // The page depends on the cookie: no shared cache may store it (RFC 9111 §5.2.2.7).
    res.setHeader('cache-control', 'private, no-store');
    res.end(renderPage(session));
    return;
  }

  if ((path === '/add' || path === '/clear') && req.method === 'POST') {
    const form = await readForm(req);
    if (form === undefined) {
      res.statusCode = 415;
      res.setHeader('accept-post', 'application/x-www-form-urlencoded');
      res.end('send an HTML form (application/x-www-form-urlencoded)\n');
      return;
    }
    if (path === '/clear') {
      session.cart = {};
    } else {
      const item = form.get('item') ?? '';
      if (!Object.hasOwn(CATALOG, item)) {
        res.statusCode = 400;
        res.end('unknown item\n');
        return;
      }
      session.cart[item] = Math.min((session.cart[item] ?? 0) + 1, MAX_QUANTITY);
    }
    saveSession(res, session);
    // Post/Redirect/Get: 303 makes the browser GET the page, so a reload does not re-POST (RFC 9110 §15.4.4).
    res.writeHead(303, { location: '/' });
    res.end();
    return;
  }

  if (path === '/add' || path === '/clear') {
    res.writeHead(405, { allow: 'POST' });
    res.end();
    return;
  }
  res.statusCode = 404;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('not found\n');
});

await server.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' });
const address = server.address();
if ('port' in address) console.log(`cookie-session listening on http://${address.host}:${address.port}/`);
