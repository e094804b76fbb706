/**
 * /.berth/status: a small self-contained page. The server renders the current numbers (so it says
 * something without JavaScript) and empty SVG charts with their axes; status.js (page-assets.ts)
 * polls status.json every second and draws polylines into them. No CDN, no inline script or style:
 * STATUS_CSP allows the page's own script, style and JSON only.
 *
 * The charts are declared once here (CHARTS): the page carries each chart's series and scale as
 * data attributes, so the script knows nothing about which charts exist. Likewise the headline
 * numbers come from summarize(), shared by this renderer and status.json, so the script only formats.
 */
import type { MetricsHistory, MetricsSnapshot, UpstreamHealth } from './metrics.js';

/** How a number is shown; status.js has a formatter of the same name for each. */
export type NumberFormat = 'count' | 'rate' | 'ms' | 'bytes' | 'ratio' | 'duration';

type ChartSpec = {
  readonly id: string;
  readonly title: string;
  readonly format: NumberFormat;
  /** A fixed top of the y axis (the hit ratio's 1); otherwise from the data. */
  readonly max?: number;
  /** Columns of MetricsHistory drawn, with their legend labels. */
  readonly series: readonly (readonly [keyof MetricsHistory, string])[];
};

const CHARTS: readonly ChartSpec[] = [
  { id: 'requests', title: 'Requests/s', format: 'rate', series: [['requests', 'requests/s']] },
  {
    id: 'latency',
    title: 'Latency',
    format: 'ms',
    series: [
      ['p50', 'p50'],
      ['p99', 'p99'],
    ],
  },
  {
    id: 'status',
    title: 'Status classes/s',
    format: 'rate',
    series: [
      ['c1xx', '1xx'],
      ['c2xx', '2xx'],
      ['c3xx', '3xx'],
      ['c4xx', '4xx'],
      ['c5xx', '5xx'],
    ],
  },
  { id: 'connections', title: 'Open connections', format: 'count', series: [['connections', 'open']] },
  { id: 'bytes', title: 'Bytes out/s', format: 'bytes', series: [['bytes', 'bytes/s']] },
  {
    id: 'cache',
    title: 'Cache hit ratio',
    format: 'ratio',
    max: 1,
    series: [['cacheHitRatio', 'hit ratio']],
  },
];

/** Chart geometry in SVG user units: the viewBox, and the plot area inside it. */
const VIEW_W = 360;
const VIEW_H = 150;
const PLOT = { left: 52, top: 10, right: 350, bottom: 124 } as const;

/** The headline numbers, keyed as the page's data-total attributes; null when unknown. */
export type StatusSummary = Readonly<Record<(typeof TOTALS)[number][0], number | null>>;

const TOTALS = [
  ['requests', 'Requests', 'count'],
  ['rps', 'Requests/s', 'rate'],
  ['p50', 'Latency p50', 'ms'],
  ['p99', 'Latency p99', 'ms'],
  ['c2xx', '2xx', 'count'],
  ['c3xx', '3xx', 'count'],
  ['c4xx', '4xx', 'count'],
  ['c5xx', '5xx', 'count'],
  ['aborted', 'Aborted', 'count'],
  ['bytes', 'Bytes out', 'bytes'],
  ['connections', 'Open connections', 'count'],
  ['hitRatio', 'Cache hit ratio', 'ratio'],
  ['uptime', 'Uptime', 'duration'],
] as const satisfies readonly (readonly [string, string, NumberFormat])[];

/**
 * The headline numbers of a snapshot: all-time counts and latency quantiles, the request rate of
 * the last sample, the cache hit ratio since start.
 */
export function summarize(snapshot: MetricsSnapshot): StatusSummary {
  const t = snapshot.totals;
  const lookups = t.cacheHits + t.cacheMisses;
  return {
    requests: t.requests,
    rps: snapshot.samples.requests.at(-1) ?? null,
    p50: t.p50,
    p99: t.p99,
    c2xx: t.byClass['2xx'],
    c3xx: t.byClass['3xx'],
    c4xx: t.byClass['4xx'],
    c5xx: t.byClass['5xx'],
    aborted: t.aborted,
    bytes: t.bytes,
    connections: t.openConnections,
    hitRatio: lookups === 0 ? null : t.cacheHits / lookups,
    uptime: t.uptimeMs,
  };
}

