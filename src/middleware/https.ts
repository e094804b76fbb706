/**
 * Small handlers for HTTPS sites: HSTS on every response, and the cleartext listener that sends
 * browsers to the https URL (`--redirect-http`, a listener's httpsRedirectPort).
 */
import type { Handler } from '../handler/types.js';

/** One year, the value HSTS preload lists ask for. */
const HSTS_MAX_AGE_SECONDS = 31_536_000;

/** Adds Strict-Transport-Security (RFC 6797 §6.1) to every response of handler. */
export function withHsts(handler: Handler): Handler {
  return (req, res) => {
    res.setHeader('Strict-Transport-Security', `max-age=${HSTS_MAX_AGE_SECONDS}`);
    return handler(req, res);
  };
}

/**
 * Answers every request with 308 to the same path on https (308 keeps the method and body,
 * RFC 9110 §15.4.9). The host comes from the Host field without its port; a missing or odd Host
 * gets localhost, so the Location is never built from anything but a host name.
 */
export function redirectToHttps(httpsPort: number): Handler {
  return (req, res) => {
    const hostField = typeof req.headers.host === 'string' ? req.headers.host : '';
    const host = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d+)?$/.exec(hostField)?.[1] ?? 'localhost';
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    // The target is origin-form here (the parser checked it); anything else goes to the root.
    const path = req.url.startsWith('/') && !req.url.startsWith('//') ? req.url : '/';
    res.statusCode = 308;
    res.setHeader('Location', `https://${host}${port}${path}`);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('This site is served over HTTPS.\n');
  };
}
