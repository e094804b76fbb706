/**
 * withStatus(): answers the status endpoints, for allowed clients only, in front of a site.
 *
 *   GET /.berth/status        the page (page.ts)          GET /.berth/status.json  the numbers
 *   GET /.berth/status.js     its script                  GET /.berth/status.css   its style
 *   GET /.berth/metrics       Prometheus text (prometheus.ts)
 *
 * Who may see them: clients whose socket address is in `allow` (CIDR blocks, loopback by default;
 * parsed and checked by proxy/access.ts, imported as is). Everyone else, and every other path, goes
 * to `next` untouched: for them /.berth/… is whatever the site answers (its 404), so the endpoints
 * reveal nothing, not even that they exist. Only origin-form targets match: an absolute-form
 * request for http://host/.berth/status is a forward-proxy request and goes to `next` too.
 *
 * The hot-path cost for other requests is one startsWith(). Every answer is Cache-Control:
 * no-store (numbers change every second, and the page must not land in a shared cache).
 */

import type { Registry } from 'prom-client';
import type { Handler, Response } from '../handler/types.js';
import { allowedClient, type Cidr, LOOPBACK_ONLY, parseCidr } from '../proxy/access.js';
import type { Metrics } from './metrics.js';
import { renderStatusPage, STATUS_CSP, summarize } from './page.js';
import { STATUS_SCRIPT, STATUS_STYLE } from './page-assets.js';
import { createPrometheusRegistry } from './prometheus.js';

/** Where the endpoints live. */
export const STATUS_PREFIX = '/.berth/';

/** What withStatus() serves, to whom, and whether at all. */
export type StatusOptions = {
  readonly metrics: Metrics;
  /** CIDR blocks (or bare addresses) allowed to see the endpoints; default 127.0.0.0/8 and ::1. */
  readonly allow?: readonly string[];
  /** false: withStatus() returns `next` itself. */
  readonly enabled: boolean;
};

type Endpoint = 'page' | 'json' | 'script' | 'style' | 'metrics';

const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map([
  ['/.berth/status', 'page'],
  ['/.berth/status.json', 'json'],
  ['/.berth/status.js', 'script'],
  ['/.berth/status.css', 'style'],
  ['/.berth/metrics', 'metrics'],
]);

/**
 * Returns a handler serving the status endpoints to allowed clients and passing everything else to
 * `next`. Throws a RangeError naming the entry when an `allow` entry is not a CIDR block or address
 * (at start, never per request). The Prometheus registry is made on the first scrape.
 */
export function withStatus(next: Handler, options: StatusOptions): Handler {
  if (!options.enabled) return next;
  const allow: readonly Cidr[] = options.allow === undefined ? LOOPBACK_ONLY : options.allow.map(parseCidr);
  const { metrics } = options;
  const exporter = new PrometheusExporter(metrics);
  // Not async: a request for the site must not pay for a promise of ours.
  return (req, res) => {
    const url = req.url;
    if (!url.startsWith(STATUS_PREFIX)) return next(req, res);
    const query = url.indexOf('?');
    const endpoint = ENDPOINTS.get(query < 0 ? url : url.slice(0, query));
    if (endpoint === undefined || !allowedClient(req.remoteAddress, allow)) return next(req, res);
    return answer(endpoint, req.method, res, metrics, exporter);
  };
}

/** The registry, made on the first scrape (process metrics start observers: only when scraped). */
class PrometheusExporter {
  private registry: Registry | undefined = undefined;
  constructor(private readonly metrics: Metrics) {}

  async render(): Promise<{ contentType: string; text: string }> {
    this.registry ??= createPrometheusRegistry(this.metrics);
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

async function answer(
  endpoint: Endpoint,
  method: string,
  res: Response,
  metrics: Metrics,
  exporter: PrometheusExporter,
): Promise<void> {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (method !== 'GET' && method !== 'HEAD') {
    res.statusCode = 405;
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 'text/plain; charset=utf-8', '405 Method Not Allowed\n');
    return;
  }
  switch (endpoint) {
    case 'page':
      res.setHeader('Content-Security-Policy', STATUS_CSP);
      send(res, 'text/html; charset=utf-8', renderStatusPage(metrics.snapshot()));
      return;
    case 'json': {
      const snapshot = metrics.snapshot();
      send(res, 'application/json', JSON.stringify({ ...snapshot, summary: summarize(snapshot) }));
      return;
    }
    case 'script':
      send(res, 'text/javascript; charset=utf-8', STATUS_SCRIPT);
      return;
    case 'style':
      send(res, 'text/css; charset=utf-8', STATUS_STYLE);
      return;
    case 'metrics': {
      const { contentType, text } = await exporter.render();
      send(res, contentType, text);
      return;
    }
    default:
      assertNever(endpoint);
  }
}

/** Sends a whole body; for HEAD the engine sends the head alone, with this Content-Length. */
function send(res: Response, contentType: string, body: string): void {
  res.setHeader('Content-Type', contentType);
  res.end(body);
}

function assertNever(value: never): never {
  throw new Error(`unexpected endpoint ${String(value)}`);
}
