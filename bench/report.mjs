// Markdown tables for the terminal (and for pasting into PRs) from run.mjs's results.

/** The load table: one row per scenario × target, medians over the rounds. */
export function formatWrkTable(results) {
  const rows = [
    '| scenario | server | requests/s (median) | p50 | p99 | vs node:http |',
    '|---|---|--:|--:|--:|--:|',
  ];
  for (const scenario of results) {
    for (const t of scenario.targets) {
      if (!t.median) {
        rows.push(`| ${scenario.name} | ${t.name} | ${t.skipped ? 'skipped' : 'failed'} | | | |`);
        continue;
      }
      const { requestsPerSec, p50Ms, p99Ms } = t.median;
      const latency = scenario.latencyValid === false ? ['—', '—'] : [formatMs(p50Ms), formatMs(p99Ms)];
      const cells = [scenario.name, t.name, formatCount(requestsPerSec), ...latency];
      rows.push(`| ${[...cells, formatRatio(t.ratio)].join(' | ')} |`);
    }
  }
  return rows.join('\n');
}

/** The idle-memory table: server RSS and JS heap growth per idle connection. */
export function formatIdleTable(results) {
  const rows = [
    '| scenario | server | RSS bytes/conn | heap bytes/conn | connections (still open) | budget | vs node:http |',
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const scenario of results) {
    for (const t of scenario.targets) {
      if (!t.result) {
        rows.push(`| ${scenario.name} | ${t.name} | ${t.skipped ? 'skipped' : 'failed'} | | | | |`);
        continue;
      }
      const r = t.result;
      const budget =
        t.budget === undefined ? '' : `${formatCount(t.budget)} ${t.withinBudget ? 'ok' : 'OVER'}`;
      const cells = [
        scenario.name,
        t.name,
        formatCount(r.rssBytesPerConnection),
        formatCount(r.heapBytesPerConnection),
        `${formatCount(r.connections)} (${formatCount(r.stillOpen)})`,
        budget,
        formatRatio(t.ratio),
      ];
      rows.push(`| ${cells.join(' | ')} |`);
    }
  }
  return rows.join('\n');
}

function formatCount(n) {
  return Math.round(n).toLocaleString('en-US');
}

function formatMs(ms) {
  if (ms === null) return '—';
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

function formatRatio(ratio) {
  return ratio === undefined ? '—' : `${ratio.toFixed(2)}×`;
}