/** The page's Content-Security-Policy: its own script, style and status.json; nothing else. */
export const STATUS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The whole page for a snapshot. Asset URLs are relative: status.css, status.js, status.json. */
export function renderStatusPage(snapshot: MetricsSnapshot): string {
  const summary = summarize(snapshot);
  const updated = new Date(snapshot.now).toISOString();
  const totals = TOTALS.map(
    ([key, label, format]) =>
      `<div><dt>${label}</dt><dd data-total="${key}" data-format="${format}">${formatNumber(summary[key], format)}</dd></div>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="status.css">
<script src="status.js" defer></script>
</head>
<body>
<main>
<header>
<h1>Berth status</h1>
<p class="muted">Updated <time id="updated" datetime="${updated}">${updated.slice(11, 19)} UTC</time>
<span id="stale" hidden> · not updating</span></p>
<noscript><p class="muted">Charts need JavaScript; reload for fresh numbers.</p></noscript>
</header>
<dl class="totals">
${totals}
</dl>
<section class="charts" aria-label="Last five minutes">
${CHARTS.map(renderChart).join('\n')}
</section>
<section>
<h2>Upstreams</h2>
<table class="upstreams">
<thead><tr><th>Upstream</th><th>Health</th><th class="num">Active requests</th></tr></thead>
<tbody id="upstreams">${renderUpstreamRows(snapshot.upstreams)}</tbody>
</table>
</section>
</main>
</body>
</html>
`;
}

function renderChart(chart: ChartSpec): string {
  const { left, top, right, bottom } = PLOT;
  const middle = (top + bottom) / 2;
  const legend = chart.series
    .map(([, label], i) => `<span class="key"><i class="swatch k${chart.id} s${i}"></i>${label}</span>`)
    .join(' ');
  const lines = chart.series
    .map(([column], i) => `<polyline class="line k${chart.id} s${i}" data-series="${column}" points=""/>`)
    .join('');
  const ticks = [0, 0.5, 1]
    .map((f) => {
      const x = left + (right - left) * f;
      const label = f === 1 ? 'now' : f === 0.5 ? '−2.5 min' : '−5 min';
      const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
      return `<text class="tick" data-x="${f}" x="${x}" y="${VIEW_H - 8}" text-anchor="${anchor}">${label}</text>`;
    })
    .join('');
  const max = chart.max === undefined ? '' : ` data-max="${chart.max}"`;
  return `<figure id="chart-${chart.id}">
<figcaption><span class="title">${chart.title}</span> ${legend}</figcaption>
<svg viewBox="0 0 ${VIEW_W} ${VIEW_H}" role="img" aria-label="${chart.title}, last five minutes" data-format="${chart.format}"${max} data-plot="${left} ${top} ${right} ${bottom}">
<line class="grid" x1="${left}" y1="${top}" x2="${right}" y2="${top}"/><line class="grid" x1="${left}" y1="${middle}" x2="${right}" y2="${middle}"/>
<line class="axis" x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/><line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/>
<text class="tick" data-y="1" x="${left - 4}" y="${top + 4}" text-anchor="end"></text><text class="tick" data-y="0.5" x="${left - 4}" y="${middle + 4}" text-anchor="end"></text><text class="tick" x="${left - 4}" y="${bottom + 4}" text-anchor="end">0</text>
${ticks}
${lines}
</svg>
</figure>`;
}

function renderUpstreamRows(upstreams: readonly UpstreamHealth[]): string {
  if (upstreams.length === 0) return '<tr><td colspan="3" class="muted">No upstreams</td></tr>';
  return upstreams
    .map(
      (u) =>
        `<tr><td>${escapeHtml(u.name)}</td><td class="${u.healthy ? 'up' : 'down'}">${u.healthy ? 'healthy' : 'down'}</td>` +
        `<td class="num">${u.activeRequests === undefined ? '–' : formatNumber(u.activeRequests, 'count')}</td></tr>`,
    )
    .join('');
}

/** A number as the page shows it; status.js formats the same way. */
export function formatNumber(value: number | null, format: NumberFormat): string {
  if (value === null || !Number.isFinite(value)) return '–';
  switch (format) {
    case 'count':
      return Math.round(value).toLocaleString('en-US');
    case 'rate':
      return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
    case 'ms':
      return value < 1
        ? `${value.toFixed(2)} ms`
        : value < 1000
          ? `${value.toPrecision(3)} ms`
          : `${(value / 1000).toFixed(2)} s`;
    case 'bytes': {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let n = value;
      let u = 0;
      while (n >= 1024 && u < units.length - 1) {
        n /= 1024;
        u++;
      }
      return u === 0 ? `${Math.round(n)} B` : `${n >= 100 ? Math.round(n) : n.toFixed(1)} ${units[u]}`;
    }
    case 'ratio':
      return `${(value * 100).toFixed(1)}%`;
    case 'duration': {
      const s = Math.floor(value / 1000);
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
    }
  }
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for element content and quoted attribute values alike. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}
