/**
 * The status page's script and style, kept as strings so the build ships them inside the module
 * (tsc copies no other files) and the handler serves them from memory as status.js and status.css.
 *
 * The script is plain ES2017 for any current browser: every second it fetches status.json, writes
 * the headline numbers (formatted as page.ts's formatNumber does), redraws each chart's polylines
 * from the SVG's own data attributes (data-plot, data-max, data-format, data-series), and rebuilds
 * the upstream table with textContent only (an upstream name never becomes markup).
 */

/** status.js. */
export const STATUS_SCRIPT = `'use strict';
(() => {
  const WINDOW_MS = 300000;
  const MIN_WINDOW_MS = 60000;
  const POLL_MS = 1000;
  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const FORMATS = {
    count: (v) => Math.round(v).toLocaleString('en-US'),
    rate: (v) => (v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US')),
    ms: (v) => (v < 1 ? v.toFixed(2) + ' ms' : v < 1000 ? v.toPrecision(3) + ' ms' : (v / 1000).toFixed(2) + ' s'),
    bytes: (v) => {
      let n = v;
      let u = 0;
      while (n >= 1024 && u < UNITS.length - 1) { n /= 1024; u++; }
      return u === 0 ? Math.round(n) + ' B' : (n >= 100 ? Math.round(n) : n.toFixed(1)) + ' ' + UNITS[u];
    },
    ratio: (v) => (v * 100).toFixed(1) + '%',
    duration: (v) => {
      const s = Math.floor(v / 1000);
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      return h > 0 ? h + 'h ' + m + 'm' : m > 0 ? m + 'm ' + (s % 60) + 's' : s + 's';
    },
  };
  const format = (v, kind) =>
    typeof v !== 'number' || !Number.isFinite(v) || !FORMATS[kind] ? '\\u2013' : FORMATS[kind](v);

  /**
   * The top of a y axis: the smallest "nice" value at or above v (and at least 2 for counts, 1 for
   * rates). Counts step 1, 2, 4 times a power of ten (halves stay whole), bytes 1, 2, 5 times a
   * power of ten times a power of 1024, the rest 1, 2, 5 times a power of ten.
   */
  const niceMax = (v, kind) => {
    const floor = kind === 'count' ? 2 : kind === 'rate' ? 1 : 0;
    if (!(v > floor)) return floor > 0 ? floor : 1;
    const base = kind === 'bytes' ? Math.pow(1024, Math.floor(Math.log(v) / Math.log(1024))) : 1;
    const scaled = v / base;
    const p = Math.pow(10, Math.floor(Math.log10(scaled)));
    for (const m of kind === 'count' ? [1, 2, 4] : [1, 2, 5]) if (scaled <= m * p) return m * p * base;
    return 10 * p * base;
  };

  /** Five minutes, or less while the server is young (at least one minute, in whole minutes). */
  const windowFor = (times, now) => {
    const span = times.length > 0 ? now - times[0] : 0;
    return Math.min(WINDOW_MS, Math.max(MIN_WINDOW_MS, Math.ceil(span / 60000) * 60000));
  };

  const ago = (ms) => (ms === 0 ? 'now' : '\u2212' + (ms >= 60000 ? ms / 60000 + ' min' : ms / 1000 + ' s'));

  const drawChart = (svg, samples, now, windowMs) => {
    const [left, top, right, bottom] = svg.dataset.plot.split(' ').map(Number);
    const kind = svg.dataset.format;
    const from = now - windowMs;
    const times = samples.t;
    const lines = Array.from(svg.querySelectorAll('polyline[data-series]'));
    let highest = 0;
    for (const line of lines) {
      const column = samples[line.dataset.series] || [];
      for (let i = 0; i < times.length; i++) {
        const v = column[i];
        if (times[i] >= from && typeof v === 'number' && v > highest) highest = v;
      }
    }
    const max = svg.dataset.max ? Number(svg.dataset.max) : niceMax(highest, kind);
    for (const line of lines) {
      const column = samples[line.dataset.series] || [];
      const points = [];
      for (let i = 0; i < times.length; i++) {
        const v = column[i];
        if (times[i] < from || typeof v !== 'number') continue;
        const x = left + ((right - left) * (times[i] - from)) / windowMs;
        const y = bottom - ((bottom - top) * Math.min(v, max)) / max;
        points.push(x.toFixed(1) + ',' + y.toFixed(1));
      }
      line.setAttribute('points', points.join(' '));
    }
    for (const label of svg.querySelectorAll('text[data-y]')) {
      label.textContent = format(max * Number(label.dataset.y), kind);
    }
    for (const label of svg.querySelectorAll('text[data-x]')) {
      label.textContent = ago(Math.round(windowMs * (1 - Number(label.dataset.x))));
    }
  };

  const drawUpstreams = (body, upstreams) => {
    const rows = [];
    for (const u of upstreams) {
      const tr = document.createElement('tr');
      const name = tr.insertCell();
      name.textContent = u.name;
      const health = tr.insertCell();
      health.textContent = u.healthy ? 'healthy' : 'down';
      health.className = u.healthy ? 'up' : 'down';
      const active = tr.insertCell();
      active.textContent = typeof u.activeRequests === 'number' ? format(u.activeRequests, 'count') : '\\u2013';
      active.className = 'num';
      rows.push(tr);
    }
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const cell = tr.insertCell();
      cell.colSpan = 3;
      cell.className = 'muted';
      cell.textContent = 'No upstreams';
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  };

  const update = (data) => {
    for (const dd of document.querySelectorAll('[data-total]')) {
      dd.textContent = format(data.summary[dd.dataset.total], dd.dataset.format);
    }
    const windowMs = windowFor(data.samples.t, data.now);
    for (const svg of document.querySelectorAll('svg[data-plot]')) drawChart(svg, data.samples, data.now, windowMs);
    const body = document.getElementById('upstreams');
    if (body) drawUpstreams(body, data.upstreams || []);
    const time = document.getElementById('updated');
    if (time) {
      const iso = new Date(data.now).toISOString();
      time.dateTime = iso;
      time.textContent = iso.slice(11, 19) + ' UTC';
    }
  };

  const setStale = (stale) => {
    const note = document.getElementById('stale');
    if (note) note.hidden = !stale;
  };

  const poll = async () => {
    try {
      const response = await fetch('status.json', { cache: 'no-store', headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      update(await response.json());
      setStale(false);
    } catch {
      setStale(true);
    }
    setTimeout(poll, POLL_MS);
  };
  poll();
})();
`;

