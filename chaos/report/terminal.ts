// `lab show`: the report's summary as plain text for a terminal.
import type { RunData } from './run.js';
import { displayVerdict, partialNote } from './run.js';
import { formatOptions, ms, percent, seconds } from './format.js';
import { snapshotSummaryLine } from '../snapshot-events.js';

const ANSI: Readonly<Record<string, string>> = {
  valid: '32',
  invalid: '31',
  unknown: '33',
  incomplete: '90',
};

export function formatRunSummary(run: RunData, color = false): string {
  const r = run.results;
  const verdict = displayVerdict(r);
  const paint = (text: string): string =>
    color ? `\u001b[1;${ANSI[verdict] ?? '0'}m${text}\u001b[0m` : text;
  const partial = partialNote(r);
  const lines = [
    `run      ${run.dir}`,
    `verdict  ${paint(verdict.toUpperCase())}${partial ? ` ${partial}` : ''}`,
  ];
  if (r) {
    lines.push(`started  ${r.startedAt}${r.finishedAt ? `  finished ${r.finishedAt}` : '  (not finished)'}`);
    lines.push(
      `runtime  ${r.runtime}   nodes ${r.nodes.join(',')}   nemesis ${r.nemesis.join(',') || 'none'}   seed ${r.seed}`,
    );
    if (Object.keys(r.options).length > 0) lines.push(`options  ${formatOptions(r.options)}`);
    lines.push(`replay   ${r.replayCommand}`);
    if (r.error && !partial) lines.push(`error    ${r.error}`);
    for (const v of r.invariantViolations ?? []) lines.push(`stopped  ${v.node}: ${v.message}`);
    lines.push(snapshotSummaryLine(r).replace(/^snapshots: /, 'snapshots  '));
  } else {
    lines.push(`results  ${run.resultsProblem ?? 'missing'}`);
  }
  lines.push('', ...table(['operation', 'ok', 'fail', 'info', 'pending'], countRows(run)));
  lines.push(
    '',
    'latency of ok operations (ms)',
    ...table(['operation', 'p50', 'p95', 'p99', 'max', 'count'], latencyRows(run)),
  );
  const a = run.availability;
  lines.push(
    '',
    `availability  during faults ${percent(a.duringFaults)} (${a.duringCount} ops)   outside ${percent(a.outsideFaults)} (${a.outsideCount} ops)   overall ${percent(a.overall)}`,
  );
  lines.push('', ...faultLines(run), ...failingKeyLines(run));
  return `${lines.join('\n')}\n`;
}

function countRows(run: RunData): string[][] {
  const rows = [...run.counts.byOperation]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([f, c]) => [f, String(c.ok), String(c.fail), String(c.info), String(c.pending)]);
  const t = run.counts.total;
  return [...rows, ['all', String(t.ok), String(t.fail), String(t.info), String(t.pending)]];
}

function latencyRows(run: RunData): string[][] {
  return [...run.latency].map(([f, q]) => [f, ms(q.p50), ms(q.p95), ms(q.p99), ms(q.max), String(q.count)]);
}

function faultLines(run: RunData): string[] {
  if (run.faults.length === 0) return ['faults   none'];
  const rows = run.faults.map((f) => [f.fault, f.detail, seconds(f.startTime), seconds(f.stopTime)]);
  return [`faults (${run.faults.length})`, ...table(['fault', 'detail', 'start', 'stop'], rows)];
}

function failingKeyLines(run: RunData): string[] {
  const illegal = run.results?.checker.keys.filter((k) => k.verdict === 'illegal') ?? [];
  if (illegal.length === 0) return [];
  return [
    '',
    `failing keys (${illegal.length})`,
    ...illegal.map((k) => `  ${k.key}  ${k.view ? `${run.dir}/${k.view}` : '(no view)'}`),
  ];
}

/** Left-aligned first column, right-aligned numbers. */
function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, i) =>
        i === 0 || header[i] === 'detail' ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd()
      .replace(/^/, '  '),
  );
}
