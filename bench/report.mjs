// Markdown tables for the terminal (and for pasting into PRs) from run.mjs's results.

/**
 * The load tables, one per scenario group (consecutive scenarios of the same group): one row per
 * scenario × target, medians over the rounds. A MiB/s column appears when the group's scenarios
 * have `bodyBytes`; the ratio column divides by the group's baseline.
 */
export function formatWrkTable(results) {
  const groups = [];
  for (const scenario of results) {
    const last = groups.at(-1);
    if (last && last[0].group === scenario.group) last.push(scenario);
    else groups.push([scenario]);
  }
  return groups.map(formatWrkGroup).join('\n\n');
}

function formatWrkGroup(results) {
  const throughput = results.some((s) => s.bodyBytes);
  const baselines = [...new Set(results.map((s) => s.baseline))];
  const versus = baselines.length === 1 ? `vs ${baselines[0]}` : 'vs baseline';
  const head = ['scenario', 'server', 'requests/s (median)', ...(throughput ? ['MiB/s'] : []), 'p50', 'p99'];
  const rows = [`| ${[...head, versus].join(' | ')} |`, `|---|---|${'--:|'.repeat(head.length - 1)}`];
  for (const scenario of results) {
    for (const t of scenario.targets) {
      if (!t.median) {
        const empty = Array(head.length - 1).fill('');
        empty[0] = t.skipped ? 'skipped' : 'failed';
        rows.push(`| ${[scenario.name, t.name, ...empty].join(' | ')} |`);
        continue;
      }
      const { requestsPerSec, mibPerSec, p50Ms, p99Ms } = t.median;
      const latency = scenario.latencyValid === false ? ['—', '—'] : [formatMs(p50Ms), formatMs(p99Ms)];
      const mib = throughput ? [mibPerSec === undefined ? '—' : formatMib(mibPerSec)] : [];
      const cells = [scenario.name, t.name, formatCount(requestsPerSec), ...mib, ...latency];
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

function formatMib(mib) {
  return mib < 100 ? mib.toFixed(1) : formatCount(mib);
}

function formatMs(ms) {
  if (ms === null) return '—';
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

function formatRatio(ratio) {
  return ratio === undefined ? '—' : `${ratio.toFixed(2)}×`;
}