/** status.css: light and dark, a grid of charts that reflows to one column on a phone. */
export const STATUS_STYLE = `:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--panel:#f6f8fa;
--c0:#0969da;--c1:#8250df;--ok:#1a7f37;--bad:#cf222e;--s1:#8c959f;--s2:#1a7f37;--s3:#0969da;--s4:#bc4c00;--s5:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--panel:#161b22;
--c0:#4493f8;--c1:#ab7df8;--ok:#3fb950;--bad:#f85149;--s1:#8d96a0;--s2:#3fb950;--s3:#4493f8;--s4:#db6d28;--s5:#f85149}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:78rem;margin:0 auto}
h1{font-size:1.25rem;margin:0}
h2{font-size:1rem;margin:1.5rem 0 .5rem}
.muted{color:var(--muted)}
header p{margin:.25rem 0 1rem}
.totals{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem;margin:0 0 1rem}
.totals div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem}
.totals dt{color:var(--muted);font-size:.8rem}
.totals dd{margin:0;font-size:1.15rem;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(22rem,1fr));gap:.75rem}
figure{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.5rem}
figcaption{font-size:.85rem;display:flex;flex-wrap:wrap;gap:0 .8rem;align-items:center}
figcaption .title{font-weight:600;flex-basis:100%}
.key{color:var(--muted)}
.swatch{display:inline-block;width:.9em;height:.3em;margin-right:.3em;vertical-align:middle;background:currentColor}
svg{display:block;width:100%;height:auto}
.grid{stroke:var(--line);stroke-dasharray:2 3}
.axis{stroke:var(--muted)}
.tick{fill:var(--muted);font-size:10px;font-variant-numeric:tabular-nums}
.line{fill:none;stroke:currentColor;stroke-width:1.6;stroke-linejoin:round}
.s0{color:var(--c0)}.s1{color:var(--c1)}
.kstatus.s0{color:var(--s1)}.kstatus.s1{color:var(--s2)}.kstatus.s2{color:var(--s3)}.kstatus.s3{color:var(--s4)}.kstatus.s4{color:var(--s5)}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line)}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.up{color:var(--ok)}td.down{color:var(--bad);font-weight:600}
@media (max-width:30rem){body{padding:.6rem}.charts{grid-template-columns:1fr}}
`;
